// The divergence guard of the Grid tasks (GridTrainOptions.divergenceFactor): a copy of the state
// of the last sound evaluation, and the rule that sends training back to it.
//
// At each evaluation the largest gradient norm (before clipping) of the steps since the previous one
// is compared with the usual norm, the median of the last 50 evaluations' that were not returns.
// Over `factor` times the usual: go back to the copy (weights and Adam's moments and step count) and
// on at half the learning rate. Within `factor` / 100 times: this state becomes the copy. Between
// the two the copy stays where it was, because a divergence can take two intervals to show in
// full (seen on 15-digit addition: 2,663 times the usual, then 2·10⁶ times). The copy lives in
// memory; a checkpoint saved anywhere but at the copy's own step carries it under `guard.*`, so a
// resumed run goes back to the same state as an uninterrupted one.

import HighwayNN
import HighwayTensor

public struct DivergenceGuard {
    /// How a progress note of a return starts ("diverged (gradient norm …): back to step …"), so a
    /// progress display can keep it on a line of its own.
    public static let notePrefix = "diverged"

    /// The state to go back to.
    struct Copy {
        var values: [Tensor]
        var adam: [(name: String, tensor: Tensor)]
        var step: Int
    }

    let factor: Double
    private(set) var copy: Copy?
    private(set) var rollbacks: Int
    /// Returns before the run stops with GridTaskError.diverged.
    static let maxRollbacks = 10

    /// Off when `factor` is 0; otherwise the copy is the state the parameters and optimiser hold now
    /// (a fresh run's start, or a checkpoint's), unless `saved` (a checkpoint's `guard.*` tensors,
    /// without the prefix) holds an earlier one of step `savedStep`.
    init(factor: Double, parameters: [Parameter], optimizer: Adam, step: Int, rollbacks: Int,
         saved: [String: Tensor], savedStep: Int?, checkpointPath: String) throws {
        self.factor = factor
        self.rollbacks = rollbacks
        guard factor > 0 else { return }
        guard let at = savedStep, at != step else {
            copy = Self.capture(parameters, optimizer, step: step)
            return
        }
        let values = parameters.compactMap { saved[$0.name] }
        guard values.count == parameters.count else {
            throw ResumeError(path: checkpointPath, reason: "its divergence guard's copy of step \(at) is missing tensors")
        }
        copy = Copy(values: values, adam: saved.filter { $0.key.hasPrefix(StateDict.optimizerPrefix) }.sorted { $0.key < $1.key }
                                               .map { ($0.key, $0.value) }, step: at)
    }

    private static func capture(_ parameters: [Parameter], _ optimizer: Adam, step: Int) -> Copy {
        Copy(values: parameters.map { detachedCopy($0.value) }, adam: optimizer.state(for: parameters), step: step)
    }

    /// The median of the last 50 recorded norms that were not returns; nil before five.
    static func usualNorm(_ curve: [GridCurvePoint]) -> Double? {
        let recent = curve.filter { $0.rolledBack != true }.compactMap(\.gradientNorm).suffix(50).sorted()
        return recent.count >= 5 ? recent[recent.count / 2] : nil
    }

    /// At an evaluation whose interval's largest norm was `norm`: when it diverged, restores the
    /// copy into `parameters` and `optimizer` and halves the rate, returning the copy's step.
    /// - Throws: GridTaskError.diverged after `maxRollbacks` returns (the state is left as the last
    ///   save had it: the copy).
    mutating func check(norm: Double, usual: Double?, parameters: [Parameter], optimizer: Adam, task: String, step: Int) throws -> Int? {
        guard let copy, let usual, norm > factor * usual else { return nil }
        rollbacks += 1
        guard rollbacks <= Self.maxRollbacks else { throw GridTaskError.diverged(task: task, step: step, times: rollbacks - 1) }
        for (p, v) in zip(parameters, copy.values) { p.value = detachedCopy(v) }
        try optimizer.loadState(Dictionary(uniqueKeysWithValues: copy.adam.map { ($0.name, $0.tensor) }), for: parameters)
        optimizer.learningRate /= 2
        return copy.step
    }

    /// After an evaluation that did not go back: keeps this state as the copy unless its norm was
    /// already far off the usual.
    mutating func keep(norm: Double, usual: Double?, parameters: [Parameter], optimizer: Adam, step: Int) {
        guard factor > 0, usual.map({ norm <= factor / 100 * $0 }) ?? true else { return }
        copy = Self.capture(parameters, optimizer, step: step)
    }

    /// What a checkpoint of `step` carries: the copy, named by parameter and Adam key, unless it is
    /// the checkpoint's own state.
    func checkpointTensors(at step: Int, parameters: [Parameter]) -> [(name: String, tensor: Tensor)] {
        guard let copy, copy.step != step else { return [] }
        return zip(parameters, copy.values).map { ($0.name, $1) } + copy.adam
    }
}
