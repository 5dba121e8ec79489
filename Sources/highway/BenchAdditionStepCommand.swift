import ArgumentParser
import HighwayKit

/// `highway bench addition-step`: times one training step of `highway addition`'s models.
struct BenchAdditionStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "addition-step",
        abstract: "Time one training step of the addition task's 2-LSTM or stacked LSTM (forward, cross-entropy, backward, clip, Adam).",
        discussion: """
            The step `highway addition` takes per batch, on one fixed batch of problems: the model over \
            the 3·digits + 3 steps, softmax cross-entropy on the sum's digits, backward, gradient-norm \
            clip at 1, Adam at lr 0.003. Prints one JSON line:
              {"bench":"addition-step","model":"grid","digits":15,"width":64,"depth":4,"tied":true,
               "parameters":..,"batch_size":32,"threads":1,"kernels":"avx512","aid":"none",
               "median_ms":..,"min_ms":..,
               "samples_per_s":..,"loss":..,"iterations":..}
            ("width" is the width the model ran at: the stacked LSTM's is matched to the 2-LSTM's \
            parameter count, as in the task.) Scripts/compare_addition_step.py runs the same step in \
            PyTorch and JAX beside it.
            """
    )

    @Option(help: "grid (2-LSTM, tied unless --untied) or stacked (the stacked LSTM of about the same size).") var model = "grid"
    @Option(help: "Digits per number.") var digits = 15
    @Option(help: "Hidden units of the 2-LSTM (the stacked LSTM's width is matched by parameter count).") var width = 64
    @Option(help: "Depth of the 2-LSTM and layers of the stacked LSTM.") var depth = 4
    @Flag(help: "Untie the 2-LSTM's weights along depth.") var untied = false
    @Option(name: .customLong("batch-size"), help: "Problems per training step.") var batchSize = 32
    @Option(help: "Timed training steps.") var iterations = 50
    @OptionGroup var aids: AdditionAidArguments
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if digits < 1 || width < 1 || depth < 1 || batchSize < 1 || iterations < 1 {
            throw ValidationError("--digits, --width, --depth, --batch-size and --iterations must be at least 1.")
        }
        try checkGridMemory(width: width, depth: depth, steps: 3 * digits + 3, batch: batchSize)
        if GridTaskModel(rawValue: model).map({ $0 != .grid && $0 != .stacked }) ?? true {
            throw ValidationError("--model must be grid or stacked, not '\(model)'.")
        }
    }

    func run() throws {
        try runtime.apply()
        let kind = GridTaskModel(rawValue: model)!
        var bench = AdditionStepBenchmark(model: kind, digits: digits, width: width, depth: depth, tied: !untied,
                                          batchSize: batchSize, iterations: iterations)
        bench.aid = aids.aid
        let r = try bench.run()
        print(jsonLine([
            ("bench", .string("addition-step")), ("model", .string(model)), ("digits", .int(digits)), ("width", .int(r.width)),
            ("depth", .int(depth)), ("tied", .bool(!untied)), ("parameters", .int(r.parameters)), ("batch_size", .int(batchSize)),
            ("threads", .int(ThreadPool.threads)), ("kernels", .string(Kernels.variant.description)),
            ("aid", .string(aids.aid?.rawValue ?? "none")),
        ] + timingFields(r.times, extra: [("loss", .number(Double(r.loss)))])))
    }
}
