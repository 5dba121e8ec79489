// ForecastTrainer: trains a forecasting model as the LSTNet reference does (main.py) and writes a
// run directory.
//
// Each epoch: the training windows in a seeded shuffled order (BatchOrder: a pure function of
// seed and epoch), loss = Σ over the batch of L1 or L2 on predictions and targets scaled back to
// the data's units (the reference's `criterion(output·scale, Y·scale)`, size_average=False), the
// joint gradient norm clipped to `clip`, one Adam step. After each epoch the validation set is
// scored (RSE, RAE, CORR, ForecastMetrics.swift); the weights of the epoch with the smallest
// validation RSE are kept, as the reference's `if val_loss < best_val: save`. At the end those
// weights are restored and scored on validation and test.
//
// The run directory (every file written atomically):
//   config.json             every setting (ForecastConfig)
//   metrics.csv             per epoch: train loss, validation RSE/RAE/CORR, seconds
//   summary.json            {valid: {rse, rae, corr}, test: {…}, per-horizon lists, best epoch, …}
//   predictions.csv         the test set: target row, horizon, then truth and forecast per series
//   forecast.svg / .png     truth vs forecast on the test set for the chosen series
//   checkpoint.safetensors  the kept weights (PyTorch state_dict names)
//   resume.safetensors      while the run is unfinished: everything `--resume` needs to continue
//                           bit-exactly (weights, Adam state under optimizer.*, the best epoch's
//                           weights under best.*, position, dropout generator and history in the
//                           metadata); written after every epoch and on SIGINT at the next batch,
//                           removed when the run has finished (checkpoint.safetensors stays as above)
import Foundation
import HighwayData
import HighwayNN
import HighwayTensor

/// One row of a forecasting run's `metrics.csv`.
public struct ForecastEpoch: Codable, Equatable, Sendable {
    public var epoch: Int
    /// The epoch's training loss per forecast value (summed loss / (windows × series × steps)),
    /// as the reference prints `train_loss` (`total_loss / n_samples`).
    public var trainLoss: Double
    public var valid: ForecastScores
    public var seconds: Double
}

/// A forecasting run's `summary.json`.
public struct ForecastSummary: Codable, Sendable {
    public struct Horizon: Codable, Sendable {
        public var horizon: Int
        public var rse: Double
        public var rae: Double
        public var corr: Double
    }

    public var model: String
    public var modelSummary: String
    public var parameters: Int
    public var data: String
    public var series: Int
    public var window: Int
    public var horizon: Int
    public var steps: Int
    public var examples: [String: Int]
    public var epochs: Int
    public var bestEpoch: Int
    public var seconds: Double
    /// Over all forecast horizons together (= the one horizon when steps is 1).
    public var valid: ForecastScores
    public var test: ForecastScores
    /// One entry per forecast horizon.
    public var validPerHorizon: [Horizon]
    public var testPerHorizon: [Horizon]

    enum CodingKeys: String, CodingKey {
        case model, parameters, data, series, window, horizon, steps, examples, epochs, seconds, valid, test
        case modelSummary = "model_summary", bestEpoch = "best_epoch"
        case validPerHorizon = "valid_per_horizon", testPerHorizon = "test_per_horizon"
    }
}

/// Trains one forecasting model and keeps its run directory.
///
/// ```swift
/// var config = ForecastConfig(dataPath: "../shared/data/exchange_rate/exchange_rate.txt.gz")
/// config.model = .ar; config.horizon = 3
/// let trainer = try ForecastTrainer(config: config, runDirectory: URL(fileURLWithPath: "runs/ar-h3"))
/// let summary = try trainer.run()
/// print(summary.test.rse, summary.test.corr)
/// ```
public final class ForecastTrainer {
    public let config: ForecastConfig
    public let runDirectory: URL
    public let windows: ForecastWindows
    public let model: ForecastModel
    let optimizer: Adam
    /// Called with each event; nil for silence.
    public var progress: ((_ event: ProgressEvent) -> Void)?

    public enum ProgressEvent {
        case epochStart(epoch: Int, batches: Int)
        case batch(index: Int, loss: Double)
        case epochEnd(ForecastEpoch, best: Bool)
    }

    public private(set) var history: [ForecastEpoch] = []

    // position in the run, saved in resume.safetensors
    /// Epochs finished, and batches of the next one.
    public internal(set) var epoch = 0, batch = 0
    var lossSum = 0.0
    var dropoutRNG: SeededGenerator
    var best: (rse: Double, epoch: Int, weights: [Tensor])?
    var elapsedBefore = 0.0
    var segmentStart = monotonicSeconds()
    /// Tests: act as a SIGINT after this step (counted from 1 over the run): save, then throw.
    var interruptAfterStep: Int?
    /// Tests: stop dead after the end-of-epoch save of this epoch (from 1), as a SIGKILL would.
    var killAfterEpoch: Int?

    /// The resumable state of an unfinished run.
    public var resumeURL: URL { runDirectory.appendingPathComponent("resume.safetensors") }
    /// Whether the run has finished (its summary.json is written).
    public var isFinished: Bool { FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("summary.json").path) }

    /// Loads and checks the data (before creating the run directory, so a bad file leaves nothing
    /// behind), builds the model.
    /// - Throws: ``DataError`` for the data file, ``ForecastError`` for settings or an unavailable
    ///   model, ``ReportError`` for an unwritable run directory.
    public init(config: ForecastConfig, runDirectory: URL, data: MultivariateSeries? = nil) throws {
        if let e = config.validationError() { throw ForecastError.invalidConfig(e) }
        let series = try data ?? MultivariateSeries.load(path: config.dataPath)
        if let e = config.validationError(rows: series.rows) { throw ForecastError.invalidConfig(e) }
        if let bad = config.plotSeries.first(where: { $0 >= series.series }) {
            throw ForecastError.invalidConfig("--plot-series: \(bad) is not a series of \(config.dataPath) (it has \(series.series), 0…\(series.series - 1))")
        }
        windows = try ForecastWindows(series, window: config.window, horizon: config.horizon, steps: config.steps,
                                      normalization: config.normalization)
        model = try makeForecastModel(config, series: series.series)
        optimizer = try Adam(learningRate: config.learningRate)
        dropoutRNG = SeededGenerator(seed: config.seed).fork(stream: 0xD50)
        self.config = config
        self.runDirectory = runDirectory
        try checkWritableDirectory(runDirectory, create: true)
    }

    public var parameterCount: Int { model.parameters.reduce(0) { $0 + $1.value.count } }

    /// Batches per training epoch.
    public var batchesPerEpoch: Int { (windows.train.count + config.batchSize - 1) / config.batchSize }

    // ---- the loop ----------------------------------------------------------------------------

    /// Trains the remaining epochs, restores the best epoch's weights, scores them and writes the
    /// run directory. On SIGINT it saves resume.safetensors at the next batch boundary and throws
    /// ``ForecastError/interrupted(checkpoint:)``.
    @discardableResult
    public func run() throws -> ForecastSummary {
        try writeJSON(config, to: runDirectory.appendingPathComponent("config.json"))
        segmentStart = monotonicSeconds()
        let params = model.parameters
        try withInterruptHandler { try trainEpochs(params) }
        // restore the kept epoch's weights
        if let best { for (p, w) in zip(params, best.weights) { p.value = w } }
        let m = windows.series
        let valid = try evaluate(.valid), test = try evaluate(.test)
        try StateDict.save(parameters: params, metadata: ["format": "highwaykit-forecast-1", "best_epoch": "\(best?.epoch ?? 0)"],
                           to: runDirectory.appendingPathComponent("checkpoint.safetensors"))
        try writePredictions(test)
        try plot(test).write(to: runDirectory.appendingPathComponent("forecast"))
        let summary = ForecastSummary(
            model: config.model.rawValue, modelSummary: model.summary, parameters: parameterCount, data: config.dataPath,
            series: m, window: config.window, horizon: config.horizon, steps: config.steps,
            examples: ["train": windows.train.count, "valid": windows.valid.count, "test": windows.test.count],
            epochs: history.count, bestEpoch: best?.epoch ?? 0, seconds: elapsed(),
            valid: valid.scores, test: test.scores, validPerHorizon: valid.perHorizon, testPerHorizon: test.perHorizon)
        try writeJSON(summary, to: runDirectory.appendingPathComponent("summary.json"))
        // finished: the files above hold everything; a leftover (a kill just before this line) is harmless
        try? FileManager.default.removeItem(at: resumeURL)
        return summary
    }

    /// Wall time of the run, summed over resumed segments.
    func elapsed() -> Double { elapsedBefore + monotonicSeconds() - segmentStart }

    /// One training step on a batch: the model with dropout, the L1 or L2 loss summed over the batch
    /// on the values rescaled by `scale`, backward, the clip and the optimiser's step. Returns the
    /// loss; a non-finite one returns before the backward, leaving the weights as they were.
    /// `highway bench forecast-step` times this too.
    /// `params` is `model.parameters`, built once by the caller (the model computes the list).
    static func trainingStep(_ model: ForecastModel, _ params: [Parameter], x: Tensor, y: Tensor, scale: Tensor,
                             config: ForecastConfig, optimizer: any Optimizer, tape: Tape, rng: inout SeededGenerator) throws -> Double {
        tape.reset()
        for p in params { p.zeroGrad() }
        let out = try model.forward(tape.constant(x), training: true, rng: &rng)
        let loss = config.loss == .l1 ? try tape.l1Loss(out, y, scale: scale, reduction: .sum)
                                      : try tape.mseLoss(out, y, scale: scale, reduction: .sum)
        let l = Double(loss.value[flat: 0])
        guard l.isFinite else { return l }
        try tape.backward(loss)
        if config.clip > 0 { clipGradientNorm(params, maxNorm: config.clip) }
        optimizer.step(params)
        return l
    }

    /// The epochs from the saved position on.
    func trainEpochs(_ params: [Parameter]) throws {
        let tape = Tape()
        let m = windows.series, perWindow = m * config.steps
        let scale = try Tensor(shape: [m], values: windows.scaling.scale)
        var x = Tensor.zeros([0]), y = Tensor.zeros([0])
        while epoch < config.epochs {
            let order = try BatchOrder(count: windows.train.count, batchSize: config.batchSize, seed: config.seed, epoch: epoch)
            progress?(.epochStart(epoch: epoch, batches: order.batchCount))
            while batch < order.batchCount {
                let b = batch
                windows.fill(windows.train, positions: order.indices(ofBatch: b), inputs: &x, targets: &y)
                let l = try Self.trainingStep(model, params, x: x, y: y, scale: scale, config: config, optimizer: optimizer, tape: tape,
                                              rng: &dropoutRNG)
                guard l.isFinite else { throw ForecastError.nonFinite(epoch: epoch + 1, detail: "the loss of batch \(b + 1) is \(l)") }
                lossSum += l
                batch += 1
                progress?(.batch(index: batch, loss: l / Double(x.shape[0] * perWindow)))
                if interruptRequested != 0 || interruptAfterStep == epoch * order.batchCount + batch {
                    try saveResumeState(params)
                    throw ForecastError.interrupted(checkpoint: resumeURL.path)
                }
            }
            let valid = try evaluate(.valid).scores
            let record = ForecastEpoch(epoch: epoch + 1, trainLoss: lossSum / Double(windows.train.count * perWindow), valid: valid,
                                       seconds: elapsed())
            history.append(record)
            // the reference's `if val_loss < best_val`; a NaN score never counts as better
            let improved = valid.rse.isFinite && (best == nil || !best!.rse.isFinite || valid.rse < best!.rse)
            if improved || best == nil {
                best = (valid.rse, epoch + 1, params.map(\.value))
            }
            epoch += 1; batch = 0; lossSum = 0
            try writeMetrics()
            try saveResumeState(params)
            if killAfterEpoch == epoch { throw ForecastError.interrupted(checkpoint: "(killed)") }
            progress?(.epochEnd(record, best: improved))
        }
    }

    // ---- resuming ----------------------------------------------------------------------------

    /// The loop's position as resume.safetensors keeps it (Doubles as shortest round-trip text).
    struct Position: Codable {
        var epoch: Int, batch: Int, lossSum: Double, elapsed: Double
        var dropoutRNG: String
        var bestRSE: Double?, bestEpoch: Int?
        var history: [ForecastEpoch]
    }

    static let resumeFormat = "highwaykit-forecast-resume-1"

    /// config.json's settings as the checkpoint records them (the thread count may change on resume).
    var configText: String {
        var c = config
        c.threads = 0
        return String(decoding: (try? ResumeCheckpoint.encoder.encode(c)) ?? Data(), as: UTF8.self)
    }

    func saveResumeState(_ params: [Parameter]) throws {
        let position = Position(epoch: epoch, batch: batch, lossSum: lossSum, elapsed: elapsed(), dropoutRNG: dropoutRNG.stateText,
                                bestRSE: best?.rse, bestEpoch: best?.epoch, history: history)
        let bestTensors = best.map { b in zip(params, b.weights).map { (name: "best." + $0.name, tensor: $1) } } ?? []
        try ResumeCheckpoint.save(to: resumeURL, format: Self.resumeFormat, parameters: params, optimizer: optimizer,
                                  extra: bestTensors, position: position, config: configText)
    }

    func loadResumeState() throws {
        let params = model.parameters
        let (file, p) = try ResumeCheckpoint.load(from: resumeURL, format: Self.resumeFormat, config: configText, parameters: params,
                                                  optimizer: optimizer, extraPrefixes: ["best."], as: Position.self)
        guard let rng = SeededGenerator(stateText: p.dropoutRNG), p.epoch >= 0, p.epoch <= config.epochs, p.batch >= 0,
              p.batch <= batchesPerEpoch, p.history.count == p.epoch else {
            throw ResumeError(path: resumeURL.path, reason: "its run position is not one of this run (epoch \(p.epoch), batch \(p.batch))")
        }
        if let e = p.bestEpoch {
            var weights: [Tensor] = []
            for q in params {
                guard let w = file["best." + q.name], w.shape == q.shape else {
                    throw ResumeError(path: resumeURL.path, reason: "the best epoch's weights lack best.\(q.name) of shape \(q.shape)")
                }
                weights.append(w)
            }
            best = (p.bestRSE ?? .nan, e, weights)
        }
        epoch = p.epoch; batch = p.batch; lossSum = p.lossSum; elapsedBefore = p.elapsed
        dropoutRNG = rng
        history = p.history
    }

    /// The settings saved in a forecasting run directory's config.json.
    /// - Throws: ``ResumeError`` when there is none or it is another command's.
    public static func configuration(of runDirectory: URL) throws -> ForecastConfig {
        let url = runDirectory.appendingPathComponent("config.json")
        guard let bytes = FileManager.default.contents(atPath: url.path) else {
            throw ResumeError(path: runDirectory.path, reason: "no config.json there (give the --out directory of a `highway forecast` run)")
        }
        do { return try JSONDecoder().decode(ForecastConfig.self, from: bytes) } catch {
            throw ResumeError(path: url.path, reason: "not the settings of a `highway forecast` run")
        }
    }

    /// Reopens the unfinished run in `runDirectory` from its config.json and resume.safetensors.
    /// - Parameter threads: overrides the saved thread count (the same count gives the same run).
    public static func resuming(_ runDirectory: URL, threads: Int? = nil, data: MultivariateSeries? = nil) throws -> ForecastTrainer {
        var config = try configuration(of: runDirectory)
        if let threads { config.threads = threads }
        let trainer = try ForecastTrainer(config: config, runDirectory: runDirectory, data: data)
        guard FileManager.default.fileExists(atPath: trainer.resumeURL.path) else {
            throw ResumeError(path: runDirectory.path, reason: trainer.isFinished
                ? "the run has finished (summary.json is there)"
                : "no resume.safetensors (stopped before the end of its first epoch: start it again)")
        }
        try trainer.loadResumeState()
        return trainer
    }

    /// Forecasts of one split, in the data's units, with their scores.
    public struct Evaluation {
        /// Row index (in the file) of each example's first target.
        public var targets: [Int]
        /// (examples, steps, series) row-major.
        public var prediction: [Double]
        public var truth: [Double]
        public var scores: ForecastScores
        public var perHorizon: [ForecastSummary.Horizon]
    }

    /// Runs the model (no dropout) over `split` in order and scores it.
    public func evaluate(_ split: ForecastWindows.Split) throws -> Evaluation {
        let examples = windows.examples(split), m = windows.series, steps = config.steps
        let tape = Tape()
        var x = Tensor.zeros([0]), y = Tensor.zeros([0])
        var rng = SeededGenerator(seed: 0)   // unused: no dropout in evaluation
        var prediction: [Double] = [], truth: [Double] = []
        prediction.reserveCapacity(examples.count * steps * m)
        truth.reserveCapacity(examples.count * steps * m)
        var start = 0
        while start < examples.count {
            let end = min(start + config.batchSize, examples.count)
            windows.fill(examples, positions: start..<end, inputs: &x, targets: &y)
            tape.reset()
            let out = try model.forward(tape.constant(x), training: false, rng: &rng).value
            out.withUnsafeBufferPointer { p in
                for r in 0..<(end - start) {
                    for j in 0..<steps {
                        for s in 0..<m {
                            prediction.append(Double(windows.scaling.raw(p[(r * steps + j) * m + s], series: s)))
                            truth.append(Double(windows.data[examples[start + r] + j, s]))
                        }
                    }
                }
            }
            start = end
        }
        let n = examples.count
        let scores = ForecastScores.compute(prediction: prediction, truth: truth, rows: n, columns: steps * m)
        var perHorizon: [ForecastSummary.Horizon] = []
        for j in 0..<steps {
            var p: [Double] = [], t: [Double] = []
            p.reserveCapacity(n * m); t.reserveCapacity(n * m)
            for r in 0..<n {
                let o = (r * steps + j) * m
                p.append(contentsOf: prediction[o..<(o + m)])
                t.append(contentsOf: truth[o..<(o + m)])
            }
            let s = steps == 1 ? scores : ForecastScores.compute(prediction: p, truth: t, rows: n, columns: m)
            perHorizon.append(.init(horizon: config.horizon + j, rse: s.rse, rae: s.rae, corr: s.corr))
        }
        return Evaluation(targets: examples, prediction: prediction, truth: truth, scores: scores, perHorizon: perHorizon)
    }

    // ---- files -------------------------------------------------------------------------------

    func writeMetrics() throws {
        var table = CSVTable(header: ["epoch", "train_loss", "valid_rse", "valid_rae", "valid_corr", "seconds"])
        for e in history {
            table.append([.number(Double(e.epoch)), .number(e.trainLoss), .number(e.valid.rse), .number(e.valid.rae),
                          .number(e.valid.corr), .number(e.seconds)])
        }
        try table.write(to: runDirectory.appendingPathComponent("metrics.csv"))
    }

    /// predictions.csv: one line per test example and horizon: `row` (0-based line of the target
    /// in the data file, blank and comment lines not counted), `horizon`, then `true_s`, `pred_s`
    /// for each series s, in the data's units.
    func writePredictions(_ e: Evaluation) throws {
        let m = windows.series, steps = config.steps
        var header = ["row", "horizon"]
        for s in 0..<m { header += ["true_\(s)", "pred_\(s)"] }
        var table = CSVTable(header: header)
        table.rows.reserveCapacity(e.targets.count * steps)
        for (r, target) in e.targets.enumerated() {
            for j in 0..<steps {
                var row: [CSVCell] = [.number(Double(target + j)), .number(Double(config.horizon + j))]
                let o = (r * steps + j) * m
                for s in 0..<m { row += [.number(e.truth[o + s]), .number(e.prediction[o + s])] }
                table.rows.append(row)
            }
        }
        try table.write(to: runDirectory.appendingPathComponent("predictions.csv"))
    }

    /// Truth and forecast (first horizon) over the test set, one panel per plotted series.
    func plot(_ e: Evaluation) -> Figure {
        let m = windows.series, steps = config.steps
        let rows = e.targets.map(Double.init)
        let panels = config.plotSeries.map { s -> Panel in
            let truth = e.targets.indices.map { e.truth[($0 * steps) * m + s] }
            let pred = e.targets.indices.map { e.prediction[($0 * steps) * m + s] }
            return Panel(title: "series \(s)", x: Axis("row of the data file (test set)"), y: Axis("value"),
                         series: [Series(name: "truth", x: rows, y: truth, color: .gray),
                                  Series(name: "forecast", x: rows, y: pred, color: .vermillion)])
        }
        let s = e.scores
        let f = { (v: Double) in String(format: "%.4f", v) }
        return Figure(title: "\(config.model.rawValue), window \(config.window), horizon \(config.horizon) — test RSE \(f(s.rse)), RAE \(f(s.rae)), CORR \(f(s.corr))",
                      panels: panels, width: max(1000, 600 * panels.count))   // room for the title with one panel
    }
}
