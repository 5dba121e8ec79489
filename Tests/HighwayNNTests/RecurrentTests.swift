import Foundation
import HighwayNN
import HighwayTensor
import Testing

/// Finite-difference checks of the LSTM's and GRU's backward through time (inputs, initial states,
/// every weight and bias; 1 and 2 layers; every kernel variant this CPU runs), the shape errors of
/// their tape wrappers, and a golden comparison with PyTorch (Scripts/make_rnn_golden.py).
@Suite("Recurrent layers")
struct RecurrentTests {
    static func uniform(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return .uniform(shape: shape, in: -1..<1, rng: &rng)
    }

    /// Every output of a call as one row, so a single check covers output, h_n and c_n.
    static func flat(_ tape: Tape, _ parts: [Variable]) throws -> Variable {
        try tape.concat(parts.map { try tape.reshape($0, to: [1, -1]) })
    }

    @Test("LSTM gradient check: input, h0, c0, every weight and bias", arguments: [1, 2])
    func lstm(layers: Int) throws {
        let (batch, steps, input, hidden) = (2, 4, 3, 5)
        for variant in KernelVariant.supported {
            var rng = SeededGenerator(seed: 21)
            let lstm = LSTM(name: "lstm", inputSize: input, hiddenSize: hidden, layers: layers, rng: &rng)
            lstm.variant = variant
            let x = Self.uniform([batch, steps, input], seed: 1)
            let h0 = Self.uniform([layers, batch, hidden], seed: 2), c0 = Self.uniform([layers, batch, hidden], seed: 3)
            let report = try GradientCheck.check(inputs: [x, h0, c0], parameters: lstm.parameters, step: 1e-2) { tape, v in
                let r = try lstm(v[0], h0: v[1], c0: v[2])
                return try Self.flat(tape, [r.output, r.hidden, r.cell])
            }
            #expect(report.passed, "\(variant) layers=\(layers): \(report)")
            #expect(report.checked == x.count + 2 * h0.count + lstm.parameters.reduce(0) { $0 + $1.value.count })
        }
    }

    @Test("GRU gradient check: input, h0, every weight and bias", arguments: [1, 2])
    func gru(layers: Int) throws {
        let (batch, steps, input, hidden) = (2, 4, 3, 5)
        for variant in KernelVariant.supported {
            var rng = SeededGenerator(seed: 22)
            let gru = GRU(name: "gru", inputSize: input, hiddenSize: hidden, layers: layers, rng: &rng)
            gru.variant = variant
            let x = Self.uniform([batch, steps, input], seed: 4)
            let h0 = Self.uniform([layers, batch, hidden], seed: 5)
            let report = try GradientCheck.check(inputs: [x, h0], parameters: gru.parameters, step: 1e-2) { tape, v in
                let r = try gru(v[0], h0: v[1])
                return try Self.flat(tape, [r.output, r.hidden])
            }
            #expect(report.passed, "\(variant) layers=\(layers): \(report)")
        }
    }

    @Test("on several threads each takes a block of rows: outputs, states and input gradients as on one thread, weights' to 1e-5, the same every time",
          arguments: ["lstm", "gru"])
    func threads(_ kind: String) throws {
        let (steps, input, hidden, layers) = (4, 3, 5, 2)
        var rng = SeededGenerator(seed: 28)
        let layer: RecurrentLayer = kind == "lstm" ? LSTM(name: "l", inputSize: input, hiddenSize: hidden, layers: layers, rng: &rng)
                                                   : GRU(name: "g", inputSize: input, hiddenSize: hidden, layers: layers, rng: &rng)
        /// Every output (output, h_n, c_n) of a call with h0 (and c0), as one row.
        func call(_ tape: Tape, _ v: [Variable]) throws -> Variable {
            if let lstm = layer as? LSTM {
                let r = try lstm(v[0], h0: v[1], c0: v[2])
                return try Self.flat(tape, [r.output, r.hidden, r.cell])
            }
            let r = try (layer as! GRU)(v[0], h0: v[1])
            return try Self.flat(tape, [r.output, r.hidden])
        }
        /// Outputs, gradients of every input and parameter of Σ outputs·R, and the blocks the batch was split into.
        func pass(batch: Int, threads: Int) throws -> (out: Tensor, dInputs: [Tensor], grads: [Tensor], shares: Int) {
            layer.threads = threads
            for p in layer.parameters { p.zeroGrad() }
            let inputs = [Self.uniform([batch, steps, input], seed: 1), Self.uniform([layers, batch, hidden], seed: 2),
                          Self.uniform([layers, batch, hidden], seed: 3)].prefix(kind == "lstm" ? 3 : 2)
            let tape = Tape(), vs = inputs.map { tape.variable($0) }
            let y = try call(tape, vs)
            try tape.backward(y, seed: Self.uniform(y.shape, seed: 9))
            let ws = layer.makeWorkspace(batch: batch, steps: steps)
            var out = Tensor.zeros([batch, steps, hidden])
            if let lstm = layer as? LSTM { lstm.forward(x: inputs[0].unsafePointer, output: out.unsafeMutablePointer(), workspace: ws) }
            if let gru = layer as? GRU { gru.forward(x: inputs[0].unsafePointer, output: out.unsafeMutablePointer(), workspace: ws) }
            return (y.value, vs.map { tape.gradient(of: $0) ?? .zeros($0.shape) }, layer.parameters.map(\.grad), ws.lastShareCount)
        }
        // 19 rows: blocks of 10 and 9 at two threads (one per 8 rows at most, so three split it in two too)
        let one = try pass(batch: 19, threads: 1)
        #expect(one.shares == 1)
        for threads in [2, 3] {
            let split = try pass(batch: 19, threads: threads)
            #expect(split.shares == 2)
            #expect(split.out == one.out, "\(kind) threads \(threads): outputs and final states")
            #expect(split.dInputs == one.dInputs, "\(kind) threads \(threads): d input, d h0, d c0")
            for (p, (a, b)) in zip(layer.parameters, zip(split.grads, one.grads)) {
                let worst = zip(a.scalars, b.scalars).map { Double(abs($0 - $1)) / (1e-5 * max(1, Double(abs($1)))) }.max() ?? 0
                #expect(worst <= 1, "\(kind) threads \(threads): \(p.name)")
            }
            let again = try pass(batch: 19, threads: threads)
            #expect(again.grads == split.grads, "\(kind) threads \(threads): not deterministic")
        }
        // the blocks' gradient sums and state offsets, by finite differences
        layer.threads = 2
        #expect(try pass(batch: 16, threads: 2).shares == 2)
        let inputs = [Self.uniform([16, steps, input], seed: 4), Self.uniform([layers, 16, hidden], seed: 5),
                      Self.uniform([layers, 16, hidden], seed: 6)].prefix(kind == "lstm" ? 3 : 2)
        let report = try GradientCheck.check(inputs: Array(inputs), parameters: layer.parameters, step: 1e-2) { tape, v in try call(tape, v) }
        #expect(report.passed, "\(kind) at two threads: \(report)")
    }

    @Test("without h0/c0 the states start at zero, and only the output may carry the loss")
    func defaultsAndPartialUse() throws {
        var rng = SeededGenerator(seed: 23)
        let lstm = LSTM(name: "l", inputSize: 3, hiddenSize: 17, layers: 2, rng: &rng)   // 17: a partial vector
        let gru = GRU(name: "g", inputSize: 3, hiddenSize: 17, rng: &rng)
        let x = Self.uniform([3, 5, 3], seed: 6)
        let zeros = Tensor.zeros([2, 3, 17])
        let tape = Tape()
        let a = try lstm(tape.constant(x)).output.value
        let b = try lstm(tape.constant(x), h0: tape.constant(zeros), c0: tape.constant(zeros)).output.value
        #expect(a == b)
        let r1 = try GradientCheck.check(inputs: [x], parameters: lstm.parameters) { _, v in try lstm(v[0]).output }
        #expect(r1.passed, "LSTM output only: \(r1)")
        let r2 = try GradientCheck.check(inputs: [x], parameters: gru.parameters) { _, v in try gru(v[0]).hidden }
        #expect(r2.passed, "GRU h_n only: \(r2)")
    }

    @Test("state_dict names and shapes are PyTorch's")
    func names() {
        var rng = SeededGenerator(seed: 24)
        let lstm = LSTM(name: "rnn", inputSize: 5, hiddenSize: 7, layers: 2, rng: &rng)
        #expect(lstm.parameters.map(\.name) == ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                                                "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1"])
        #expect(lstm.parameters.map(\.shape) == [[28, 5], [28, 7], [28], [28], [28, 7], [28, 7], [28], [28]])
        let gru = GRU(name: "", inputSize: 5, hiddenSize: 7, rng: &rng)
        #expect(gru.parameters.map(\.name) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"])
        #expect(gru.parameters.map(\.shape) == [[21, 5], [21, 7], [21], [21]])
        let bound = 1 / Float(7).squareRoot()
        #expect(lstm.parameters.allSatisfy { $0.value.scalars.allSatisfy { abs($0) <= bound } })
        #expect(lstm.summary == "LSTM(5 → 7, 2 layers)" && gru.summary == "GRU(5 → 7)")
    }

    @Test("shape errors throw and name the layer")
    func shapeErrors() throws {
        var rng = SeededGenerator(seed: 25)
        let lstm = LSTM(name: "l", inputSize: 3, hiddenSize: 4, layers: 2, rng: &rng)
        let gru = GRU(name: "g", inputSize: 3, hiddenSize: 4, rng: &rng)
        let tape = Tape()
        let x = tape.constant(.zeros([2, 5, 3]))
        for bad in [[2, 5, 4], [10, 3], [2, 0, 3], [0, 5, 3]] {
            #expect(throws: TensorError.self) { try lstm(tape.constant(.zeros(bad))) }
            #expect(throws: TensorError.self) { try gru(tape.constant(.zeros(bad))) }
        }
        #expect(throws: TensorError.self) { try lstm(x, h0: tape.constant(.zeros([1, 2, 4]))) }        // one layer short
        #expect(throws: TensorError.self) { try lstm(x, c0: tape.constant(.zeros([2, 3, 4]))) }        // batch 3, not 2
        #expect(throws: TensorError.self) { try gru(x, h0: tape.constant(.zeros([1, 2, 5]))) }         // hidden 5, not 4
        do {
            _ = try lstm(tape.constant(.zeros([2, 5, 4])))
            Issue.record("no error")
        } catch let e as TensorError {
            #expect(e.description.contains("LSTM(3 → 4, 2 layers)") && e.description.contains("[batch, steps, 3]"), "\(e)")
        }
    }

    @Test("the raw-buffer pair matches the tape and reuses one workspace")
    func rawPair() throws {
        var rng = SeededGenerator(seed: 26)
        let lstm = LSTM(name: "l", inputSize: 4, hiddenSize: 6, layers: 2, rng: &rng)
        let x = Self.uniform([3, 7, 4], seed: 7)
        let tape = Tape()
        let expected = try lstm(tape.constant(x)).output.value
        let ws = lstm.makeWorkspace(batch: 3, steps: 7)
        var out = Tensor.zeros([3, 7, 6])
        for _ in 0..<2 { lstm.forward(x: x.unsafePointer, output: out.unsafeMutablePointer(), workspace: ws) }
        #expect(out == expected)
    }

    @Test("the tape reuses a layer's workspace only after a reset: two calls on one step keep their own")
    func workspaceReuse() throws {
        var rng = SeededGenerator(seed: 27)
        let gru = GRU(name: "g", inputSize: 3, hiddenSize: 4, layers: 2, rng: &rng)
        let a = Self.uniform([2, 5, 3], seed: 1), b = Self.uniform([2, 5, 3], seed: 2)
        let ra = Self.uniform([2, 5, 4], seed: 3), rb = Self.uniform([2, 5, 4], seed: 4)
        /// Gradients of Σ gru(x)·r summed over `pairs`, all on one tape step.
        func grads(_ tape: Tape, _ pairs: [(Tensor, Tensor)]) throws -> [Tensor] {
            tape.reset()
            for p in gru.parameters { p.zeroGrad() }
            let terms = try pairs.map { x, r in tape.sum(try tape.mul(gru(tape.constant(x)).output, tape.constant(r))) }
            try tape.backward(try terms.dropFirst().reduce(terms[0]) { try tape.add($0, $1) })
            return gru.parameters.map(\.grad)
        }
        let tape = Tape()
        let onlyA = try grads(tape, [(a, ra)]), onlyB = try grads(tape, [(b, rb)])   // the second reuses the first's workspace
        let both = try grads(tape, [(a, ra), (b, rb)])                                  // two calls on one step
        for (i, p) in gru.parameters.enumerated() {
            let worst = zip(both[i].scalars, zip(onlyA[i].scalars, onlyB[i].scalars)).map { abs($0 - ($1.0 + $1.1)) }.max() ?? 0
            #expect(worst < 1e-5, "\(p.name): \(worst)")
        }
        #expect(try grads(Tape(), [(b, rb)]) == onlyB)   // a fresh tape, a fresh workspace: the same
    }

    // ---- golden values from PyTorch ------------------------------------------------------------

    @Test("LSTM and GRU match PyTorch: outputs, final states and gradients", arguments: ["lstm", "gru"])
    func golden(_ kind: String) throws {
        let file = try Golden.tensors("rnn_golden.json")
        let x = try #require(file["\(kind).input"]), h0 = try #require(file["\(kind).h0"])
        let r = try #require(file["\(kind).loss_weights"])   // loss = Σ output · R
        let (batch, steps, input) = (x.shape[0], x.shape[1], x.shape[2])
        let (layers, hidden) = (h0.shape[0], h0.shape[2])
        var rng = SeededGenerator(seed: 1)
        let isLSTM = kind == "lstm"
        let lstm = LSTM(name: kind, inputSize: input, hiddenSize: hidden, layers: layers, rng: &rng)
        let gru = GRU(name: kind, inputSize: input, hiddenSize: hidden, layers: layers, rng: &rng)
        let params = isLSTM ? lstm.parameters : gru.parameters
        // PyTorch's state_dict, through a safetensors file: every name and shape must match ours
        let stateDict = try SafeTensors.encode(params.map { p in (p.name, try #require(file[p.name], "\(p.name)")) })
        try SafeTensors.decode(stateDict).load(into: params)
        for p in params { #expect(p.value == file[p.name], "\(p.name)"); p.zeroGrad() }
        for variant in KernelVariant.supported {
            lstm.variant = variant; gru.variant = variant
            for p in params { p.zeroGrad() }
            let tape = Tape()
            let xv = tape.variable(x), h0v = tape.variable(h0)
            let out: Variable, hn: Variable, cn: Variable?
            let c0 = file["lstm.c0"] ?? .zeros(h0.shape), c0v = tape.variable(c0)
            if isLSTM {
                (out, hn, cn) = try lstm(xv, h0: h0v, c0: c0v)
            } else {
                (out, hn) = try gru(xv, h0: h0v); cn = nil
            }
            #expect(out.shape == [batch, steps, hidden])
            Golden.close(out.value, file["\(kind).output"], "\(variant) \(kind) output")
            Golden.close(hn.value, file["\(kind).h_n"], "\(variant) \(kind) h_n")
            if let cn { Golden.close(cn.value, file["lstm.c_n"], "\(variant) lstm c_n") }
            try tape.backward(out, seed: r)
            Golden.close(tape.gradient(of: xv) ?? .zeros(x.shape), file["\(kind).grad.input"], "\(variant) \(kind) d input")
            Golden.close(tape.gradient(of: h0v) ?? .zeros(h0.shape), file["\(kind).grad.h0"], "\(variant) \(kind) d h0")
            if isLSTM { Golden.close(tape.gradient(of: c0v) ?? .zeros(c0.shape), file["lstm.grad.c0"], "\(variant) lstm d c0") }
            for p in params { Golden.close(p.grad, file["\(kind).grad." + String(p.name.dropFirst(kind.count + 1))], "\(variant) d \(p.name)") }
        }
    }
}
