// Tape mechanics: accumulation, parameters, constants, reuse across steps, fused ops, errors.
import Foundation
import Testing
import HighwayTensor

@Suite struct TapeTests {
    @Test func parameterUsedTwiceGetsTheSum() throws {
        let p = Parameter(name: "p", value: try Tensor(shape: [3], values: [1, 2, 3]))
        let tape = Tape()
        let a = tape.parameter(p), b = tape.parameter(p)
        // L = Σ (p ⊙ p) + Σ 2·p  (p used three times)  ⇒  dL/dp = 2p + 2
        let loss = try tape.add(tape.sum(tape.mul(a, b)), tape.sum(tape.scale(a, by: 2)))
        try tape.backward(loss)
        #expect(p.grad.scalars == [4, 6, 8])
        // A second backward adds on top (PyTorch semantics) until zeroGrad().
        try tape.backward(loss)
        #expect(p.grad.scalars == [8, 12, 16])
        p.zeroGrad()
        #expect(p.grad.scalars == [0, 0, 0])
    }

    @Test func constantsGetNoGradientAndRecordNoOps() throws {
        let tape = Tape()
        let c = tape.constant(Tensor(shape: [2, 2], repeating: 1))
        let d = tape.relu(c)
        #expect(tape.operationCount == 0)
        let x = tape.variable(Tensor(shape: [2, 2], repeating: 2))
        let loss = tape.sum(try tape.mul(d, x))
        #expect(tape.operationCount == 2)
        try tape.backward(loss)
        #expect(tape.gradient(of: c) == nil)
        #expect(tape.gradient(of: x)?.scalars == [1, 1, 1, 1])
        #expect(loss.value.scalars == [8])
    }

    @Test func unreachedValuesHaveNoGradient() throws {
        let tape = Tape()
        let x = tape.variable(Tensor(shape: [2], repeating: 1))
        let unused = tape.tanh(x)
        let loss = tape.sum(x)
        try tape.backward(loss)
        #expect(tape.gradient(of: unused) == nil)
        #expect(tape.gradient(of: x)?.scalars == [1, 1])
    }

    @Test func backwardNeedsAScalarOrAMatchingSeed() throws {
        let tape = Tape()
        let x = tape.variable(Tensor.zeros([2, 3]))
        do {
            try tape.backward(x)
            Issue.record("expected an error for a non-scalar loss")
        } catch {
            #expect("\(error)".contains("[2, 3]") && "\(error)".hasPrefix("backward"))
        }
        #expect(throws: TensorError.self) { try tape.backward(x, seed: Tensor.zeros([3, 2])) }
        try tape.backward(x, seed: Tensor(shape: [2, 3], repeating: 0.5))
        #expect(tape.gradient(of: x)?.scalars == [Float](repeating: 0.5, count: 6))
    }

    @Test func resetReusesGradientBuffers() throws {
        let w = Parameter(name: "w", value: Tensor(shape: [4, 3], repeating: 0.1))
        let tape = Tape()
        var addresses: [UnsafePointer<Float>?] = []
        for step in 0..<3 {
            tape.reset()
            let x = tape.variable(Tensor(shape: [2, 3], repeating: Float(step)))
            let h = tape.tanh(try tape.matmul(x, tape.parameter(w), transB: true))
            try tape.backward(tape.sum(h))
            addresses.append(tape.gradient(of: h)!.withUnsafeBufferPointer { $0.baseAddress })
            // The values are per step, not accumulated across steps.
            #expect(tape.gradient(of: h)!.scalars == [Float](repeating: 1, count: 8))
        }
        #expect(addresses[0] == addresses[1] && addresses[1] == addresses[2])
        #expect(tape.generation == 3)
    }

    @Test func fusedOpByClosure() throws {
        // y = a·tanh(x) as one op, as in the Tape documentation.
        func scaledTanh(_ x: Variable, _ a: Float, on tape: Tape) -> Variable {
            var y = x.value
            y.withUnsafeMutableBufferPointer { p in
                Kernels.tanh(p.baseAddress!, p.baseAddress!, count: p.count)
                for i in p.indices { p[i] *= a }
            }
            return tape.record(inputs: [x], output: y) { ctx in
                guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
                let y = ctx.outputPointer, dy = ctx.outputGradientPointer
                for i in 0..<ctx.output.count { dx[i] += dy[i] * (a - y[i] * y[i] / a) }
            }
        }
        try expectGradients(inputs: [randomTensor([3, 5], seed: 1)]) { tape, v in scaledTanh(v[0], 1.7, on: tape) }
    }

    /// A layer-like object that records itself; `tag` says which of its uses is being differentiated.
    final class Doubler: TapeOperation {
        var calls: [Int] = []
        func forward(_ x: Variable, step: Int, on tape: Tape) -> Variable {
            tape.record(self, inputs: [x], output: x.value * 2, tag: step)
        }
        func backward(_ ctx: BackwardContext) {
            calls.append(ctx.tag)
            guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
            let dy = ctx.outputGradientPointer
            for i in 0..<ctx.output.count { dx[i] += 2 * dy[i] }
        }
    }

    @Test func fusedOpByObjectRunsInReverseOrder() throws {
        let layer = Doubler()
        let tape = Tape()
        let x = tape.variable(Tensor(shape: [2], repeating: 1))
        var h = x
        for t in 0..<3 { h = layer.forward(h, step: t, on: tape) }
        try tape.backward(tape.sum(h))
        #expect(layer.calls == [2, 1, 0])
        #expect(tape.gradient(of: x)?.scalars == [8, 8])
    }

    @Test func softmaxCrossEntropyValue() throws {
        let logits = try Tensor(shape: [2, 3], values: [1, 2, 3, 1000, 0, -1000])
        let tape = Tape()
        let loss = try tape.softmaxCrossEntropy(logits: tape.constant(logits), labels: [2, 0])
        // Row 0: log(e¹ + e² + e³) − 3; row 1: stable at huge logits, ≈ 0.
        let row0 = log(exp(1.0) + exp(2.0) + exp(3.0)) - 3
        #expect(abs(Double(loss.value[flat: 0]) - row0 / 2) < 1e-6)
    }

    @Test("rows labelled ignoreIndex add nothing: the mean is over the others, and their gradient is 0")
    func softmaxCrossEntropyIgnoring() throws {
        let logits = try Tensor(shape: [3, 3], values: [1, 2, 3, 5, -2, 7, 0, 1, 0])
        let tape = Tape()
        let x = tape.variable(logits)
        let loss = try tape.softmaxCrossEntropy(logits: x, labels: [2, -1, 1], ignoreIndex: -1)
        let kept = try Tensor(shape: [2, 3], values: [1, 2, 3, 0, 1, 0])
        let other = Tape()
        let reference = try other.softmaxCrossEntropy(logits: other.constant(kept), labels: [2, 1])
        #expect(loss.value[flat: 0] == reference.value[flat: 0])
        try tape.backward(loss)
        let g = try #require(tape.gradient(of: x)).scalars
        #expect(g[3..<6].allSatisfy { $0 == 0 } && g[0..<3].contains { $0 != 0 } && g[6..<9].contains { $0 != 0 })
        // all rows without a target: a loss of 0 and no gradient; a label outside the classes still throws
        let none = try tape.softmaxCrossEntropy(logits: tape.variable(logits), labels: [-1, -1, -1], ignoreIndex: -1)
        #expect(none.value[flat: 0] == 0)
        #expect(throws: TensorError.labelOutOfRange(op: "softmaxCrossEntropy", row: 2, label: -2, classes: 3)) {
            _ = try tape.softmaxCrossEntropy(logits: x, labels: [0, -1, -2], ignoreIndex: -1)
        }
    }

    @Test func softmaxCrossEntropyRejectsBadLabels() {
        let tape = Tape()
        let x = tape.variable(Tensor.zeros([3, 4]))
        #expect(throws: TensorError.labelOutOfRange(op: "softmaxCrossEntropy", row: 1, label: 4, classes: 4)) {
            _ = try tape.softmaxCrossEntropy(logits: x, labels: [0, 4, 1])
        }
        #expect(throws: TensorError.labelOutOfRange(op: "softmaxCrossEntropy", row: 0, label: -1, classes: 4)) {
            _ = try tape.softmaxCrossEntropy(logits: x, labels: [-1, 0, 1])
        }
        #expect(throws: TensorError.self) { _ = try tape.softmaxCrossEntropy(logits: x, labels: [0, 1]) }
        let message = "\(TensorError.labelOutOfRange(op: "softmaxCrossEntropy", row: 1, label: 4, classes: 4))"
        #expect(message.contains("label 4") && message.contains("row 1") && message.contains("0..<4"))
    }

    @Test func opShapeErrorsNameTheShapes() {
        let tape = Tape()
        let a = tape.variable(Tensor.zeros([2, 3])), b = tape.variable(Tensor.zeros([4, 5]))
        do {
            _ = try tape.matmul(a, b)
            Issue.record("expected a shape error")
        } catch {
            #expect("\(error)" == "matmul: shapes [2, 3] and [4, 5] do not fit (expected lhs.shape[1] == rhs.shape[0])")
        }
        #expect(throws: TensorError.shapeMismatch(op: "mul", lhs: [2, 3], rhs: [4, 5], expected: "equal shapes, or one shape a suffix of the other (bias broadcasting)")) {
            _ = try tape.mul(a, b)
        }
        #expect(throws: TensorError.self) { _ = try tape.concat([a, b]) }
        #expect(throws: TensorError.self) { _ = try tape.split(a, lastAxisSizes: [1, 1]) }
        #expect(throws: TensorError.self) { _ = try tape.reshape(a, to: [5]) }
    }

    @Test func gradientCheckCanFail() throws {
        // A deliberately wrong backward (factor 2 missing) must be reported, with its location.
        let report = try GradientCheck.check(inputs: [randomTensor([2, 3], seed: 1)]) { tape, v in
            tape.record(inputs: [v[0]], output: v[0].value * 2) { ctx in
                guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
                for i in 0..<ctx.output.count { dx[i] += ctx.outputGradientPointer[i] }
            }
        }
        #expect(!report.passed)
        #expect(report.checked == 6 && report.worst.contains("input 0"))
        #expect(abs(report.maxRelativeError - 0.5) < 0.01)
    }
}
