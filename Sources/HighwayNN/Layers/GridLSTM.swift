// Grid LSTM (Kalchbrenner, Danihelka & Graves 2016): N-dimensional blocks arranged on a grid, with
// one hidden vector and one memory vector flowing along each dimension.
//
// Layout. A network is a ``GridTopology`` — a list of cells in an order where every cell comes
// after the cells it reads — run by a ``GridLSTM`` (the block's parameters). Every state lives in
// a numbered slot of the workspace, (batch, hidden) for h and for m: slot 0 is the zero state of
// every grid edge, slots 1 … E receive the input projection, and each cell writes N fresh slots.
// A cell of N dimensions:
//   - gathers H = [h_1; …; h_N] (B, N·h) from its input slots;
//   - computes the gates of ALL non-priority dimensions with ONE GEMM, H·W_npᵀ, where W_np stacks
//     the dimensions' weights row-wise (one parameter used directly when the group has one
//     dimension, otherwise packed once per forward); then the fused LSTM pass
//     (hk_lstm_forward_step) or act(·) (hk_bias_act_forward) per dimension;
//   - when there are priority dimensions, replaces the non-priority parts of H with the new outputs
//     (H′) and runs one more GEMM and fused pass for the priority group.
// The backward walks the cells in reverse: the fused LSTM backward (hk_lstm_backward_step), one
// GEMM for d(H) and one for d(W) per group and cell, column sums for the biases. Every buffer is
// preallocated in a ``GridLSTMWorkspace``; a forward/backward pair allocates nothing.
//
// What it deliberately does not do: different hidden sizes per dimension, dropout, threads across
// cells (a wavefront schedule would allow it), or a separate input per dimension (the input is
// projected into the external slots only).

import HighwayKernels
import HighwayTensor

/// One dimension of a Grid LSTM block.
public struct GridDimension: Sendable, Equatable, Codable, CustomStringConvertible {
    /// What transforms H along this dimension.
    public enum Transform: Sendable, Equatable, Codable {
        /// An LSTM transform with its own memory: four gates from H.
        case lstm
        /// A plain layer `h′ = act(W·H + b)` with no memory (the paper's non-LSTM dimension).
        case plain(Activation)
    }

    public var transform: Transform
    /// Tied: one set of weights for every depth level of the grid; untied: one set per level.
    /// Along the other axes (time, space) weights are always shared — that is the recurrence.
    public var tied: Bool
    /// A priority dimension is computed last, from the other dimensions' new outputs.
    public var priority: Bool

    public init(_ transform: Transform = .lstm, tied: Bool = true, priority: Bool = false) {
        self.transform = transform
        self.tied = tied
        self.priority = priority
    }

    /// Rows of this dimension's weight per hidden unit: 4 for the LSTM's gates, 1 otherwise.
    var gates: Int { transform == .lstm ? 4 : 1 }

    public var description: String {
        let t: String
        switch transform {
        case .lstm: t = "LSTM"
        case .plain(let a): t = a.rawValue
        }
        return t + (tied ? "" : " untied") + (priority ? " priority" : "")
    }
}

/// The cells of a grid and how their slots connect, in an order that computes every cell after
/// the cells it reads. Builders: ``depthStack(depth:)`` (1-LSTM), ``timeDepth(steps:depth:outputSteps:)``
/// (2-LSTM), ``planeDepth(rows:columns:depth:)`` (3-LSTM); any other wiring through
/// ``init(dimensions:cells:externalSlots:outputSlots:)``, which checks it.
public struct GridTopology: Sendable, Equatable {
    public struct Cell: Sendable, Equatable {
        /// The depth level: selects the weights of untied dimensions.
        public let level: Int
        /// The slot each dimension's (h, m) comes from (0: the zero state).
        public let inputs: [Int]
        /// The slot each dimension's new (h, m) goes to.
        public let outputs: [Int]

        public init(level: Int, inputs: [Int], outputs: [Int]) {
            self.level = level
            self.inputs = inputs
            self.outputs = outputs
        }
    }
    // Read-only: the forward and backward rely on the checks of the public initialiser.
    /// Dimensions per cell.
    public let dimensions: Int
    public let cells: [Cell]
    /// Slots 1 … externalSlots hold the input projection of input positions 0 … externalSlots − 1.
    public let externalSlots: Int
    /// Slots in all, the zero slot included.
    public let slotCount: Int
    /// The slots whose h is the output, in order.
    public let outputSlots: [Int]
    /// Depth levels (the number of weight sets of an untied dimension).
    public let levels: Int

    /// 1-LSTM: `depth` blocks of one dimension in a row; the input is projected once into the first
    /// block's (h, m); the output is the last block's h. One input position, one output.
    public static func depthStack(depth: Int) -> GridTopology {
        precondition(depth > 0, "GridTopology: depth must be positive")
        var cells: [Cell] = [], prev = 1
        for d in 0..<depth {
            cells.append(Cell(level: d, inputs: [prev], outputs: [2 + d]))
            prev = 2 + d
        }
        return GridTopology(dimensions: 1, cells: cells, externalSlots: 1, slotCount: 2 + depth, outputSlots: [prev], levels: depth)
    }

    /// 2-LSTM: dimension 0 is time, dimension 1 is depth. Input position t is projected into the
    /// depth dimension of block (t, 0); the outputs are the top block's depth h at the last
    /// `outputSteps` steps (default: every step).
    public static func timeDepth(steps: Int, depth: Int, outputSteps: Int? = nil) -> GridTopology {
        let outSteps = outputSteps ?? steps
        precondition(steps > 0 && depth > 0 && outSteps > 0 && outSteps <= steps, "GridTopology: bad sizes")
        var cells: [Cell] = [], next = 1 + steps
        var timeSlot = [Int](repeating: 0, count: depth)   // the time h of level d at the previous step
        var outputs: [Int] = []
        for t in 0..<steps {
            var below = 1 + t
            for d in 0..<depth {
                let out = [next, next + 1]
                next += 2
                cells.append(Cell(level: d, inputs: [timeSlot[d], below], outputs: out))
                timeSlot[d] = out[0]
                below = out[1]
            }
            if t >= steps - outSteps { outputs.append(below) }
        }
        return GridTopology(dimensions: 2, cells: cells, externalSlots: steps, slotCount: next, outputSlots: outputs, levels: depth)
    }

    /// 3-LSTM: dimensions 0 and 1 run down the rows and along the columns of a plane, dimension 2
    /// is depth. Position (i, j) (row-major) is projected into the depth dimension of block
    /// (i, j, 0); the outputs are the top blocks' depth h at every position, row-major.
    public static func planeDepth(rows: Int, columns: Int, depth: Int) -> GridTopology {
        precondition(rows > 0 && columns > 0 && depth > 0, "GridTopology: sizes must be positive")
        let positions = rows * columns
        var cells: [Cell] = [], next = 1 + positions
        var rowSlot = [Int](repeating: 0, count: positions * depth)   // dimension 0's h of (i, j, d)
        var colSlot = [Int](repeating: 0, count: positions * depth)   // dimension 1's h of (i, j, d)
        var outputs: [Int] = []
        for i in 0..<rows {
            for j in 0..<columns {
                var below = 1 + i * columns + j
                for d in 0..<depth {
                    let up = i > 0 ? rowSlot[((i - 1) * columns + j) * depth + d] : 0
                    let left = j > 0 ? colSlot[(i * columns + j - 1) * depth + d] : 0
                    let out = [next, next + 1, next + 2]
                    next += 3
                    cells.append(Cell(level: d, inputs: [up, left, below], outputs: out))
                    rowSlot[(i * columns + j) * depth + d] = out[0]
                    colSlot[(i * columns + j) * depth + d] = out[1]
                    below = out[2]
                }
                outputs.append(below)
            }
        }
        return GridTopology(dimensions: 3, cells: cells, externalSlots: positions, slotCount: next, outputSlots: outputs, levels: depth)
    }
}

/// What is wrong with a custom ``GridTopology``: the cell or slot and the rule it breaks.
public struct GridTopologyError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { "GridTopology: \(reason)" }
}

extension GridTopology {
    /// A grid wired by hand. Slot 0 is the zero state (a grid edge), slots 1 … `externalSlots` the
    /// input projection of input positions 0 … `externalSlots` − 1; every cell reads one slot per
    /// dimension — the zero slot, an external one, or one an earlier cell wrote — and writes
    /// `dimensions` fresh slots above `externalSlots`, each written once. A slot may be read by
    /// several cells (their gradients add up). The output is the h of `outputSlots`, in order,
    /// each written by a cell; an untied dimension gets one weight set per level 0 … max level.
    ///
    /// ```swift
    /// // two input positions, each into a cell of its own, whose depth outputs meet in a third (a tree)
    /// let tree = try GridTopology(dimensions: 2, cells: [
    ///     .init(level: 0, inputs: [0, 1], outputs: [3, 4]),
    ///     .init(level: 0, inputs: [0, 2], outputs: [5, 6]),
    ///     .init(level: 1, inputs: [4, 6], outputs: [7, 8]),
    /// ], externalSlots: 2, outputSlots: [8])
    /// ```
    /// - Throws: ``GridTopologyError`` naming the first cell or slot that breaks a rule.
    public init(dimensions: Int, cells: [Cell], externalSlots: Int, outputSlots: [Int]) throws {
        func fail(_ reason: String) -> GridTopologyError { GridTopologyError(reason: reason) }
        guard dimensions > 0 else { throw fail("dimensions must be at least 1, got \(dimensions)") }
        guard externalSlots > 0 else { throw fail("externalSlots must be at least 1 (the input positions), got \(externalSlots)") }
        guard !cells.isEmpty else { throw fail("no cells") }
        guard !outputSlots.isEmpty else { throw fail("no output slots") }
        var written = Set<Int>()
        for (c, cell) in cells.enumerated() {
            guard cell.inputs.count == dimensions, cell.outputs.count == dimensions else {
                throw fail("cell \(c) has \(cell.inputs.count) inputs and \(cell.outputs.count) outputs, expected \(dimensions) of each")
            }
            guard cell.level >= 0 else { throw fail("cell \(c) has level \(cell.level); levels start at 0") }
            for s in cell.inputs where !(0...externalSlots).contains(s) && !written.contains(s) {
                throw fail("cell \(c) reads slot \(s), which is neither the zero slot, an external slot (1 … \(externalSlots)) nor written by an earlier cell")
            }
            for s in cell.outputs {
                guard s > externalSlots else { throw fail("cell \(c) writes slot \(s); written slots must be above the external slots (1 … \(externalSlots))") }
                guard written.insert(s).inserted else { throw fail("cell \(c) writes slot \(s), which another cell already writes") }
            }
        }
        for s in outputSlots where !written.contains(s) {
            throw fail("output slot \(s) is not written by any cell")
        }
        self.init(dimensions: dimensions, cells: cells, externalSlots: externalSlots, slotCount: written.max()! + 1,
                  outputSlots: outputSlots, levels: cells.map(\.level).max()! + 1)
    }
}

/// The preallocated buffers of one (topology, batch): the states of every slot, what the forward
/// saves for the backward, and the backward's scratch. Reuse it for every call of that size.
public final class GridLSTMWorkspace {
    public let batch: Int
    public let topology: GridTopology
    let h: FloatBuffer, m: FloatBuffer     // (S, B, hidden): every slot's states; slot 0 stays zero
    let dh: FloatBuffer, dm: FloatBuffer   // (S, B, hidden): d(loss) of every slot's states
    let x: FloatBuffer                     // (B, E, in): the input, kept for the backward
    let proj: FloatBuffer                  // (B·E, 2·hidden): [h | m] of the input projection, then its gradient
    let H: FloatBuffer                     // (cells, B, N·hidden): H of every cell
    let Hp: FloatBuffer                    // (cells, B, N·hidden): H′ of every cell (priority only)
    let Z: FloatBuffer                     // (cells, B, Wnp): activated gates of the non-priority group
    let Zp: FloatBuffer                    // (cells, B, Wp): the priority group's
    let dZ: FloatBuffer                    // (B, max(Wnp, Wp)): d(pre-activation) of one group
    let dH: FloatBuffer                    // (B, N·hidden)
    let dc: FloatBuffer                    // (B, hidden): d/dm carried through one LSTM backward
    let packW: [[FloatBuffer]]             // [group][level]: the group's weights stacked (multi-dim groups)
    let packWT: [[FloatBuffer]]            // [group][level]: (N·hidden, W), the stacked weights transposed, so
                                           // the forward GEMMs read them in place (a transposed operand
                                           // would be packed again at every cell)
    let packB: [[FloatBuffer]]
    let packDW: [[FloatBuffer]]
    let packDB: [[FloatBuffer]]
    let zeroRow: FloatBuffer               // (4·hidden): zeros for the kernel's second bias
    let zeroGates: FloatBuffer             // (B, 4·hidden): zeros for the kernel's recurrent input, never written
    /// With the batch split over threads (``GridLSTM/threads``): one workspace per block of rows,
    /// the first rows of the batch first, and where each block starts.
    var shares: [GridLSTMWorkspace] = []
    var shareStarts: [Int] = []
    /// A share's own sums of every parameter's gradient (shares 1, 2, …; share 0 adds into the
    /// parameters'), added in share order after the backward; aligned with ``GridLSTM/parameters``.
    var gradientSums: [FloatBuffer]?
    /// The pass under way over the shares: the grid, and its arguments.
    var passGrid: Unmanaged<GridLSTM>?
    var passBackward = false
    var passInput: UnsafePointer<Float>?, passOutput: UnsafeMutablePointer<Float>?
    var passDx: UnsafeMutablePointer<Float>?
    /// The blocks of rows the last forward split the batch into (1: not split).
    public internal(set) var lastShareCount = 1

    init(grid: GridLSTM, topology: GridTopology, batch: Int) {
        precondition(batch > 0, "GridLSTMWorkspace: batch must be positive")
        precondition(topology.dimensions == grid.dimensions.count, "GridLSTMWorkspace: topology for \(topology.dimensions) dimensions, grid has \(grid.dimensions.count)")
        precondition(topology.levels <= grid.levels, "GridLSTMWorkspace: topology needs \(topology.levels) levels, grid has \(grid.levels)")
        self.batch = batch
        self.topology = topology
        let hid = grid.hiddenSize, S = topology.slotCount, E = topology.externalSlots, C = topology.cells.count
        let NH = grid.dimensions.count * hid
        h = FloatBuffer(count: S * batch * hid); m = FloatBuffer(count: S * batch * hid)
        dh = FloatBuffer(count: S * batch * hid); dm = FloatBuffer(count: S * batch * hid)
        x = FloatBuffer(count: batch * E * grid.inputSize)
        proj = FloatBuffer(count: batch * E * 2 * hid)
        H = FloatBuffer(count: C * batch * NH)
        Hp = FloatBuffer(count: grid.groups[1].width > 0 ? C * batch * NH : 0)
        Z = FloatBuffer(count: C * batch * grid.groups[0].width)
        Zp = FloatBuffer(count: C * batch * grid.groups[1].width)
        dZ = FloatBuffer(count: batch * max(grid.groups[0].width, grid.groups[1].width))
        dH = FloatBuffer(count: batch * NH)
        dc = FloatBuffer(count: batch * hid)
        func packs(_ count: (GridLSTM.Group) -> Int) -> [[FloatBuffer]] {
            grid.groups.map { g in g.dims.count > 1 ? (0..<g.packLevels).map { _ in FloatBuffer(count: count(g)) } : [] }
        }
        packW = packs { $0.width * NH }
        packWT = grid.groups.map { g in g.width > 0 ? (0..<g.packLevels).map { _ in FloatBuffer(count: g.width * NH) } : [] }
        packB = packs { $0.width }
        packDW = packs { $0.width * NH }
        packDB = packs { $0.width }
        zeroRow = FloatBuffer(count: 4 * hid)
        zeroGates = FloatBuffer(count: batch * 4 * hid)
    }

    /// Makes the `count` shares of the batch (each ⌊B/count⌋ or one more rows) unless they exist.
    func prepareShares(_ count: Int, grid: GridLSTM) {
        guard shares.count != count else { return }
        let blocks = BatchBlocks.layout(batch: batch, count: count)
        shareStarts = blocks.map(\.start)
        shares = blocks.enumerated().map { j, block in
            let share = GridLSTMWorkspace(grid: grid, topology: topology, batch: block.rows)
            if j > 0 { share.gradientSums = grid.parameters.map { FloatBuffer(count: $0.value.count) } }
            return share
        }
    }
}

/// A Grid LSTM block: N dimensions, each with a hidden vector h_i and (LSTM dimensions) a memory
/// vector m_i, run over the cells of a ``GridTopology``.
///
/// ```
/// H = [h_1; …; h_N]                                   (the incoming hidden vectors, concatenated)
/// LSTM dimension i:    [i; f; g; o] = W_i·H + b_i     (W_i: [4·hidden, N·hidden], gate order i, f, g, o)
///                      i, f, o = σ(·), g = tanh(·)
///                      m′_i = f·m_i + i·g,  h′_i = o·tanh(m′_i)
/// plain dimension i:   h′_i = act(W_i·H + b_i)        (W_i: [hidden, N·hidden]; no memory: m′_i = 0)
/// priority dimension:  the same, from H′ = H with every non-priority h_j replaced by h′_j
/// input projection:    [h; m] = W_in·x + b_in        (W_in: [2·hidden, inputSize]) into the grid's
///                      external slots (the first block along depth)
/// ```
/// Checkpoint names: `"<name>.input.weight"`, `"<name>.input.bias"`; dimension i's
/// `"<name>.dims.<i>.weight"` / `".bias"` when tied, `"<name>.dims.<i>.<level>.weight"` / `".bias"`
/// per depth level when untied (weights `[out, in]`, PyTorch's layout). Initialisation: weights
/// U(−1/√(N·hidden), 1/√(N·hidden)), the input projection U(−1/√in, 1/√in), biases 0 except the
/// LSTM forget gate's, 1 (so memory is carried along a deep grid from the start).
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let grid = GridLSTM.oneLSTM(name: "grid", inputSize: 64, hiddenSize: 128, depth: 10, tied: true, rng: &rng)
/// let top = GridTopology.depthStack(depth: 10)
/// let y = try grid(tape.constant(x), topology: top)     // x: [B, 1, 64] → y: [B, 1, 128]
/// ```
///
/// The fused pair ``forward(x:output:workspace:)`` / ``backward(dOutput:dx:workspace:)`` runs on raw
/// buffers and a ``GridLSTMWorkspace`` and allocates nothing; ``callAsFunction(_:topology:)``
/// records the pair as one op on a ``Tape``.
public final class GridLSTM {
    public let dimensions: [GridDimension]
    public let inputSize: Int
    public let hiddenSize: Int
    /// Depth levels an untied dimension has weights for.
    public let levels: Int
    public let inputWeight: Parameter   // (2·hidden, in)
    public let inputBias: Parameter     // (2·hidden)
    /// Dimension i's weights, one per level when untied, else one.
    public let weights: [[Parameter]]
    public let biases: [[Parameter]]
    /// Every parameter: the input projection, then each dimension's (weight, bias) per level.
    public let parameters: [Parameter]
    /// The kernel variant this block runs (nil: ``Kernels/variant``).
    public var variant: KernelVariant?
    /// The threads a forward and backward pass splits the batch over (nil: ``ThreadPool/threads``),
    /// at most one per 8 rows: each runs the whole grid on its block of rows with its own weight
    /// gradient sums, added in block order. Results depend on the thread count, not on timing.
    public var threads: Int?
    /// Each parameter's index in ``parameters``.
    let parameterIndex: [ObjectIdentifier: Int]

    /// The non-priority dimensions (group 0) and the priority ones (group 1), each with the offset
    /// of every dimension's gates inside the group's stacked rows.
    struct Group {
        var dims: [Int] = []
        var offsets: [Int] = []
        var width = 0          // Σ gates·hidden
        var packLevels = 1     // weight sets to pack: levels when any member is untied
    }
    let groups: [Group]

    public init(name: String, dimensions: [GridDimension], inputSize: Int, hiddenSize: Int, levels: Int, rng: inout SeededGenerator) {
        precondition(!dimensions.isEmpty && inputSize > 0 && hiddenSize > 0 && levels > 0, "GridLSTM: sizes must be positive")
        precondition(dimensions.contains { !$0.priority }, "GridLSTM: at least one dimension must not be a priority dimension")
        self.dimensions = dimensions
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.levels = levels
        let prefix = name.isEmpty ? "" : name + "."
        let N = dimensions.count, NH = N * hiddenSize
        let ki = 1 / Float(inputSize).squareRoot()
        inputWeight = Parameter(name: prefix + "input.weight", value: .uniform(shape: [2 * hiddenSize, inputSize], in: -ki..<ki, rng: &rng))
        inputBias = Parameter(name: prefix + "input.bias", value: .zeros([2 * hiddenSize]))
        var all = [inputWeight, inputBias], ws: [[Parameter]] = [], bs: [[Parameter]] = []
        let k = 1 / Float(NH).squareRoot()
        for (i, d) in dimensions.enumerated() {
            let rows = d.gates * hiddenSize
            var w: [Parameter] = [], b: [Parameter] = []
            for l in 0..<(d.tied ? 1 : levels) {
                let stem = d.tied ? "\(prefix)dims.\(i)" : "\(prefix)dims.\(i).\(l)"
                var bias = Tensor.zeros([rows])
                if d.transform == .lstm { for j in hiddenSize..<(2 * hiddenSize) { bias[flat: j] = 1 } }
                w.append(Parameter(name: stem + ".weight", value: .uniform(shape: [rows, NH], in: -k..<k, rng: &rng)))
                b.append(Parameter(name: stem + ".bias", value: bias))
                all += [w[l], b[l]]
            }
            ws.append(w); bs.append(b)
        }
        weights = ws; biases = bs; parameters = all
        parameterIndex = Dictionary(uniqueKeysWithValues: all.enumerated().map { (ObjectIdentifier($1), $0) })
        var gs = [Group(), Group()]
        for (i, d) in dimensions.enumerated() {
            let g = d.priority ? 1 : 0
            gs[g].dims.append(i)
            gs[g].offsets.append(gs[g].width)
            gs[g].width += d.gates * hiddenSize
            if !d.tied { gs[g].packLevels = levels }
        }
        groups = gs
    }

    /// "GridLSTM(2 dims [LSTM, LSTM priority], 64 → 128, 4 levels)"
    public var summary: String {
        "GridLSTM(\(dimensions.count) dims [\(dimensions.map(\.description).joined(separator: ", "))], \(inputSize) → \(hiddenSize), \(levels) levels)"
    }

    /// The number of parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Buffers for `topology` at `batch`: reuse them for every call of that size.
    public func makeWorkspace(topology: GridTopology, batch: Int) -> GridLSTMWorkspace {
        GridLSTMWorkspace(grid: self, topology: topology, batch: batch)
    }

    // ---- weights of a group at a level -----------------------------------------------------------

    private func groupWeight(_ g: Int, level: Int, _ ws: GridLSTMWorkspace) -> (w: UnsafePointer<Float>, b: UnsafePointer<Float>) {
        let group = groups[g]
        if group.dims.count == 1 {
            let d = group.dims[0], l = dimensions[d].tied ? 0 : level
            return (weights[d][l].value.unsafePointer, biases[d][l].value.unsafePointer)
        }
        let pl = group.packLevels > 1 ? level : 0
        return (UnsafePointer(ws.packW[g][pl].base), UnsafePointer(ws.packB[g][pl].base))
    }

    /// The transposed stacked weights of a group at a level, (N·hidden, width), for the forward.
    private func groupWeightT(_ g: Int, level: Int, _ ws: GridLSTMWorkspace) -> UnsafePointer<Float> {
        UnsafePointer(ws.packWT[g][groups[g].packLevels > 1 ? level : 0].base)
    }

    /// Stacks the weights of every multi-dimension group, per level, into the workspace, and
    /// transposes every group's.
    private func pack(_ ws: GridLSTMWorkspace) {
        let NH = dimensions.count * hiddenSize
        for (g, group) in groups.enumerated() where group.width > 0 {
            for pl in 0..<group.packLevels {
                if group.dims.count > 1 {
                    for (d, off) in zip(group.dims, group.offsets) {
                        let l = dimensions[d].tied ? 0 : pl, rows = dimensions[d].gates * hiddenSize
                        (ws.packW[g][pl].base + off * NH).update(from: weights[d][l].value.unsafePointer, count: rows * NH)
                        (ws.packB[g][pl].base + off).update(from: biases[d][l].value.unsafePointer, count: rows)
                    }
                }
                let (w, _) = groupWeight(g, level: pl, ws)
                hk_transpose(group.width, NH, w, NH, ws.packWT[g][pl].base, group.width)
            }
        }
    }

    // ---- forward ---------------------------------------------------------------------------------

    /// x is (B, E, in) (E = the topology's external slots); output is (B, O, hidden), the h of the
    /// topology's output slots. B is the workspace's. The workspace keeps what the backward needs.
    public func forward(x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, workspace ws: GridLSTMWorkspace) {
        precondition(ws.topology.dimensions == dimensions.count, "GridLSTM: workspace made for another grid")
        let count = BatchBlocks.count(threads: threads, batch: ws.batch)
        ws.lastShareCount = count
        guard count > 1 else { return forwardRows(x: x, output: output, ws: ws) }
        ws.prepareShares(count, grid: self)
        ws.passInput = x; ws.passOutput = output; ws.passBackward = false
        runShares(ws)
    }

    /// The forward of the rows of one workspace.
    private func forwardRows(x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, ws: GridLSTMWorkspace) {
        let top = ws.topology, B = ws.batch, hid = hiddenSize, BH = B * hid, E = top.externalSlots
        let N = dimensions.count, NH = N * hid, v = variant ?? Kernels.variant, isa = v.rawValue
        pack(ws)
        ws.x.base.update(from: x, count: B * E * inputSize)
        // input projection of every position at once: proj = x·W_inᵀ + b_in   (B·E, 2h)
        Kernels.gemm(transB: true, m: B * E, n: 2 * hid, k: inputSize, a: x, lda: inputSize,
                     b: inputWeight.value.unsafePointer, ldb: inputSize, c: ws.proj.base, ldc: 2 * hid, variant: v)
        hk_bias_act_forward(isa, Int32(HK_ACT_IDENTITY.rawValue), B * E, 2 * hid, ws.proj.base, inputBias.value.unsafePointer)
        for e in 0..<E {
            for b in 0..<B {
                let src = ws.proj.base + (b * E + e) * 2 * hid
                (ws.h.base + (1 + e) * BH + b * hid).update(from: src, count: hid)
                (ws.m.base + (1 + e) * BH + b * hid).update(from: src + hid, count: hid)
            }
        }
        let np = groups[0], pr = groups[1]
        for (c, cell) in top.cells.enumerated() {
            // H = [h_in_1 | … | h_in_N]   (B, N·h)
            let Hc = ws.H.base + c * B * NH
            for k in 0..<N {
                let src = ws.h.base + cell.inputs[k] * BH
                for b in 0..<B { (Hc + b * NH + k * hid).update(from: src + b * hid, count: hid) }
            }
            let Zc = ws.Z.base + c * B * np.width
            let (_, bias) = groupWeight(0, level: cell.level, ws)
            // gates of every non-priority dimension: Z = H·W_npᵀ   (B, Wnp) = (B, N·h)·(N·h, Wnp)
            Kernels.gemm(m: B, n: np.width, k: NH, a: Hc, lda: NH, b: groupWeightT(0, level: cell.level, ws), ldb: np.width,
                         c: Zc, ldc: np.width, variant: v, threads: 1)
            applyGroup(np, Z: Zc, bias: bias, cell: cell, ws: ws, isa: isa)
            guard pr.width > 0 else { continue }
            // H′ = H with each non-priority part replaced by its new output
            let Hpc = ws.Hp.base + c * B * NH
            Hpc.update(from: Hc, count: B * NH)
            for k in np.dims {
                let src = ws.h.base + cell.outputs[k] * BH
                for b in 0..<B { (Hpc + b * NH + k * hid).update(from: src + b * hid, count: hid) }
            }
            let Zpc = ws.Zp.base + c * B * pr.width
            let (_, bp) = groupWeight(1, level: cell.level, ws)
            Kernels.gemm(m: B, n: pr.width, k: NH, a: Hpc, lda: NH, b: groupWeightT(1, level: cell.level, ws), ldb: pr.width,
                         c: Zpc, ldc: pr.width, variant: v, threads: 1)
            applyGroup(pr, Z: Zpc, bias: bp, cell: cell, ws: ws, isa: isa)
        }
        let O = top.outputSlots.count
        for (o, s) in top.outputSlots.enumerated() {
            for b in 0..<B { (output + (b * O + o) * hid).update(from: ws.h.base + s * BH + b * hid, count: hid) }
        }
    }

    /// The elementwise part of a group: Z (B, width) holds the group's pre-activations without
    /// bias; on return it holds the LSTM dimensions' activated gates (plain dimensions' outputs are
    /// the output slots' h), and the output slots hold (h′, m′).
    private func applyGroup(_ group: Group, Z: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>,
                            cell: GridTopology.Cell, ws: GridLSTMWorkspace, isa: Int32) {
        let B = ws.batch, hid = hiddenSize, BH = B * hid, W = group.width, zero = UnsafePointer(ws.zeroRow.base)
        for (d, off) in zip(group.dims, group.offsets) {
            let hOut = ws.h.base + cell.outputs[d] * BH
            switch dimensions[d].transform {
            case .lstm:
                let mIn = ws.m.base + cell.inputs[d] * BH, mOut = ws.m.base + cell.outputs[d] * BH
                if W == 4 * hid {   // the group's rows are this dimension's: one call for the batch
                    hk_lstm_forward_step(isa, B, hid, Z, ws.zeroGates.base, bias, zero, mIn, mOut, hOut)
                } else {
                    for b in 0..<B {
                        hk_lstm_forward_step(isa, 1, hid, Z + b * W + off, zero, bias + off, zero,
                                             mIn + b * hid, mOut + b * hid, hOut + b * hid)
                    }
                }
            case .plain(let act):
                for b in 0..<B { (hOut + b * hid).update(from: Z + b * W + off, count: hid) }
                hk_bias_act_forward(isa, act.code, B, hid, hOut, bias + off)
            }
        }
    }

    // ---- backward --------------------------------------------------------------------------------

    /// Backward of the last forward on `ws`. dOutput (B, O, hidden) is d(loss) of the output; dx
    /// (B, E, in), when given, and every parameter's `grad` are added into.
    public func backward(dOutput: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?, workspace ws: GridLSTMWorkspace) {
        guard ws.lastShareCount > 1 else { return backwardRows(dOutput: dOutput, dx: dx, ws: ws) }
        for p in parameters { _ = gradPointer(p, ws) }   // allocated here, not in the shares
        for share in ws.shares.dropFirst() { for g in share.gradientSums! { g.zero() } }
        ws.passInput = dOutput; ws.passDx = dx; ws.passBackward = true
        runShares(ws)
        BatchBlocks.addSums(ws.shares.dropFirst().lazy.map { $0.gradientSums! }, of: parameters) { gradPointer($0, ws) }
    }

    /// Runs the pass set up in `ws` on each of its shares, across the pool (share j on thread
    /// j mod threads; they share nothing they write, so which thread runs which does not matter).
    private func runShares(_ ws: GridLSTMWorkspace) {
        ws.passGrid = Unmanaged.passUnretained(self)
        ThreadPool.parallelFor(ws.shares.count, context: Unmanaged.passUnretained(ws).toOpaque()) { context, j in
            let ws = Unmanaged<GridLSTMWorkspace>.fromOpaque(context!).takeUnretainedValue()
            ws.passGrid!.takeUnretainedValue().runShare(j, of: ws)
        }
        ws.passGrid = nil
    }

    /// Share j's part of the pass under way on `ws`: its rows of the input and output.
    private func runShare(_ j: Int, of ws: GridLSTMWorkspace) {
        let share = ws.shares[j], start = ws.shareStarts[j], top = ws.topology
        let inRow = top.externalSlots * inputSize, outRow = top.outputSlots.count * hiddenSize
        if ws.passBackward {
            backwardRows(dOutput: ws.passInput! + start * outRow, dx: ws.passDx.map { $0 + start * inRow }, ws: share)
        } else {
            forwardRows(x: ws.passInput! + start * inRow, output: ws.passOutput! + start * outRow, ws: share)
        }
    }

    /// The backward of the rows of one workspace (a share adds its weight gradients into its sums).
    private func backwardRows(dOutput: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?, ws: GridLSTMWorkspace) {
        let top = ws.topology, B = ws.batch, hid = hiddenSize, BH = B * hid, E = top.externalSlots
        let N = dimensions.count, NH = N * hid, v = variant ?? Kernels.variant, isa = v.rawValue
        ws.dh.zero(); ws.dm.zero()
        for g in groups.indices { for p in ws.packDW[g] { p.zero() }; for p in ws.packDB[g] { p.zero() } }
        let O = top.outputSlots.count
        for (o, s) in top.outputSlots.enumerated() {
            let dst = ws.dh.base + s * BH
            for b in 0..<B {
                let src = dOutput + (b * O + o) * hid
                for j in 0..<hid { dst[b * hid + j] += src[j] }
            }
        }
        let np = groups[0], pr = groups[1]
        for (c, cell) in top.cells.enumerated().reversed() {
            let Hc = ws.H.base + c * B * NH
            if pr.width > 0 {
                let Hpc = ws.Hp.base + c * B * NH, Zpc = ws.Zp.base + c * B * pr.width
                backwardGroup(1, Z: Zpc, H: Hpc, cell: cell, ws: ws, v: v)
                // H′'s parts: priority dimensions read their input slot, the others this cell's new h
                for k in 0..<N {
                    let dst = ws.dh.base + (dimensions[k].priority ? cell.inputs[k] : cell.outputs[k]) * BH
                    for b in 0..<B { addRow(ws.dH.base + b * NH + k * hid, into: dst + b * hid) }
                }
            }
            backwardGroup(0, Z: ws.Z.base + c * B * np.width, H: Hc, cell: cell, ws: ws, v: v)
            for k in 0..<N {
                let dst = ws.dh.base + cell.inputs[k] * BH
                for b in 0..<B { addRow(ws.dH.base + b * NH + k * hid, into: dst + b * hid) }
            }
        }
        // scatter the packed groups' gradients into the parameters
        for (g, group) in groups.enumerated() where group.dims.count > 1 {
            for pl in 0..<group.packLevels {
                for (d, off) in zip(group.dims, group.offsets) {
                    let l = dimensions[d].tied ? 0 : pl, rows = dimensions[d].gates * hiddenSize
                    let gw = gradPointer(weights[d][l], ws), gb = gradPointer(biases[d][l], ws)
                    let sw = ws.packDW[g][pl].base + off * NH, sb = ws.packDB[g][pl].base + off
                    for i in 0..<(rows * NH) { gw[i] += sw[i] }
                    for i in 0..<rows { gb[i] += sb[i] }
                }
            }
        }
        // the input projection: dproj (B·E, 2h) gathered from the external slots
        for e in 0..<E {
            for b in 0..<B {
                let dst = ws.proj.base + (b * E + e) * 2 * hid
                dst.update(from: ws.dh.base + (1 + e) * BH + b * hid, count: hid)
                (dst + hid).update(from: ws.dm.base + (1 + e) * BH + b * hid, count: hid)
            }
        }
        // dW_in += dprojᵀ·x   (2h, in) = (2h, B·E)·(B·E, in)
        Kernels.gemm(transA: true, m: 2 * hid, n: inputSize, k: B * E, a: ws.proj.base, lda: 2 * hid, b: ws.x.base, ldb: inputSize,
                     beta: 1, c: gradPointer(inputWeight, ws), ldc: inputSize, variant: v)
        hk_column_sums(isa, B * E, 2 * hid, ws.proj.base, gradPointer(inputBias, ws))
        if let dx {
            // dx += dproj·W_in   (B·E, in) = (B·E, 2h)·(2h, in)
            Kernels.gemm(m: B * E, n: inputSize, k: 2 * hid, a: ws.proj.base, lda: 2 * hid, b: inputWeight.value.unsafePointer,
                         ldb: inputSize, beta: 1, c: dx, ldc: inputSize, variant: v)
        }
    }

    @inline(__always)
    private func addRow(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        for j in 0..<hiddenSize { dst[j] += src[j] }
    }

    /// Backward of one group of one cell: from d(h′), d(m′) in the output slots to d(pre-activation)
    /// (ws.dZ), d(m) added into the input slots, dW += dZᵀ·H, db += Σ dZ, and ws.dH = dZ·W.
    private func backwardGroup(_ g: Int, Z: UnsafePointer<Float>, H: UnsafePointer<Float>, cell: GridTopology.Cell,
                               ws: GridLSTMWorkspace, v: KernelVariant) {
        let group = groups[g], B = ws.batch, hid = hiddenSize, BH = B * hid, W = group.width, isa = v.rawValue
        let NH = dimensions.count * hid, dZ = ws.dZ.base, dc = ws.dc.base
        for (d, off) in zip(group.dims, group.offsets) {
            let hOut = ws.h.base + cell.outputs[d] * BH, dhOut = ws.dh.base + cell.outputs[d] * BH
            switch dimensions[d].transform {
            case .lstm:
                let mIn = ws.m.base + cell.inputs[d] * BH, mOut = ws.m.base + cell.outputs[d] * BH
                // dc = d/dm′ on entry, d/dm on return
                dc.update(from: ws.dm.base + cell.outputs[d] * BH, count: BH)
                if W == 4 * hid {
                    hk_lstm_backward_step(isa, B, hid, Z, mOut, mIn, nil, dhOut, dc, dZ)
                } else {
                    for b in 0..<B {
                        hk_lstm_backward_step(isa, 1, hid, Z + b * W + off, mOut + b * hid, mIn + b * hid, nil,
                                              dhOut + b * hid, dc + b * hid, dZ + b * W + off)
                    }
                }
                let dmIn = ws.dm.base + cell.inputs[d] * BH
                for i in 0..<BH { dmIn[i] += dc[i] }
            case .plain(let act):
                // h′ = act(z)  ⇒  dz = dh′·act′, written through h′
                for b in 0..<B {
                    hk_act_backward(isa, act.code, 1, hid, hOut + b * hid, dhOut + b * hid, dZ + b * W + off, nil)
                }
            }
        }
        let (w, _) = groupWeight(g, level: cell.level, ws)
        let dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>
        if group.dims.count == 1 {
            let d = group.dims[0], l = dimensions[d].tied ? 0 : cell.level
            dw = gradPointer(weights[d][l], ws); db = gradPointer(biases[d][l], ws)
        } else {
            let pl = group.packLevels > 1 ? cell.level : 0
            dw = ws.packDW[g][pl].base; db = ws.packDB[g][pl].base
        }
        // dW += dZᵀ·H   (W, N·h) = (W, B)·(B, N·h)
        Kernels.gemm(transA: true, m: W, n: NH, k: B, a: dZ, lda: W, b: H, ldb: NH, beta: 1, c: dw, ldc: NH, variant: v, threads: 1)
        hk_column_sums(isa, B, W, dZ, db)
        // dH = dZ·W   (B, N·h) = (B, W)·(W, N·h)
        Kernels.gemm(m: B, n: NH, k: W, a: dZ, lda: W, b: w, ldb: NH, c: ws.dH.base, ldc: NH, variant: v, threads: 1)
    }

    /// Where `p`'s gradient is added into in a pass over `ws`: `p.grad`'s elements, or the share's sums.
    private func gradPointer(_ p: Parameter, _ ws: GridLSTMWorkspace) -> UnsafeMutablePointer<Float> {
        if let sums = ws.gradientSums { return sums[parameterIndex[ObjectIdentifier(p)]!].base }
        if p.grad.shape != p.value.shape { p.grad = .zeros(p.value.shape) }
        return p.grad.unsafeMutablePointer()
    }

    // ---- the tape wrapper ------------------------------------------------------------------------

    private var cached: (workspace: GridLSTMWorkspace, tape: ObjectIdentifier, generation: Int)?

    /// Records the grid as one op on `x`'s tape: x is (batch, E, inputSize) with E the topology's
    /// external slots; returns the output (batch, O, hidden), O its output slots.
    /// - Throws: ``TensorError`` when x's shape does not fit.
    public func callAsFunction(_ x: Variable, topology: GridTopology) throws -> Variable {
        let s = x.shape
        guard s.count == 3, s[0] > 0, s[1] == topology.externalSlots, s[2] == inputSize else {
            throw TensorError.invalidShape(op: summary, shape: s, expected: "[batch, \(topology.externalSlots), \(inputSize)] with batch ≥ 1")
        }
        guard topology.dimensions == dimensions.count, topology.levels <= levels else {
            throw TensorError.invalidShape(op: summary, shape: [topology.dimensions, topology.levels],
                                           expected: "a topology of \(dimensions.count) dimensions and at most \(levels) levels")
        }
        let tape = x.tape, B = s[0]
        // The last call's workspace serves again once its tape has been reset (its backward is
        // then gone); on another tape it may still be needed there, so a new one is made.
        let ws: GridLSTMWorkspace
        if let c = cached, c.workspace.batch == B, c.workspace.topology == topology,
           c.tape == ObjectIdentifier(tape), c.generation != tape.generation {
            ws = c.workspace
        } else {
            ws = makeWorkspace(topology: topology, batch: B)
        }
        cached = (ws, ObjectIdentifier(tape), tape.generation)
        var y = Tensor.zeros([B, topology.outputSlots.count, hiddenSize])
        forward(x: x.value.unsafePointer, output: y.unsafeMutablePointer(), workspace: ws)
        let inputs = [x] + parameters.map { tape.parameter($0) }
        return tape.record(inputs: inputs, output: y) { [self] ctx in
            for i in 1..<ctx.inputCount { _ = ctx.gradientBuffer(ofInput: i) }
            backward(dOutput: ctx.outputGradientPointer, dx: ctx.gradientBuffer(ofInput: 0), workspace: ws)
        }
    }

    // ---- builders --------------------------------------------------------------------------------

    /// 1-LSTM: a deep feedforward net with LSTM cells along depth (use with
    /// ``GridTopology/depthStack(depth:)``): the input is projected once into the first block's
    /// (h, m). `tied`: one weight set for every layer.
    public static func oneLSTM(name: String, inputSize: Int, hiddenSize: Int, depth: Int, tied: Bool,
                               rng: inout SeededGenerator) -> GridLSTM {
        GridLSTM(name: name, dimensions: [GridDimension(.lstm, tied: tied)], inputSize: inputSize,
                 hiddenSize: hiddenSize, levels: depth, rng: &rng)
    }

    /// 2-LSTM, time × depth (use with ``GridTopology/timeDepth(steps:depth:outputSteps:)``): LSTM
    /// memory along both; `depth` is the priority dimension when `depthPriority`; `depthTransform`
    /// `.plain(...)` makes depth a non-LSTM dimension. `tied`: one weight set for every level.
    public static func twoLSTM(name: String, inputSize: Int, hiddenSize: Int, depth: Int, tied: Bool,
                               depthPriority: Bool = true, depthTransform: GridDimension.Transform = .lstm,
                               rng: inout SeededGenerator) -> GridLSTM {
        GridLSTM(name: name, dimensions: [GridDimension(.lstm, tied: tied), GridDimension(depthTransform, tied: tied, priority: depthPriority)],
                 inputSize: inputSize, hiddenSize: hiddenSize, levels: depth, rng: &rng)
    }

    /// 3-LSTM, two input axes × depth (use with ``GridTopology/planeDepth(rows:columns:depth:)``).
    public static func threeLSTM(name: String, inputSize: Int, hiddenSize: Int, depth: Int, tied: Bool,
                                 depthPriority: Bool = true, rng: inout SeededGenerator) -> GridLSTM {
        GridLSTM(name: name, dimensions: [GridDimension(.lstm, tied: tied), GridDimension(.lstm, tied: tied),
                                          GridDimension(.lstm, tied: tied, priority: depthPriority)],
                 inputSize: inputSize, hiddenSize: hiddenSize, levels: depth, rng: &rng)
    }
}
