// The demo behind `highway demo`: a 50-layer plain net and a 50-layer highway net trained with
// the same optimiser, budget and seed, on a task generated on the spot (or MNIST), so a first-time
// user sees the paper's point — depth stops a plain net from training, not a highway net — in
// about a minute, with no data to download.

import Foundation
import HighwayData
import HighwayNN

public struct Demo {
    public var depth = 50
    public var epochs = 15
    /// MNIST directory; nil generates the synthetic task.
    public var dataDirectory: String?
    /// Training examples used from MNIST (the synthetic task has 10,000).
    public var mnistLimit = 10_000
    public var seed: UInt64 = 1
    public var threads = 0
    public var outputDirectory: URL

    public init(outputDirectory: URL) { self.outputDirectory = outputDirectory }

    /// The learning curves of both nets.
    public struct Result: Codable, Sendable {
        public var dataset: String
        public var depth: Int
        public var plain: [EpochMetrics]
        public var highway: [EpochMetrics]
        public var plainModel: String
        public var highwayModel: String
        public var figure: String
    }

    /// Trains both nets; `progress` receives each model's trainer before it runs.
    public func run(progress: (String, Trainer) -> Void = { _, _ in }) throws -> Result {
        try checkWritableDirectory(outputDirectory, create: true)
        let data: DataSplits
        let datasetName: String
        if let dir = dataDirectory {
            let (train, test) = try MNISTFamily.load(.mnist, directory: URL(fileURLWithPath: dir))
            data = DataSplits(train: train.prefix(mnistLimit), test: test)
            datasetName = "mnist"
        } else {
            let (train, test) = try SyntheticTask(seed: seed).generate()
            data = DataSplits(train: train, test: test)
            datasetName = "synthetic"
        }
        var curves: [String: (String, [EpochMetrics])] = [:]
        // the paper's widths: ~5000 weights per hidden layer either way
        for (kind, width) in [(ModelKind.plain, 71), (ModelKind.highway, 50)] {
            let net = NetworkConfig(kind: kind, inputSize: data.train.features, classes: data.train.classes,
                                    depth: depth, width: width, activation: .tanh, gateBias: -2)
            let config = TrainingConfig(network: net, dataset: datasetName, dataDirectory: dataDirectory, trainLimit: dataDirectory == nil ? nil : mnistLimit,
                                        epochs: epochs, batchSize: 128, optimizer: "adam", learningRate: 0.001,
                                        momentum: 0, nesterov: false, weightDecay: 0, schedule: "exponential",
                                        gamma: 0.9, decayEvery: 1, seed: seed, threads: threads, checkpointEvery: 0)
            let dir = outputDirectory.appendingPathComponent(kind.rawValue)
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("checkpoint.safetensors"))
            let trainer = try Trainer(config: config, runDirectory: dir, data: data)
            progress(kind.rawValue, trainer)
            try trainer.run()
            curves[kind.rawValue] = (trainer.network.summary, trainer.history)
        }
        let plain = curves["plain"]!, highway = curves["highway"]!
        let figureBase = outputDirectory.appendingPathComponent("demo")
        try Demo.figure(plain: plain.1, highway: highway.1, depth: depth, dataset: datasetName).write(to: figureBase)
        let result = Result(dataset: datasetName, depth: depth, plain: plain.1, highway: highway.1,
                            plainModel: plain.0, highwayModel: highway.0, figure: figureBase.path + ".png")
        try writeJSON(result, to: outputDirectory.appendingPathComponent("demo.json"))
        return result
    }

    /// Training loss (log scale) and test accuracy per epoch, plain beside highway.
    static func figure(plain: [EpochMetrics], highway: [EpochMetrics], depth: Int, dataset: String) -> Figure {
        func series(_ name: String, _ m: [EpochMetrics], _ value: (EpochMetrics) -> Double, _ color: Color) -> Series {
            Series(name: name, x: m.map { Double($0.epoch) }, y: m.map(value), color: color)
        }
        let (blue, orange) = (Color(hex: 0x0072B2), Color(hex: 0xD55E00))
        return Figure(title: "\(depth)-layer plain vs highway network on \(dataset): same optimiser, budget and seed", panels: [
            Panel(title: "training loss", x: Axis("epoch"), y: Axis("mean cross-entropy", scale: .log10),
                  series: [series("plain", plain, \.trainLoss, orange), series("highway", highway, \.trainLoss, blue)]),
            Panel(title: "test accuracy", x: Axis("epoch"), y: Axis("accuracy", range: 0...1),
                  series: [series("plain", plain, \.testAccuracy, orange), series("highway", highway, \.testAccuracy, blue)]),
        ])
    }
}
