// The depth sweep of "Training Very Deep Networks" (figure 1): plain and highway networks of
// growing depth trained under the same budget and search, their training loss per epoch side by
// side. Plain nets get width 71 and highway nets width 50, as in the paper (about 5000 weights per
// hidden layer either way); residual nets, for comparison, width 71.
//
// The search: setting 0 is the documented default recipe (without its weight decay, which no
// setting uses); `search` more settings are drawn from
// the seed (learning rate log-uniform, momentum, per-epoch decay, activation, gate bias) and every
// model and depth trains with the same list, so differences come from the architecture. Each run
// keeps its own run directory under `runs/`, so an interrupted sweep continues where it stopped
// (finished runs are read back, an unfinished one resumes from its checkpoint), and any run can be
// studied later with `highway lesion` or `highway gates`.

import Foundation
import HighwayData
import HighwayNN
import HighwayTensor

public struct DepthSweep {
    public var models: [ModelKind] = [.plain, .highway]
    public var depths: [Int] = [10, 20, 50, 100]
    /// A `DatasetKind` name or "synthetic".
    public var dataset = "mnist"
    public var dataDirectory: String?
    /// Train on the first N training examples only.
    public var trainLimit: Int?
    public var epochs = 10
    /// Random settings drawn besides the default recipe.
    public var search = 3
    public var optimizer = "adam"
    public var batchSize = 64
    public var seed: UInt64 = 1
    public var threads = 0
    public var outputDirectory: URL

    public init(outputDirectory: URL) { self.outputDirectory = outputDirectory }

    /// Hidden width per model: the paper's 71 for plain (and residual), 50 for highway.
    public static func width(of model: ModelKind) -> Int { model == .highway ? 50 : 71 }
    /// How many of the best runs the "mean of the best" curve averages (the paper: 10 of 100).
    public static let meanOfBest = 10

    /// One point of the search.
    public struct Setting: Codable, Sendable, Equatable {
        public var index: Int
        public var learningRate: Float
        /// SGD momentum (Adam's β₁ stays at 0.9).
        public var momentum: Float
        /// Learning-rate factor per epoch.
        public var gamma: Float
        public var activation: Activation
        /// Transform-gate bias at initialisation (highway nets only).
        public var gateBias: Float
    }

    /// One trained network of the sweep.
    public struct Run: Codable, Sendable {
        public var model: String
        public var depth: Int
        public var width: Int
        public var setting: Int
        /// Mean training loss of each epoch.
        public var trainLoss: [Double]
        public var finalTrainLoss: Double
        public var testAccuracy: Double
        public var seconds: Double
        /// Stopped on a non-finite loss (ranked last).
        public var diverged: Bool
        public var directory: String
    }

    /// The runs of one model at one depth.
    public struct Cell: Codable, Sendable {
        public var model: String
        public var depth: Int
        public var width: Int
        /// The run with the lowest final training loss.
        public var best: Run
        /// Per epoch, the mean training loss of the best `meanOfBestCount` runs.
        public var meanOfBest: [Double]
        public var meanOfBestCount: Int
        public var runs: [Run]
    }

    public struct Result: Codable, Sendable {
        public var dataset: String
        public var trainExamples: Int
        public var epochs: Int
        public var optimizer: String
        public var settings: [Setting]
        public var cells: [Cell]
        /// The runs' own training time, summed (the same however often the sweep was resumed).
        public var trainingSeconds: Double
        /// Wall time of this invocation (short when it only read finished runs back).
        public var wallSeconds: Double
    }

    /// The default recipe followed by `search` settings drawn from `seed`.
    public func settings() -> [Setting] {
        let recipe = TrainingConfig.defaultRecipe(dataDirectory: nil)
        var list = [Setting(index: 0, learningRate: recipe.learningRate, momentum: recipe.momentum, gamma: recipe.gamma,
                            activation: recipe.network.activation, gateBias: recipe.network.gateBias)]
        var rng = SeededGenerator(seed: seed ^ 0x5EA2C4)
        // log-uniform learning rates around each optimiser's usual range
        let (lo, hi): (Double, Double) = optimizer == "adam" ? (1e-4, 1e-2) : (1e-3, 0.5)
        for i in stride(from: 1, through: search, by: 1) {
            let lr = exp(log(lo) + Double.random(in: 0..<1, using: &rng) * (log(hi) - log(lo)))
            list.append(Setting(index: i, learningRate: Float(lr),
                                momentum: Float(Double.random(in: 0.8..<0.99, using: &rng)),
                                gamma: Float(Double.random(in: 0.7..<1.0, using: &rng)),
                                activation: Bool.random(using: &rng) ? .tanh : .relu,
                                gateBias: Float(-Double.random(in: 1..<4, using: &rng))))
        }
        return list
    }

    /// One line saying what is wrong, or nil.
    public func validationError() -> String? {
        if models.isEmpty { return "--models needs at least one of plain, highway, residual" }
        if depths.isEmpty || depths.contains(where: { $0 < 2 }) {
            return "--depths must be a list of depths ≥ 2 (an input layer and at least one hidden layer), got \(depths)"
        }
        if epochs < 1 { return "--epochs must be at least 1, got \(epochs)" }
        if search < 0 { return "--search must be ≥ 0, got \(search)" }
        if !["adam", "sgd"].contains(optimizer) { return "--optimizer must be adam or sgd, got \(optimizer)" }
        if batchSize < 1 { return "--batch-size must be at least 1, got \(batchSize)" }
        if let n = trainLimit, n < 1 { return "--limit must be at least 1, got \(n)" }
        if dataset != "synthetic" && DatasetKind(name: dataset) == nil {
            return "unknown data set '\(dataset)': expected \(DatasetKind.allCases.map(\.rawValue).joined(separator: ", ")) or synthetic"
        }
        return nil
    }

    /// The progress of the sweep: runs finished, all runs, and what is training now.
    public enum Event {
        case runStart(index: Int, total: Int, name: String, trainer: Trainer)
        case runEnd(index: Int, total: Int, run: Run)
    }

    /// Trains every model × depth × setting (reusing finished runs), writes `depth_sweep.json`,
    /// `depth_sweep.csv`, `depth_sweep.svg` and `depth_sweep.png` into the output directory.
    public func run(progress: (Event) -> Void = { _ in }) throws -> Result {
        if let e = validationError() { throw ExperimentError.invalidArgument(e) }
        try checkWritableDirectory(outputDirectory, create: true)
        let clock = Trainer.Clock()
        var config = TrainingConfig.defaultRecipe(dataDirectory: dataDirectory)
        config.dataset = dataset
        config.trainLimit = trainLimit
        let data = try DataSplits.load(for: config)
        let settings = settings()
        let plan = models.flatMap { m in depths.flatMap { d in settings.map { (m, d, $0) } } }
        var runs: [Run] = []
        for (i, (model, depth, setting)) in plan.enumerated() {
            let name = "\(model.rawValue)-d\(depth)-s\(setting.index)"
            let dir = outputDirectory.appendingPathComponent("runs").appendingPathComponent(name)
            var c = config
            c.network = NetworkConfig(kind: model, inputSize: data.train.features, classes: data.train.classes,
                                      depth: depth, width: Self.width(of: model), activation: setting.activation,
                                      gateBias: setting.gateBias, tied: false)
            c.epochs = epochs
            c.batchSize = batchSize
            c.optimizer = optimizer
            c.learningRate = setting.learningRate
            c.momentum = setting.momentum
            c.gamma = setting.gamma
            c.schedule = "exponential"
            c.weightDecay = 0  // searched settings have none, so setting 0 leaves it out too
            c.seed = seed
            c.threads = threads
            c.checkpointEvery = 0
            let trainer: Trainer
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("checkpoint.safetensors").path) {
                let saved = try Trainer.configuration(of: dir)
                var expected = c
                expected.threads = saved.threads
                guard saved == expected else {
                    throw ExperimentError.invalidArgument("\(dir.path) holds a run with other settings than this sweep asks for; choose another --out or remove it")
                }
                trainer = try Trainer.resuming(dir, threads: threads, data: data)
            } else {
                trainer = try Trainer(config: c, runDirectory: dir, data: data)
            }
            progress(.runStart(index: i, total: plan.count, name: name, trainer: trainer))
            var diverged = false
            if !trainer.isFinished {
                do { try trainer.run() } catch TrainingError.nonFinite {
                    diverged = true
                }
            }
            let losses = trainer.history.map(\.trainLoss)
            let run = Run(model: model.rawValue, depth: depth, width: Self.width(of: model), setting: setting.index,
                          trainLoss: losses, finalTrainLoss: diverged ? .infinity : (losses.last ?? .infinity),
                          testAccuracy: trainer.history.last?.testAccuracy ?? 0,
                          seconds: trainer.history.last?.seconds ?? 0, diverged: diverged, directory: dir.path)
            runs.append(run)
            progress(.runEnd(index: i, total: plan.count, run: run))
        }
        let cells = models.flatMap { m in depths.map { d in
            Self.cell(runs.filter { $0.model == m.rawValue && $0.depth == d }, epochs: epochs)
        } }
        let result = Result(dataset: dataset, trainExamples: data.train.count, epochs: epochs, optimizer: optimizer,
                            settings: settings, cells: cells,
                            trainingSeconds: runs.reduce(0) { $0 + $1.seconds }, wallSeconds: clock.seconds)
        try writeJSON(result, to: outputDirectory.appendingPathComponent("depth_sweep.json"))
        try CSVTable(header: ["model", "depth", "width", "setting", "epoch", "train_loss"],
                     rows: runs.flatMap { r in r.trainLoss.enumerated().map { e, loss in
                         [.text(r.model), .number(Double(r.depth)), .number(Double(r.width)), .number(Double(r.setting)),
                          .number(Double(e + 1)), .number(loss)]
                     } }).write(to: outputDirectory.appendingPathComponent("depth_sweep.csv"))
        try figure(result).write(to: outputDirectory.appendingPathComponent("depth_sweep"))
        return result
    }

    /// The best run and the per-epoch mean of the best `meanOfBest` (diverged runs never count).
    static func cell(_ runs: [Run], epochs: Int) -> Cell {
        let ranked = runs.sorted { ($0.finalTrainLoss, $0.setting) < ($1.finalTrainLoss, $1.setting) }
        let finished = ranked.filter { !$0.diverged && $0.trainLoss.count == epochs }
        let top = finished.prefix(meanOfBest)
        let mean = top.isEmpty ? [] : (0..<epochs).map { e in top.reduce(0) { $0 + $1.trainLoss[e] } / Double(top.count) }
        let first = ranked[0]
        return Cell(model: first.model, depth: first.depth, width: first.width, best: first,
                    meanOfBest: mean, meanOfBestCount: top.count, runs: runs)
    }

    /// One panel per depth, every model's best run solid and its mean of the best dashed, the
    /// loss on one log scale for all panels (the paper's figure 1), with a decade of headroom so
    /// the legend covers no curve.
    func figure(_ r: Result) -> Figure {
        let colors: [String: Color] = ["plain": .vermillion, "highway": .blue, "residual": .bluishGreen]
        let losses = r.cells.flatMap { $0.best.trainLoss + $0.meanOfBest }.filter { $0.isFinite && $0 > 0 }
        let lo = pow(10, floor(log10(losses.min() ?? 1e-3))), hi = pow(10, ceil(log10(losses.max() ?? 1)) + 1)
        let panels = depths.map { depth in
            var series: [Series] = []
            for cell in r.cells where cell.depth == depth {
                let color = colors[cell.model] ?? .black
                series.append(Series(name: "\(cell.model), best", y: cell.best.trainLoss, color: color))
                if r.settings.count > 1 && !cell.meanOfBest.isEmpty {
                    series.append(Series(name: "\(cell.model), mean of best \(cell.meanOfBestCount)", y: cell.meanOfBest,
                                         color: color, style: .dashed))
                }
            }
            return Panel(title: "\(depth) layers", x: Axis("epoch"), y: Axis("training loss", scale: .log10, range: lo...hi),
                         series: series)
        }
        let widths = models.map { "\($0.rawValue) width \(Self.width(of: $0))" }.joined(separator: ", ")
        let searched = r.settings.count > 1 ? "best of \(r.settings.count) settings" : "default recipe"
        return Figure(title: "Training loss by depth on \(r.dataset) (\(r.trainExamples) examples; \(widths); \(r.optimizer), \(searched))",
                      panels: panels, columns: min(panels.count, 4))
    }
}
