import ArgumentParser
import HighwayKit

/// `highway bench lstm-step`: times steady-state SGD steps of an LSTM over a sequence.
struct BenchLSTMStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lstm-step",
        abstract: "Time one SGD training step of an LSTM (forward over the sequence, MSE, backward through time, update).",
        discussion: """
            Prints one JSON line:
              {"bench":"lstm-step","input":128,"hidden":128,"layers":1,"steps":50,"batch_size":32,
               "threads":1,"kernels":"avx512","median_ms":..,"min_ms":..,"samples_per_s":..,"iterations":..}
            Scripts/compare_lstm_step.py runs the same step with PyTorch's nn.LSTM beside it.
            """
    )

    @Option(help: "Input features per step.") var input = 128
    @Option(help: "Hidden units.") var hidden = 128
    @Option(help: "Stacked LSTM layers.") var layers = 1
    @Option(help: "Time steps per sequence.") var steps = 50
    @Option(name: .customLong("batch-size"), help: "Sequences per training step.") var batchSize = 32
    @Option(help: "Timed training steps.") var iterations = 100
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if input < 1 || hidden < 1 || layers < 1 || steps < 1 || batchSize < 1 || iterations < 1 {
            throw ValidationError("--input, --hidden, --layers, --steps, --batch-size and --iterations must be at least 1.")
        }
    }

    func run() throws {
        try runtime.apply()
        let r = try LSTMStepBenchmark(inputSize: input, hiddenSize: hidden, layers: layers, steps: steps,
                                      batchSize: batchSize, iterations: iterations).run()
        print(jsonLine([
            ("bench", .string("lstm-step")), ("input", .int(input)), ("hidden", .int(hidden)), ("layers", .int(layers)),
            ("steps", .int(steps)), ("batch_size", .int(batchSize)), ("threads", .int(ThreadPool.threads)),
            ("kernels", .string(Kernels.variant.description)),
        ] + timingFields(r.times, extra: [("loss", .number(Double(r.loss)))])))
    }
}
