import ArgumentParser
import Foundation
import HighwayKit

/// Options that define a network, shared by `train` and `demo`.
struct NetworkOptions: ParsableArguments {
    @Option(help: "highway, plain or residual.") var model = "highway"
    @Option(help: "Hidden layers in all: one plain input projection plus depth − 1 layers of the model's kind.") var depth = 50
    @Option(help: "Units per hidden layer (the paper: 50 for highway, 71 for plain).") var width = 50
    @Option(help: "Activation of the hidden layers: tanh, relu, sigmoid or identity.") var activation = "tanh"
    @Option(name: .customLong("gate-bias"), help: "Initial transform-gate bias of highway layers.") var gateBias: Float = -2
    @Flag(help: "Tie the weights of all highway layers (one layer applied depth − 1 times).") var tied = false

    func validate() throws {
        _ = try parseModel(model)
        _ = try parseActivation(activation)
        if depth < 1 { throw ValidationError("--depth must be at least 1 (the input projection), got \(depth).") }
        if width < 1 { throw ValidationError("--width must be at least 1, got \(width).") }
        if tied && model != "highway" { throw ValidationError("--tied applies to --model highway only.") }
        if !gateBias.isFinite { throw ValidationError("--gate-bias must be a finite number.") }
    }

    func config(inputs: Int, classes: Int) throws -> NetworkConfig {
        NetworkConfig(kind: try parseModel(model), inputSize: inputs, classes: classes, depth: depth, width: width,
                      activation: try parseActivation(activation), gateBias: gateBias, tied: tied)
    }
}

/// The documented default recipe; the options below default to it.
private let recipe = TrainingConfig.defaultRecipe(dataDirectory: nil)

/// `highway train`: trains a feed-forward network and writes a run directory.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a highway, plain or residual network on MNIST-family data.",
        discussion: """
            Writes a run directory: config.json, metrics.csv (one row per epoch), summary.json and
            checkpoint.safetensors (PyTorch state_dict names; optimiser state under optimizer.*).
            A checkpoint is also written every --checkpoint-every steps, so an interrupted run
            (Ctrl-C saves one at the next step) continues exactly with --resume RUN_DIR.

            The defaults are the documented recipe: 50 hidden layers (784 → 50 plain, 49 highway
            layers of width 50, tanh, gate bias −2), Adam with lr 0.003 decaying ×0.8 per epoch,
            batch 64, 20 epochs.

            Examples:
              highway train --data ../shared/data/mnist --out runs/highway50
              highway train --model plain --width 71 --data ../shared/data/mnist --out runs/plain50
              highway train --resume runs/highway50
            """
    )

    @OptionGroup var network: NetworkOptions
    @Option(help: "mnist, fashion-mnist, cifar10, cifar100 or synthetic (generated; no files needed).") var dataset = "mnist"
    @Option(help: "Directory holding the data set's files (MNIST family: IDX, .gz or raw; CIFAR: the binary version's .bin files).") var data: String?
    @Option(help: "Train on the first N training examples only.") var limit: Int?
    @Option(help: "Epochs to train.") var epochs = recipe.epochs
    @Option(name: .customLong("batch-size"), help: "Examples per step.") var batchSize = recipe.batchSize
    @Option(help: "adam or sgd.") var optimizer = recipe.optimizer
    @Option(name: .customLong("lr"), help: "Initial learning rate.") var learningRate = recipe.learningRate
    @Option(help: "SGD momentum (with --optimizer sgd).") var momentum = recipe.momentum
    @Flag(inversion: .prefixedNo, help: "Nesterov momentum.") var nesterov = true
    @Option(name: .customLong("weight-decay"), help: "L2 weight decay (added to the gradient, as PyTorch's).") var weightDecay = recipe.weightDecay
    @Option(help: "Learning-rate decay per epoch: constant, exponential or step.") var schedule = recipe.schedule
    @Option(help: "Decay factor of the schedule.") var gamma = recipe.gamma
    @Option(name: .customLong("decay-every"), help: "Epochs between decays for --schedule step.") var decayEvery = 10
    @Option(help: "Seed of the initialisation and the batch order.") var seed: UInt64 = 1
    @Option(name: .customLong("checkpoint-every"), help: "Also save a checkpoint every N steps (0: after each epoch only).") var checkpointEvery = 200
    @Option(help: "Run directory to create (default: runs/<model><depth>-<dataset>-seed<seed>).") var out: String?
    @Option(help: "Continue the run saved in this run directory (all other options but --threads are read from it).") var resume: String?
    @Flag(help: "Print nothing but errors and the final summary.") var quiet = false
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if resume != nil { return }
        let c = try makeConfig()
        if let e = c.validationError() { throw ValidationError(e + ".") }
    }

    /// The paths the options name, checked before anything is read (exit status 2, like
    /// `validate()`, which runs before unknown options are reported and so must not touch files).
    func checkPaths() throws {
        if let resume {
            try validateRunDirectory(resume)
            return try validateRunData(resume, data: nil)
        }
        let c = try makeConfig()
        try validating(fix: "or give the right directory with --data") { try c.checkDataFiles() }
        if FileManager.default.fileExists(atPath: URL(fileURLWithPath: outDirectory).appendingPathComponent("checkpoint.safetensors").path) {
            throw ValidationError("\(outDirectory) already holds a run: continue it with --resume \(outDirectory), or choose another --out.")
        }
        try validateOutputDirectory(outDirectory, option: "--out", freeBytes: c.requiredFreeBytes)
    }

    /// `--out`, or the default name of the run.
    var outDirectory: String { out ?? "runs/\(network.model)\(network.depth)-\(dataset)-seed\(seed)" }

    func makeConfig() throws -> TrainingConfig {
        let kind = DatasetKind(name: dataset)
        let synthetic = SyntheticTask(seed: seed)
        return TrainingConfig(network: try network.config(inputs: kind?.features ?? synthetic.inputs,
                                                          classes: kind?.classes ?? synthetic.classes),
                              dataset: dataset, dataDirectory: data, trainLimit: limit, epochs: epochs, batchSize: batchSize,
                              optimizer: optimizer, learningRate: learningRate, momentum: momentum, nesterov: nesterov,
                              weightDecay: weightDecay, schedule: schedule, gamma: gamma, decayEvery: decayEvery, seed: seed,
                              threads: runtime.threads ?? 0, checkpointEvery: checkpointEvery)
    }

    func run() throws {
        try checkPaths()
        try runtime.apply()
        let trainer: Trainer
        if let resume {
            trainer = try Trainer.resuming(URL(fileURLWithPath: resume), threads: runtime.threads)
            if trainer.isFinished {
                print("\(resume) has already finished its \(trainer.config.epochs) epochs; nothing to do.")
                return
            }
        } else {
            trainer = try Trainer(config: try makeConfig(), runDirectory: URL(fileURLWithPath: outDirectory))
        }
        try train(trainer, quiet: quiet)
    }
}

/// Runs `trainer` with a progress display and prints where the results are.
func train(_ trainer: Trainer, quiet: Bool) throws {
    let c = trainer.config
    if !quiet {
        FileHandle.standardError.write(Data("""
            \(trainer.network.summary)
            data: \(c.dataset) (\(trainer.data.train.count) train, \(trainer.data.test.count) test); \(c.optimizer) lr \(c.learningRate), batch \(c.batchSize), \(c.epochs) epochs, \(ThreadPool.threads) thread(s), kernels \(Kernels.variant)
            run directory: \(trainer.runDirectory.path)\n
            """.utf8))
    }
    let batches = (trainer.data.train.count + c.batchSize - 1) / c.batchSize
    let progress = ProgressReporter(epochs: c.epochs, batchesPerEpoch: batches, batchSize: c.batchSize, quiet: quiet)
    trainer.progress = { event in
        switch event {
        case .epochStart(let e, _): progress.beginEpoch(e + 1)
        case .batch(let i, let loss): progress.batch(i, loss: loss)
        case .epochEnd(let m):
            progress.endEpoch(metrics: [("train_loss", m.trainLoss), ("test_loss", m.testLoss), ("test_acc", m.testAccuracy)])
        }
    }
    let summary = try trainer.run()
    progress.finish()
    print(String(format: "test accuracy %.2f%% (loss %.4f), train loss %.4f, %d epochs in %.1f s → %@",
                 summary.testAccuracy * 100, summary.testLoss, summary.trainLoss, summary.epochs, summary.seconds,
                 trainer.runDirectory.path))
}
