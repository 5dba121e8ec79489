import HighwayNN
import HighwayTensor
import Testing

/// Finite-difference checks of the Grid LSTM's fused backward for every configuration (N = 1, 2,
/// 3; tied and untied; with and without a priority dimension; with a non-LSTM dimension) on every
/// kernel variant this CPU runs, plus names, shapes and the raw-buffer pair.
@Suite("Grid LSTM")
struct GridLSTMTests {
    static func uniform(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return .uniform(shape: shape, in: -1..<1, rng: &rng)
    }

    struct Config: CustomStringConvertible, Sendable {
        var label: String
        var dims: [GridDimension]
        var topology: GridTopology
        var description: String { label }
    }

    // hidden 3 and input 2: every row ends mid-vector on every variant
    static let configs: [Config] = [
        Config(label: "1-LSTM tied", dims: [GridDimension(.lstm, tied: true)], topology: .depthStack(depth: 3)),
        Config(label: "1-LSTM untied", dims: [GridDimension(.lstm, tied: false)], topology: .depthStack(depth: 3)),
        Config(label: "1-D non-LSTM (tanh) untied", dims: [GridDimension(.plain(.tanh), tied: false)], topology: .depthStack(depth: 2)),
        Config(label: "2-LSTM tied, depth priority", dims: [GridDimension(.lstm), GridDimension(.lstm, priority: true)],
               topology: .timeDepth(steps: 3, depth: 2)),
        Config(label: "2-LSTM untied, no priority", dims: [GridDimension(.lstm, tied: false), GridDimension(.lstm, tied: false)],
               topology: .timeDepth(steps: 3, depth: 2, outputSteps: 2)),
        Config(label: "2-LSTM untied time, tied non-LSTM (tanh) depth, priority",
               dims: [GridDimension(.lstm, tied: false), GridDimension(.plain(.tanh), tied: true, priority: true)],
               topology: .timeDepth(steps: 3, depth: 2)),
        Config(label: "2-LSTM non-LSTM (sigmoid) time, no priority", dims: [GridDimension(.plain(.sigmoid)), GridDimension(.lstm)],
               topology: .timeDepth(steps: 2, depth: 2)),
        Config(label: "3-LSTM tied, depth priority", dims: [GridDimension(.lstm), GridDimension(.lstm), GridDimension(.lstm, priority: true)],
               topology: .planeDepth(rows: 2, columns: 2, depth: 2)),
        Config(label: "3-LSTM untied, two priority dimensions, one non-LSTM",
               dims: [GridDimension(.lstm, tied: false), GridDimension(.plain(.tanh), tied: false, priority: true),
                      GridDimension(.lstm, tied: false, priority: true)],
               topology: .planeDepth(rows: 2, columns: 1, depth: 2)),
        Config(label: "3-LSTM mixed tying, no priority",
               dims: [GridDimension(.lstm, tied: true), GridDimension(.lstm, tied: false), GridDimension(.lstm, tied: true)],
               topology: .planeDepth(rows: 1, columns: 2, depth: 2)),
        Config(label: "custom 2-D tree: a slot read by two cells, an external slot read twice",
               dims: [GridDimension(.lstm, tied: false), GridDimension(.lstm, priority: true)], topology: tree),
    ]

    /// A hand-wired grid the builders never make: slot 4 (cell 0's depth output) feeds both later
    /// cells, and external slot 2 is read by two cells, so their gradients must add up.
    static let tree = try! GridTopology(dimensions: 2, cells: [
        .init(level: 0, inputs: [0, 1], outputs: [3, 4]),
        .init(level: 0, inputs: [4, 2], outputs: [5, 6]),
        .init(level: 1, inputs: [4, 2], outputs: [7, 8]),
        .init(level: 1, inputs: [6, 8], outputs: [9, 10]),
    ], externalSlots: 2, outputSlots: [10, 5])

    @Test("a custom topology is checked: the builders' wiring passes, each broken rule throws naming the cell or slot")
    func customTopology() throws {
        for top in [GridTopology.timeDepth(steps: 3, depth: 2, outputSteps: 2), .planeDepth(rows: 2, columns: 2, depth: 3), .depthStack(depth: 4)] {
            let copy = try GridTopology(dimensions: top.dimensions, cells: top.cells, externalSlots: top.externalSlots, outputSlots: top.outputSlots)
            #expect(copy == top)   // same slot count and levels, computed from the cells
        }
        #expect(Self.tree.slotCount == 11 && Self.tree.levels == 2)
        func reason(_ cells: [GridTopology.Cell], dimensions: Int = 2, external: Int = 2, outputs: [Int] = [4]) -> String {
            do {
                _ = try GridTopology(dimensions: dimensions, cells: cells, externalSlots: external, outputSlots: outputs)
                return "no error"
            } catch let e as GridTopologyError { return e.description } catch { return "\(error)" }
        }
        let ok = GridTopology.Cell(level: 0, inputs: [0, 1], outputs: [3, 4])
        #expect(reason([ok]) == "no error")
        #expect(reason([ok], dimensions: 0).contains("dimensions must be at least 1"))
        #expect(reason([ok], external: 0).contains("externalSlots must be at least 1"))
        #expect(reason([]).contains("no cells"))
        #expect(reason([ok], outputs: []).contains("no output slots"))
        #expect(reason([.init(level: 0, inputs: [0], outputs: [3, 4])]).contains("cell 0 has 1 inputs and 2 outputs"))
        #expect(reason([.init(level: -1, inputs: [0, 1], outputs: [3, 4])]).contains("cell 0 has level -1"))
        #expect(reason([ok, .init(level: 0, inputs: [9, 1], outputs: [5, 6])]).contains("cell 1 reads slot 9"))
        #expect(reason([.init(level: 0, inputs: [0, -1], outputs: [3, 4])]).contains("cell 0 reads slot -1"))
        // a cell may not read what it writes itself, nor a later cell's output
        #expect(reason([.init(level: 0, inputs: [3, 1], outputs: [3, 4])]).contains("cell 0 reads slot 3"))
        #expect(reason([ok, .init(level: 0, inputs: [0, 2], outputs: [2, 6])]).contains("cell 1 writes slot 2; written slots must be above"))
        #expect(reason([ok, .init(level: 0, inputs: [0, 2], outputs: [4, 6])]).contains("cell 1 writes slot 4, which another cell already writes"))
        #expect(reason([ok], outputs: [4, 1]).contains("output slot 1 is not written by any cell"))
    }

    @Test("gradient check: input and every weight and bias", arguments: configs)
    func gradients(_ config: Config) throws {
        let (batch, input, hidden) = (2, 2, 3)
        for variant in KernelVariant.supported {
            var rng = SeededGenerator(seed: 31)
            let grid = GridLSTM(name: "grid", dimensions: config.dims, inputSize: input, hiddenSize: hidden,
                                levels: config.topology.levels, rng: &rng)
            grid.variant = variant
            // forget-gate biases of 1 and small inputs keep gates away from saturation, so
            // differences at step 1e-2 stay accurate
            let x = Self.uniform([batch, config.topology.externalSlots, input], seed: 2)
            let report = try GradientCheck.check(inputs: [x], parameters: grid.parameters, step: 1e-2) { _, v in
                try grid(v[0], topology: config.topology)
            }
            #expect(report.passed, "\(config) \(variant): \(report)")
            #expect(report.checked == x.count + grid.parameterCount)
        }
    }

    // ---- the batch split over threads -------------------------------------------------------------

    /// Output, d input and every parameter's gradient of loss = Σ output·R, at `threads`.
    static func pass(_ grid: GridLSTM, _ topology: GridTopology, x: Tensor, threads: Int) throws
        -> (out: Tensor, dx: Tensor, grads: [Tensor]) {
        grid.threads = threads
        for p in grid.parameters { p.zeroGrad() }
        let tape = Tape(), xv = tape.variable(x)
        let y = try grid(xv, topology: topology)
        try tape.backward(y, seed: uniform(y.shape, seed: 9))
        return (y.value, tape.gradient(of: xv) ?? .zeros(x.shape), grid.parameters.map(\.grad))
    }

    /// The blocks of rows a forward at `threads` splits a batch like `x` into.
    static func shares(_ grid: GridLSTM, _ topology: GridTopology, _ x: Tensor, threads: Int) -> Int {
        grid.threads = threads
        let ws = grid.makeWorkspace(topology: topology, batch: x.shape[0])
        var out = Tensor.zeros([x.shape[0], topology.outputSlots.count, grid.hiddenSize])
        grid.forward(x: x.unsafePointer, output: out.unsafeMutablePointer(), workspace: ws)
        return ws.lastShareCount
    }

    @Test("on several threads each takes a block of rows: outputs and d input as on one thread, weight gradients to 1e-5, the same every time",
          arguments: [configs[0], configs[1], configs[3], configs[4], configs[5], configs[7], configs[8]])
    func threads(_ config: Config) throws {
        var rng = SeededGenerator(seed: 35)
        let grid = GridLSTM(name: "grid", dimensions: config.dims, inputSize: 3, hiddenSize: 5, levels: config.topology.levels, rng: &rng)
        // 19 rows: blocks of 10 and 9 (one per 8 rows at most, so three threads split it in two too)
        let x = Self.uniform([19, config.topology.externalSlots, 3], seed: 12)
        #expect(Self.shares(grid, config.topology, x, threads: 1) == 1)
        let one = try Self.pass(grid, config.topology, x: x, threads: 1)
        for threads in [2, 3] {
            #expect(Self.shares(grid, config.topology, x, threads: threads) == 2)
            let split = try Self.pass(grid, config.topology, x: x, threads: threads)
            #expect(split.out == one.out, "\(config) threads \(threads): output")
            #expect(split.dx == one.dx, "\(config) threads \(threads): d input")
            for (p, (a, b)) in zip(grid.parameters, zip(split.grads, one.grads)) {
                let worst = zip(a.scalars, b.scalars).map { Double(abs($0 - $1)) / (1e-5 * max(1, Double(abs($1)))) }.max() ?? 0
                #expect(worst <= 1, "\(config) threads \(threads): \(p.name)")
            }
            let again = try Self.pass(grid, config.topology, x: x, threads: threads)
            #expect(again.grads == split.grads && again.out == split.out, "\(config) threads \(threads): not deterministic")
        }
        // the blocks' gradient sums, by finite differences
        grid.threads = 2
        let x16 = Self.uniform([16, config.topology.externalSlots, 3], seed: 13)
        #expect(Self.shares(grid, config.topology, x16, threads: 2) == 2)
        let report = try GradientCheck.check(inputs: [x16], parameters: grid.parameters, step: 1e-2) { _, v in
            try grid(v[0], topology: config.topology)
        }
        #expect(report.passed, "\(config) at two threads: \(report)")
    }

    // ---- golden values from an independent PyTorch implementation (Scripts/make_grid_golden.py) ----

    /// The script's cases, under their names in the golden file.
    static let goldenConfigs: [Config] = [
        Config(label: "one_tied", dims: [GridDimension(.lstm)], topology: .depthStack(depth: 3)),
        Config(label: "two_untied", dims: [GridDimension(.lstm, tied: false), GridDimension(.lstm, tied: false, priority: true)],
               topology: .timeDepth(steps: 4, depth: 3, outputSteps: 2)),
        Config(label: "two_tied_plain", dims: [GridDimension(.lstm), GridDimension(.plain(.tanh), priority: true)],
               topology: .timeDepth(steps: 4, depth: 3)),
        Config(label: "three_tied", dims: [GridDimension(.lstm), GridDimension(.lstm), GridDimension(.lstm, priority: true)],
               topology: .planeDepth(rows: 2, columns: 3, depth: 2)),
    ]

    @Test("matches an independent PyTorch implementation of the equations: outputs and gradients", arguments: goldenConfigs)
    func golden(_ config: Config) throws {
        let file = try Golden.tensors("grid_golden.json"), key = config.label + "."
        let x = try #require(file[key + "input"]), r = try #require(file[key + "loss_weights"])
        var rng = SeededGenerator(seed: 1)
        let grid = GridLSTM(name: "grid", dimensions: config.dims, inputSize: x.shape[2], hiddenSize: r.shape[2],
                            levels: config.topology.levels, rng: &rng)
        // the file's parameters are exactly ours, by name, and load through a safetensors file
        let inFile = Set(file.keys.filter { $0.hasPrefix(key + "grid.") }.map { String($0.dropFirst(key.count)) })
        #expect(inFile == Set(grid.parameters.map(\.name)))
        let stateDict = try SafeTensors.encode(grid.parameters.map { p in (p.name, try #require(file[key + p.name], "\(p.name)")) })
        try SafeTensors.decode(stateDict).load(into: grid.parameters)
        for variant in KernelVariant.supported {
            grid.variant = variant
            for p in grid.parameters { p.zeroGrad() }
            let tape = Tape(), xv = tape.variable(x)
            let y = try grid(xv, topology: config.topology)
            Golden.close(y.value, file[key + "output"], "\(config) \(variant) output")
            try tape.backward(y, seed: r)
            Golden.close(tape.gradient(of: xv) ?? .zeros(x.shape), file[key + "grad.input"], "\(config) \(variant) d input")
            for p in grid.parameters { Golden.close(p.grad, file[key + "grad." + p.name], "\(config) \(variant) d \(p.name)") }
        }
    }

    @Test("state_dict names and shapes")
    func names() {
        var rng = SeededGenerator(seed: 32)
        let tied = GridLSTM.oneLSTM(name: "grid", inputSize: 5, hiddenSize: 4, depth: 3, tied: true, rng: &rng)
        #expect(tied.parameters.map(\.name) == ["grid.input.weight", "grid.input.bias", "grid.dims.0.weight", "grid.dims.0.bias"])
        #expect(tied.parameters.map(\.shape) == [[8, 5], [8], [16, 4], [16]])
        let untied = GridLSTM.twoLSTM(name: "g", inputSize: 5, hiddenSize: 4, depth: 2, tied: false,
                                      depthTransform: .plain(.relu), rng: &rng)
        #expect(untied.parameters.map(\.name) == ["g.input.weight", "g.input.bias",
                                                  "g.dims.0.0.weight", "g.dims.0.0.bias", "g.dims.0.1.weight", "g.dims.0.1.bias",
                                                  "g.dims.1.0.weight", "g.dims.1.0.bias", "g.dims.1.1.weight", "g.dims.1.1.bias"])
        #expect(untied.parameters[2].shape == [16, 8] && untied.parameters[6].shape == [4, 8])
        #expect(untied.summary == "GridLSTM(2 dims [LSTM untied, relu untied priority], 5 → 4, 2 levels)")
    }

    @Test("the raw-buffer pair matches the tape and reuses one workspace; shape errors throw")
    func rawPairAndShapes() throws {
        var rng = SeededGenerator(seed: 33)
        let grid = GridLSTM.twoLSTM(name: "g", inputSize: 4, hiddenSize: 17, depth: 3, tied: true, rng: &rng)
        let top = GridTopology.timeDepth(steps: 5, depth: 3, outputSteps: 2)
        let x = Self.uniform([3, 5, 4], seed: 7)
        let tape = Tape()
        let expected = try grid(tape.constant(x), topology: top).value
        #expect(expected.shape == [3, 2, 17])
        let ws = grid.makeWorkspace(topology: top, batch: 3)
        var out = Tensor.zeros([3, 2, 17])
        for _ in 0..<2 { grid.forward(x: x.unsafePointer, output: out.unsafeMutablePointer(), workspace: ws) }
        #expect(out == expected)
        #expect(throws: TensorError.self) { try grid(tape.constant(.zeros([3, 4, 4])), topology: top) }
        #expect(throws: TensorError.self) { try grid(tape.constant(.zeros([3, 5, 3])), topology: top) }
        #expect(throws: TensorError.self) { try grid(tape.constant(.zeros([1, 1, 4])), topology: .depthStack(depth: 2)) }
    }

    @Test("a 1-LSTM of depth d is the LSTM recurrence run d steps on a zero input")
    func oneLSTMIsDeepLSTM() throws {
        // h_{d+1}, m_{d+1} = LSTM(h_d, m_d) with gates W·h_d + b: the LSTM layer with W_ih = 0.
        var rng = SeededGenerator(seed: 34)
        let (hidden, depth, batch) = (6, 4, 2)
        let grid = GridLSTM.oneLSTM(name: "g", inputSize: 3, hiddenSize: hidden, depth: depth, tied: true, rng: &rng)
        let lstm = LSTM(name: "l", inputSize: 1, hiddenSize: hidden, rng: &rng)
        lstm.weightIH[0].value = .zeros([4 * hidden, 1])
        lstm.weightHH[0].value = grid.weights[0][0].value
        lstm.biasIH[0].value = grid.biases[0][0].value
        lstm.biasHH[0].value = .zeros([4 * hidden])
        let x = Self.uniform([batch, 1, 3], seed: 8)
        let tape = Tape()
        let y = try grid(tape.constant(x), topology: .depthStack(depth: depth)).value
        // the projection's [h | m] as the LSTM's h0, c0
        let p = try tape.matmul(tape.reshape(tape.constant(x), to: [batch, 3]), tape.parameter(grid.inputWeight), transB: true).value
        var h0 = Tensor.zeros([1, batch, hidden]), c0 = Tensor.zeros([1, batch, hidden])
        for b in 0..<batch {
            for j in 0..<hidden { h0[flat: b * hidden + j] = p[b, j]; c0[flat: b * hidden + j] = p[b, hidden + j] }
        }
        let r = try lstm(tape.constant(.zeros([batch, depth, 1])), h0: tape.constant(h0), c0: tape.constant(c0))
        for i in 0..<y.count { #expect(abs(y[flat: i] - r.hidden.value[flat: i]) < 1e-5) }
    }
}
