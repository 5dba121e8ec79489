import ArgumentParser
import Foundation
import HighwayKit

/// `highway depth-sweep`: plain vs highway networks of growing depth (figure 1 of the paper).
struct DepthSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depth-sweep",
        abstract: "Train plain and highway networks of several depths under the same budget and search; plot their training loss.",
        discussion: """
            Trains every model at every depth (plain width 71, highway width 50, as in "Training \
            Very Deep Networks"; residual width 71) with the default recipe plus --search random \
            settings (learning rate, momentum, decay, activation, gate bias; drawn from --seed, the \
            same list for every model and depth). Writes into --out:
              depth_sweep.json     every run's loss curve, the best run and the mean of the best 10
              depth_sweep.csv      model, depth, width, setting, epoch, train_loss
              depth_sweep.svg/.png one panel per depth, log-scale training loss, best solid,
                                   mean of the best dashed
              runs/<model>-d<depth>-s<setting>/   each run's directory (lesion or gates it later)
            Run it again with the same options to continue an interrupted sweep.

            Example (the README's figure):
              highway depth-sweep --data ../shared/data/mnist --depths 10,20,50,100 --epochs 10 --out runs/sweep
            """)

    @Option(help: "Comma-separated models: plain, highway, residual.") var models = "plain,highway"
    @Option(help: "Comma-separated depths (hidden layers, the input projection included).") var depths = "10,20,50,100"
    @Option(help: "mnist, fashion-mnist, cifar10, cifar100 or synthetic.") var dataset = "mnist"
    @Option(help: "Directory holding the data set's files.") var data: String?
    @Option(help: "Train on the first N training examples only.") var limit: Int?
    @Option(help: "Epochs per run.") var epochs = 10
    @Option(help: "Random settings tried besides the default recipe.") var search = 3
    @Option(help: "adam or sgd.") var optimizer = "adam"
    @Option(name: .customLong("batch-size"), help: "Examples per step.") var batchSize = 64
    @Option(help: "Seed of the search, the initialisations and the batch order.") var seed: UInt64 = 1
    @Option(help: "Output directory.") var out = "runs/depth-sweep"
    @OptionGroup var runtime: RuntimeOptions

    func sweep() throws -> DepthSweep {
        var s = DepthSweep(outputDirectory: URL(fileURLWithPath: out))
        s.models = try models.split(separator: ",").map { name in
            guard let m = ModelKind(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ValidationError("--models: unknown model '\(name)'; expected plain, highway or residual.")
            }
            return m
        }
        s.depths = try depths.split(separator: ",").map { text in
            guard let d = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--depths: '\(text)' is not a whole number; write e.g. --depths 10,20,50.")
            }
            return d
        }
        s.dataset = dataset
        s.dataDirectory = data
        s.trainLimit = limit
        s.epochs = epochs
        s.search = search
        s.optimizer = optimizer
        s.batchSize = batchSize
        s.seed = seed
        s.threads = runtime.threads ?? 0
        return s
    }

    func validate() throws {
        let s = try sweep()
        if let e = s.validationError() { throw ValidationError(e + ".") }
        if let d = s.depths.first(where: { $0 > NetworkConfig.maxDepth }) {
            throw ValidationError("--depths: \(d) is more than \(NetworkConfig.maxDepth) layers; use smaller depths.")
        }
    }

    func run() throws {
        // paths here, not in validate(): see TrainCommand.checkPaths
        var data = TrainingConfig.defaultRecipe(dataDirectory: self.data)
        data.dataset = dataset
        try validating(fix: "or give the right directory with --data") { try data.checkDataFiles() }
        try validateOutputDirectory(out, option: "--out")
        try runtime.apply()
        let s = try sweep()
        var bar: LoopProgress?
        var done = 0
        let r = try s.run { event in
            switch event {
            case let .runStart(i, total, name, trainer):
                if bar == nil { bar = LoopProgress(total: total * s.epochs, label: "depth sweep") }
                done = i * s.epochs + trainer.history.count
                bar?.update(completed: done, note: "\(name) epoch \(trainer.history.count + 1)/\(s.epochs)")
                trainer.progress = { e in
                    if case .epochEnd(let m) = e {
                        bar?.update(completed: i * s.epochs + m.epoch, note: String(format: "%@ epoch %d/%d loss %.4f", name, m.epoch, s.epochs, m.trainLoss))
                    }
                }
            case let .runEnd(i, _, run):
                bar?.update(completed: (i + 1) * s.epochs, note: run.diverged ? "\(run.model)-d\(run.depth)-s\(run.setting) diverged" : nil)
            }
        }
        bar?.finish()
        print(String(format: "%d runs, %.0f s of training (%.0f s in this invocation); final training loss per model and depth (%@, %d epochs):",
                     r.cells.reduce(0) { $0 + $1.runs.count }, r.trainingSeconds, r.wallSeconds, r.dataset, r.epochs))
        print(" model    │ depth │ width │ best loss │ setting │ mean of best │ test acc (best)")
        for c in r.cells {
            print(" " + c.model.padding(toLength: 8, withPad: " ", startingAt: 0) + String(format: " │ %5d │ %5d │ %9.4g │ %7d │ %12.4g │ %6.2f%%", c.depth, c.width,
                         c.best.finalTrainLoss, c.best.setting, c.meanOfBest.last ?? .nan, c.best.testAccuracy * 100))
        }
        print("→ \(out)/depth_sweep.json, depth_sweep.csv, depth_sweep.svg, depth_sweep.png")
    }
}
