// ForecastConfig: every setting of a forecasting run (`highway forecast`), saved as the run
// directory's config.json. Defaults are the LSTNet reference code's (main.py), except where noted.
import Foundation
import HighwayData

/// The forecasting models.
public enum ForecastModelKind: String, Codable, CaseIterable, Sendable {
    /// The linear autoregressive baseline: the highway component alone.
    case ar
    /// A plain GRU over the window, a dense output layer (+ the highway component when enabled).
    case gru
    /// LSTNet with the skip-GRU (the paper's LSTNet-Skip).
    case lstnetSkip = "lstnet-skip"
    /// LSTNet with temporal attention over the GRU states instead of the skip-GRU (LSTNet-Attn).
    case lstnetAttn = "lstnet-attn"

    /// Whether the model needs the GRU layer.
    public var needsGRU: Bool { self != .ar }
}

/// The function applied to the model's output.
public enum ForecastOutput: String, Codable, CaseIterable, Sendable {
    case none, sigmoid, tanh
}

/// The training loss.
public enum ForecastLoss: String, Codable, CaseIterable, Sendable {
    /// Σ |scale·(prediction − target)| (the reference's default).
    case l1
    /// Σ (scale·(prediction − target))².
    case l2
}

/// Everything needed to rerun a forecasting experiment.
public struct ForecastConfig: Codable, Equatable, Sendable {
    public var dataPath: String
    public var model: ForecastModelKind = .lstnetSkip
    /// Input steps per example (reference: 24·7 = 168).
    public var window = 168
    /// Steps between the window's last row and the (first) target.
    public var horizon = 12
    /// Horizons forecast at once: horizon, horizon + 1, …, horizon + steps − 1 (reference: 1).
    public var steps = 1
    public var normalization: SeriesNormalization = .max
    public var cnnKernel = 6
    public var hidCNN = 100
    public var hidRNN = 100
    public var hidSkip = 5
    /// The skip-GRU's period p (reference: 24, hourly data with a daily cycle).
    public var skip = 24
    /// Steps the highway / AR component reads; 0 disables it (not for `ar`).
    public var highwayWindow = 24
    public var dropout: Float = 0.2
    /// Reference default: sigmoid; its exchange-rate script uses none.
    public var output: ForecastOutput = .none
    public var loss: ForecastLoss = .l1
    public var learningRate: Float = 0.001
    public var batchSize = 128
    public var epochs = 100
    /// Maximum joint gradient norm (reference: 10); 0 disables clipping.
    public var clip: Float = 10
    public var seed: UInt64 = 1
    /// 0: the thread pool's size.
    public var threads = 0
    /// Series drawn in forecast.svg/png.
    public var plotSeries = [0]

    public init(dataPath: String) { self.dataPath = dataPath }

    enum CodingKeys: String, CodingKey {
        case dataPath = "data", model, window, horizon, steps, normalization
        case cnnKernel = "cnn_kernel", hidCNN = "hid_cnn", hidRNN = "hid_rnn", hidSkip = "hid_skip", skip
        case highwayWindow = "highway_window", dropout, output, loss, learningRate = "lr"
        case batchSize = "batch_size", epochs, clip, seed, threads, plotSeries = "plot_series"
    }

    /// The number of steps of the skip-GRU: ⌊(window − cnnKernel) / skip⌋, as the reference's
    /// `pt = (P − Ck) / skip` in integer arithmetic (its float `skip` broke this, see REFERENCE.md §4).
    public var skipSteps: Int { skip > 0 ? (window - cnnKernel) / skip : 0 }

    /// What is wrong with the settings (one line, naming the option), or nil. `rows`, when known,
    /// is the number of rows of the data file.
    public func validationError(rows: Int? = nil) -> String? {
        if window < 1 { return "--window must be at least 1, got \(window)" }
        if horizon < 1 { return "--horizon must be at least 1, got \(horizon)" }
        if steps < 1 { return "--steps must be at least 1, got \(steps)" }
        if let rows, window > rows { return "--window \(window) is longer than the data (\(rows) rows)" }
        if highwayWindow < 0 || highwayWindow > window {
            return "--highway-window must be in 0...\(window) (the window), got \(highwayWindow)"
        }
        if model == .ar && highwayWindow < 1 { return "--model ar needs --highway-window ≥ 1 (it is the highway component alone)" }
        if model.needsGRU {
            if cnnKernel < 1 || cnnKernel > window { return "--cnn-kernel must be in 1...\(window) (the window), got \(cnnKernel)" }
            if hidCNN < 1 { return "--hid-cnn must be at least 1, got \(hidCNN)" }
            if hidRNN < 1 { return "--hid-rnn must be at least 1, got \(hidRNN)" }
        }
        if model == .lstnetSkip {
            if hidSkip < 1 { return "--hid-skip must be at least 1, got \(hidSkip)" }
            if skip < 1 { return "--skip must be a period of at least 1 step, got \(skip)" }
            if skipSteps < 1 {
                return "--skip \(skip) does not fit the window: the convolution leaves \(window - cnnKernel + 1) steps and the skip-GRU needs at least \(skip + 1) (window − cnn-kernel ≥ skip)"
            }
        }
        if !(dropout >= 0 && dropout < 1) { return "--dropout must be in [0, 1), got \(dropout)" }
        if !(learningRate > 0) || !learningRate.isFinite { return "--lr must be a positive number, got \(learningRate)" }
        if batchSize < 1 { return "--batch-size must be at least 1, got \(batchSize)" }
        if epochs < 1 { return "--epochs must be at least 1, got \(epochs)" }
        if !(clip >= 0) || !clip.isFinite { return "--clip must be ≥ 0 (0: no clipping), got \(clip)" }
        if threads < 0 { return "--threads must be at least 1" }
        if let bad = plotSeries.first(where: { $0 < 0 }) { return "--plot-series: \(bad) is not a series index" }
        return nil
    }
}
