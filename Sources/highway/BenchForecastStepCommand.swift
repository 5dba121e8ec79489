import ArgumentParser
import HighwayKit

/// `highway bench forecast-step`: times one training step of `highway forecast`'s models.
struct BenchForecastStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast-step",
        abstract: "Time one training step of a forecasting model (forward with dropout, L1 loss, backward, clip, Adam).",
        discussion: """
            The step `highway forecast` takes per batch, on one fixed random batch of windows: the \
            model, the L1 loss summed over the batch, backward, joint gradient-norm clip at 10, Adam \
            at lr 0.001. Prints one JSON line:
              {"bench":"forecast-step","model":"lstnet-skip","series":8,"window":168,"hid_cnn":100,
               "hid_rnn":100,"parameters":..,"batch_size":128,"threads":1,"kernels":"avx512",
               "median_ms":..,"min_ms":..,"samples_per_s":..,"loss":..,"iterations":..}
            Scripts/compare_forecast_step.py runs the reference LSTNet (PyTorch) and a JAX port beside it.
            """
    )

    @OptionGroup var sizes: ForecastModelOptions
    @Option(help: "Series (columns of the data).") var series = 8
    @Option(name: .customLong("batch-size"), help: "Windows per step.") var batchSize = 128
    @Option(help: "Timed training steps.") var iterations = 30
    @OptionGroup var runtime: RuntimeOptions

    func config() throws -> ForecastConfig {
        var c = ForecastConfig(dataPath: "")
        try sizes.apply(to: &c)
        c.batchSize = batchSize
        return c
    }

    func validate() throws {
        if series < 1 || batchSize < 1 || iterations < 1 {
            throw ValidationError("--series, --batch-size and --iterations must be at least 1.")
        }
        if let e = try config().validationError() { throw ValidationError(e + ".") }
        // the largest buffers: the convolution's output and the GRU's gates over every step
        let floats = Double(batchSize) * Double(sizes.window) * Double(max(series, 3 * max(sizes.hidCNN, sizes.hidRNN)))
        if floats * 4 * 8 > Double(8 << 30) {
            throw ValidationError("--batch-size × --window × the widths need more than 8 GiB; use smaller sizes.")
        }
    }

    func run() throws {
        try runtime.apply()
        let c = try config()
        let r = try ForecastStepBenchmark(config: c, series: series, iterations: iterations).run()
        print(jsonLine([
            ("bench", .string("forecast-step")), ("model", .string(c.model.rawValue)), ("series", .int(series)), ("window", .int(c.window)),
            ("hid_cnn", .int(c.hidCNN)), ("hid_rnn", .int(c.hidRNN)), ("parameters", .int(r.parameters)), ("batch_size", .int(batchSize)),
            ("threads", .int(ThreadPool.threads)), ("kernels", .string(Kernels.variant.description)),
        ] + timingFields(r.times, extra: [("loss", .number(Double(r.loss)))])))
    }
}
