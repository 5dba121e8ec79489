// Adam: adaptive moment estimation with bias correction, following torch.optim.Adam (amsgrad off,
// L2 weight decay added to the gradient) operation for operation: the first moment by lerp, the
// bias corrections in Double and rounded once, so results track PyTorch's to within rounding.
import Foundation
import HighwayTensor

/// Adam (Kingma & Ba 2015), as `torch.optim.Adam` with `amsgrad = False`.
///
/// For each parameter `p` with gradient `g`, at step `t` (counted per parameter from 1):
/// ```
/// g = g + λ·p                                  (weight decay, if λ ≠ 0)
/// m = lerp(m, g, 1 − β₁)                      = β₁·m + (1 − β₁)·g
/// v = β₂·v + (1 − β₂)·g·g
/// p = p − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
/// State per parameter: `optimizer.exp_avg.<name>` (m), `optimizer.exp_avg_sq.<name>` (v) and
/// `optimizer.step.<name>` (t, a Float32 scalar as in PyTorch, exact up to 2²⁴ steps).
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float

    private final class Slot {
        let parameter: Parameter
        var expAvg: Tensor
        var expAvgSq: Tensor
        var step: Int
        init(parameter: Parameter, expAvg: Tensor, expAvgSq: Tensor, step: Int) {
            self.parameter = parameter
            self.expAvg = expAvg
            self.expAvgSq = expAvgSq
            self.step = step
        }
    }

    private var slots: [ObjectIdentifier: Slot] = [:]
    private static let kinds = [
        OptimizerStateKind(name: "exp_avg", isStepCounter: false),
        OptimizerStateKind(name: "exp_avg_sq", isStepCounter: false),
        OptimizerStateKind(name: "step", isStepCounter: true),
    ]

    /// - Throws: ``OptimizerError`` for a value outside PyTorch's ranges (β in [0, 1), ε ≥ 0, …).
    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0) throws {
        try checkHyperparameter("Adam", "learningRate", learningRate, learningRate >= 0, "≥ 0")
        try checkHyperparameter("Adam", "beta1", beta1, beta1 >= 0 && beta1 < 1, "in [0, 1)")
        try checkHyperparameter("Adam", "beta2", beta2, beta2 >= 0 && beta2 < 1, "in [0, 1)")
        try checkHyperparameter("Adam", "epsilon", epsilon, epsilon >= 0, "≥ 0")
        try checkHyperparameter("Adam", "weightDecay", weightDecay, weightDecay >= 0, "≥ 0")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [Parameter]) {
        let wd = weightDecay, b2 = beta2, eps = epsilon
        // As PyTorch: the scalars 1 − β are formed in Double and rounded once to Float.
        let w1 = Float(1 - Double(beta1)), c2 = Float(1 - Double(beta2))
        let smallWeight = abs(w1) < 0.5
        for p in parameters {
            precondition(p.grad.shape == p.value.shape, "Adam: \(p.name) has grad \(p.grad.shape), value \(p.value.shape)")
            let id = ObjectIdentifier(p)
            let slot: Slot
            if let s = slots[id] {
                slot = s
            } else {
                slot = Slot(parameter: p, expAvg: .zeros(p.shape), expAvgSq: .zeros(p.shape), step: 0)
                slots[id] = slot
            }
            slot.step += 1
            let t = Double(slot.step)
            let bias1 = 1 - pow(Double(beta1), t)
            let bias2 = 1 - pow(Double(beta2), t)
            let negStepSize = -Float(Double(learningRate) / bias1)
            let bias2Sqrt = Float(bias2.squareRoot())
            let n = p.value.count
            p.grad.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { v in
                    slot.expAvg.withUnsafeMutableBufferPointer { m in
                        slot.expAvgSq.withUnsafeMutableBufferPointer { s in
                            for i in 0..<n {
                                let gi = wd == 0 ? g[i] : g[i] + wd * v[i]
                                // torch.lerp's two branches (for accuracy on either side of 0.5).
                                let mi = smallWeight ? m[i] + w1 * (gi - m[i]) : gi - (gi - m[i]) * (1 - w1)
                                let si = s[i] * b2 + c2 * gi * gi
                                m[i] = mi
                                s[i] = si
                                let denom = si.squareRoot() / bias2Sqrt + eps
                                v[i] = v[i] + negStepSize * (mi / denom)
                            }
                        }
                    }
                }
            }
        }
    }

    public func state(for parameters: [Parameter]) -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        for p in parameters {
            guard let slot = slots[ObjectIdentifier(p)] else { continue }
            let k = Self.kinds
            out.append((k[0].key(for: p), detachedCopy(slot.expAvg)))
            out.append((k[1].key(for: p), detachedCopy(slot.expAvgSq)))
            out.append((k[2].key(for: p), Tensor(Float(slot.step))))
        }
        return out
    }

    public func loadState(_ state: [String: Tensor], for parameters: [Parameter]) throws {
        let restored = try validatedOptimizerState(state, for: parameters, kinds: Self.kinds, optimizer: "Adam")
        var newSlots: [ObjectIdentifier: Slot] = [:]
        for (p, t) in restored {
            newSlots[ObjectIdentifier(p)] = Slot(parameter: p, expAvg: detachedCopy(t[0]), expAvgSq: detachedCopy(t[1]),
                                                 step: Int(t[2][flat: 0]))
        }
        slots = newSlots
    }
}
