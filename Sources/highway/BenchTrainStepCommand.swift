import ArgumentParser
import HighwayKit

/// `highway bench train-step`: times steady-state SGD steps of a feed-forward network.
struct BenchTrainStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-step",
        abstract: "Time one SGD training step (forward, loss, backward, update) of a network.",
        discussion: """
            Prints one JSON line:
              {"bench":"train-step","model":"highway","width":50,"depth":50,"batch_size":128,
               "threads":1,"kernels":"avx512","median_ms":..,"min_ms":..,"samples_per_s":..,"steps":..}
            Scripts/compare_train_step.py runs the same step in PyTorch and JAX beside it.
            """
    )

    @Option(help: "highway, plain or residual.") var model = "highway"
    @Option(help: "Units per hidden layer.") var width = 50
    @Option(help: "Hidden layers (one plain input projection plus depth − 1 of the model's kind).") var depth = 50
    @Option(help: "tanh, relu, sigmoid or identity.") var activation = "tanh"
    @Option(name: .customLong("batch-size"), help: "Rows per step.") var batchSize = 128
    @Option(help: "Timed steps.") var steps = 200
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        _ = try parseModel(model)
        _ = try parseActivation(activation)
        if width < 1 || depth < 1 || batchSize < 1 || steps < 1 {
            throw ValidationError("--width, --depth, --batch-size and --steps must be at least 1.")
        }
        let config = NetworkConfig(kind: try parseModel(model), inputSize: 784, classes: 10, depth: depth, width: width)
        if let e = config.validationError() { throw ValidationError(e + ".") }
        // the activations of one step: depth × batch × (3 × width) Floats
        let (a, o1) = depth.multipliedReportingOverflow(by: batchSize)
        let (b, o2) = a.multipliedReportingOverflow(by: 3 * width)
        if o1 || o2 || b > 1 << 28 {
            throw ValidationError("--depth × --batch-size × --width need more than 2^28 Floats (1 GiB) of activations; use smaller sizes.")
        }
    }

    func run() throws {
        try runtime.apply()
        let config = NetworkConfig(kind: try parseModel(model), inputSize: 784, classes: 10, depth: depth,
                                   width: width, activation: try parseActivation(activation))
        let threads = ThreadPool.threads
        let r = try TrainStepBenchmark(network: config, batchSize: batchSize, threads: threads, steps: steps).run()
        print(jsonLine([
            ("bench", .string("train-step")), ("model", .string(model)), ("width", .int(width)), ("depth", .int(depth)),
            ("activation", .string(activation)), ("batch_size", .int(batchSize)), ("threads", .int(threads)),
            ("kernels", .string(Kernels.variant.description)),
        ] + timingFields(r.times, countKey: "steps")))
    }
}

/// A value in a one-line JSON object.
enum JSONValue {
    case string(String), int(Int), number(Double), bool(Bool)
    var text: String {
        switch self {
        case .string(let s): "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .int(let i): "\(i)"
        case .number(let x): x.isFinite ? "\((x * 1000).rounded() / 1000)" : "null"
        case .bool(let b): "\(b)"
        }
    }
}

/// `{"a":1,"b":"x"}` with the keys in the given order.
/// What every step benchmark prints after its own fields: median_ms, min_ms, samples_per_s,
/// `extra` (e.g. the loss), and the number of steps timed under `countKey`.
func timingFields(_ t: StepTimes, extra: [(String, JSONValue)] = [], countKey: String = "iterations") -> [(String, JSONValue)] {
    [("median_ms", .number(t.medianSeconds * 1e3)), ("min_ms", .number(t.minSeconds * 1e3)),
     ("samples_per_s", .number(t.samplesPerSecond))] + extra + [(countKey, .int(t.steps))]
}

func jsonLine(_ fields: [(String, JSONValue)]) -> String {
    "{" + fields.map { "\"\($0.0)\":\($0.1.text)" }.joined(separator: ",") + "}"
}

func parseModel(_ s: String) throws -> ModelKind {
    guard let m = ModelKind(rawValue: s) else {
        throw ValidationError("--model \(s) is not a model: expected one of \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    }
    return m
}

func parseActivation(_ s: String) throws -> Activation {
    guard let a = Activation(rawValue: s) else {
        throw ValidationError("--activation \(s) is not an activation: expected one of \(Activation.allCases.map(\.rawValue).joined(separator: ", ")).")
    }
    return a
}
