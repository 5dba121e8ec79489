import HighwayNN
import HighwayTensor
import Testing

/// Finite-difference checks of every layer's fused backward, and of the network's threaded
/// training pass against the same network recorded on a tape.
@Suite("Layers")
struct LayerTests {
    static func input(_ rows: Int, _ cols: Int, seed: UInt64 = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return .uniform(shape: [rows, cols], in: -1..<1, rng: &rng)
    }

    /// Finite differences are wrong across ReLU's kink: bias every other unit far into the active
    /// side (+5) and the rest far into the dead side (−5), so both branches are checked.
    static func awayFromKink(_ bias: Parameter, units: Int) {
        let b = bias.value.unsafeMutablePointer()
        for j in 0..<units { b[j] = j % 2 == 0 ? 5 : -5 }
    }

    @Test("Dense gradient check", arguments: [Activation.identity, .tanh, .sigmoid, .relu])
    func dense(_ act: Activation) throws {
        var rng = SeededGenerator(seed: 7)
        for (rows, inputs, outputs) in [(1, 1, 1), (3, 5, 4), (7, 3, 1)] {
            let layer = Dense(name: "d", inputSize: inputs, outputSize: outputs, activation: act, rng: &rng)
            if act == .relu { Self.awayFromKink(layer.bias, units: outputs) }
            let report = try GradientCheck.check(inputs: [Self.input(rows, inputs)], parameters: [layer.weight, layer.bias],
                                                 step: 1e-2) { _, v in try layer(v[0]) }
            #expect(report.passed, "\(act) \(rows)×\(inputs)→\(outputs): \(report)")
        }
    }

    @Test("Highway gradient check", arguments: [Activation.tanh, .relu, .sigmoid])
    func highway(_ act: Activation) throws {
        var rng = SeededGenerator(seed: 8)
        for (rows, width) in [(1, 1), (4, 3), (5, 17)] {
            let layer = Highway(name: "h", width: width, activation: act, gateBias: -0.5, rng: &rng)
            if act == .relu { Self.awayFromKink(layer.bias, units: width) }
            let report = try GradientCheck.check(inputs: [Self.input(rows, width)], parameters: [layer.weight, layer.bias],
                                                 step: 1e-2) { _, v in try layer(v[0]) }
            #expect(report.passed, "\(act) \(rows)×\(width): \(report)")
        }
    }

    @Test("a lesioned highway layer copies its input and passes the gradient through")
    func lesion() throws {
        var rng = SeededGenerator(seed: 9)
        let layer = Highway(name: "h", width: 6, activation: .tanh, rng: &rng)
        layer.lesioned = true
        let x = Self.input(3, 6)
        let tape = Tape()
        let y = try layer(tape.constant(x))
        #expect(y.value == x)
        let report = try GradientCheck.check(inputs: [x], parameters: [layer.weight, layer.bias]) { _, v in try layer(v[0]) }
        #expect(report.passed, "\(report)")
        #expect(layer.weight.grad.scalars.allSatisfy { $0 == 0 })
    }

    @Test("Residual gradient check", arguments: [Activation.tanh, .relu])
    func residual(_ act: Activation) throws {
        var rng = SeededGenerator(seed: 10)
        for (rows, width) in [(1, 1), (4, 5)] {
            let layer = Residual(name: "r", width: width, activation: act, rng: &rng)
            if act == .relu { Self.awayFromKink(layer.bias, units: width) }
            let report = try GradientCheck.check(inputs: [Self.input(rows, width)], parameters: [layer.weight, layer.bias],
                                                 step: 1e-2) { _, v in try layer(v[0]) }
            #expect(report.passed, "\(act) \(rows)×\(width): \(report)")
        }
    }

    @Test("networks, tied and untied, gradient check through the tape", arguments: [
        NetworkConfig(kind: .highway, inputSize: 5, classes: 3, depth: 4, width: 4, gateBias: -1),
        NetworkConfig(kind: .highway, inputSize: 5, classes: 3, depth: 4, width: 4, gateBias: -1, tied: true),
        NetworkConfig(kind: .plain, inputSize: 5, classes: 3, depth: 3, width: 4),
        NetworkConfig(kind: .residual, inputSize: 5, classes: 3, depth: 3, width: 4),
    ])
    func network(_ config: NetworkConfig) throws {
        let net = FeedForwardNetwork(config: config, seed: 3)
        let report = try GradientCheck.check(inputs: [Self.input(3, 5)], parameters: net.parameters) { _, v in try net(v[0]) }
        #expect(report.passed, "\(config.kind) tied=\(config.tied): \(report)")
    }

    @Test("the threaded training pass matches the tape's loss and gradients", arguments: [1, 2, 3])
    func trainStepMatchesTape(threads: Int) throws {
        let saved = ThreadPool.threads
        defer { ThreadPool.threads = saved }
        ThreadPool.threads = threads
        for tied in [false, true] {
            let config = NetworkConfig(kind: .highway, inputSize: 9, classes: 4, depth: 5, width: 6, tied: tied)
            let net = FeedForwardNetwork(config: config, seed: 11)
            let rows = 13
            let x = Self.input(rows, 9, seed: 5)
            let labels: [Int32] = (0..<rows).map { Int32($0 % 4) }
            // tape reference
            for p in net.parameters { p.zeroGrad() }
            let tape = Tape()
            let loss = try tape.softmaxCrossEntropy(logits: net(tape.constant(x)), labels: labels.map(Int.init))
            try tape.backward(loss)
            let want = net.parameters.map { $0.grad }
            let wantLoss = loss.value.scalars[0]
            // fused, threaded
            let result = x.withUnsafeBufferPointer { xp in
                labels.withUnsafeBufferPointer { lp in
                    net.trainStep(x: xp.baseAddress!, labels: lp.baseAddress!, rows: rows, threads: threads)
                }
            }
            #expect(abs(Float(result.lossSum / Double(rows)) - wantLoss) < 1e-5)
            for (p, g) in zip(net.parameters, want) {
                let worst = zip(p.grad.scalars, g.scalars).map { abs($0 - $1) }.max() ?? 0
                #expect(worst < 1e-5, "\(p.name) tied=\(tied) threads=\(threads): max difference \(worst)")
            }
        }
    }

    @Test("checkpoint names follow the documented state_dict layout")
    func names() {
        let net = FeedForwardNetwork(config: NetworkConfig(kind: .highway, inputSize: 784, classes: 10, depth: 3, width: 50), seed: 1)
        #expect(net.parameters.map(\.name) == ["input.weight", "input.bias", "layers.0.linear.weight", "layers.0.linear.bias",
                                                "layers.1.linear.weight", "layers.1.linear.bias", "output.weight", "output.bias"])
        #expect(net.parameters[2].shape == [100, 50])
        let tied = FeedForwardNetwork(config: NetworkConfig(kind: .highway, inputSize: 784, classes: 10, depth: 4, width: 50, tied: true), seed: 1)
        #expect(tied.parameters.count == 6)
        #expect(tied.parameterCount == 784 * 50 + 50 + 100 * 50 + 100 + 50 * 10 + 10)
    }

    @Test("same seed, same network; another seed, another")
    func determinism() {
        let c = NetworkConfig(kind: .highway, inputSize: 20, classes: 3, depth: 3, width: 8)
        let a = FeedForwardNetwork(config: c, seed: 1), b = FeedForwardNetwork(config: c, seed: 1), d = FeedForwardNetwork(config: c, seed: 2)
        #expect(zip(a.parameters, b.parameters).allSatisfy { $0.value.scalars.map(\.bitPattern) == $1.value.scalars.map(\.bitPattern) })
        #expect(a.parameters[0].value != d.parameters[0].value)
        // the gate bias starts at −2
        #expect(a.highwayLayers[0].bias.value.scalars[8..<16].allSatisfy { $0 == -2 })
    }
}
