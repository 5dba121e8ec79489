// What LSTM and GRU share: their parameters, the workspace of one (batch, steps), the stacked
// forward / backward-through-time loops, and the tape wrapper's packed output.
//
// Layout (cuDNN's plan, DESIGN.md decision 1). Inside, every sequence is time-major, (steps, batch,
// features), so a step's rows are contiguous and so is the whole sequence:
//   - the input projection of all steps is ONE GEMM up front, X·W_ihᵀ over (steps·batch) rows;
//   - each step adds ONE GEMM for the recurrent part, h_{t−1}·W_hhᵀ (batch, G·hidden), then one
//     fused elementwise pass (hk_lstm_forward_step / hk_gru_forward_step);
//   - backward through time is one fused pass and one (batch × G·hidden × hidden) GEMM per step;
//     the weight gradients are then ONE GEMM each over all steps (dW_hh = Σ_t dgates_tᵀ·h_{t−1} is
//     dgatesᵀ·[h_0 … h_{T−1}] because the hidden states are stored one step behind the gates),
//     and d(input) one more.
// The public API is batch-first, (batch, steps, features), as PyTorch's `batch_first=True`; the
// input and output are transposed once at each end.
//
// Threads: a pass on several threads splits the batch into blocks of rows (at most one per 8
// rows), each running the whole stack on its rows with its own weight-gradient sums, added in
// block order — one fork/join per pass, where threads inside a time step would need one per step
// (a step's product takes tens of microseconds). Outputs, final states and input gradients are
// then bit-identical to one thread; weight gradients differ by rounding, the same at every run.
// Unsplit, the products over all steps at once (input projection, weight gradients, d(input))
// may use the pool's threads: hk_sgemm_threaded gives the same bits for any split.
//
// What it deliberately does not do: dropout between layers, bidirectional layers, projections
// (proj_size), variable-length (packed) sequences.

import HighwayKernels
import HighwayTensor

/// The two cells, in PyTorch's gate order: LSTM i, f, g, o; GRU r, z, n.
enum RecurrentCell {
    case lstm, gru
    var gates: Int { self == .lstm ? 4 : 3 }
    var name: String { self == .lstm ? "LSTM" : "GRU" }
}

/// The preallocated buffers of one recurrent stack for one (batch, steps): what the forward saves
/// for the backward, and the backward's scratch. Make one with `LSTM.makeWorkspace(batch:steps:)`
/// or `GRU.makeWorkspace(batch:steps:)` and pass it to every forward/backward of that size, so a
/// steady-state step allocates nothing (DESIGN.md decision 3).
public final class RecurrentWorkspace {
    public let batch: Int
    public let steps: Int
    let inputSize: Int, hidden: Int, layers: Int, gateWidth: Int
    // saved by the forward, per layer
    let xT: FloatBuffer          // (T, B, in): the input, time-major
    let hs: [FloatBuffer]        // (T + 1, B, H): slot 0 is h_0, slot t + 1 is h_t
    let cs: [FloatBuffer]        // LSTM only, (T + 1, B, H): slot 0 is c_0
    let gates: [FloatBuffer]     // (T, B, G·H): the activated gates of every step
    let hn: [FloatBuffer]        // GRU only, (T, B, H): W_hn·h_{t−1} + b_hn
    let rec: FloatBuffer         // (B, G·H): h_{t−1}·W_hhᵀ of the current step
    let whhT: [FloatBuffer]      // (H, G·H): W_hhᵀ, so the per-step GEMM reads it in place (a
                                 // transposed operand would be packed again at every step)
    // backward scratch
    let dgx: FloatBuffer         // (T, B, G·H): d(pre-activation) of the input projection
    let dgh: FloatBuffer         // GRU only, (T, B, G·H): d(recurrent projection); the LSTM's is dgx
    let dh: FloatBuffer, dc: FloatBuffer   // (B, H): d/dh_t, d/dc_t carried back through time
    let dyA: FloatBuffer, dyB: FloatBuffer // (T, B, H): d/d(layer output), ping-pong between layers
    let dxT: FloatBuffer         // (T, B, in): d/d(input), time-major
    let dbias: FloatBuffer       // (G·H): the LSTM's bias gradient of one backward
    // with the batch split over threads: one workspace per block of rows (the first rows first),
    // where each starts, and blocks 1, 2, …'s own sums of every parameter's gradient (added in
    // block order after the backward; block 0 adds into the parameters')
    var shares: [RecurrentWorkspace] = []
    var shareStarts: [Int] = []
    var gradientSums: [FloatBuffer]?
    /// The blocks of rows the last forward split the batch into (1: not split).
    public internal(set) var lastShareCount = 1
    // the pass under way over the shares: the layer and its arguments (forward: x, h0, c0 in,
    // output, hn, cn out; backward: dOutput, dhn, dcn in the same places, dx, dh0, dc0 out)
    var passCore: Unmanaged<RecurrentCore>?
    var passBackward = false
    var passIn: (x: UnsafePointer<Float>?, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?) = (nil, nil, nil)
    var passOut: (y: UnsafeMutablePointer<Float>?, hn: UnsafeMutablePointer<Float>?, cn: UnsafeMutablePointer<Float>?) = (nil, nil, nil)

    init(cell: RecurrentCell, inputSize: Int, hidden: Int, layers: Int, batch: Int, steps: Int) {
        precondition(batch > 0 && steps > 0, "RecurrentWorkspace: batch and steps must be positive")
        self.batch = batch
        self.steps = steps
        self.inputSize = inputSize
        self.hidden = hidden
        self.layers = layers
        gateWidth = cell.gates * hidden
        let tb = steps * batch, bh = batch * hidden
        xT = FloatBuffer(count: tb * inputSize)
        let g = cell.gates * hidden
        hs = (0..<layers).map { _ in FloatBuffer(count: (steps + 1) * bh) }
        cs = cell == .lstm ? (0..<layers).map { _ in FloatBuffer(count: (steps + 1) * bh) } : []
        gates = (0..<layers).map { _ in FloatBuffer(count: tb * g) }
        hn = cell == .gru ? (0..<layers).map { _ in FloatBuffer(count: tb * hidden) } : []
        rec = FloatBuffer(count: batch * g)
        whhT = (0..<layers).map { _ in FloatBuffer(count: hidden * g) }
        dgx = FloatBuffer(count: tb * g)
        dgh = FloatBuffer(count: cell == .gru ? tb * g : 0)
        dh = FloatBuffer(count: bh)
        dc = FloatBuffer(count: bh)
        dyA = FloatBuffer(count: tb * hidden)
        dyB = FloatBuffer(count: tb * hidden)
        dxT = FloatBuffer(count: tb * inputSize)
        dbias = FloatBuffer(count: g)
    }
}

/// What ``LSTM`` and ``GRU`` share: sizes, parameters under PyTorch's names, the kernel variant
/// and workspaces, all held by one `RecurrentCore`; the subclasses add the cell's own
/// forward/backward signatures (the LSTM's memory cell) and the tape wrapper.
public class RecurrentLayer {
    let core: RecurrentCore
    init(core: RecurrentCore) { self.core = core }

    public var inputSize: Int { core.inputSize }
    public var hiddenSize: Int { core.hiddenSize }
    public var layers: Int { core.layers }
    /// Layer k's `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`.
    public var weightIH: [Parameter] { core.weightIH }
    public var weightHH: [Parameter] { core.weightHH }
    public var biasIH: [Parameter] { core.biasIH }
    public var biasHH: [Parameter] { core.biasHH }
    /// Every parameter, in PyTorch's `state_dict` order.
    public var parameters: [Parameter] { core.parameters }
    /// The kernel variant this layer runs (nil, the default: ``Kernels/variant``).
    public var variant: KernelVariant? {
        get { core.variant }
        set { core.variant = newValue }
    }
    /// The threads a forward and backward pass splits the batch over (nil, the default:
    /// ``ThreadPool/threads``), at most one per 8 rows; results depend on the thread count only.
    public var threads: Int? {
        get { core.threads }
        set { core.threads = newValue }
    }
    /// "LSTM(128 → 128, 2 layers)", "GRU(100 → 100)"
    public var summary: String { core.summary }

    /// Buffers for sequences of `batch` × `steps`: reuse them for every call of that size.
    public func makeWorkspace(batch: Int, steps: Int) -> RecurrentWorkspace { core.makeWorkspace(batch: batch, steps: steps) }
}

/// The stacked recurrence both layers run; `LSTM` and `GRU` are its two faces.
final class RecurrentCore {
    let cell: RecurrentCell
    let inputSize: Int
    let hiddenSize: Int
    let layers: Int
    let weightIH: [Parameter]   // (G·H, in_l): "<name>.weight_ih_l{k}"
    let weightHH: [Parameter]   // (G·H, H):    "<name>.weight_hh_l{k}"
    let biasIH: [Parameter]     // (G·H)
    let biasHH: [Parameter]     // (G·H)
    let parameters: [Parameter] // state_dict order: weight_ih, weight_hh, bias_ih, bias_hh per layer
    /// The kernel variant this layer runs; nil: `Kernels.variant`. Per layer rather than the global,
    /// so tests can cover every variant while other tests run in parallel.
    var variant: KernelVariant?
    /// The threads a pass splits the batch over (nil: ``ThreadPool/threads``), at most one per 8 rows.
    var threads: Int?
    let parameterIndex: [ObjectIdentifier: Int]

    init(cell: RecurrentCell, name: String, inputSize: Int, hiddenSize: Int, layers: Int, rng: inout SeededGenerator) {
        precondition(inputSize > 0 && hiddenSize > 0 && layers > 0, "\(cell.name): sizes and layers must be positive")
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        // PyTorch's init: every weight and bias U(−1/√hidden, 1/√hidden), drawn in state_dict order
        let k = 1 / Float(hiddenSize).squareRoot(), g = cell.gates * hiddenSize
        var wih: [Parameter] = [], whh: [Parameter] = [], bih: [Parameter] = [], bhh: [Parameter] = [], all: [Parameter] = []
        let prefix = name.isEmpty ? "" : name + "."
        for l in 0..<layers {
            let inl = l == 0 ? inputSize : hiddenSize
            wih.append(Parameter(name: "\(prefix)weight_ih_l\(l)", value: .uniform(shape: [g, inl], in: -k..<k, rng: &rng)))
            whh.append(Parameter(name: "\(prefix)weight_hh_l\(l)", value: .uniform(shape: [g, hiddenSize], in: -k..<k, rng: &rng)))
            bih.append(Parameter(name: "\(prefix)bias_ih_l\(l)", value: .uniform(shape: [g], in: -k..<k, rng: &rng)))
            bhh.append(Parameter(name: "\(prefix)bias_hh_l\(l)", value: .uniform(shape: [g], in: -k..<k, rng: &rng)))
            all += [wih[l], whh[l], bih[l], bhh[l]]
        }
        weightIH = wih; weightHH = whh; biasIH = bih; biasHH = bhh; parameters = all
        parameterIndex = Dictionary(uniqueKeysWithValues: all.enumerated().map { (ObjectIdentifier($1), $0) })
    }

    var summary: String {
        "\(cell.name)(\(inputSize) → \(hiddenSize)\(layers > 1 ? ", \(layers) layers" : ""))"
    }

    func makeWorkspace(batch: Int, steps: Int) -> RecurrentWorkspace {
        RecurrentWorkspace(cell: cell, inputSize: inputSize, hidden: hiddenSize, layers: layers, batch: batch, steps: steps)
    }

    func checkWorkspace(_ ws: RecurrentWorkspace) {
        precondition(ws.inputSize == inputSize && ws.hidden == hiddenSize && ws.layers == layers
                     && ws.gateWidth == cell.gates * hiddenSize, "\(summary): workspace made for another layer")
    }

    // x is (B, T, in); h0, c0 (L, B, H) or nil for zeros; output (B, T, H); hn, cn (L, B, H) or nil.
    // c0 and cn are the LSTM's; the GRU ignores them.
    func forward(x: UnsafePointer<Float>, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                 output: UnsafeMutablePointer<Float>, hn: UnsafeMutablePointer<Float>?, cn: UnsafeMutablePointer<Float>?,
                 workspace ws: RecurrentWorkspace) {
        checkWorkspace(ws)
        let count = BatchBlocks.count(threads: threads, batch: ws.batch)
        ws.lastShareCount = count
        guard count > 1 else {
            return forwardRows(x: x, h0: h0, c0: c0, output: output, hn: hn, cn: cn, stateStride: ws.batch * hiddenSize, workspace: ws)
        }
        prepareShares(count, ws)
        ws.passIn = (x, h0, c0); ws.passOut = (output, hn, cn); ws.passBackward = false
        runShares(ws)
    }

    /// The forward of the rows of one workspace; layer l's states start at l·stateStride in h0,
    /// c0, hn and cn (the whole batch's layer size when these rows are a block of it).
    private func forwardRows(x: UnsafePointer<Float>, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                             output: UnsafeMutablePointer<Float>, hn: UnsafeMutablePointer<Float>?, cn: UnsafeMutablePointer<Float>?,
                             stateStride: Int, workspace ws: RecurrentWorkspace) {
        let B = ws.batch, T = ws.steps, H = hiddenSize, G = cell.gates * H, BH = B * H, v = variant ?? Kernels.variant, isa = v.rawValue
        // x (B, T, in) → xT (T, B, in)
        for b in 0..<B {
            for t in 0..<T { (ws.xT.base + (t * B + b) * inputSize).update(from: x + (b * T + t) * inputSize, count: inputSize) }
        }
        for l in 0..<layers {
            let inl = l == 0 ? inputSize : H
            let X = l == 0 ? UnsafePointer(ws.xT.base) : UnsafePointer(ws.hs[l - 1].base + BH)   // (T, B, in_l)
            let hs = ws.hs[l].base, g = ws.gates[l].base
            let whh = weightHH[l].value.unsafePointer, bih = biasIH[l].value.unsafePointer, bhh = biasHH[l].value.unsafePointer
            hk_transpose(G, H, whh, H, ws.whhT[l].base, G)
            if let h0 { hs.update(from: h0 + l * stateStride, count: BH) } else { hs.update(repeating: 0, count: BH) }
            if cell == .lstm {
                if let c0 { ws.cs[l].base.update(from: c0 + l * stateStride, count: BH) } else { ws.cs[l].base.update(repeating: 0, count: BH) }
            }
            // the input projection of every step at once: gates = X·W_ihᵀ   (T·B, G) = (T·B, in)·(in, G)
            Kernels.gemm(transB: true, m: T * B, n: G, k: inl, a: X, lda: inl, b: weightIH[l].value.unsafePointer, ldb: inl,
                         c: g, ldc: G, variant: v, threads: nil)
            for t in 0..<T {
                let hprev = hs + t * BH, gt = g + t * B * G
                // rec = h_{t−1}·W_hhᵀ   (B, G) = (B, H)·(H, G)
                Kernels.gemm(m: B, n: G, k: H, a: hprev, lda: H, b: ws.whhT[l].base, ldb: G, c: ws.rec.base, ldc: G, variant: v, threads: 1)
                switch cell {
                case .lstm:
                    let c = ws.cs[l].base
                    hk_lstm_forward_step(isa, B, H, gt, ws.rec.base, bih, bhh, c + t * BH, c + (t + 1) * BH, hprev + BH)
                case .gru:
                    hk_gru_forward_step(isa, B, H, gt, ws.rec.base, bih, bhh, hprev, ws.hn[l].base + t * BH, hprev + BH)
                }
            }
            if let hn { (hn + l * stateStride).update(from: hs + T * BH, count: BH) }
            if cell == .lstm, let cn { (cn + l * stateStride).update(from: ws.cs[l].base + T * BH, count: BH) }
        }
        // output (B, T, H) ← the top layer's h_1 … h_T, time-major
        let top = ws.hs[layers - 1].base + BH
        for b in 0..<B {
            for t in 0..<T { (output + (b * T + t) * H).update(from: top + (t * B + b) * H, count: H) }
        }
    }

    /// Backward through time of the last `forward` on `ws`. Every gradient argument may be nil
    /// (no gradient arrives there / none is wanted). dOutput (B, T, H), dhn, dcn (L, B, H) are
    /// d(loss) of the forward's outputs; dx (B, T, in), dh0, dc0 (L, B, H) and every parameter's
    /// `grad` are added into.
    func backward(dOutput: UnsafePointer<Float>?, dhn: UnsafePointer<Float>?, dcn: UnsafePointer<Float>?,
                  dx: UnsafeMutablePointer<Float>?, dh0: UnsafeMutablePointer<Float>?, dc0: UnsafeMutablePointer<Float>?,
                  workspace ws: RecurrentWorkspace) {
        checkWorkspace(ws)
        guard ws.lastShareCount > 1 else {
            return backwardRows(dOutput: dOutput, dhn: dhn, dcn: dcn, dx: dx, dh0: dh0, dc0: dc0, stateStride: ws.batch * hiddenSize,
                                workspace: ws)
        }
        for p in parameters { _ = gradPointer(p, ws) }   // allocated here, not in the shares
        for share in ws.shares.dropFirst() { for g in share.gradientSums! { g.zero() } }
        ws.passIn = (dOutput, dhn, dcn); ws.passOut = (dx, dh0, dc0); ws.passBackward = true
        runShares(ws)
        BatchBlocks.addSums(ws.shares.dropFirst().lazy.map { $0.gradientSums! }, of: parameters) { gradPointer($0, ws) }
    }

    /// Makes the `count` blocks of rows of `ws`'s batch (each ⌊B/count⌋ or one more rows) unless they exist.
    private func prepareShares(_ count: Int, _ ws: RecurrentWorkspace) {
        guard ws.shares.count != count else { return }
        let blocks = BatchBlocks.layout(batch: ws.batch, count: count)
        ws.shareStarts = blocks.map(\.start)
        ws.shares = blocks.enumerated().map { j, block in
            let share = makeWorkspace(batch: block.rows, steps: ws.steps)
            if j > 0 { share.gradientSums = parameters.map { FloatBuffer(count: $0.value.count) } }
            return share
        }
    }

    /// Runs the pass set up in `ws` on each of its blocks across the pool (block j on thread
    /// j mod threads; they share nothing they write, so which thread runs which does not matter).
    private func runShares(_ ws: RecurrentWorkspace) {
        ws.passCore = Unmanaged.passUnretained(self)
        ThreadPool.parallelFor(ws.shares.count, context: Unmanaged.passUnretained(ws).toOpaque()) { context, j in
            let ws = Unmanaged<RecurrentWorkspace>.fromOpaque(context!).takeUnretainedValue()
            ws.passCore!.takeUnretainedValue().runShare(j, of: ws)
        }
        ws.passCore = nil
    }

    /// Block j's part of the pass under way on `ws`: its rows of every argument.
    private func runShare(_ j: Int, of ws: RecurrentWorkspace) {
        let share = ws.shares[j], start = ws.shareStarts[j], T = ws.steps, H = hiddenSize
        let stride = ws.batch * H, state = start * H
        if ws.passBackward {
            backwardRows(dOutput: ws.passIn.x.map { $0 + start * T * H }, dhn: ws.passIn.h0.map { $0 + state },
                         dcn: ws.passIn.c0.map { $0 + state }, dx: ws.passOut.y.map { $0 + start * T * inputSize },
                         dh0: ws.passOut.hn.map { $0 + state }, dc0: ws.passOut.cn.map { $0 + state }, stateStride: stride, workspace: share)
        } else {
            forwardRows(x: ws.passIn.x! + start * T * inputSize, h0: ws.passIn.h0.map { $0 + state }, c0: ws.passIn.c0.map { $0 + state },
                        output: ws.passOut.y! + start * T * H, hn: ws.passOut.hn.map { $0 + state },
                        cn: ws.passOut.cn.map { $0 + state }, stateStride: stride, workspace: share)
        }
    }

    /// The backward of the rows of one workspace (states at l·stateStride, as in forwardRows); a
    /// block adds its weight gradients into its own sums.
    private func backwardRows(dOutput: UnsafePointer<Float>?, dhn: UnsafePointer<Float>?, dcn: UnsafePointer<Float>?,
                              dx: UnsafeMutablePointer<Float>?, dh0: UnsafeMutablePointer<Float>?, dc0: UnsafeMutablePointer<Float>?,
                              stateStride: Int, workspace ws: RecurrentWorkspace) {
        let B = ws.batch, T = ws.steps, H = hiddenSize, G = cell.gates * H, BH = B * H, v = variant ?? Kernels.variant, isa = v.rawValue
        var dY = ws.dyA.base, dYbelow = ws.dyB.base   // (T, B, H): d/d(this layer's outputs h_1 … h_T)
        if let dOutput {
            for b in 0..<B {
                for t in 0..<T { (dY + (t * B + b) * H).update(from: dOutput + (b * T + t) * H, count: H) }
            }
        } else {
            dY.update(repeating: 0, count: T * BH)
        }
        let dh = ws.dh.base, dc = ws.dc.base
        for l in (0..<layers).reversed() {
            let inl = l == 0 ? inputSize : H
            let X = l == 0 ? UnsafePointer(ws.xT.base) : UnsafePointer(ws.hs[l - 1].base + BH)
            let hs = ws.hs[l].base, g = ws.gates[l].base, dgx = ws.dgx.base
            let dgh = cell == .lstm ? dgx : ws.dgh.base   // the LSTM's two projections share their d(pre-activation)
            let whh = weightHH[l].value.unsafePointer
            if let dhn { dh.update(from: dhn + l * stateStride, count: BH) } else { dh.update(repeating: 0, count: BH) }
            if let dcn, cell == .lstm { dc.update(from: dcn + l * stateStride, count: BH) } else { dc.update(repeating: 0, count: BH) }
            for t in (0..<T).reversed() {
                let dyt = dY + t * BH
                switch cell {
                case .lstm:
                    let c = ws.cs[l].base
                    hk_lstm_backward_step(isa, B, H, g + t * B * G, c + (t + 1) * BH, c + t * BH, dyt, dh, dc, dgx + t * B * G)
                    // dh_{t−1} = dgates_t·W_hh   (B, H) = (B, G)·(G, H)
                    Kernels.gemm(m: B, n: H, k: G, a: dgx + t * B * G, lda: G, b: whh, ldb: H, c: dh, ldc: H, variant: v, threads: 1)
                case .gru:
                    hk_gru_backward_step(isa, B, H, g + t * B * G, ws.hn[l].base + t * BH, hs + t * BH, dyt, dh,
                                         dgx + t * B * G, dgh + t * B * G)
                    // dh_{t−1} = dh_t·z + dgh_t·W_hh
                    Kernels.gemm(m: B, n: H, k: G, a: dgh + t * B * G, lda: G, b: whh, ldb: H, beta: 1, c: dh, ldc: H, variant: v, threads: 1)
                }
            }
            if let dh0 { for i in 0..<BH { dh0[l * stateStride + i] += dh[i] } }
            if cell == .lstm, let dc0 { for i in 0..<BH { dc0[l * stateStride + i] += dc[i] } }
            // weight gradients of all steps at once:
            // dW_ih += dgxᵀ·X   (G, in) = (G, T·B)·(T·B, in)
            Kernels.gemm(transA: true, m: G, n: inl, k: T * B, a: dgx, lda: G, b: X, ldb: inl,
                         beta: 1, c: gradPointer(weightIH[l], ws), ldc: inl, variant: v, threads: nil)
            // dW_hh += dghᵀ·[h_0 … h_{T−1}]   (G, H) = (G, T·B)·(T·B, H)
            Kernels.gemm(transA: true, m: G, n: H, k: T * B, a: dgh, lda: G, b: hs, ldb: H,
                         beta: 1, c: gradPointer(weightHH[l], ws), ldc: H, variant: v, threads: nil)
            // d b_ih += Σ dgx, d b_hh += Σ dgh over all steps; the LSTM's are the same sum, made once
            let dbih = gradPointer(biasIH[l], ws), dbhh = gradPointer(biasHH[l], ws)
            if cell == .lstm {
                ws.dbias.zero()
                hk_column_sums(isa, T * B, G, dgx, ws.dbias.base)
                for j in 0..<G { dbih[j] += ws.dbias.base[j]; dbhh[j] += ws.dbias.base[j] }
            } else {
                hk_column_sums(isa, T * B, G, dgx, dbih)
                hk_column_sums(isa, T * B, G, dgh, dbhh)
            }
            // d(input) = dgx·W_ih   (T·B, in) = (T·B, G)·(G, in): the layer below's dY, or dx
            if l > 0 {
                Kernels.gemm(m: T * B, n: H, k: G, a: dgx, lda: G, b: weightIH[l].value.unsafePointer, ldb: H,
                             c: dYbelow, ldc: H, variant: v, threads: nil)
                swap(&dY, &dYbelow)
            } else if let dx {
                Kernels.gemm(m: T * B, n: inl, k: G, a: dgx, lda: G, b: weightIH[0].value.unsafePointer, ldb: inl,
                             c: ws.dxT.base, ldc: inl, variant: v, threads: nil)
                for b in 0..<B {
                    for t in 0..<T {
                        let src = ws.dxT.base + (t * B + b) * inl, dst = dx + (b * T + t) * inl
                        for i in 0..<inl { dst[i] += src[i] }
                    }
                }
            }
        }
    }

    /// Where `p`'s gradient is added into in a pass over `ws`: `p.grad`'s elements (the tape hands
    /// out the same buffer for a parameter), or a block's own sums.
    private func gradPointer(_ p: Parameter, _ ws: RecurrentWorkspace) -> UnsafeMutablePointer<Float> {
        if let sums = ws.gradientSums { return sums[parameterIndex[ObjectIdentifier(p)]!].base }
        if p.grad.shape != p.value.shape { p.grad = .zeros(p.value.shape) }
        return p.grad.unsafeMutablePointer()
    }

    // ---- the tape wrapper ------------------------------------------------------------------------

    /// Checks the shapes of a tape call: x (B, T, in) with B, T ≥ 1, h0 and c0 (L, B, H).
    func checkShapes(_ x: Variable, _ h0: Variable?, _ c0: Variable?) throws -> (batch: Int, steps: Int) {
        let s = x.shape
        guard s.count == 3, s[0] > 0, s[1] > 0, s[2] == inputSize else {
            throw TensorError.invalidShape(op: summary, shape: s, expected: "[batch, steps, \(inputSize)] (batch-first) with batch, steps ≥ 1")
        }
        let stateShape = [layers, s[0], hiddenSize]
        for (state, name) in [(h0, "h0"), (c0, "c0")] {
            if let state, state.shape != stateShape {
                throw TensorError.shapeMismatch(op: "\(summary) \(name)", lhs: state.shape, rhs: s,
                                                expected: "\(name) of shape [layers, batch, hidden] = \(stateShape) for input \(s)")
            }
        }
        return (s[0], s[1])
    }

    private var cached: (workspace: RecurrentWorkspace, tape: ObjectIdentifier, generation: Int)?

    /// Runs the stack on the tape as ONE op whose output packs [output (B, T, H) | h_n (L, B, H) |
    /// c_n (L, B, H), LSTM only] into one flat tensor, then hands out the parts as cheap copies
    /// (a tape op has one output; the final states must feed the same backward through time).
    func record(_ x: Variable, h0: Variable?, c0: Variable?) throws -> (output: Variable, hidden: Variable, cell: Variable?) {
        let (B, T) = try checkShapes(x, h0, c0)
        let tape = x.tape, H = hiddenSize, L = layers
        // The last call's workspace serves again once its tape has been reset (its backward is
        // then gone), so a steady-state training step allocates no new one.
        let ws: RecurrentWorkspace
        if let c = cached, c.workspace.batch == B, c.workspace.steps == T, c.tape == ObjectIdentifier(tape),
           c.generation != tape.generation {
            ws = c.workspace
        } else {
            ws = makeWorkspace(batch: B, steps: T)
        }
        cached = (ws, ObjectIdentifier(tape), tape.generation)
        let outCount = B * T * H, stateCount = L * B * H
        var packed = Tensor.zeros([outCount + stateCount * (cell == .lstm ? 2 : 1)])
        let pp = packed.unsafeMutablePointer()
        forward(x: x.value.unsafePointer, h0: h0?.value.unsafePointer, c0: c0?.value.unsafePointer,
                output: pp, hn: pp + outCount, cn: cell == .lstm ? pp + outCount + stateCount : nil, workspace: ws)
        var inputs = [x]
        let h0Index = h0.map { inputs.append($0); return inputs.count - 1 }
        let c0Index = c0.map { inputs.append($0); return inputs.count - 1 }
        let firstParameter = inputs.count
        inputs += parameters.map { tape.parameter($0) }
        let isLSTM = cell == .lstm
        let all = tape.record(inputs: inputs, output: packed) { [self] ctx in
            let dy = ctx.outputGradientPointer
            // make sure every parameter's grad exists: backward adds into `grad` directly
            for i in firstParameter..<ctx.inputCount { _ = ctx.gradientBuffer(ofInput: i) }
            backward(dOutput: dy, dhn: dy + outCount, dcn: isLSTM ? dy + outCount + stateCount : nil,
                     dx: ctx.gradientBuffer(ofInput: 0), dh0: h0Index.flatMap { ctx.gradientBuffer(ofInput: $0) },
                     dc0: c0Index.flatMap { ctx.gradientBuffer(ofInput: $0) }, workspace: ws)
        }
        let output = try Self.part(of: all, offset: 0, shape: [B, T, H])
        let hidden = try Self.part(of: all, offset: outCount, shape: [L, B, H])
        let cellState = isLSTM ? try Self.part(of: all, offset: outCount + stateCount, shape: [L, B, H]) : nil
        return (output, hidden, cellState)
    }

    /// The elements `offset ..< offset + count(shape)` of the flat `packed`, as a tape op.
    static func part(of packed: Variable, offset: Int, shape: [Int]) throws -> Variable {
        let count = shape.reduce(1, *)
        let v = Array(UnsafeBufferPointer(start: packed.value.unsafePointer + offset, count: count))
        return packed.tape.record(inputs: [packed], output: try Tensor(shape: shape, values: v), tag: offset, backward: partBackward)
    }

    static func partBackward(_ ctx: BackwardContext) {
        // y = packed[tag ..< tag + n]  ⇒  d packed[tag + i] += dy[i]
        guard let dp = ctx.gradientBuffer(ofInput: 0) else { return }
        let dy = ctx.outputGradientPointer, o = ctx.tag
        for i in 0..<ctx.output.count { dp[o + i] += dy[i] }
    }
}
