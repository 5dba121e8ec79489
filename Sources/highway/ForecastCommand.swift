import ArgumentParser
import Foundation
import HighwayKit

/// `highway forecast`: trains an LSTNet-family forecasting model on a multivariate series and
/// writes a run directory.
struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Train an LSTNet, GRU or AR forecaster on a multivariate time series (e.g. exchange rates).",
        discussion: """
            The data: a text file (optionally .gz) with one time step per line and the series' \
            values separated by commas, e.g. ../shared/data/exchange_rate/exchange_rate.txt.gz. \
            As the LSTNet reference code: each series is divided by its largest absolute value \
            (--normalize max), the rows are split 60/20/20 in time order, an example is --window \
            steps predicting the row --horizon steps after the last; the loss is computed on \
            values scaled back to the data's units; Adam with gradient-norm clipping; the weights \
            of the epoch with the best validation RSE are kept and scored on the test set.

            Writes a run directory: config.json, metrics.csv (per epoch), summary.json (valid and \
            test RSE, RAE, CORR, per horizon with --steps), predictions.csv (the test set), \
            forecast.svg/png (truth vs forecast for --plot-series) and checkpoint.safetensors \
            (the kept weights).

            While it trains, resume.safetensors holds what a continuation needs (weights, Adam \
            state, the best epoch's weights, dropout generator, position); it is rewritten after \
            every epoch and removed when the run finishes. Ctrl-C saves it at the next batch and \
            stops; `highway forecast --resume RUN_DIR` continues (all options but --threads are \
            read from the run) and ends with the same results as an uninterrupted run with the \
            same seed and thread count.

            Models: lstnet-skip (convolution, GRU, skip-GRU with period --skip, dense, plus the \
            highway/AR component), lstnet-attn (temporal attention over the GRU states instead of \
            the skip-GRU), gru (a GRU and a dense layer; --highway-window 0 for the plain GRU \
            baseline) and ar (the linear highway/AR component alone, weights shared by all series). \
            For the exchange-rate data the reference used --hid-cnn 50 --hid-rnn 50.

            Examples:
              highway forecast --model ar --data ../shared/data/exchange_rate/exchange_rate.txt.gz --horizon 3
              highway forecast --model ar --data exchange_rate.txt.gz --horizon 24 --steps 3 --plot-series 0,1
              highway forecast --data exchange_rate.txt.gz --hid-cnn 50 --hid-rnn 50 --horizon 24
              highway forecast --resume runs/forecast-lstnet-skip-w168-h24
            """
    )

    @Option(help: "The series file: comma-separated rows of numbers, optionally gzip-compressed.") var data: String?
    @OptionGroup var sizes: ForecastModelOptions
    @Option(help: "Steps from the window's last row to the target row.") var horizon = 12
    @Option(help: "Horizons forecast at once (direct multi-step): horizon … horizon + steps − 1.") var steps = 1
    @Option(help: "Per-series scaling: max (divide by the largest absolute value, as the reference), std or none.") var normalize = "max"
    @Option(help: "Dropout probability.") var dropout: Float = 0.2
    @Option(help: "Output function: none, sigmoid or tanh.") var output = "none"
    @Option(help: "Training loss: l1 or l2.") var loss = "l1"
    @Option(name: .customLong("lr"), help: "Adam learning rate.") var learningRate: Float = 0.001
    @Option(name: .customLong("batch-size"), help: "Windows per step.") var batchSize = 128
    @Option(help: "Epochs to train (the reference: 100).") var epochs = 100
    @Option(help: "Maximum joint gradient norm (0: no clipping).") var clip: Float = 10
    @Option(help: "Seed of the initialisation, the batch order and dropout.") var seed: UInt64 = 1
    @Option(name: .customLong("plot-series"), help: "Series to plot, comma-separated indices from 0.") var plotSeries = "0"
    @Option(help: "Run directory to create (default: runs/forecast-<model>-w<window>-h<horizon>).") var out: String?
    @Option(help: "Continue the unfinished run in this run directory (all other options but --threads are read from it).") var resume: String?
    @Flag(help: "Print nothing but errors and the final result.") var quiet = false
    @OptionGroup var runtime: RuntimeOptions

    func parsedPlotSeries() throws -> [Int] {
        let parts = plotSeries.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 }) else {
            throw ValidationError("--plot-series must be comma-separated series indices from 0 (e.g. 0,1), got '\(plotSeries)'.")
        }
        return values.map { $0! }
    }

    func makeConfig() throws -> ForecastConfig {
        func pick<T: RawRepresentable & CaseIterable>(_ value: String, _ option: String, _ type: T.Type) throws -> T where T.RawValue == String {
            guard let v = T(rawValue: value) else {
                throw ValidationError("--\(option) \(value) is not valid: expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            return v
        }
        guard let data else { throw ValidationError("--data is required (or --resume RUN_DIR to continue a run).") }
        var c = ForecastConfig(dataPath: data)
        try sizes.apply(to: &c)
        c.horizon = horizon
        c.steps = steps
        c.normalization = try pick(normalize, "normalize", SeriesNormalization.self)
        c.dropout = dropout
        c.output = try pick(output, "output", ForecastOutput.self)
        c.loss = try pick(loss, "loss", ForecastLoss.self)
        c.learningRate = learningRate
        c.batchSize = batchSize
        c.epochs = epochs
        c.clip = clip
        c.seed = seed
        c.threads = runtime.threads ?? 0
        c.plotSeries = try parsedPlotSeries()
        return c
    }

    func validate() throws {
        if resume != nil { return }
        let c = try makeConfig()
        if let e = c.validationError() { throw ValidationError(e + ".") }
        if c.model.needsGRU && RecurrentEncoders.makeGRU == nil {
            throw ValidationError("--model \(sizes.model) is not available in this build: it needs a recurrent layer (RecurrentEncoders.makeGRU); --model ar works.")
        }
    }

    func run() throws {
        try runtime.apply()
        let trainer: ForecastTrainer, series: MultivariateSeries, dir: String
        if let resume {
            dir = resume
            let runDirectory = URL(fileURLWithPath: resume)
            let saved = try validated { try ForecastTrainer.configuration(of: runDirectory) }
            if FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("summary.json").path) {
                print("\(resume) has already finished its \(saved.epochs) epochs; nothing to do.")
                return
            }
            if runtime.threads == nil && saved.threads > 0 { ThreadPool.threads = saved.threads }
            series = try MultivariateSeries.load(path: saved.dataPath)
            trainer = try validated { try ForecastTrainer.resuming(runDirectory, threads: runtime.threads, data: series) }
        } else {
            let config = try makeConfig()
            dir = out ?? "runs/forecast-\(sizes.model)-w\(sizes.window)-h\(horizon)"
            // The data decide some limits (window ≤ rows, every split non-empty, plotted series exist):
            // those are command-line errors too (exit 2), found before anything is written.
            for (name, what) in [("summary.json", "a forecasting run"), ("resume.safetensors", "an unfinished forecasting run (continue it with --resume \(dir))")]
            where FileManager.default.fileExists(atPath: URL(fileURLWithPath: dir).appendingPathComponent(name).path) {
                throw ValidationError("\(dir) already holds \(what): choose another --out or remove it.")
            }
            try validateOutputDirectory(dir, option: "--out")
            series = try MultivariateSeries.load(path: config.dataPath)
            trainer = try validated { try ForecastTrainer(config: config, runDirectory: URL(fileURLWithPath: dir), data: series) }
        }
        let c = trainer.config, w = trainer.windows
        if !quiet {
            FileHandle.standardError.write(Data("""
                \(trainer.model.summary) (\(trainer.parameterCount) parameters)
                data: \(c.dataPath): \(series.rows) rows × \(series.series) series; windows \(w.train.count) train, \(w.valid.count) valid, \(w.test.count) test
                window \(c.window), horizon \(c.horizon)\(c.steps > 1 ? ", \(c.steps) steps" : ""); \(c.loss.rawValue) loss, Adam lr \(c.learningRate), batch \(c.batchSize), \(c.epochs) epochs, clip \(c.clip), \(ThreadPool.threads) thread(s)
                run directory: \(dir)\(resume != nil ? " (resumed at epoch \(trainer.epoch + 1), batch \(trainer.batch + 1))" : "")\n
                """.utf8))
        }
        let progress = ProgressReporter(epochs: c.epochs, batchesPerEpoch: trainer.batchesPerEpoch, batchSize: c.batchSize, quiet: quiet)
        trainer.progress = { event in
            switch event {
            case .epochStart(let e, _): progress.beginEpoch(e + 1)
            case .batch(let i, let loss): progress.batch(i, loss: loss)
            case .epochEnd(let m, _):
                progress.endEpoch(metrics: [("valid_rse", m.valid.rse), ("valid_rae", m.valid.rae), ("valid_corr", m.valid.corr)])
            }
        }
        let s = try trainer.run()
        progress.finish()
        for h in s.testPerHorizon where s.steps > 1 {
            print(String(format: "  horizon %d: test RSE %.4f, RAE %.4f, CORR %.4f", h.horizon, h.rse, h.rae, h.corr))
        }
        print(String(format: "%@ h=%d: test RSE %.4f, RAE %.4f, CORR %.4f (valid RSE %.4f, CORR %.4f; best epoch %d of %d, %.1f s) → %@",
                     s.model, s.horizon, s.test.rse, s.test.rae, s.test.corr, s.valid.rse, s.valid.corr, s.bestEpoch, s.epochs,
                     s.seconds, dir))
    }

    /// Runs `make`; settings or run-directory errors become command-line errors (exit 2).
    func validated<T>(_ make: () throws -> T) throws -> T {
        do {
            return try make()
        } catch let e as ForecastError {
            throw ValidationError("\(e).")
        } catch let e as ResumeError {
            throw ValidationError("\(e).")
        } catch let e as DataError {
            if case .tooFewRows = e { throw ValidationError("\(e) (lower --window, --horizon or --steps).") }
            throw e
        }
    }
}

/// The options that choose and size a forecasting model, shared by `forecast` and `bench forecast-step`.
struct ForecastModelOptions: ParsableArguments {
    @Option(help: "ar, gru, lstnet-skip or lstnet-attn.") var model = "lstnet-skip"
    @Option(help: "Input steps per example.") var window = 168
    @Option(name: .customLong("cnn-kernel"), help: "Time steps each convolution filter spans.") var cnnKernel = 6
    @Option(name: .customLong("hid-cnn"), help: "Convolution channels.") var hidCNN = 100
    @Option(name: .customLong("hid-rnn"), help: "GRU hidden units.") var hidRNN = 100
    @Option(name: .customLong("hid-skip"), help: "Skip-GRU hidden units.") var hidSkip = 5
    @Option(help: "Period of the skip-GRU in steps (an integer; (window − cnn-kernel) / skip steps are used).") var skip = 24
    @Option(name: .customLong("highway-window"), help: "Steps the highway/AR component reads (0: no highway component).") var highwayWindow = 24

    func apply(to c: inout ForecastConfig) throws {
        guard let kind = ForecastModelKind(rawValue: model) else {
            throw ValidationError("--model \(model) is not valid: expected one of \(ForecastModelKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        c.model = kind; c.window = window; c.cnnKernel = cnnKernel; c.hidCNN = hidCNN; c.hidRNN = hidRNN
        c.hidSkip = hidSkip; c.skip = skip; c.highwayWindow = highwayWindow
    }
}
