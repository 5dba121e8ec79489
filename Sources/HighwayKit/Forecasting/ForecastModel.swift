// The forecasting models behind `highway forecast --model`: the AR baseline and LSTNet
// (Lai et al. 2018) with its skip-GRU or temporal-attention variant, plus a plain GRU.
//
// Every model maps a batch of windows x (B, window, series), normalised, to forecasts
// (B, steps, series) on the same scale, recording its layers on a tape. The GRU-based models reach
// their recurrent layers through `RecurrentEncoder` (by default HighwayNN's GRU, `GRUEncoder`), so
// a test can swap in a stand-in and another recurrent layer can be tried without touching LSTNet.
import Foundation
import HighwayData
import HighwayNN
import HighwayTensor

/// A forecasting model.
public protocol ForecastModel: AnyObject {
    /// Every trainable parameter, in checkpoint order (PyTorch `state_dict` names).
    var parameters: [Parameter] { get }
    /// One line describing the model and its sizes.
    var summary: String { get }
    /// Forecasts for `x` (B, window, series): (B, steps, series). Dropout draws from `rng` when
    /// `training`.
    func forward(_ x: Variable, training: Bool, rng: inout SeededGenerator) throws -> Variable
}

/// Errors a forecasting run can meet that are not data or argument errors.
public enum ForecastError: Error, CustomStringConvertible, Equatable {
    case modelNotAvailable(model: String, reason: String)
    case invalidConfig(String)
    case nonFinite(epoch: Int, detail: String)
    /// Stopped by SIGINT after saving `checkpoint` (resume.safetensors).
    case interrupted(checkpoint: String)

    public var description: String {
        switch self {
        case let .modelNotAvailable(model, reason): return "--model \(model) is not available yet: \(reason)"
        case .invalidConfig(let m): return m
        case let .nonFinite(epoch, detail):
            return "training stopped: non-finite values at epoch \(epoch) — \(detail); lower --lr or --clip"
        case .interrupted(let checkpoint):
            return "interrupted: state saved in \(checkpoint); continue with `highway forecast --resume \(URL(fileURLWithPath: checkpoint).deletingLastPathComponent().path)`"
        }
    }
}

/// What LSTNet needs of a recurrent layer: a batch-first sequence (B, T, input) in, every hidden
/// state (B, T, hidden) and the last one (B, hidden) out, recorded on the input's tape.
public protocol RecurrentEncoder: AnyObject {
    var parameters: [Parameter] { get }
    var summary: String { get }
    func encode(_ x: Variable) throws -> (states: Variable, last: Variable)
}

/// Makes the GRU encoders of the GRU-based models.
public enum RecurrentEncoders {
    /// `(name, inputSize, hiddenSize, rng) → encoder`: by default HighwayNN's ``GRU`` (PyTorch
    /// `nn.GRU` names under `name`: "GRU1.weight_ih_l0", … as the reference's LSTNet.py); replace it
    /// to try another recurrent layer. nil makes the GRU-based models unavailable.
    nonisolated(unsafe) public static var makeGRU: ((String, Int, Int, inout SeededGenerator) -> RecurrentEncoder)? = {
        GRUEncoder(name: $0, inputs: $1, hidden: $2, rng: &$3)
    }
}

/// A one-layer ``GRU`` as LSTNet uses it: every hidden state and the last one.
public final class GRUEncoder: RecurrentEncoder {
    public let gru: GRU

    public init(name: String, inputs: Int, hidden: Int, rng: inout SeededGenerator) {
        gru = GRU(name: name, inputSize: inputs, hiddenSize: hidden, rng: &rng)
    }

    public var parameters: [Parameter] { gru.parameters }
    public var summary: String { gru.summary }

    public func encode(_ x: Variable) throws -> (states: Variable, last: Variable) {
        let (y, hn) = try gru(x)                 // y (B, T, H); h_n (1, B, H)
        return (y, try x.tape.reshape(hn, to: [x.shape[0], gru.hiddenSize]))
    }
}

/// The function applied to a model's output.
func applyOutput(_ output: ForecastOutput, _ y: Variable) -> Variable {
    switch output {
    case .none: y
    case .sigmoid: y.tape.sigmoid(y)
    case .tanh: y.tape.tanh(y)
    }
}

/// Builds the model `config` names for data of `series` series.
/// - Throws: ``ForecastError/modelNotAvailable(model:reason:)`` for a GRU-based model when
///   ``RecurrentEncoders/makeGRU`` is nil.
public func makeForecastModel(_ config: ForecastConfig, series: Int) throws -> ForecastModel {
    var rng = SeededGenerator(seed: config.seed)
    switch config.model {
    case .ar:
        return ARForecaster(config: config, series: series, rng: &rng)
    case .gru, .lstnetSkip, .lstnetAttn:
        return try LSTNetForecaster(config: config, series: series, rng: &rng)
    }
}

/// `--model ar`: the highway / AR component alone (``Autoregressive``, weights shared by all
/// series), then the output function.
public final class ARForecaster: ForecastModel {
    public let highway: Autoregressive
    public let output: ForecastOutput

    public init(config: ForecastConfig, series: Int, rng: inout SeededGenerator) {
        highway = Autoregressive(name: "highway", window: config.highwayWindow, steps: config.steps, rng: &rng)
        output = config.output
    }

    public var parameters: [Parameter] { [highway.weight, highway.bias] }
    public var summary: String { "AR: \(highway.summary), output \(output.rawValue)" }

    public func forward(_ x: Variable, training: Bool, rng: inout SeededGenerator) throws -> Variable {
        applyOutput(output, try highway(x))
    }
}

/// LSTNet (and the plain GRU baseline), as the reference's models/LSTNet.py:
///
/// ```
/// c = dropout(Conv1DAcrossSeries(x))                      (B, T', hidCNN)   T' = window − cnnKernel + 1
///     (gru: c = x, no convolution)
/// H, h = GRU1(c)                                          (B, T', hidRNN), (B, hidRNN)
/// r = dropout(h)
/// skip:  s = GRUskip(skipSequences(c, skip, pt)).last     (B·skip, hidSkip) → (B, skip·hidSkip)
///        r = [r; dropout(s)]
/// attn:  r = [dropout(TemporalAttention(H)); r]
/// y = linear1(r) → (B, steps, series)  (+ highway(x) when highwayWindow > 0), then the output function
/// ```
public final class LSTNetForecaster: ForecastModel {
    public let kind: ForecastModelKind
    public let conv: Conv1DAcrossSeries?
    public let gru: RecurrentEncoder
    public let gruSkip: RecurrentEncoder?
    public let attention: TemporalAttention?
    public let linear: Dense
    public let highway: Autoregressive?
    public let dropout: Dropout
    public let output: ForecastOutput
    let series: Int, steps: Int, skip: Int, skipSteps: Int

    /// - Parameter recurrent: builds the GRU encoders (default: ``RecurrentEncoders/makeGRU``;
    ///   tests pass a stand-in).
    public init(config c: ForecastConfig, series m: Int, rng: inout SeededGenerator,
                recurrent: ((String, Int, Int, inout SeededGenerator) -> RecurrentEncoder)? = RecurrentEncoders.makeGRU) throws {
        guard let makeGRU = recurrent else {
            throw ForecastError.modelNotAvailable(model: c.model.rawValue,
                                                  reason: "RecurrentEncoders.makeGRU is nil (no recurrent layer to build it with)")
        }
        kind = c.model
        series = m
        steps = c.steps
        skip = c.skip
        skipSteps = c.skipSteps
        let features: Int
        if kind == .gru {
            conv = nil
            features = m
        } else {
            conv = Conv1DAcrossSeries(name: "conv1", series: m, kernel: c.cnnKernel, channels: c.hidCNN, rng: &rng)
            features = c.hidCNN
        }
        gru = makeGRU("GRU1", features, c.hidRNN, &rng)
        var combined = c.hidRNN
        if kind == .lstnetSkip {
            gruSkip = makeGRU("GRUskip", features, c.hidSkip, &rng)
            combined += c.skip * c.hidSkip
            attention = nil
        } else if kind == .lstnetAttn {
            gruSkip = nil
            attention = TemporalAttention(name: "attention", width: c.hidRNN, rng: &rng)
            combined += c.hidRNN
        } else {
            gruSkip = nil
            attention = nil
        }
        linear = Dense(name: "linear1", inputSize: combined, outputSize: m * c.steps, activation: .identity, rng: &rng)
        // as the reference's nn.Linear: weight and bias U(−1/√in, 1/√in) (Dense's own default is Glorot)
        let bound = 1 / Float(combined).squareRoot()
        linear.weight.value = .uniform(shape: [m * c.steps, combined], in: -bound..<bound, rng: &rng)
        linear.bias.value = .uniform(shape: [m * c.steps], in: -bound..<bound, rng: &rng)
        highway = c.highwayWindow > 0 ? Autoregressive(name: "highway", window: c.highwayWindow, steps: c.steps, rng: &rng) : nil
        dropout = Dropout(probability: c.dropout)
        output = c.output
    }

    public var parameters: [Parameter] {
        var p: [Parameter] = []
        if let conv { p += [conv.weight, conv.bias] }
        p += gru.parameters
        if let gruSkip { p += gruSkip.parameters }
        if let attention { p.append(attention.weight) }
        p += [linear.weight, linear.bias]
        if let highway { p += [highway.weight, highway.bias] }
        return p
    }

    public var summary: String {
        var parts: [String] = []
        if let conv { parts.append(conv.summary) }
        parts.append("GRU1 \(gru.summary)")
        if let gruSkip { parts.append("GRUskip \(gruSkip.summary) (period \(skip), \(skipSteps) steps)") }
        if let attention { parts.append(attention.summary) }
        parts.append(linear.summary)
        if let highway { parts.append(highway.summary) }
        return "\(kind.rawValue): " + parts.joined(separator: ", ") + ", dropout \(dropout.probability), output \(output.rawValue)"
    }

    public func forward(_ x: Variable, training: Bool, rng: inout SeededGenerator) throws -> Variable {
        let tape = x.tape, b = x.shape[0]
        var c = x
        if let conv { c = dropout(try conv(x), training: training, rng: &rng) }
        let (states, last) = try gru.encode(c)
        var r = dropout(last, training: training, rng: &rng)
        if let gruSkip {
            let s = try gruSkip.encode(try tape.skipSequences(c, period: skip, steps: skipSteps)).last
            let sFlat = try tape.reshape(s, to: [b, -1])   // (B·skip, hidSkip) → (B, skip·hidSkip)
            r = try tape.concat([r, dropout(sFlat, training: training, rng: &rng)])
        }
        if let attention {
            r = try tape.concat([dropout(try attention(states), training: training, rng: &rng), r])
        }
        var y = try tape.reshape(try linear(r), to: [b, steps, series])
        if let highway { y = try tape.add(y, try highway(x)) }
        return applyOutput(output, y)
    }
}
