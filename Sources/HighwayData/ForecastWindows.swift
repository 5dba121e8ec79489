// ForecastWindows: a multivariate series cut into (window → target) examples for forecasting,
// following the LSTNet reference code (Lai et al. 2018, utils.py `Data_utility`) exactly:
//
//   normalisation  `max` (the reference's `normalize = 2`): each series divided by its largest
//                  absolute value over the WHOLE file; `std`: (x − mean) / std per series, also
//                  over the whole file; `none`. A series that is all zeros (max) or constant (std)
//                  keeps scale 1 instead of dividing by zero.
//   split          chronological: with n rows, train = ⌊0.6·n⌋, valid = ⌊0.8·n⌋ (the reference's
//                  int(0.6·n), int(0.8·n)). An example belongs to a split by the row index i of
//                  its (first) target: train i ∈ [window + horizon − 1, train), valid
//                  i ∈ [train, valid), test i ∈ [valid, n).
//   example i      input rows [i − horizon + 1 − window, i − horizon + 1) — `window` steps whose
//                  last is `horizon` steps before the target — and target row i.
//   steps N > 1    (direct multi-step, not in the reference) targets rows i, i + 1, …, i + N − 1
//                  (horizons h … h + N − 1); an example is kept only if all its targets lie in
//                  its split, so N = 1 is exactly the reference.
//
// Batches use `BatchOrder`'s seeded shuffle; `fill` copies one into tensors the caller reuses.
import HighwayTensor

/// How each series is scaled before training (predictions are scaled back before any metric).
public enum SeriesNormalization: String, Codable, CaseIterable, Sendable {
    /// Raw values.
    case none
    /// Divided by the series' largest absolute value over the whole file (the LSTNet reference).
    case max
    /// (x − mean) / standard deviation of the series over the whole file.
    case std
}

/// Per-series affine scaling: `normalised = (raw − offset) / scale`, `raw = normalised·scale + offset`.
public struct SeriesScaling: Sendable, Equatable, Codable {
    public let kind: SeriesNormalization
    /// One per series (the reference's `Data.scale`).
    public let scale: [Float]
    /// One per series (0 for `none` and `max`).
    public let offset: [Float]

    /// The scaling `kind` computes from all rows of `data`.
    public init(_ kind: SeriesNormalization, of data: MultivariateSeries) {
        self.kind = kind
        let m = data.series, n = data.rows
        var scale = [Float](repeating: 1, count: m), offset = [Float](repeating: 0, count: m)
        switch kind {
        case .none: break
        case .max:
            for s in 0..<m {
                var mx: Float = 0
                for t in 0..<n { mx = Swift.max(mx, abs(data.values[t * m + s])) }
                if mx > 0 { scale[s] = mx }
            }
        case .std:
            for s in 0..<m {
                var sum = 0.0
                for t in 0..<n { sum += Double(data.values[t * m + s]) }
                let mean = sum / Double(Swift.max(n, 1))
                var ss = 0.0
                for t in 0..<n { let d = Double(data.values[t * m + s]) - mean; ss += d * d }
                let sd = (ss / Double(Swift.max(n, 1))).squareRoot()
                offset[s] = Float(mean)
                if sd > 0 { scale[s] = Float(sd) }
            }
        }
        self.scale = scale
        self.offset = offset
    }

    /// Back to the file's units.
    @inline(__always) public func raw(_ value: Float, series s: Int) -> Float { value * scale[s] + offset[s] }
}

/// The examples of one forecasting problem: normalised values, the three chronological splits
/// and the shapes of a batch.
///
/// ```swift
/// let data = try MultivariateSeries.load(path: "exchange_rate.txt.gz")
/// let w = try ForecastWindows(data, window: 168, horizon: 3)
/// var x = Tensor.zeros([0]), y = Tensor.zeros([0])
/// let order = try BatchOrder(count: w.train.count, batchSize: 128, seed: 1, epoch: 0)
/// w.fill(w.train, positions: order.indices(ofBatch: 0), inputs: &x, targets: &y)
/// // x is (B, window, series), y is (B, steps, series), both normalised
/// ```
public struct ForecastWindows: Sendable {
    public enum Split: String, Sendable, CaseIterable { case train, valid, test }

    /// The data as read (raw values).
    public let data: MultivariateSeries
    /// `data.values` normalised by ``scaling``, row-major (rows, series).
    public let normalized: [Float]
    public let scaling: SeriesScaling
    public let window: Int
    public let horizon: Int
    public let steps: Int
    /// ⌊trainFraction·n⌋ and ⌊(trainFraction + validFraction)·n⌋: where valid and test begin.
    public let trainEnd: Int
    public let validEnd: Int
    /// The row index of each example's first target, in time order.
    public let train: [Int]
    public let valid: [Int]
    public let test: [Int]

    public var series: Int { data.series }

    /// - Throws: ``DataError/invalidArgument(name:value:expected:)`` for a window, horizon or
    ///   steps below 1 or fractions outside (0, 1); ``DataError/tooFewRows(path:rows:needed:reason:)``
    ///   when a split would have no example.
    public init(_ data: MultivariateSeries, window: Int, horizon: Int, steps: Int = 1,
                normalization: SeriesNormalization = .max, trainFraction: Double = 0.6, validFraction: Double = 0.2) throws {
        for (name, v) in [("window", window), ("horizon", horizon), ("steps", steps)] where v < 1 {
            throw DataError.invalidArgument(name: name, value: "\(v)", expected: "≥ 1")
        }
        guard trainFraction > 0, validFraction > 0, trainFraction + validFraction < 1 else {
            throw DataError.invalidArgument(name: "split fractions", value: "\(trainFraction), \(validFraction)",
                                            expected: "train > 0, valid > 0, train + valid < 1")
        }
        let n = data.rows
        let trainEnd = Int(trainFraction * Double(n)), validEnd = Int((trainFraction + validFraction) * Double(n))
        let first = window + horizon - 1, tail = steps - 1
        // the fewest rows for which every split gets an example
        var needed = first + 1 + tail
        while Int(trainFraction * Double(needed)) - tail <= first
                || Int((trainFraction + validFraction) * Double(needed)) - tail <= Int(trainFraction * Double(needed))
                || needed - tail <= Int((trainFraction + validFraction) * Double(needed)) {
            needed += 1
        }
        let trainSet = Array(first ..< Swift.max(first, trainEnd - tail))
        let validSet = Array(trainEnd ..< Swift.max(trainEnd, validEnd - tail))
        let testSet = Array(validEnd ..< Swift.max(validEnd, n - tail))
        guard !trainSet.isEmpty, !validSet.isEmpty, !testSet.isEmpty else {
            throw DataError.tooFewRows(path: data.source, rows: n, needed: needed,
                                       reason: "a window of \(window) steps, horizon \(horizon)\(steps > 1 ? ", \(steps) steps" : "") and a \(Int(trainFraction * 100))/\(Int(validFraction * 100))/\(100 - Int(trainFraction * 100) - Int(validFraction * 100)) split with at least one example in each part")
        }
        let scaling = SeriesScaling(normalization, of: data)
        let m = data.series
        var normalized = data.values
        for t in 0..<n { for s in 0..<m { normalized[t * m + s] = (normalized[t * m + s] - scaling.offset[s]) / scaling.scale[s] } }
        self.data = data
        self.normalized = normalized
        self.scaling = scaling
        self.window = window
        self.horizon = horizon
        self.steps = steps
        self.trainEnd = trainEnd
        self.validEnd = validEnd
        train = trainSet
        valid = validSet
        test = testSet
    }

    /// The target rows of `split`.
    public func examples(_ split: Split) -> [Int] {
        switch split {
        case .train: train
        case .valid: valid
        case .test: test
        }
    }

    /// The first input row of the example whose first target is row `i`.
    @inline(__always) public func inputStart(target i: Int) -> Int { i - horizon + 1 - window }

    /// Copies the examples `examples[p]` for `p` in `positions` into `inputs` (B, window, series) and
    /// `targets` (B, steps, series), normalised. Both are reallocated only when B changes.
    public func fill<C: Collection>(_ examples: [Int], positions: C, inputs: inout Tensor, targets: inout Tensor)
    where C.Element == Int {
        let b = positions.count, m = series
        let xs = inputs.shape, ys = targets.shape
        if xs.count != 3 || xs[0] != b || xs[1] != window || xs[2] != m { inputs = .zeros([b, window, m]) }
        if ys.count != 3 || ys[0] != b || ys[1] != steps || ys[2] != m { targets = .zeros([b, steps, m]) }
        normalized.withUnsafeBufferPointer { src in
            inputs.withUnsafeMutableBufferPointer { x in
                targets.withUnsafeMutableBufferPointer { y in
                    var r = 0
                    for p in positions {
                        let i = examples[p]
                        // x[r] = rows [i − h + 1 − window, i − h + 1);  y[r] = rows i ..< i + steps
                        (x.baseAddress! + r * window * m).update(from: src.baseAddress! + inputStart(target: i) * m, count: window * m)
                        (y.baseAddress! + r * steps * m).update(from: src.baseAddress! + i * m, count: steps * m)
                        r += 1
                    }
                }
            }
        }
    }
}
