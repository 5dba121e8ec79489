// Optimizer: what every optimiser offers the training loop — a step, a settable learning rate (for
// schedules), and its state as named tensors so a checkpoint can resume a run bit-exactly.
//
// State names extend the parameter names: `optimizer.<kind>.<parameter name>`, e.g.
// `optimizer.momentum.layers.3.transform.weight`, so they sit in the same safetensors file as the
// weights and a PyTorch user can drop them with one `startswith("optimizer.")`.
//
// Per-parameter state lives in a slot keyed by the parameter's identity; the slot keeps the
// parameter alive, so the identity can never be reused by another object.
import HighwayTensor

/// An optimiser: updates parameters in place from their accumulated gradients.
///
/// ```swift
/// let optimizer = try SGD(learningRate: 0.1, momentum: 0.9)
/// for epoch in 0..<epochs {
///     optimizer.learningRate = schedule.rate(base: 0.1, epoch: epoch)
///     for batch in batches {
///         model.parameters.forEach { $0.zeroGrad() }
///         // forward, backward …
///         optimizer.step(model.parameters)
///     }
/// }
/// ```
public protocol Optimizer: AnyObject {
    /// The step size of the next ``step(_:)``; schedules set it once per epoch.
    var learningRate: Float { get set }
    /// Updates every parameter from its ``Parameter/grad``. Pass the same parameters every step;
    /// after the first step this allocates nothing.
    func step(_ parameters: [Parameter])
    /// The optimiser's state for `parameters` as named tensors (copies), for a checkpoint.
    func state(for parameters: [Parameter]) -> [(name: String, tensor: Tensor)]
    /// Restores state saved by ``state(for:)``. Entries not starting with `optimizer.` are ignored,
    /// so the whole checkpoint's tensors may be passed.
    /// - Throws: ``CheckpointError/stateMismatch(path:subject:differences:)`` listing every
    ///   difference; the optimiser is unchanged when it throws.
    func loadState(_ state: [String: Tensor], for parameters: [Parameter]) throws
}

extension Optimizer {
    /// Restores state from a checkpoint file; errors name the file.
    public func loadState(from file: SafeTensorsFile, for parameters: [Parameter]) throws {
        do {
            try loadState(file.tensors, for: parameters)
        } catch let error as CheckpointError {
            throw error.withPath(file.path)
        }
    }
}

/// A hyperparameter outside its valid range, named with the value and what was expected.
public enum OptimizerError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidHyperparameter(optimizer: String, name: String, value: Float, expected: String)

    public var description: String {
        switch self {
        case let .invalidHyperparameter(optimizer, name, value, expected):
            return "\(optimizer): \(name) = \(value) is not valid (expected \(expected))"
        }
    }
}

/// Checks a hyperparameter: finite and within `range`.
func checkHyperparameter(_ optimizer: String, _ name: String, _ value: Float, _ valid: Bool,
                         _ expected: String) throws {
    guard value.isFinite, valid else {
        throw OptimizerError.invalidHyperparameter(optimizer: optimizer, name: name, value: value, expected: expected)
    }
}

/// One kind of per-parameter state: its name, and whether it is a step counter (a Float32 scalar,
/// as PyTorch stores `step`) rather than a tensor of the parameter's shape.
struct OptimizerStateKind {
    let name: String
    let isStepCounter: Bool

    func key(for parameter: Parameter) -> String { StateDict.optimizerPrefix + name + "." + parameter.name }
    func shape(for parameter: Parameter) -> [Int] { isStepCounter ? [] : parameter.shape }
}

/// The largest step count a Float32 holds exactly.
let maxStoredStepCount = 16_777_216

/// Checks saved optimiser state against `parameters`: each parameter has all `kinds` or none (none
/// means it was never stepped), with the right shapes and whole-number step counters, and no
/// `optimizer.` entry is left over. Returns, for each parameter with state, its tensors in `kinds`
/// order.
/// - Throws: ``CheckpointError/stateMismatch(path:subject:differences:)`` listing every difference.
func validatedOptimizerState(_ state: [String: Tensor], for parameters: [Parameter], kinds: [OptimizerStateKind],
                             optimizer: String) throws -> [(parameter: Parameter, tensors: [Tensor])] {
    var differences: [StateDictDifference] = []
    var counts: [String: Int] = [:]
    for p in parameters { counts[p.name, default: 0] += 1 }
    var expectedKeys = Set<String>()
    var reportedDuplicates = Set<String>()
    var restored: [(parameter: Parameter, tensors: [Tensor])] = []
    for p in parameters {
        let keys = kinds.map { $0.key(for: p) }
        keys.forEach { expectedKeys.insert($0) }
        if let n = counts[p.name], n > 1 {
            if reportedDuplicates.insert(p.name).inserted { differences.append(.duplicateParameter(name: p.name, count: n)) }
            continue
        }
        if !keys.contains(where: { state[$0] != nil }) { continue }  // never stepped: starts fresh
        var tensors: [Tensor] = []
        for (kind, key) in zip(kinds, keys) {
            guard let t = state[key] else {
                differences.append(.missing(name: key, shape: kind.shape(for: p)))
                continue
            }
            guard t.shape == kind.shape(for: p) else {
                differences.append(.shapeMismatch(name: key, checkpoint: t.shape, model: kind.shape(for: p)))
                continue
            }
            if kind.isStepCounter {
                let v = t[flat: 0]
                guard v.isFinite, v >= 1, v <= Float(maxStoredStepCount), v == v.rounded() else {
                    differences.append(.invalidValue(name: key, found: "\(v)",
                                                     expected: "a whole number of steps in 1...\(maxStoredStepCount)"))
                    continue
                }
            }
            tensors.append(t)
        }
        if tensors.count == kinds.count { restored.append((p, tensors)) }
    }
    for key in state.keys.sorted() where key.hasPrefix(StateDict.optimizerPrefix) && !expectedKeys.contains(key) {
        differences.append(.unexpected(name: key, shape: state[key]!.shape))
    }
    guard differences.isEmpty else {
        throw CheckpointError.stateMismatch(path: nil, subject: "the \(optimizer) optimiser state", differences: differences)
    }
    return restored
}

/// An independent copy of `t` (state handed out must not share storage with the live buffers,
/// or the next step would copy them: an allocation in the steady state). Also for keeping a
/// parameter's value at some point, which an optimiser's in-place step would otherwise change.
public func detachedCopy(_ t: Tensor) -> Tensor {
    var c = Tensor.zeros(t.shape)
    copyValues(t, into: &c)
    return c
}
