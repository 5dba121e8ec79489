import Foundation
import HighwayData
import HighwayNN

/// Everything that defines a training run; written to the run directory's `config.json`, from
/// which `--resume` rebuilds the run.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var network: NetworkConfig
    /// `mnist`, `fashion-mnist` or `synthetic` (generated, no files).
    public var dataset: String
    /// Directory of the data set's files (nil for `synthetic`).
    public var dataDirectory: String?
    /// Use only the first N training examples (nil: all).
    public var trainLimit: Int?
    public var epochs: Int
    public var batchSize: Int
    /// `sgd` or `adam`.
    public var optimizer: String
    public var learningRate: Float
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float
    /// Per-epoch learning-rate decay: `constant`, `exponential` (× gamma each epoch) or `step`
    /// (× gamma every `decayEvery` epochs).
    public var schedule: String
    public var gamma: Float
    public var decayEvery: Int
    public var seed: UInt64
    public var threads: Int
    /// Save a checkpoint every N steps as well as after each epoch (0: epochs only).
    public var checkpointEvery: Int

    public init(network: NetworkConfig, dataset: String, dataDirectory: String?, trainLimit: Int?, epochs: Int,
                batchSize: Int, optimizer: String, learningRate: Float, momentum: Float, nesterov: Bool,
                weightDecay: Float, schedule: String, gamma: Float, decayEvery: Int, seed: UInt64, threads: Int,
                checkpointEvery: Int) {
        self.network = network
        self.dataset = dataset
        self.dataDirectory = dataDirectory
        self.trainLimit = trainLimit
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.schedule = schedule
        self.gamma = gamma
        self.decayEvery = decayEvery
        self.seed = seed
        self.threads = threads
        self.checkpointEvery = checkpointEvery
    }

    /// The documented default recipe: a 50-layer highway net on MNIST (784 → 50 plain, 49 highway
    /// layers of width 50, tanh, gate bias −2), Adam, lr 0.003 × 0.8 per epoch, L2 weight decay
    /// 5·10⁻⁶, batch 64, 20 epochs. (The weight decay keeps the first layers doing real work: without
    /// it no single layer's lesion costs a whole point of training error; see the README.)
    public static func defaultRecipe(dataDirectory: String?) -> TrainingConfig {
        TrainingConfig(
            network: NetworkConfig(kind: .highway, inputSize: 784, classes: 10, depth: 50, width: 50,
                                   activation: .tanh, gateBias: -2, tied: false),
            dataset: "mnist", dataDirectory: dataDirectory, trainLimit: nil, epochs: 20, batchSize: 64,
            optimizer: "adam", learningRate: 0.003, momentum: 0.9, nesterov: true, weightDecay: 5e-6,
            schedule: "exponential", gamma: 0.8, decayEvery: 1, seed: 1, threads: 0, checkpointEvery: 200)
    }

    /// A one-line description of what is wrong, or nil.
    public func validationError() -> String? {
        if let e = network.validationError() { return e }
        if epochs < 1 { return "--epochs must be at least 1, got \(epochs)" }
        if batchSize < 1 { return "--batch-size must be at least 1, got \(batchSize)" }
        if !["sgd", "adam"].contains(optimizer) { return "--optimizer must be sgd or adam, got \(optimizer)" }
        if !(learningRate > 0 && learningRate.isFinite) { return "--lr must be a positive number, got \(learningRate)" }
        if !(momentum >= 0 && momentum < 1) { return "--momentum must be in [0, 1), got \(momentum)" }
        if !(weightDecay >= 0) { return "--weight-decay must be ≥ 0, got \(weightDecay)" }
        if !["constant", "exponential", "step"].contains(schedule) {
            return "--schedule must be constant, exponential or step, got \(schedule)"
        }
        if !(gamma > 0 && gamma <= 1) { return "--gamma must be in (0, 1], got \(gamma)" }
        if decayEvery < 1 { return "--decay-every must be at least 1, got \(decayEvery)" }
        if let n = trainLimit, n < 1 { return "--limit must be at least 1, got \(n)" }
        if threads < 0 { return "--threads must be at least 1" }
        if checkpointEvery < 0 { return "--checkpoint-every must be ≥ 0" }
        if dataset != "synthetic" && DatasetKind(name: dataset) == nil {
            return "unknown data set '\(dataset)': expected \(DatasetKind.allCases.map(\.rawValue).joined(separator: ", ")) or synthetic"
        }
        return nil
    }

    /// The learning rate of epoch `epoch` (counted from 0).
    public func learningRate(epoch: Int) -> Float {
        switch schedule {
        case "exponential": learningRate * Float(pow(Double(gamma), Double(epoch)))
        case "step": learningRate * Float(pow(Double(gamma), Double(epoch / decayEvery)))
        default: learningRate
        }
    }
}

extension TrainingConfig {
    /// The directory the data set is read from: `dataDirectory`, else the data set's default
    /// (nil for `synthetic`).
    public var resolvedDataDirectory: URL? {
        guard dataset != "synthetic", let kind = DatasetKind(name: dataset) else { return nil }
        return dataDirectory.map { URL(fileURLWithPath: $0) } ?? kind.defaultDirectory
    }

    /// The free space a run directory needs: two checkpoints (the new one is written beside the
    /// old before it replaces it), each the weights plus up to two optimiser slots, and 1 MB for
    /// headers and the other files.
    public var requiredFreeBytes: Int {
        2 * 3 * 4 * (network.parameterCount ?? 0) + (1 << 20)
    }

    /// Checks, without reading them, that the data set's files are where the run will look: what
    /// a command line does before it starts (a bad file is still found when it is read).
    /// - Throws: ``DataError`` naming the directory or missing file and how to get the files.
    public func checkDataFiles() throws {
        guard dataset != "synthetic" else { return }
        let kind = try DatasetKind.named(dataset)
        try kind.checkFiles(in: resolvedDataDirectory ?? kind.defaultDirectory)
    }
}

/// The training and test splits of a run's data set.
public struct DataSplits: Sendable {
    public var train: ImageDataset
    public var test: ImageDataset

    /// Loads the data set a config names; `synthetic` is generated from the run's seed.
    public static func load(for config: TrainingConfig) throws -> DataSplits {
        var splits: DataSplits
        if config.dataset == "synthetic" {
            let (train, test) = try SyntheticTask(seed: config.seed).generate()
            splits = DataSplits(train: train, test: test)
        } else {
            let kind = try DatasetKind.named(config.dataset)
            let dir = config.dataDirectory.map { URL(fileURLWithPath: $0) } ?? kind.defaultDirectory
            let (train, test) = try kind.load(directory: dir)
            splits = DataSplits(train: train, test: test)
        }
        if let n = config.trainLimit, n < splits.train.count { splits.train = splits.train.prefix(n) }
        return splits
    }
}

extension DatasetKind {
    /// Where the data set is looked for without `--data`: the system directory of its Debian
    /// package if there is one, else `../shared/data/<name>` (this project's layout).
    var defaultDirectory: URL {
        systemDirectory ?? URL(fileURLWithPath: "../shared/data/\(rawValue)")
    }
}
