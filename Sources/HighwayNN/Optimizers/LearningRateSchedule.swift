// LearningRateSchedule: the learning rate as a pure function of the epoch, so a resumed run gets
// exactly the rate an uninterrupted one would (no hidden counter to save), and config.json can
// record it.
//
// Closed forms, as PyTorch's schedulers compute when given an epoch: ExponentialLR is
// base·γ^epoch, StepLR is base·γ^⌊epoch / every⌋. Computed in Double, rounded once to Float.
import Foundation

/// How the learning rate changes from epoch to epoch (epochs counted from 0).
///
/// ```swift
/// let schedule = LearningRateSchedule.step(every: 10, gamma: 0.5)
/// optimizer.learningRate = schedule.rate(base: 0.1, epoch: 25)   // 0.1 · 0.5² = 0.025
/// ```
///
/// Encoded in JSON as `{"type": "constant"}`, `{"type": "exponential", "gamma": 0.95}` or
/// `{"type": "step", "every": 10, "gamma": 0.5}`.
public enum LearningRateSchedule: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The base rate every epoch.
    case constant
    /// `base · gamma^epoch` (torch ExponentialLR).
    case exponential(gamma: Float)
    /// `base · gamma^⌊epoch / every⌋` (torch StepLR).
    case step(every: Int, gamma: Float)

    /// The learning rate for `epoch` (0 is the first) starting from `base`.
    public func rate(base: Float, epoch: Int) -> Float {
        precondition(epoch >= 0, "LearningRateSchedule: epoch \(epoch) < 0")
        switch self {
        case .constant:
            return base
        case let .exponential(gamma):
            return Float(Double(base) * pow(Double(gamma), Double(epoch)))
        case let .step(every, gamma):
            precondition(every >= 1, "LearningRateSchedule.step: every = \(every) (expected ≥ 1)")
            return Float(Double(base) * pow(Double(gamma), Double(epoch / every)))
        }
    }

    /// Why the schedule cannot be used, or nil if it can: gamma finite and > 0, every ≥ 1.
    public var validationError: String? {
        switch self {
        case .constant:
            return nil
        case let .exponential(gamma):
            return gamma.isFinite && gamma > 0 ? nil : "gamma = \(gamma) (expected a finite number > 0)"
        case let .step(every, gamma):
            if every < 1 { return "every = \(every) (expected ≥ 1 epoch)" }
            return gamma.isFinite && gamma > 0 ? nil : "gamma = \(gamma) (expected a finite number > 0)"
        }
    }

    public var description: String {
        switch self {
        case .constant: return "constant"
        case let .exponential(gamma): return "exponential(gamma: \(gamma))"
        case let .step(every, gamma): return "step(every: \(every), gamma: \(gamma))"
        }
    }

    private enum CodingKeys: String, CodingKey { case type, gamma, every }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "constant": self = .constant
        case "exponential": self = .exponential(gamma: try c.decode(Float.self, forKey: .gamma))
        case "step": self = .step(every: try c.decode(Int.self, forKey: .every), gamma: try c.decode(Float.self, forKey: .gamma))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c,
                debugDescription: "unknown schedule \"\(type)\" (expected constant, exponential or step)")
        }
        if let problem = validationError {
            throw DecodingError.dataCorruptedError(forKey: .type, in: c,
                debugDescription: "learning-rate schedule \(type): \(problem)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .constant:
            try c.encode("constant", forKey: .type)
        case let .exponential(gamma):
            try c.encode("exponential", forKey: .type)
            try c.encode(gamma, forKey: .gamma)
        case let .step(every, gamma):
            try c.encode("step", forKey: .type)
            try c.encode(every, forKey: .every)
            try c.encode(gamma, forKey: .gamma)
        }
    }
}
