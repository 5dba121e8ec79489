import HighwayKernels
import HighwayTensor

/// The fully connected classifiers of the highway-network experiments:
///
/// ```
/// input (B, in) ─ Dense(in → width, act) ─ (depth − 1) × [Highway | Dense | Residual](width) ─ Dense(width → classes) ─ softmax
/// ```
/// Checkpoint names (PyTorch `state_dict` style): `input.weight/bias`, `layers.{i}.linear.weight/bias`
/// (highway; with `tied`, only `layers.0`), `layers.{i}.weight/bias` (plain, residual),
/// `output.weight/bias`.
///
/// Training runs the layers' fused forward/backward pairs over preallocated buffers, the batch
/// split across the ``ThreadPool``: each thread runs the whole stack on its rows with private
/// weight gradients, summed in thread order at the end, so one fork/join serves the whole step
/// and a given thread count always gives the same result (DESIGN.md decisions 3, 6, 7). A highway
/// stack runs feature-major — `(width, rows)` buffers, transposed once at each end — so the batch
/// lies along the vector lanes of its products and elementwise passes (see `Highway.forward`).
public final class FeedForwardNetwork {
    public enum Hidden {
        case highway(Highway)
        case plain(Dense)
        case residual(Residual)
    }

    public let config: NetworkConfig
    public let input: Dense
    public let hidden: [Hidden]
    public let output: Dense
    /// Every parameter once, in checkpoint order.
    public let parameters: [Parameter]

    public init(config: NetworkConfig, seed: UInt64) {
        precondition(config.validationError() == nil, config.validationError() ?? "")
        self.config = config
        var rng = SeededGenerator(seed: seed)
        let w = config.width
        input = Dense(name: "input", inputSize: config.inputSize, outputSize: w, activation: config.activation, rng: &rng)
        var layers: [Hidden] = []
        for i in 0..<(config.depth - 1) {
            switch config.kind {
            case .highway:
                if config.tied, case .highway(let first)? = layers.first {
                    layers.append(.highway(Highway(tiedTo: first)))
                } else {
                    layers.append(.highway(Highway(name: "layers.\(i)", width: w, activation: config.activation,
                                                   gateBias: config.gateBias, rng: &rng)))
                }
            case .plain:
                layers.append(.plain(Dense(name: "layers.\(i)", inputSize: w, outputSize: w, activation: config.activation, rng: &rng)))
            case .residual:
                layers.append(.residual(Residual(name: "layers.\(i)", width: w, activation: config.activation, rng: &rng)))
            }
        }
        hidden = layers
        output = Dense(name: "output", inputSize: w, outputSize: config.classes, activation: .identity, rng: &rng)
        var params = [input.weight, input.bias]
        for layer in layers {
            let (wt, b) = layer.parameters
            if !params.contains(where: { $0 === wt }) { params += [wt, b] }
        }
        parameters = params + [output.weight, output.bias]
    }

    /// The highway layers, in order (empty for other kinds).
    public var highwayLayers: [Highway] {
        hidden.compactMap { if case .highway(let h) = $0 { h } else { nil } }
    }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// "highway: 784 → 50, 49 × Highway(50, tanh), → 10; 127,560 parameters"
    public var summary: String {
        let c = config
        let layer = hidden.first.map { $0.summary } ?? "none"
        return "\(c.kind): \(c.inputSize) → \(c.width), \(hidden.count) × \(layer)\(c.tied ? " (tied)" : ""), → \(c.classes); \(parameterCount) parameters"
    }

    // ---- workspaces ---------------------------------------------------------------------------

    /// One thread's buffers for `rows` rows.
    final class Workspace {
        let rows: Int
        let acts: [FloatBuffer]     // depth × (rows, width): acts[0] = input layer, acts[l+1] = hidden l
        let saved: [FloatBuffer]    // per hidden layer: [H|T] (rows, 2w), or act (rows, w) for residual
        let logits: FloatBuffer     // (rows, classes)
        let probs: FloatBuffer      // (rows, classes)
        let labels: UnsafeMutablePointer<Int32>
        let dA: FloatBuffer, dB: FloatBuffer  // (rows, width) ping-pong gradients
        let dz: FloatBuffer         // (rows, max(2w, classes)) scratch
        let grads: [FloatBuffer]    // private parameter gradients (used when threads > 1)
        // highway stacks run feature-major: acts[1...] are (width, rows); these are the
        // transposes at the stack's two ends
        let stackIn: FloatBuffer    // (width, rows) = acts[0]ᵀ
        let stackOut: FloatBuffer   // (rows, width) = acts[depth − 1]ᵀ

        init(net: FeedForwardNetwork, rows: Int, privateGradients: Bool) {
            self.rows = rows
            let w = net.config.width, c = net.config.classes
            acts = (0..<net.config.depth).map { _ in FloatBuffer(count: rows * w) }
            saved = net.hidden.map { layer in
                switch layer {
                case .highway: FloatBuffer(count: rows * 2 * w)
                case .plain: FloatBuffer(count: 0)
                case .residual: FloatBuffer(count: rows * w)
                }
            }
            logits = FloatBuffer(count: rows * c)
            probs = FloatBuffer(count: rows * c)
            labels = .allocate(capacity: max(rows, 1))
            dA = FloatBuffer(count: rows * w)
            dB = FloatBuffer(count: rows * w)
            dz = FloatBuffer(count: rows * max(2 * w, c))
            grads = privateGradients ? net.parameters.map { FloatBuffer(count: $0.value.count) } : []
            let fm = net.featureMajor
            stackIn = FloatBuffer(count: fm ? rows * w : 0)
            stackOut = FloatBuffer(count: fm ? rows * w : 0)
        }

        deinit { labels.deallocate() }
    }

    private var workspaces: [Workspace] = []

    private func workspaces(threads: Int, rows: Int) -> [Workspace] {
        if workspaces.count != threads || workspaces.contains(where: { $0.rows < rows }) {
            workspaces = (0..<threads).map { _ in Workspace(net: self, rows: rows, privateGradients: threads > 1) }
        }
        return workspaces
    }

    // ---- the fused passes ---------------------------------------------------------------------

    /// Whether the hidden stack runs feature-major (highway layers; see `Highway.forward`).
    var featureMajor: Bool { config.kind == .highway && !hidden.isEmpty }

    /// The batch-major (rows, width) input of the output layer after a forward pass.
    private func lastHidden(_ ws: Workspace) -> UnsafeMutablePointer<Float> {
        featureMajor ? ws.stackOut.base : ws.acts[config.depth - 1].base
    }

    /// Forward on `rows` rows of `x` (rows, in) into `ws.logits`.
    private func forward(_ x: UnsafePointer<Float>, rows: Int, ws: Workspace) {
        input.forward(x, ws.acts[0].base, rows: rows)
        let w = config.width
        if featureMajor {
            hk_transpose(rows, w, ws.acts[0].base, w, ws.stackIn.base, rows)
            var xin = UnsafePointer(ws.stackIn.base)
            for (l, layer) in hidden.enumerated() {
                guard case .highway(let h) = layer else { preconditionFailure("feature-major stack of \(layer.summary)") }
                h.forward(xin, ws.acts[l + 1].base, ht: ws.saved[l].base, columns: rows)
                xin = UnsafePointer(ws.acts[l + 1].base)
            }
            hk_transpose(w, rows, xin, rows, ws.stackOut.base, w)
            output.forward(ws.stackOut.base, ws.logits.base, rows: rows)
            return
        }
        for (l, layer) in hidden.enumerated() {
            let xin = UnsafePointer(ws.acts[l].base), y = ws.acts[l + 1].base
            switch layer {
            case .highway: preconditionFailure("highway stacks run feature-major")
            case .plain(let d): d.forward(xin, y, rows: rows)
            case .residual(let r): r.forward(xin, y, a: ws.saved[l].base, rows: rows)
            }
        }
        output.forward(lastHidden(ws), ws.logits.base, rows: rows)
    }

    /// The gradient buffer of parameter `p` for this workspace.
    private func gradPointer(_ p: Parameter, _ ws: Workspace, _ index: [ObjectIdentifier: Int]) -> UnsafeMutablePointer<Float> {
        if ws.grads.isEmpty { return p.grad.unsafeMutablePointer() }
        return ws.grads[index[ObjectIdentifier(p)]!].base
    }

    /// Backward from `dlogits` (in `ws.dz`, (rows, classes)) through the stack; parameter
    /// gradients are added into the workspace's (or the parameters') gradient buffers.
    private func backward(_ x: UnsafePointer<Float>, rows: Int, ws: Workspace, index: [ObjectIdentifier: Int]) {
        var dy = ws.dA.base, dx = ws.dB.base
        output.backward(x: lastHidden(ws), y: ws.logits.base, dy: ws.dz.base, dx: dy, rows: rows,
                        dweight: gradPointer(output.weight, ws, index), dbias: gradPointer(output.bias, ws, index))
        if featureMajor {
            let w = config.width
            hk_transpose(rows, w, dy, w, dx, rows)  // d(stack output), now (w, rows)
            swap(&dy, &dx)
            for l in stride(from: hidden.count - 1, through: 0, by: -1) {
                guard case .highway(let h) = hidden[l] else { preconditionFailure("feature-major stack") }
                let xin = UnsafePointer(l == 0 ? ws.stackIn.base : ws.acts[l].base)
                h.backward(x: xin, ht: ws.saved[l].base, dy: dy, dx: dx, dz: ws.dz.base, columns: rows,
                           dweight: gradPointer(h.weight, ws, index), dbias: gradPointer(h.bias, ws, index))
                swap(&dy, &dx)
            }
            hk_transpose(w, rows, dy, rows, dx, w)  // d(input layer output), back to (rows, w)
            swap(&dy, &dx)
            input.backward(x: x, y: ws.acts[0].base, dy: dy, dx: nil, rows: rows,
                           dweight: gradPointer(input.weight, ws, index), dbias: gradPointer(input.bias, ws, index))
            return
        }
        for l in stride(from: hidden.count - 1, through: 0, by: -1) {
            let xin = UnsafePointer(ws.acts[l].base)
            switch hidden[l] {
            case .highway:
                preconditionFailure("highway stacks run feature-major")
            case .plain(let d):
                d.backward(x: xin, y: ws.acts[l + 1].base, dy: dy, dx: dx, rows: rows,
                           dweight: gradPointer(d.weight, ws, index), dbias: gradPointer(d.bias, ws, index))
            case .residual(let r):
                r.backward(x: xin, a: ws.saved[l].base, dy: dy, dx: dx, dz: ws.dz.base, rows: rows,
                           dweight: gradPointer(r.weight, ws, index), dbias: gradPointer(r.bias, ws, index))
            }
            swap(&dy, &dx)
        }
        input.backward(x: x, y: ws.acts[0].base, dy: dy, dx: nil, rows: rows,
                       dweight: gradPointer(input.weight, ws, index), dbias: gradPointer(input.bias, ws, index))
    }

    private lazy var parameterIndex: [ObjectIdentifier: Int] = {
        var d: [ObjectIdentifier: Int] = [:]
        for (i, p) in parameters.enumerated() { d[ObjectIdentifier(p)] = i }
        return d
    }()

    /// Loss and accuracy counts of one pass.
    public struct BatchResult: Sendable {
        /// Summed (not averaged) cross-entropy over the rows.
        public var lossSum: Double
        public var correct: Int
        public var rows: Int
    }

    // Per-step scratch kept across steps, so a steady-state step allocates nothing.
    private var partsBuffer: [Range<Int>] = []
    private var resultsBuffer: [BatchResult] = []

    /// Splits `rows` into contiguous, per-thread slices (thread t gets slice t), into `partsBuffer`.
    private func slices(rows: Int, threads: Int) -> [Range<Int>] {
        let t = max(1, min(threads, rows))
        let base = rows / t, extra = rows % t
        partsBuffer.removeAll(keepingCapacity: true)
        var lo = 0
        for i in 0..<t {
            let n = base + (i < extra ? 1 : 0)
            partsBuffer.append(lo..<(lo + n))
            lo += n
        }
        return partsBuffer
    }

    private func resetResults(_ count: Int) {
        resultsBuffer.removeAll(keepingCapacity: true)
        for _ in 0..<count { resultsBuffer.append(BatchResult(lossSum: 0, correct: 0, rows: 0)) }
    }

    /// Counts correct argmax predictions and copies labels for the loss kernel.
    private func lossAndAccuracy(ws: Workspace, labels: UnsafePointer<Int32>, rows: Int) -> (Double, Int) {
        let c = config.classes
        ws.labels.update(from: labels, count: rows)
        let loss = hk_softmax_xent(Kernels.variant.rawValue, rows, c, ws.logits.base, ws.labels, ws.probs.base)
        var correct = 0
        for r in 0..<rows {
            let p = ws.logits.base + r * c
            var best = 0
            for j in 1..<c where p[j] > p[best] { best = j }
            if best == Int(labels[r]) { correct += 1 }
        }
        return (loss, correct)
    }

    /// What the threads of one training step share (set before the fork; no closure is allocated).
    private struct StepJob {
        var x: UnsafePointer<Float>
        var labels: UnsafePointer<Int32>
        var invB: Float
        var results: UnsafeMutablePointer<BatchResult>  // one slot per thread, written by its thread
    }
    private var job: StepJob?

    /// Thread `t`'s share of a training step: forward, loss, backward on its rows.
    private func trainSlice(_ t: Int) {
        let job = job!, part = partsBuffer[t], w = workspaces[t], n = part.count
        let c = config.classes, invB = job.invB
        let xs = job.x + part.lowerBound * config.inputSize, ls = job.labels + part.lowerBound
        for g in w.grads { g.zero() }
        forward(xs, rows: n, ws: w)
        let (loss, correct) = lossAndAccuracy(ws: w, labels: ls, rows: n)
        // d(mean loss)/dlogits = (softmax − onehot) / B
        let dz = w.dz.base, p = w.probs.base
        for i in 0..<(n * c) { dz[i] = p[i] * invB }
        for r in 0..<n { dz[r * c + Int(ls[r])] -= invB }
        backward(xs, rows: n, ws: w, index: parameterIndex)
        job.results[t] = BatchResult(lossSum: loss, correct: correct, rows: n)
    }

    /// One training pass over a batch: forward, mean cross-entropy, backward. Parameter gradients
    /// are **overwritten** with d(mean loss)/dθ. `x` is (rows, inputSize), `labels` rows entries in
    /// `0..<classes` (checked by the caller). Allocates nothing once the workspaces exist.
    public func trainStep(x: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, threads: Int) -> BatchResult {
        let parts = slices(rows: rows, threads: threads)
        let ws = workspaces(threads: parts.count, rows: parts[0].count)
        _ = parameterIndex
        for p in parameters { p.grad.fill(with: 0) }
        resetResults(parts.count)
        resultsBuffer.withUnsafeMutableBufferPointer { res in
            job = StepJob(x: x, labels: labels, invB: 1 / Float(rows), results: res.baseAddress!)
            if parts.count == 1 {
                trainSlice(0)
            } else {
                ThreadPool.parallelFor(parts.count, context: Unmanaged.passUnretained(self).toOpaque()) { ctx, t in
                    Unmanaged<FeedForwardNetwork>.fromOpaque(ctx!).takeUnretainedValue().trainSlice(t)
                }
            }
        }
        if parts.count > 1 {
            // sum the private gradients in thread order (deterministic for a thread count)
            for (i, p) in parameters.enumerated() {
                let g = p.grad.unsafeMutablePointer(), n = p.value.count
                for w in ws { let s = w.grads[i].base; for j in 0..<n { g[j] += s[j] } }
            }
        }
        job = nil
        var total = BatchResult(lossSum: 0, correct: 0, rows: 0)
        for r in resultsBuffer { total.lossSum += r.lossSum; total.correct += r.correct; total.rows += r.rows }
        return total
    }

    /// Loss and accuracy over `rows` rows without training, in chunks of `chunk` rows per thread.
    public func evaluate(x: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, threads: Int, chunk: Int = 256) -> BatchResult {
        var total = BatchResult(lossSum: 0, correct: 0, rows: 0)
        let step = chunk * max(1, threads)
        var start = 0
        while start < rows {
            let n = min(step, rows - start)
            let parts = slices(rows: n, threads: min(threads, (n + chunk - 1) / chunk))
            let ws = workspaces(threads: parts.count, rows: max(parts[0].count, workspaces.first?.rows ?? 0))
            resetResults(parts.count)
            resultsBuffer.withUnsafeMutableBufferPointer { res in
                let res = res.baseAddress!
                ThreadPool.parallelFor(parts.count, threads: parts.count) { t in
                    let part = parts[t], off = start + part.lowerBound
                    forward(x + off * config.inputSize, rows: part.count, ws: ws[t])
                    let (loss, correct) = lossAndAccuracy(ws: ws[t], labels: labels + off, rows: part.count)
                    res[t] = BatchResult(lossSum: loss, correct: correct, rows: part.count)
                }
            }
            for r in resultsBuffer { total.lossSum += r.lossSum; total.correct += r.correct; total.rows += r.rows }
            start += n
        }
        return total
    }

    /// Per hidden layer, the outputs and (highway) transform-gate values for `rows` rows of `x`:
    /// `outputs[l]` is (rows, width), `gates[l]` is (rows, width) or nil for non-highway layers.
    public func trace(x: UnsafePointer<Float>, rows: Int) -> (outputs: [Tensor], gates: [Tensor?]) {
        let ws = Workspace(net: self, rows: rows, privateGradients: false)
        forward(x, rows: rows, ws: ws)
        let w = config.width
        var outputs: [Tensor] = [], gates: [Tensor?] = []
        for (l, layer) in hidden.enumerated() {
            var out = Tensor.zeros([rows, w])
            if case .highway = layer {  // feature-major: transpose back to (rows, w)
                hk_transpose(w, rows, ws.acts[l + 1].base, rows, out.unsafeMutablePointer(), w)
                var g = Tensor.zeros([rows, w])
                hk_transpose(w, rows, ws.saved[l].base + w * rows, rows, g.unsafeMutablePointer(), w)
                gates.append(g)
            } else {
                out.unsafeMutablePointer().update(from: ws.acts[l + 1].base, count: rows * w)
                gates.append(nil)
            }
            outputs.append(out)
        }
        return (outputs, gates)
    }

    /// Records the whole network on a tape (for composition and gradient checks): `x` is (rows, in),
    /// the result is the logits (rows, classes).
    public func callAsFunction(_ x: Variable) throws -> Variable {
        var h = try input(x)
        for layer in hidden {
            switch layer {
            case .highway(let l): h = try l(h)
            case .plain(let l): h = try l(h)
            case .residual(let l): h = try l(h)
            }
        }
        return try output(h)
    }
}

extension FeedForwardNetwork.Hidden {
    var parameters: (Parameter, Parameter) {
        switch self {
        case .highway(let l): (l.weight, l.bias)
        case .plain(let l): (l.weight, l.bias)
        case .residual(let l): (l.weight, l.bias)
        }
    }

    var summary: String {
        switch self {
        case .highway(let l): l.summary
        case .plain(let l): l.summary
        case .residual(let l): l.summary
        }
    }
}

// ---- non-finite values: a cheap check every step, a diagnosis when it fails -----------------------

/// Whether all `count` floats at `p` are finite (no NaN, no ±Inf). Branch-free on the bit
/// patterns — an exponent of all ones plus one carries into the sign bit — so the compiler
/// vectorises it: a pass over a 290k-parameter network's gradients costs microseconds.
public func allFinite(_ p: UnsafePointer<Float>, count: Int) -> Bool {
    p.withMemoryRebound(to: UInt32.self, capacity: count) { u in
        var carry: UInt32 = 0
        for i in 0..<count { carry |= (u[i] & 0x7F80_0000) &+ 0x0080_0000 }
        return carry & 0x8000_0000 == 0
    }
}

extension Tensor {
    /// Whether every element is finite.
    public var isFinite: Bool { withUnsafeBufferPointer { allFinite($0.baseAddress!, count: count) } }
}

extension FeedForwardNetwork {
    /// Whether every parameter's gradient is finite (call after ``trainStep(x:labels:rows:threads:)``).
    public var gradientsAreFinite: Bool { parameters.allSatisfy { $0.grad.isFinite } }

    /// Whether every parameter's value is finite.
    public var valuesAreFinite: Bool { parameters.allSatisfy { $0.value.isFinite } }

    /// The checkpoint-style name of each layer, in forward order, with its parameters.
    var layerNames: [(name: String, parameters: [Parameter])] {
        var out: [(String, [Parameter])] = [("input", [input.weight, input.bias])]
        for (l, layer) in hidden.enumerated() {
            let (w, b) = layer.parameters
            out.append(("layers.\(l)", [w, b]))
        }
        out.append(("output", [output.weight, output.bias]))
        return out
    }

    /// Where non-finite values first appear in the training step just run on `rows` rows of `x`
    /// (the same rows, after ``trainStep(x:labels:rows:threads:)``): the weights themselves, the
    /// input data, the output of the first layer (in forward order) that is not finite, or the
    /// first gradient not finite in the order backward computes them (from the output down).
    /// Slow (a forward pass and scans); only for the message when a step has gone wrong.
    public func locateNonFinite(x: UnsafePointer<Float>, rows: Int) -> String {
        if let p = parameters.first(where: { !$0.value.isFinite }) {
            return "the weights of \(p.name) are already non-finite (the previous update overflowed: the learning rate is too large)"
        }
        for r in 0..<rows where !allFinite(x + r * config.inputSize, count: config.inputSize) {
            return "the input data: row \(r) of the batch holds a NaN or infinite value"
        }
        let ws = Workspace(net: self, rows: rows, privateGradients: false)
        forward(x, rows: rows, ws: ws)
        let w = config.width
        let names = layerNames
        for (l, buffer) in ws.acts.enumerated() where !allFinite(buffer.base, count: rows * w) {
            return "first in the forward pass at the output of layer \(names[l].name)"
        }
        if !allFinite(ws.logits.base, count: rows * config.classes) {
            return "first in the forward pass at the output of layer output (the logits)"
        }
        for (name, params) in names.reversed() {
            if let p = params.first(where: { !$0.grad.isFinite }) {
                let bad = parameters.filter { !$0.grad.isFinite }.count
                return "first in the backward pass at layer \(name): the gradient of \(p.name) "
                    + "(\(bad) of \(parameters.count) parameter gradients are non-finite)"
            }
        }
        return "the loss is not finite although the logits are (an overflow in the loss)"
    }
}
