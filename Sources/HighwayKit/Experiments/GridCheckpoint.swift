// GridCheckpoint: saving and continuing one model's Grid LSTM task run (GridTrainer.run) so that a
// resumed run ends bit-identical to an uninterrupted one (same seed and threads, and a time budget
// that did not cut either short: the budget is wall time).
//
// The model's run directory gets checkpoint.safetensors: its parameters (PyTorch state_dict names),
// Adam's state under optimizer.*, and in the metadata the position (step, the training generator's
// state, the loss accumulators, seconds trained, the curve so far, whether training has stopped,
// and a curriculum's level with its evaluation generator) and the run's settings (config.json). It is written
// atomically at every evaluation, on SIGINT at the next step boundary, and when training stops.
// With `options.resume`, a model whose summary.json exists is skipped (its summary and curve are
// read back), one with a checkpoint continues from it, one with neither starts afresh. The budgets
// (samples, seconds) may differ from the run's: a larger one continues a model that its old budget
// stopped, even a finished one (GridTrainer.run).
import Foundation
import HighwayNN
import HighwayTensor

/// The training loop's position, as the checkpoint's metadata keeps it.
struct GridRunState: Codable {
    var step = 0
    var trainRNG: String
    var lossSum = 0.0
    var lossCount = 0
    /// The largest gradient norm since the last evaluation (GridCurvePoint.gradientNorm).
    var largestGradientNorm: Double? = nil
    /// Seconds of training so far (summed over resumed segments).
    var elapsed = 0.0
    var curve: [GridCurvePoint] = []
    /// Training has ended (target, sample or time budget reached); what is left is the final measurement.
    var stopped = false
    /// With a curriculum: the level reached, the largest level solved so far, and the evaluation
    /// generator's state before the current level's evaluation set was drawn.
    var curriculumIndex: Int? = nil
    var largestSolvedLevel: Int? = nil
    var evalSetRNG: String? = nil
    /// The plateau schedule's learning rate, the best accuracy at the current level and the
    /// evaluations since it (GridTrainOptions.plateau).
    var learningRate: Float? = nil
    var bestAccuracy: Double? = nil
    var evaluationsSinceBest: Int? = nil
    /// How often the divergence guard went back to earlier weights (GridTrainOptions.divergenceFactor),
    /// and the step of the state it would go back to; saved under `guard.*` in the file when that is
    /// not the checkpoint's own state (a save between evaluations: Ctrl-C, or the end of a budget).
    var rollbacks: Int? = nil
    var guardStep: Int? = nil
}

/// One model's checkpoint file and the settings it must match.
struct GridCheckpoint {
    static let format = "highwaykit-grid-checkpoint-1"
    /// The settings a resumed run may change: how long it trains, not what.
    static let budgetKeys: Set = ["max_samples", "max_seconds"]
    let directory: URL
    /// The settings as config.json holds them, in one canonical text (sorted keys).
    let configText: String
    let parameters: [Parameter]
    let optimizer: any Optimizer

    var url: URL { directory.appendingPathComponent("checkpoint.safetensors") }

    init(directory: URL, config: [String: Any], parameters: [Parameter], optimizer: any Optimizer) {
        self.directory = directory
        configText = Self.canonical(Self.roundTripped(config))
        self.parameters = parameters
        self.optimizer = optimizer
    }

    /// The prefix of the divergence guard's copy of an earlier state (parameters and Adam's moments
    /// under their own names after it).
    static let guardPrefix = "guard."

    func save(_ state: GridRunState, guardCopy: [(name: String, tensor: Tensor)] = []) throws {
        try ResumeCheckpoint.save(to: url, format: Self.format, parameters: parameters, optimizer: optimizer,
                                  extra: guardCopy.map { (Self.guardPrefix + $0.name, $0.tensor) }, position: state, config: configText)
    }

    /// The saved state, loaded into the parameters and the optimiser, and the guard's copy (names
    /// without the prefix; empty when the file has none); nil when there is no checkpoint.
    func load() throws -> (state: GridRunState, guardCopy: [String: Tensor])? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let (file, state) = try ResumeCheckpoint.load(from: url, format: Self.format, config: configText, sameSettings: { saved in
            let a = (try? JSONSerialization.jsonObject(with: Data(saved.utf8))) as? [String: Any]
            let b = (try? JSONSerialization.jsonObject(with: Data(configText.utf8))) as? [String: Any]
            return a.map(Self.withoutBudgets).map(Self.canonical) == b.map(Self.withoutBudgets).map(Self.canonical)
        }, parameters: parameters, optimizer: optimizer, extraPrefixes: [Self.guardPrefix], as: GridRunState.self)
        var copy: [String: Tensor] = [:]
        for (name, t) in file.tensors where name.hasPrefix(Self.guardPrefix) { copy[String(name.dropFirst(Self.guardPrefix.count))] = t }
        return (state, copy)
    }

    /// Checks that config.json in the directory, if any, holds these settings (budgets aside).
    /// - Throws: ``GridTaskError/resumeMismatch(path:detail:)`` naming the first setting that differs.
    func checkConfig(_ config: [String: Any]) throws {
        let url = directory.appendingPathComponent("config.json")
        guard let bytes = FileManager.default.contents(atPath: url.path) else { return }
        guard let saved = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any] else {
            throw GridTaskError.resumeMismatch(path: url.path, detail: "not a JSON object of settings")
        }
        let given = Self.roundTripped(config)
        for key in Set(saved.keys).union(given.keys).subtracting(Self.budgetKeys).sorted() {
            let a = saved[key].map(Self.canonical) ?? "(none)", b = given[key].map(Self.canonical) ?? "(none)"
            if a != b {
                throw GridTaskError.resumeMismatch(path: url.path, detail: "the run has \(key) = \(a), this command \(b) (give the options of the run being resumed)")
            }
        }
    }

    var summaryURL: URL { directory.appendingPathComponent("summary.json") }

    /// A finished model's summary.json and curve.json, or nil when it has not finished.
    func finished() throws -> (GridTaskSummary, [GridCurvePoint])? {
        let curveURL = directory.appendingPathComponent("curve.json")
        guard FileManager.default.fileExists(atPath: summaryURL.path) else { return nil }
        return (try Self.read(summaryURL, as: GridTaskSummary.self), try Self.read(curveURL, as: [GridCurvePoint].self))
    }

    /// A JSON file a run wrote (summary.json, curve.json), decoded.
    /// - Throws: ``ResumeError`` naming the file when it cannot be read or decoded.
    static func read<T: Decodable>(_ url: URL, as: T.Type) throws -> T {
        do { return try ResumeCheckpoint.decoder.decode(T.self, from: Data(contentsOf: url)) } catch {
            throw ResumeError(path: url.path, reason: "cannot read it back (\(error))")
        }
    }

    /// `config` as written to and read back from JSON (Floats widened, numbers as JSON keeps them).
    static func roundTripped(_ config: [String: Any]) -> [String: Any] {
        guard let data = try? JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]),
              let back = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return config }
        return back
    }

    static func withoutBudgets(_ config: [String: Any]) -> [String: Any] { config.filter { !budgetKeys.contains($0.key) } }

    /// One value as sorted-key JSON text, to compare settings.
    static func canonical(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]) else { return "\(value)" }
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
