// SGD: stochastic gradient descent with optional momentum, Nesterov momentum and weight decay,
// following torch.optim.SGD (dampening 0) operation for operation, so the same hyperparameters
// mean the same thing as in PyTorch.
import HighwayTensor

/// Stochastic gradient descent, as `torch.optim.SGD` (with `dampening = 0`).
///
/// For each parameter `p` with gradient `g`, momentum `μ`, weight decay `λ`, learning rate `η`:
/// ```
/// d = g + λ·p
/// if μ ≠ 0:  b = d on the first step, else b = μ·b + d
///            d = nesterov ? d + μ·b : b
/// p = p − η·d
/// ```
/// State: the momentum buffer `b`, saved as `optimizer.momentum.<parameter name>`.
///
/// ```swift
/// let sgd = try SGD(learningRate: 0.05, momentum: 0.9, nesterov: true)
/// sgd.step(model.parameters)
/// ```
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float

    /// The momentum buffer of one parameter (which it keeps alive, so its identity stays unique).
    private final class Slot {
        let parameter: Parameter
        var buffer: Tensor
        init(parameter: Parameter, buffer: Tensor) {
            self.parameter = parameter
            self.buffer = buffer
        }
    }

    private var slots: [ObjectIdentifier: Slot] = [:]
    private var kinds: [OptimizerStateKind] { momentum == 0 ? [] : [OptimizerStateKind(name: "momentum", isStepCounter: false)] }

    /// - Throws: ``OptimizerError`` for a negative or non-finite value, or Nesterov without momentum
    ///   (the same rules as PyTorch).
    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) throws {
        try checkHyperparameter("SGD", "learningRate", learningRate, learningRate >= 0, "≥ 0")
        try checkHyperparameter("SGD", "momentum", momentum, momentum >= 0, "≥ 0")
        try checkHyperparameter("SGD", "weightDecay", weightDecay, weightDecay >= 0, "≥ 0")
        guard !nesterov || momentum > 0 else {
            throw OptimizerError.invalidHyperparameter(optimizer: "SGD", name: "momentum", value: momentum,
                                                       expected: "> 0 when nesterov is on")
        }
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: [Parameter]) {
        let lr = learningRate, mu = momentum, wd = weightDecay, nesterov = nesterov
        for p in parameters {
            precondition(p.grad.shape == p.value.shape, "SGD: \(p.name) has grad \(p.grad.shape), value \(p.value.shape)")
            let n = p.value.count
            if mu == 0 {
                p.grad.withUnsafeBufferPointer { g in
                    p.value.withUnsafeMutableBufferPointer { v in
                        for i in 0..<n {
                            let d = wd == 0 ? g[i] : g[i] + wd * v[i]
                            v[i] = v[i] - lr * d
                        }
                    }
                }
                continue
            }
            let id = ObjectIdentifier(p)
            let existing = slots[id]
            let slot = existing ?? Slot(parameter: p, buffer: Tensor.zeros(p.shape))
            if existing == nil { slots[id] = slot }
            let first = existing == nil
            p.grad.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { v in
                    slot.buffer.withUnsafeMutableBufferPointer { b in
                        for i in 0..<n {
                            let d = wd == 0 ? g[i] : g[i] + wd * v[i]
                            let buf = first ? d : b[i] * mu + d
                            b[i] = buf
                            let step = nesterov ? d + mu * buf : buf
                            v[i] = v[i] - lr * step
                        }
                    }
                }
            }
        }
    }

    public func state(for parameters: [Parameter]) -> [(name: String, tensor: Tensor)] {
        guard let kind = kinds.first else { return [] }
        return parameters.compactMap { p in
            slots[ObjectIdentifier(p)].map { (kind.key(for: p), detachedCopy($0.buffer)) }
        }
    }

    public func loadState(_ state: [String: Tensor], for parameters: [Parameter]) throws {
        let restored = try validatedOptimizerState(state, for: parameters, kinds: kinds, optimizer: "SGD")
        var newSlots: [ObjectIdentifier: Slot] = [:]
        for (p, tensors) in restored {
            newSlots[ObjectIdentifier(p)] = Slot(parameter: p, buffer: detachedCopy(tensors[0]))
        }
        slots = newSlots
    }
}
