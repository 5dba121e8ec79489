import Foundation
import HighwayData
import HighwayNN
import HighwayTensor

/// What went wrong in a run, with what to do about it.
public enum TrainingError: Error, CustomStringConvertible {
    case invalidConfig(String)
    /// A NaN or infinity in the loss, a gradient or a weight at `step` (counted from 1 over the
    /// whole run); `checkpoint` is the last good checkpoint, left intact (nil: none was written).
    case nonFinite(epoch: Int, step: Int, detail: String, checkpoint: String?)
    case resume(path: String, reason: String)
    /// A path given as a run directory that is not one.
    case notARunDirectory(path: String, reason: String)
    case interrupted(checkpoint: String)

    public var description: String {
        switch self {
        case .invalidConfig(let m): return m
        case let .nonFinite(epoch, step, detail, checkpoint):
            let kept = checkpoint.map { "The last good checkpoint, \($0), is intact (--resume loads it, but the same settings will diverge again)" }
                ?? "No checkpoint had been written yet"
            return "training stopped: NaN or infinity at step \(step) (epoch \(epoch + 1)): \(detail). \(kept); start again with a lower --lr, or add --weight-decay."
        case let .resume(path, reason): return "cannot resume from \(path): \(reason)"
        case let .notARunDirectory(path, reason): return "\(path): not a run directory: \(reason)"
        case .interrupted(let checkpoint): return "interrupted: checkpoint saved at \(checkpoint); continue with `highway train --resume \(URL(fileURLWithPath: checkpoint).deletingLastPathComponent().path)`"
        }
    }
}

/// One row of `metrics.csv`.
public struct EpochMetrics: Codable, Equatable, Sendable {
    public var epoch: Int
    public var learningRate: Double
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double
    public var testAccuracy: Double
    /// Wall time since the run started (summed over resumed segments).
    public var seconds: Double
}

/// The run directory's `summary.json`.
public struct TrainingSummary: Codable, Sendable {
    public var model: String
    public var parameters: Int
    public var epochs: Int
    public var testAccuracy: Double
    public var testLoss: Double
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var seconds: Double
    public var samplesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case model, parameters, epochs, seconds
        case testAccuracy = "test_accuracy", testLoss = "test_loss", trainLoss = "train_loss"
        case trainAccuracy = "train_accuracy", samplesPerSecond = "samples_per_s"
    }
}

/// Set by SIGINT; the training loop checks it between steps.
nonisolated(unsafe) var interruptRequested: sig_atomic_t = 0

/// Trains a ``FeedForwardNetwork`` and keeps a run directory (DESIGN.md):
/// `config.json`, `metrics.csv` (one row per epoch), `summary.json`, `checkpoint.safetensors`
/// (weights under PyTorch `state_dict` names, the optimiser's state under `optimizer.*`, and the
/// position in the run in its metadata, so `--resume` continues bit-exactly).
public final class Trainer {
    public let config: TrainingConfig
    public let runDirectory: URL
    public let network: FeedForwardNetwork
    public let data: DataSplits
    let optimizer: any Optimizer
    /// Shows progress on standard error; nil for silence.
    public var progress: ((_ event: ProgressEvent) -> Void)?

    public enum ProgressEvent {
        case epochStart(epoch: Int, batches: Int)
        case batch(index: Int, loss: Double)
        case epochEnd(EpochMetrics)
    }

    // position in the run, saved in the checkpoint
    var epoch = 0, batch = 0, step = 0
    var epochLossSum = 0.0, epochCorrect = 0, epochSeen = 0
    var elapsedBefore = 0.0
    /// Tests: stop dead (no checkpoint) after this step, as a SIGKILL would.
    var killAfterStep: Int?
    /// Tests: treat the gradients of this step as non-finite.
    var injectNonFiniteGradientAtStep: Int?
    /// The step of the checkpoint on disk written or read by this run (nil: none yet).
    var lastCheckpointStep: Int?
    var metrics: [EpochMetrics] = []

    public var checkpointURL: URL { runDirectory.appendingPathComponent("checkpoint.safetensors") }

    /// A new run (the directory is created; an existing checkpoint there is an error unless
    /// resuming) or, with `resume`, the run saved in `runDirectory`.
    public init(config: TrainingConfig, runDirectory: URL, data: DataSplits? = nil) throws {
        if let e = config.validationError() { throw TrainingError.invalidConfig(e) }
        self.config = config
        self.runDirectory = runDirectory
        // data first: a missing or broken data set should not leave an empty run directory behind
        let data = try data ?? DataSplits.load(for: config)
        guard data.train.features == config.network.inputSize, data.train.classes <= config.network.classes else {
            throw TrainingError.invalidConfig("the data have \(data.train.features) features and \(data.train.classes) classes; the network expects \(config.network.inputSize) and \(config.network.classes)")
        }
        try checkWritableDirectory(runDirectory, create: true, freeBytes: config.requiredFreeBytes)
        self.data = data
        network = FeedForwardNetwork(config: config.network, seed: config.seed)
        switch config.optimizer {
        case "adam": optimizer = try Adam(learningRate: config.learningRate, weightDecay: config.weightDecay)
        default: optimizer = try SGD(learningRate: config.learningRate, momentum: config.momentum,
                                     nesterov: config.nesterov, weightDecay: config.weightDecay)
        }
    }

    /// Checks that `runDirectory` is a run written by `highway train`: a directory holding
    /// `config.json` and `checkpoint.safetensors` (what `--resume`, evaluate and lesion need).
    /// Their contents are checked when they are read.
    /// - Throws: ``TrainingError/notARunDirectory(path:reason:)`` saying what is missing.
    public static func checkRunDirectory(_ runDirectory: URL) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runDirectory.path, isDirectory: &isDir) else {
            throw TrainingError.notARunDirectory(path: runDirectory.path, reason: "no such directory (give the --out directory of a `highway train` run)")
        }
        guard isDir.boolValue else {
            throw TrainingError.notARunDirectory(path: runDirectory.path, reason: "it is a file (give the --out directory of a `highway train` run)")
        }
        for name in ["config.json", "checkpoint.safetensors"]
        where !FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent(name).path) {
            throw TrainingError.notARunDirectory(path: runDirectory.path, reason: "no \(name) in it (give the --out directory of a `highway train` run; one killed before its first checkpoint has to start again)")
        }
    }

    /// The configuration saved in a run directory's `config.json`.
    public static func configuration(of runDirectory: URL) throws -> TrainingConfig {
        let configURL = runDirectory.appendingPathComponent("config.json")
        guard let bytes = FileManager.default.contents(atPath: configURL.path) else {
            throw TrainingError.resume(path: runDirectory.path, reason: "no config.json there (is it a run directory made by `highway train`?)")
        }
        do { return try JSONDecoder().decode(TrainingConfig.self, from: bytes) } catch {
            throw TrainingError.resume(path: configURL.path, reason: "config.json is not a training configuration: \(error)")
        }
    }

    /// Reopens the run in `runDirectory` from its `config.json` and checkpoint.
    public static func resuming(_ runDirectory: URL, threads: Int? = nil, data: DataSplits? = nil) throws -> Trainer {
        var config = try configuration(of: runDirectory)
        if let threads { config.threads = threads }
        let trainer = try Trainer(config: config, runDirectory: runDirectory, data: data)
        try trainer.loadCheckpoint()
        return trainer
    }

    /// Reopens a run to study its checkpoint (evaluation, lesioning): the whole data set, from
    /// `dataDirectory` when given (the run's own path may not exist on this machine), loaded once.
    public static func reopening(_ runDirectory: URL, dataDirectory: String?) throws -> Trainer {
        var config = try configuration(of: runDirectory)
        if let dataDirectory { config.dataDirectory = dataDirectory }
        config.trainLimit = nil
        return try resuming(runDirectory, data: DataSplits.load(for: config))
    }

    var threads: Int { config.threads > 0 ? config.threads : ThreadPool.threads }

    // ---- checkpoints ---------------------------------------------------------------------------

    func saveCheckpoint() throws {
        // never replace the last good checkpoint by a broken one: an update that overflowed (finite
        // gradients times a huge learning rate) shows up here before the next step's loss
        if !network.valuesAreFinite {
            let p = network.parameters.first { !$0.value.isFinite }!
            throw TrainingError.nonFinite(
                epoch: epoch, step: step,
                detail: "the update of this step made \(p.name) non-finite (the learning rate is too large for these gradients)",
                checkpoint: lastCheckpointStep.map { "\(checkpointURL.path) (step \($0))" })
        }
        let position: [String: Any] = [
            // a Double as Swift's shortest round-trip text: JSONSerialization's numbers lose the
            // last bits, and the resumed epoch's mean loss must come out bit-identical
            "epoch": epoch, "batch": batch, "step": step, "epoch_loss_sum": "\(epochLossSum)",
            "epoch_correct": epochCorrect, "epoch_seen": epochSeen, "elapsed": elapsedBefore + segmentClock.seconds,
        ]
        let metricsJSON = String(decoding: try JSONEncoder().encode(metrics), as: UTF8.self)
        let positionJSON = String(decoding: try JSONSerialization.data(withJSONObject: position, options: [.sortedKeys]), as: UTF8.self)
        let configJSON = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        try StateDict.save(parameters: network.parameters, extra: optimizer.state(for: network.parameters),
                           metadata: ["format": "highwaykit-checkpoint-1", "position": positionJSON,
                                      "metrics": metricsJSON, "config": configJSON],
                           to: checkpointURL)
        lastCheckpointStep = step
    }

    func loadCheckpoint() throws {
        let file = try SafeTensors.read(checkpointURL)
        try file.load(into: network.parameters)
        try optimizer.loadState(from: file, for: network.parameters)
        guard let pos = file.metadata["position"].flatMap({ try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }),
              let e = pos["epoch"] as? Int, let b = pos["batch"] as? Int, let s = pos["step"] as? Int else {
            throw TrainingError.resume(path: checkpointURL.path, reason: "the checkpoint has no run position in its metadata (not written by `highway train`?)")
        }
        epoch = e; batch = b; step = s
        lastCheckpointStep = s
        epochLossSum = (pos["epoch_loss_sum"] as? String).flatMap(Double.init) ?? 0
        epochCorrect = pos["epoch_correct"] as? Int ?? 0
        epochSeen = pos["epoch_seen"] as? Int ?? 0
        elapsedBefore = pos["elapsed"] as? Double ?? 0
        if let m = file.metadata["metrics"] { metrics = (try? JSONDecoder().decode([EpochMetrics].self, from: Data(m.utf8))) ?? [] }
    }

    // ---- the loop --------------------------------------------------------------------------------

    struct Clock {
        let start = DispatchTime.now().uptimeNanoseconds
        var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    }
    var segmentClock = Clock()

    /// Whether the run has finished all its epochs.
    public var isFinished: Bool { epoch >= config.epochs }

    /// Runs the remaining epochs; returns the summary. Throws on non-finite values (the last good
    /// checkpoint stays) and on SIGINT (after saving a checkpoint at the step boundary).
    @discardableResult
    public func run() throws -> TrainingSummary {
        try writeConfig()
        segmentClock = Clock()
        let previous = signal(SIGINT) { _ in interruptRequested = 1 }
        defer { signal(SIGINT, previous) }
        interruptRequested = 0
        let train = data.train, inputs = train.features
        // a batch never holds more rows than the data set (a huge --batch-size is one full batch)
        let rowsPerBatch = max(1, min(config.batchSize, train.count))
        var x = Tensor.zeros([rowsPerBatch, inputs])
        var labels: [Int32] = []
        labels.reserveCapacity(rowsPerBatch)
        while epoch < config.epochs {
            let order = try BatchOrder(count: train.count, batchSize: config.batchSize, seed: config.seed, epoch: epoch)
            optimizer.learningRate = config.learningRate(epoch: epoch)
            progress?(.epochStart(epoch: epoch, batches: order.batchCount))
            while batch < order.batchCount {
                order.fill(batch: batch, from: train, into: &x, labels: &labels)
                let rows = labels.count
                let r = labels.withUnsafeBufferPointer { lp in
                    network.trainStep(x: x.unsafePointer, labels: lp.baseAddress!, rows: rows, threads: threads)
                }
                // the loss every step, the gradients too (a vectorised bit test, microseconds): a
                // non-finite gradient must never reach the weights, the optimiser or a checkpoint
                if !r.lossSum.isFinite || !network.gradientsAreFinite || injectNonFiniteGradientAtStep == step + 1 {
                    throw nonFinite(detail: network.locateNonFinite(x: x.unsafePointer, rows: rows))
                }
                optimizer.step(network.parameters)
                step += 1; batch += 1
                epochLossSum += r.lossSum; epochCorrect += r.correct; epochSeen += r.rows
                progress?(.batch(index: batch, loss: r.lossSum / Double(rows)))
                if let k = killAfterStep, step == k { throw TrainingError.interrupted(checkpoint: "(killed)") }
                if interruptRequested != 0 {
                    try saveCheckpoint()
                    throw TrainingError.interrupted(checkpoint: checkpointURL.path)
                }
                if config.checkpointEvery > 0 && step % config.checkpointEvery == 0 { try saveCheckpoint() }
            }
            let test = evaluate(data.test)
            let m = EpochMetrics(epoch: epoch + 1, learningRate: Double(optimizer.learningRate),
                                 trainLoss: epochLossSum / Double(max(epochSeen, 1)),
                                 trainAccuracy: Double(epochCorrect) / Double(max(epochSeen, 1)),
                                 testLoss: test.loss, testAccuracy: test.accuracy,
                                 seconds: elapsedBefore + segmentClock.seconds)
            metrics.append(m)
            epoch += 1; batch = 0
            epochLossSum = 0; epochCorrect = 0; epochSeen = 0
            try saveCheckpoint()
            try writeMetrics()
            progress?(.epochEnd(m))
        }
        let summary = makeSummary()
        try writeJSON(summary, to: runDirectory.appendingPathComponent("summary.json"))
        return summary
    }

    /// The error for a non-finite loss, gradient or weight at the step being run (`step + 1`):
    /// names the step, where it appeared, and the last good checkpoint (which is left as it is).
    func nonFinite(detail: String) -> TrainingError {
        let checkpoint = lastCheckpointStep.map { "\(checkpointURL.path) (step \($0))" }
        return TrainingError.nonFinite(epoch: epoch, step: step + 1, detail: detail, checkpoint: checkpoint)
    }

    /// Mean loss and accuracy of the network on `dataset`.
    public func evaluate(_ dataset: ImageDataset) -> (loss: Double, accuracy: Double) {
        let r = dataset.pixels.withUnsafeBufferPointer { xp in
            dataset.labels.withUnsafeBufferPointer { lp in
                network.evaluate(x: xp.baseAddress!, labels: lp.baseAddress!, rows: dataset.count, threads: threads)
            }
        }
        return (r.lossSum / Double(max(r.rows, 1)), Double(r.correct) / Double(max(r.rows, 1)))
    }

    func makeSummary() -> TrainingSummary {
        let last = metrics.last
        let seconds = last?.seconds ?? 0
        return TrainingSummary(model: network.summary, parameters: network.parameterCount, epochs: metrics.count,
                               testAccuracy: last?.testAccuracy ?? .nan, testLoss: last?.testLoss ?? .nan,
                               trainLoss: last?.trainLoss ?? .nan, trainAccuracy: last?.trainAccuracy ?? .nan,
                               seconds: seconds,
                               samplesPerSecond: seconds > 0 ? Double(metrics.count * data.train.count) / seconds : 0)
    }

    func writeConfig() throws {
        try writeJSON(config, to: runDirectory.appendingPathComponent("config.json"))
    }

    func writeMetrics() throws {
        var table = CSVTable(header: ["epoch", "learning_rate", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"])
        for m in metrics {
            table.rows.append([.number(Double(m.epoch)), .number(m.learningRate), .number(m.trainLoss), .number(m.trainAccuracy),
                               .number(m.testLoss), .number(m.testAccuracy), .number(m.seconds)])
        }
        try table.write(to: runDirectory.appendingPathComponent("metrics.csv"))
    }

    /// The per-epoch metrics so far.
    public var history: [EpochMetrics] { metrics }
}
