// LSTNet's layers: the convolution across series, the autoregressive (highway) component, temporal
// attention and dropout — finite-difference checks of each fused backward, plus values by hand.
import Foundation
import HighwayNN
import HighwayTensor
import Testing

@Suite("Forecasting layers")
struct ForecastLayerTests {
    static func input(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return .uniform(shape: shape, in: -1..<1, rng: &rng)
    }

    @Test("Conv1DAcrossSeries gradient check", arguments: [Activation.identity, .tanh, .relu])
    func conv(_ act: Activation) throws {
        var rng = SeededGenerator(seed: 11)
        for (b, t, m, k, c) in [(1, 1, 1, 1, 1), (2, 5, 3, 2, 4), (3, 6, 2, 6, 3), (2, 7, 4, 3, 5)] {
            let conv = Conv1DAcrossSeries(name: "conv1", series: m, kernel: k, channels: c, activation: act, rng: &rng)
            if act == .relu {   // keep the pre-activations away from the kink
                let bp = conv.bias.value.unsafeMutablePointer()
                for j in 0..<c { bp[j] = j % 2 == 0 ? 6 : -6 }
            }
            let report = try GradientCheck.check(inputs: [Self.input([b, t, m])], parameters: [conv.weight, conv.bias]) { _, v in
                try conv(v[0])
            }
            #expect(report.passed, "\(act) b\(b) t\(t) m\(m) k\(k) c\(c): \(report)")
        }
    }

    @Test("Conv1DAcrossSeries matches the direct sum (PyTorch Conv2d semantics)")
    func convValues() throws {
        var rng = SeededGenerator(seed: 12)
        let (b, t, m, k, c) = (3, 9, 4, 3, 5)
        let conv = Conv1DAcrossSeries(name: "conv1", series: m, kernel: k, channels: c, activation: .identity, rng: &rng)
        #expect(conv.weight.shape == [c, 1, k, m])
        let x = Self.input([b, t, m], seed: 3)
        let tape = Tape()
        let y = try conv(tape.constant(x)).value
        #expect(y.shape == [b, t - k + 1, c])
        let w = conv.weight.value, bias = conv.bias.value
        var worst: Float = 0
        for bi in 0..<b { for ti in 0..<(t - k + 1) { for o in 0..<c {
            var s = bias[o]
            for kk in 0..<k { for si in 0..<m { s += w[o, 0, kk, si] * x[bi, ti + kk, si] } }
            worst = max(worst, abs(s - y[bi, ti, o]))
        } } }
        #expect(worst < 1e-5)
    }

    @Test("Autoregressive gradient check and values")
    func autoregressive() throws {
        var rng = SeededGenerator(seed: 13)
        for (b, t, m, hw, steps) in [(1, 1, 1, 1, 1), (3, 6, 4, 4, 1), (2, 5, 3, 5, 3), (4, 8, 2, 2, 2)] {
            let ar = Autoregressive(name: "highway", window: hw, steps: steps, rng: &rng)
            let report = try GradientCheck.check(inputs: [Self.input([b, t, m])], parameters: [ar.weight, ar.bias]) { _, v in
                try ar(v[0])
            }
            #expect(report.passed, "b\(b) t\(t) m\(m) hw\(hw) steps\(steps): \(report)")
        }
        // by hand: window 2 over x = (steps 0…3) × (series 10, 20): last two steps 2, 3
        let ar = Autoregressive(name: "highway", window: 2, steps: 1, rng: &rng)
        ar.weight.value = try Tensor(shape: [1, 2], values: [0.5, 2])
        ar.bias.value = try Tensor(shape: [1], values: [1])
        let x = try Tensor(shape: [1, 4, 2], values: [0, 0, 0, 0, 2, 20, 3, 30])
        let tape = Tape()
        let y = try ar(tape.constant(x)).value
        #expect(y.shape == [1, 1, 2] && y.scalars == [1 + 1 + 6, 1 + 10 + 60])
        #expect(ar.weight.name == "highway.weight" && ar.bias.name == "highway.bias")
    }

    @Test("TemporalAttention gradient check")
    func attention() throws {
        var rng = SeededGenerator(seed: 14)
        for (b, t, d) in [(1, 1, 1), (2, 4, 3), (3, 6, 5), (1, 9, 2)] {
            let att = TemporalAttention(name: "attention", width: d, rng: &rng)
            let report = try GradientCheck.check(inputs: [Self.input([b, t, d])], parameters: [att.weight]) { _, v in
                try att(v[0])
            }
            #expect(report.passed, "b\(b) t\(t) d\(d): \(report)")
        }
    }

    @Test("TemporalAttention follows its documented equations")
    func attentionValues() throws {
        var rng = SeededGenerator(seed: 15)
        let att = TemporalAttention(name: "attention", width: 2, rng: &rng)
        att.weight.value = try Tensor(shape: [2, 2], values: [1, 0, 0, 1])   // dot-product score
        // h_1 = (1, 0), h_2 = (0, 1), h_3 = (1, 1): scores against h_3 are 1, 1, 2
        let h = try Tensor(shape: [1, 3, 2], values: [1, 0, 0, 1, 1, 1])
        let tape = Tape()
        let c = try att(tape.constant(h)).value
        let e = [1.0, 1.0, 2.0].map { exp($0) }, z = e.reduce(0, +)
        let a = e.map { $0 / z }
        #expect(abs(Double(c[0, 0]) - (a[0] + a[2])) < 1e-6 && abs(Double(c[0, 1]) - (a[1] + a[2])) < 1e-6)
        let alpha = att.weights(h)
        #expect(abs(Double(alpha[0, 2]) - a[2]) < 1e-6)
    }

    @Test("Dropout: seeded masks, scaled survivors, identity in evaluation, gradient check")
    func dropout() throws {
        let drop = Dropout(probability: 0.5)
        let tape = Tape()
        let x = tape.variable(Tensor(shape: [1000], repeating: 1))
        var rng = SeededGenerator(seed: 1)
        let y = drop(x, training: true, rng: &rng).value
        #expect(y.scalars.allSatisfy { $0 == 0 || $0 == 2 })
        let kept = y.scalars.filter { $0 == 2 }.count
        #expect(kept > 400 && kept < 600)
        var rng2 = SeededGenerator(seed: 1)
        #expect(drop(x, training: true, rng: &rng2).value == y)
        #expect(drop(x, training: false, rng: &rng2).value == x.value)
        let report = try GradientCheck.check(inputs: [Self.input([3, 5])]) { _, v in
            var r = SeededGenerator(seed: 7)   // the same mask on every call
            return Dropout(probability: 0.3)(v[0], training: true, rng: &r)
        }
        #expect(report.passed, "\(report)")
    }
}

@Suite struct GradientClippingTests {
    @Test func clipsTheJointNorm() throws {
        let a = Parameter(name: "a", value: .zeros([2])), b = Parameter(name: "b", value: .zeros([1]))
        a.grad = try Tensor(shape: [2], values: [3, 0])
        b.grad = try Tensor(shape: [1], values: [4])
        #expect(clipGradientNorm([a, b], maxNorm: 10) == 5)   // under the limit: unchanged
        #expect(a.grad.scalars == [3, 0] && b.grad.scalars == [4])
        #expect(clipGradientNorm([a, b], maxNorm: 1) == 5)
        #expect(abs(a.grad[0] - 0.6) < 1e-7 && abs(b.grad[0] - 0.8) < 1e-7)
    }
}
