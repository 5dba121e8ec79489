import ArgumentParser
import Foundation
import HighwayKit

/// `highway demo`: the README's first command.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train a 50-layer plain and a 50-layer highway net side by side (about a minute, no data needed).",
        discussion: """
            Generates a 10-class task (64 Gaussian inputs labelled by a random tanh network), trains
            a plain net (width 71) and a highway net (width 50) of the same depth with the same
            optimiser (Adam, lr 0.001), batch size, epochs and seed, prints both learning curves
            side by side and writes them to OUT/demo.svg and OUT/demo.png (plus demo.json and a run
            directory per model). With --data DIR it uses the first 10,000 MNIST digits instead.
            """)

    @Option(help: "MNIST directory (IDX files); without it the task is generated.") var data: String?
    @Option(help: "Hidden layers of each net.") var depth = 50
    @Option(help: "Epochs per net.") var epochs = 15
    @Option(help: "Seed of the task, the initialisation and the batch order.") var seed: UInt64 = 1
    @Option(help: "Output directory.") var out = "runs/demo"
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if depth < 2 { throw ValidationError("--depth must be at least 2, got \(depth).") }
        if epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs).") }
        if let e = NetworkConfig(kind: .plain, inputSize: 784, classes: 10, depth: depth, width: 71).validationError() {
            throw ValidationError(e + ".")
        }
    }

    func run() throws {
        // paths here, not in validate(): see TrainCommand.checkPaths
        if let data {
            try validating(fix: "or leave out --data to use the generated task") {
                _ = try MNISTFamily.files(of: .mnist, in: URL(fileURLWithPath: data))
            }
        }
        try validateOutputDirectory(out, option: "--out")
        try runtime.apply()
        var demo = Demo(outputDirectory: URL(fileURLWithPath: out))
        demo.depth = depth
        demo.epochs = epochs
        demo.dataDirectory = data
        demo.seed = seed
        let source = data == nil ? "a generated 10-class task (64 inputs, 10,000 training examples)" : "the first 10,000 MNIST training digits"
        print("""
            HighwayKit demo: two \(depth)-layer networks learn \(source).
            The plain net stacks tanh layers; the highway net lets each layer carry its input through
            a learned gate, y = H(x)·T(x) + x·(1 − T(x)). Same optimiser, batch size, epochs and seed.

            """)
        let result = try demo.run { name, trainer in
            let batches = (trainer.data.train.count + 127) / 128
            let progress = ProgressReporter(epochs: trainer.config.epochs, batchesPerEpoch: batches, batchSize: 128)
            print("training \(trainer.network.summary)")
            trainer.progress = { event in
                switch event {
                case .epochStart(let e, _): progress.beginEpoch(e + 1)
                case .batch(let i, let loss): progress.batch(i, loss: loss)
                case .epochEnd(let m): progress.endEpoch(metrics: [("test_acc", m.testAccuracy)])
                }
            }
        }
        print("\n epoch │ training loss        │ test accuracy")
        print("       │   plain     highway  │   plain  highway")
        print("───────┼──────────────────────┼─────────────────")
        for (p, h) in zip(result.plain, result.highway) {
            print(String(format: " %5d │ %8.4f   %8.4f  │ %6.1f%%  %6.1f%%", p.epoch, p.trainLoss, h.trainLoss,
                         p.testAccuracy * 100, h.testAccuracy * 100))
        }
        let p = result.plain.last!, h = result.highway.last!
        let verdict = h.trainLoss < p.trainLoss
            ? String(format: "the highway net ends with %.1f× lower training loss and %+.1f points of test accuracy.",
                     p.trainLoss / max(h.trainLoss, 1e-12), (h.testAccuracy - p.testAccuracy) * 100)
            : "this time the plain net kept up: try --depth 100 to make depth bite harder."
        print("""

            What you see: at depth \(depth), \(verdict)
            Pictures: \(out)/demo.png and \(out)/demo.svg; numbers: \(out)/demo.json; a run directory per model.

            Try next:
              highway demo --depth 100                      deeper: the plain net falls further behind
              highway demo --data ../shared/data/mnist      the same on MNIST digits
              highway train --data ../shared/data/mnist     the full recipe (≈ 97.5% test accuracy)
              highway train --help                          every option (optimiser, depth, width, --tied, …)
            """)
    }
}
