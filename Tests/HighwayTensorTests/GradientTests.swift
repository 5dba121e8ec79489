// Finite-difference gradient checks for every tape op, on size-1, odd and rank-3 shapes.
import Testing
import HighwayTensor

/// Runs GradientCheck and records its report as the failure message.
func expectGradients(inputs: [Tensor], parameters: [Parameter] = [], sourceLocation: SourceLocation = #_sourceLocation,
                     _ forward: (Tape, [Variable]) throws -> Variable) throws {
    let report = try GradientCheck.check(inputs: inputs, parameters: parameters, forward)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
    #expect(report.checked == inputs.map(\.count).reduce(0, +) + parameters.map(\.value.count).reduce(0, +),
            sourceLocation: sourceLocation)
}

@Suite struct GradientTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmul(transA: Bool, transB: Bool) throws {
        for (m, k, n) in [(1, 1, 1), (3, 7, 5), (5, 1, 4), (2, 3, 1), (1, 6, 3)] {
            let a = randomTensor(transA ? [k, m] : [m, k], seed: 1), b = randomTensor(transB ? [n, k] : [k, n], seed: 2)
            try expectGradients(inputs: [a, b]) { tape, v in try tape.matmul(v[0], v[1], transA: transA, transB: transB) }
        }
    }

    @Test func matmulWithLeadingAxes() throws {
        try expectGradients(inputs: [randomTensor([2, 3, 5], seed: 1), randomTensor([4, 5], seed: 2)]) { tape, v in
            try tape.matmul(v[0], v[1], transB: true)
        }
    }

    @Test(arguments: oddShapes)
    func addSubMulSameShape(shape: [Int]) throws {
        let a = randomTensor(shape, seed: 3), b = randomTensor(shape, seed: 4)
        try expectGradients(inputs: [a, b]) { tape, v in try tape.add(v[0], v[1]) }
        try expectGradients(inputs: [a, b]) { tape, v in try tape.sub(v[0], v[1]) }
        try expectGradients(inputs: [a, b]) { tape, v in try tape.mul(v[0], v[1]) }
        try expectGradients(inputs: [a]) { tape, v in try tape.mul(v[0], v[0]) }   // one value used twice
    }

    /// Bias broadcasting both ways round: (big, small) and (small, big).
    @Test(arguments: [([3, 7], [7]), ([2, 3, 5], [3, 5]), ([2, 3, 5], [5]), ([5, 1], [1]), ([3, 7], []), ([1, 1], [1])])
    func broadcasting(big: [Int], small: [Int]) throws {
        let a = randomTensor(big, seed: 5), b = randomTensor(small, seed: 6)
        for (x, y) in [(a, b), (b, a)] {
            try expectGradients(inputs: [x, y]) { tape, v in try tape.add(v[0], v[1]) }
            try expectGradients(inputs: [x, y]) { tape, v in try tape.sub(v[0], v[1]) }
            try expectGradients(inputs: [x, y]) { tape, v in try tape.mul(v[0], v[1]) }
        }
    }

    @Test(arguments: oddShapes)
    func activations(shape: [Int]) throws {
        try expectGradients(inputs: [awayFromZero(shape, seed: 7)]) { tape, v in tape.relu(v[0]) }
        try expectGradients(inputs: [randomTensor(shape, seed: 8)]) { tape, v in tape.tanh(v[0]) }
        try expectGradients(inputs: [randomTensor(shape, seed: 9, std: 3)]) { tape, v in tape.sigmoid(v[0]) }
    }

    @Test(arguments: oddShapes)
    func reductionsScaleAndReshape(shape: [Int]) throws {
        let x = randomTensor(shape, seed: 10)
        try expectGradients(inputs: [x]) { tape, v in tape.sum(v[0]) }
        try expectGradients(inputs: [x]) { tape, v in tape.mean(v[0]) }
        try expectGradients(inputs: [x]) { tape, v in tape.scale(v[0], by: -2.5) }
        try expectGradients(inputs: [x]) { tape, v in try tape.reshape(v[0], to: [-1]) }
    }

    @Test func concatAndSplit() throws {
        let parts = [randomTensor([3, 2], seed: 1), randomTensor([3, 5], seed: 2), randomTensor([3, 1], seed: 3)]
        try expectGradients(inputs: parts) { tape, v in try tape.concat(v) }
        try expectGradients(inputs: [randomTensor([2, 3, 1], seed: 4), randomTensor([2, 3, 4], seed: 5)]) { tape, v in
            try tape.concat(v)
        }
        // Each split part weighted differently, and one part unused (its gradient must stay 0).
        try expectGradients(inputs: [randomTensor([2, 3, 7], seed: 6)]) { tape, v in
            let p = try tape.split(v[0], lastAxisSizes: [2, 1, 4])
            return try tape.concat([tape.scale(p[2], by: 3), p[0]])
        }
        try expectGradients(inputs: [randomTensor([1, 1], seed: 7)]) { tape, v in
            try tape.split(v[0], lastAxisSizes: [0, 1])[1]
        }
    }

    @Test(arguments: [([1, 1], [0]), ([3, 7], [6, 0, 3]), ([5, 1], [0, 0, 0, 0, 0]), ([4, 10], [9, 2, 2, 5])])
    func softmaxCrossEntropy(shape: [Int], labels: [Int]) throws {
        try expectGradients(inputs: [randomTensor(shape, seed: 11, std: 2)]) { tape, v in
            try tape.softmaxCrossEntropy(logits: v[0], labels: labels)
        }
    }

    @Test("softmax cross-entropy with rows that have no target (ignoreIndex)",
          arguments: [([4, 5], [3, -1, 0, -1]), ([3, 7], [-1, -1, 6]), ([2, 3], [-1, -1])])
    func softmaxCrossEntropyIgnoring(shape: [Int], labels: [Int]) throws {
        try expectGradients(inputs: [randomTensor(shape, seed: 14, std: 2)]) { tape, v in
            try tape.softmaxCrossEntropy(logits: v[0], labels: labels, ignoreIndex: -1)
        }
    }

    @Test func parameterUsedTwice() throws {
        // y = tanh(W·x + W·(x ⊙ x)) with W registered twice, plus a bias added to both branches.
        var rng = SeededGenerator(seed: 12)
        let w = Parameter(name: "w", value: .normal(shape: [4, 3], rng: &rng))
        let b = Parameter(name: "b", value: .normal(shape: [4], rng: &rng))
        try expectGradients(inputs: [randomTensor([5, 3], seed: 13)], parameters: [w, b]) { tape, v in
            let h1 = try tape.add(tape.matmul(v[0], tape.parameter(w), transB: true), tape.parameter(b))
            let h2 = try tape.add(tape.matmul(tape.mul(v[0], v[0]), tape.parameter(w), transB: true), tape.parameter(b))
            return tape.tanh(try tape.add(h1, h2))
        }
        // The same Variable feeding both operands of one matmul: W·Wᵀ.
        let sq = Parameter(name: "sq", value: .normal(shape: [3, 3], rng: &rng))
        try expectGradients(inputs: [], parameters: [sq]) { tape, _ in
            let p = tape.parameter(sq)
            return try tape.matmul(p, p, transB: true)
        }
    }

    @Test func smallNetworkEndToEnd() throws {
        // A 2-layer highway-like block: every op composed, checked through the loss.
        var rng = SeededGenerator(seed: 14)
        let w = Parameter(name: "w", value: .normal(shape: [6, 4], std: 0.5, rng: &rng))
        let bias = Parameter(name: "bias", value: .normal(shape: [6], rng: &rng))
        try expectGradients(inputs: [randomTensor([3, 4], seed: 15)], parameters: [w, bias]) { tape, v in
            let z = try tape.add(tape.matmul(v[0], tape.parameter(w), transB: true), tape.parameter(bias))   // [3, 6]
            let parts = try tape.split(z, lastAxisSizes: [3, 3])
            let h = tape.tanh(parts[0]), t = tape.sigmoid(parts[1])
            let x = try tape.split(v[0], lastAxisSizes: [3, 1])[0]                                          // carry [3, 3]
            let y = try tape.add(tape.mul(t, h), tape.mul(tape.sub(tape.constant(Tensor(1)), t), x))
            return try tape.softmaxCrossEntropy(logits: y, labels: [0, 2, 1])
        }
    }
}
