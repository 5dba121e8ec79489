// `highway parity`, `highway addition`, `highway memorize`: the Grid LSTM paper's tasks. Argument
// parsing only; the tasks live in HighwayKit (Experiments/GridTasks.swift).

import ArgumentParser
import Foundation
import HighwayKit

/// Training options every Grid LSTM task shares.
struct GridTrainArguments: ParsableArguments {
    @Option(name: .customLong("batch-size"), help: "Examples per training step.") var batch = 32
    @Option(help: "Adam learning rate.") var lr: Float = 0.001
    @Option(help: "Stop after this many training examples.") var maxSamples = 2_000_000
    @Option(help: "Stop after this many minutes of training (per model).") var minutes = 10.0
    @Option(help: "The accuracy on --final-examples fresh examples that counts as solved.") var target = 0.99
    @Option(help: "Stop training (or advance a curriculum) once an evaluation reaches this accuracy (default: --target; a little above it leaves a margin for the evaluation's sampling noise).")
    var stopAt: Double?
    @Option(help: "Move a --curriculum to its next level once an evaluation reaches this accuracy (default: --stop-at); only the last level must reach --stop-at.")
    var advanceAt: Double?
    @Option(help: "With a --curriculum: the share of training examples drawn at a level picked at random from all levels instead of the current one (0 to 1; e.g. 0.25), so that harder problems are seen all along and learned levels are not forgotten; evaluations stay at the current level.")
    var mix = 0.0
    @Option(help: "Halve the learning rate after this many evaluations in a row without a better accuracy (0: never); with a --curriculum, at its last level only, once an evaluation there reached --advance-at; at most ten times.")
    var plateau = 0
    @Option(help: "Evaluate every this many steps.") var evalEvery = 100
    @Option(help: "Fresh examples per evaluation during training.") var evalExamples = 1000
    @Option(help: "Fresh examples of the final measurement.") var finalExamples = 10_000
    @Option(help: "Global gradient-norm clip (0: none).") var clip: Float = 1
    @Option(help: "Divergence guard: when the largest gradient norm since the last evaluation exceeds this many times the usual (the median of the last 50 evaluations'), go back to the last sound evaluation's weights and Adam state and on at half the learning rate (at most ten times; 0: off).")
    var divergenceFactor = 10_000.0
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Continue the run in this directory (its --out): unfinished models go on from their checkpoints, finished ones are kept; alone (the run's saved options), with a larger --minutes/--max-samples to train longer, or with the run's own options.") var resume: String?

    @Flag(help: "Train the models side by side, each on a core of its own (kernels on one thread each, so --threads must be 1 or left out): each model's --minutes run in the same wall time; results as one after another.")
    var parallel = false
    @Option(help: "With --resume: go on at this Adam learning rate (its moments kept), e.g. lower after a divergence; curve.csv's learning_rate column shows the change.")
    var resumeLr: Float?

    func validate() throws {
        if let resumeLr {
            if resume == nil { throw ValidationError("--resume-lr sets the rate a resumed run goes on at; it needs --resume RUN_DIR.") }
            if !(resumeLr > 0 && resumeLr.isFinite) { throw ValidationError("--resume-lr must be a positive number, got \(resumeLr).") }
        }
        if batch < 1 { throw ValidationError("--batch-size must be at least 1, got \(batch).") }
        if !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr).") }
        if maxSamples < 1 { throw ValidationError("--max-samples must be at least 1, got \(maxSamples).") }
        if !(minutes > 0) { throw ValidationError("--minutes must be positive, got \(minutes).") }
        if !(target > 0 && target <= 1) { throw ValidationError("--target must be in (0, 1], got \(target).") }
        if let stopAt, !(stopAt > 0 && stopAt <= 1) { throw ValidationError("--stop-at must be in (0, 1], got \(stopAt).") }
        if plateau < 0 { throw ValidationError("--plateau must be ≥ 0, got \(plateau).") }
        if let advanceAt, !(advanceAt > 0 && advanceAt <= 1) { throw ValidationError("--advance-at must be in (0, 1], got \(advanceAt).") }
        if !(mix >= 0 && mix <= 1) { throw ValidationError("--mix must be in [0, 1], got \(mix).") }
        if evalEvery < 1 { throw ValidationError("--eval-every must be at least 1, got \(evalEvery).") }
        if evalExamples < 1 || finalExamples < 1 { throw ValidationError("--eval-examples and --final-examples must be at least 1.") }
        if !(divergenceFactor == 0 || divergenceFactor > 1) || !divergenceFactor.isFinite {
            throw ValidationError("--divergence-factor must be 0 (off) or above 1, got \(divergenceFactor).")
        }
        if !(clip >= 0) { throw ValidationError("--clip must be ≥ 0, got \(clip).") }
    }

    /// `--advance-at` and `--mix` only mean something to a task run with a `--curriculum`.
    func checkCurriculumOptions(curriculum: Bool) throws {
        guard !curriculum else { return }
        if advanceAt != nil {
            throw ValidationError("--advance-at moves a --curriculum to its next level; it needs --curriculum (parity, addition).")
        }
        if mix > 0 { throw ValidationError("--mix mixes the levels of a --curriculum; it needs --curriculum (parity, addition).") }
    }

    var options: GridTrainOptions {
        var o = GridTrainOptions()
        o.batchSize = batch; o.learningRate = lr; o.maxSamples = maxSamples; o.maxSeconds = minutes * 60
        o.target = target; o.stopAt = stopAt; o.advanceAt = advanceAt; o.mix = mix; o.plateau = plateau; o.evalEvery = evalEvery; o.evalExamples = evalExamples; o.finalExamples = finalExamples
        o.clip = clip; o.seed = seed; o.divergenceFactor = divergenceFactor
        o.resume = resume != nil; o.resumeLearningRate = resumeLr; o.parallel = parallel
        return o
    }

    /// After `runtime.apply()`: --parallel runs each model's kernels on one thread.
    func applyParallel(_ runtime: RuntimeOptions) throws {
        guard parallel else { return }
        if let threads = runtime.threads, threads != 1 {
            throw ValidationError("--parallel runs each model on one thread: leave out --threads \(threads) (or give 1).")
        }
        ThreadPool.threads = 1
    }
}

/// The paragraph on checkpoints and --resume in every task command's help.
let gridResumeHelp = """
    Each model's checkpoint.safetensors (weights, Adam state, position) is written at every \
    evaluation; Ctrl-C saves it at the next step and stops. --resume RUN_DIR continues the \
    unfinished models with the run's own options (saved in RUN_DIR/arguments.json; options given \
    with it must be the run's) and keeps the finished ones, ending as an uninterrupted run with \
    the same seed and threads would (unless --minutes cut a run short). --resume RUN_DIR with a \
    larger --minutes or --max-samples trains longer: models their old budget stopped short of \
    the target go on, finished ones included.
    """

/// Parses `--curriculum START[:STEP]` (STEP defaults to 4) for a task whose hardest level is `last`
/// (the value of `option`); nil when the option is not given.
func parseCurriculum(_ text: String?, last: Int, option: String) throws -> (start: Int, step: Int)? {
    guard let text else { return nil }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
    guard (1...2).contains(parts.count), let start = parts[0], let step = parts.count == 2 ? parts[1] : 4,
          start >= 1, start <= last, step >= 1 else {
        throw ValidationError("--curriculum \(text): expected START[:STEP] with 1 ≤ START ≤ \(option) (\(last)) and STEP ≥ 1, e.g. 4:4.")
    }
    return (start, step)
}

/// Parses a comma-separated list of models, each one of `allowed`.
func parseModels(_ text: String, allowed: [GridTaskModel], option: String) throws -> [GridTaskModel] {
    let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let models = names.compactMap { GridTaskModel(rawValue: $0) }
    guard !names.isEmpty, models.count == names.count, models.allSatisfy(allowed.contains) else {
        throw ValidationError("\(option) \(text): expected a comma-separated list of \(allowed.map(\.rawValue).joined(separator: ", ")).")
    }
    return models
}

/// A progress bar per model: replaced when the model changes, or with models side by side one
/// each, printed as lines (several bars cannot redraw one terminal line). Called from the models' threads.
final class ModelProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let sideBySide: Bool
    private var bars: [(model: String, bar: LoopProgress)] = []

    init(sideBySide: Bool = false) { self.sideBySide = sideBySide }

    func update(_ model: String, _ step: Int, _ total: Int, _ note: String) {
        lock.lock(); defer { lock.unlock() }
        if !bars.contains(where: { $0.model == model }) {
            if !sideBySide { bars.last?.bar.finish() }
            // a resumed model starts part-way
            bars.append((model, LoopProgress(total: total, label: model, completed: step, interactive: sideBySide ? false : nil)))
        }
        let bar = bars.first { $0.model == model }!.bar
        if note.hasPrefix(DivergenceGuard.notePrefix) { bar.announce("\(model): \(note.prefix { $0 != ";" })") }
        bar.update(completed: step, total: total, note: note)
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        for b in bars { b.bar.finish() }
    }
}

/// The run directory of a task command: `--resume DIR` (which must hold a run of `command`, whose
/// `task` setting `isTask` accepts, with one model in DIR itself when `singleModel`, else one per
/// subdirectory; nil: either), else `--out` or `fallback` (which must not hold a run, and must be
/// writable). The library then checks every other setting, model by model.
func gridRunDirectory(out: String?, resume: String?, fallback: String, command: String, isTask: (String) -> Bool,
                      singleModel: Bool?) throws -> String {
    let fm = FileManager.default
    /// The directory and its model (or sweep) subdirectories.
    func runDirectories(_ dir: String) -> [String] {
        [dir] + ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).map { dir + "/" + $0 }
    }
    if let resume {
        if let out, out != resume { throw ValidationError("--resume \(resume) is the run directory: leave out --out \(out).") }
        guard runDirectories(resume).contains(where: { fm.fileExists(atPath: $0 + "/config.json") }) else {
            throw ValidationError("\(resume): not a run directory of a Grid LSTM task (no config.json in it or its model directories).")
        }
        for dir in runDirectories(resume) {
            guard let bytes = fm.contents(atPath: dir + "/config.json") else { continue }
            let task = (try? JSONSerialization.jsonObject(with: bytes) as? [String: Any])?["task"] as? String
            guard let task, isTask(task) else {
                throw ValidationError("\(resume): not a run of `highway \(command)` (\(dir)/config.json has task \(task ?? "none")).")
            }
        }
        if let singleModel, singleModel != fm.fileExists(atPath: resume + "/config.json") {
            throw ValidationError("\(resume): the run was made with \(singleModel ? "several models" : "one model"), this command has \(singleModel ? "one" : "several"): give the run's own --model.")
        }
        return resume
    }
    let dir = out ?? fallback
    if runDirectories(dir).contains(where: { fm.fileExists(atPath: $0 + "/checkpoint.safetensors") }) {
        throw ValidationError("\(dir) already holds a run: continue it with --resume \(dir), or choose another --out.")
    }
    try validateOutputDirectory(dir, option: "--out")
    try saveRunArguments(command: command, directory: dir)
    return dir
}

// ---- `--resume DIR` alone: the run's own options, replayed ----

/// A fresh run's options as given (without --out and the invocation's own options: --threads,
/// --kernels, --parallel, --resume-lr) and the working directory they are relative to, so that
/// `--resume DIR` alone can give them again.
struct GridRunArguments: Codable {
    static let file = "arguments.json"
    static let commands: Set = ["parity", "addition", "memorize", "charlm"]
    /// The options `--resume DIR` may change: how long the run trains, not what.
    static let budgetOptions: Set = ["--minutes", "--max-samples"]
    var command: String
    var arguments: [String]
    var workingDirectory: String

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}

/// A task command's arguments (after its name) split into the run's options, the ones for this
/// invocation only (--threads, --kernels, --parallel, --resume-lr) and the --resume directory;
/// --out, which names the directory, in none.
func splitArguments(_ args: [String]) -> (run: [String], once: [String], resume: String?) {
    var run: [String] = [], once: [String] = [], resume: String?
    for (name, tokens) in optionGroups(args) {
        switch name {
        case "--out": break
        case "--resume": resume = tokens[0].contains("=") ? String(tokens[0].drop { $0 != "=" }.dropFirst()) : tokens.dropFirst().first
        case "--threads", "--kernels", "--resume-lr", "--parallel": once += tokens
        default: run += tokens
        }
    }
    return (run, once, resume)
}

/// Saves a fresh run's options (this process's arguments after the command's name) in `directory`.
func saveRunArguments(command: String, directory: String) throws {
    let saved = GridRunArguments(command: command, arguments: splitArguments(Array(CommandLine.arguments.dropFirst(2))).run,
                                 workingDirectory: FileManager.default.currentDirectoryPath)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try saved.write(to: URL(fileURLWithPath: directory).appendingPathComponent(GridRunArguments.file))
}

/// The command line to parse: `args` itself, or — for a task command given only `--resume DIR`
/// (with the invocation's own options, and budgets to change) — the run's saved options with
/// them, in the run's working directory. `save` is set to keep changed budgets in arguments.json.
/// Other options given with --resume are used as they are (and checked against the run's).
func replayingRunArguments(_ args: [String], save: inout (() throws -> Void)?) throws -> [String] {
    guard let command = args.first, GridRunArguments.commands.contains(command) else { return args }
    let (run, once, resume) = splitArguments(Array(args.dropFirst()))
    // only budgets given with it: the run's options with those budgets (a longer run)
    let given = optionGroups(run)
    guard let resume, given.allSatisfy({ GridRunArguments.budgetOptions.contains($0.name) }) else { return args }
    let url = URL(fileURLWithPath: resume).appendingPathComponent(GridRunArguments.file)
    guard let bytes = FileManager.default.contents(atPath: url.path) else {
        throw ValidationError("\(url.path) not found (the run predates it): give the run's own options with --resume \(resume).")
    }
    guard let saved = try? JSONDecoder().decode(GridRunArguments.self, from: bytes), saved.command == command else {
        throw ValidationError("\(url.path): not the saved options of a `highway \(command)` run.")
    }
    let directory = url.deletingLastPathComponent().standardizedFileURL.path   // before the working directory changes
    guard FileManager.default.changeCurrentDirectoryPath(saved.workingDirectory) else {
        throw ValidationError("\(url.path): the run's working directory \(saved.workingDirectory) is gone; give the run's own options with --resume \(resume).")
    }
    var arguments = saved.arguments
    if !given.isEmpty {
        let names = Set(given.map(\.name))
        arguments = optionGroups(arguments).filter { !names.contains($0.name) }.flatMap(\.tokens) + run
        // kept once they parse, so that a later --resume DIR alone keeps the new budget
        let updated = GridRunArguments(command: command, arguments: arguments, workingDirectory: saved.workingDirectory)
        save = { try updated.write(to: url) }
    }
    return [command] + arguments + ["--resume", directory] + once
}

/// Arguments grouped by option: "--name" with the values after it, or "--name=value".
func optionGroups(_ args: [String]) -> [(name: String, tokens: [String])] {
    var groups: [(name: String, tokens: [String])] = []
    for a in args {
        if a.hasPrefix("--") || groups.isEmpty {
            groups.append((String(a.prefix { $0 != "=" }), [a]))
        } else {
            groups[groups.count - 1].tokens.append(a)
        }
    }
    return groups
}

/// An interrupted task run: how to continue it.
struct GridInterrupted: Error, CustomStringConvertible {
    var description: String
}

/// Runs a task; an interruption says how to continue, a run directory of another task or other
/// settings is a command-line error (exit 2).
func runGridTask<T>(_ command: String, directory: String, parallel: Bool, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as GridTaskError {
        switch e {
        case .interrupted(let checkpoint):
            // side by side, every model saved its own checkpoint
            let saved = parallel ? "checkpoints saved in \(directory)" : "checkpoint saved at \(checkpoint)"
            throw GridInterrupted(description: "interrupted: \(saved); continue with `highway \(command) --resume \(directory)\(parallel ? " --parallel" : "")`")
        case .resumeMismatch: throw ValidationError("\(e).")
        default: throw e
        }
    } catch let e as ResumeError {
        throw ValidationError("\(e).")
    }
}

/// With a curriculum: the hardest level each model solved.
func printLargestSolved(_ summaries: [GridTaskSummary], unit: String) {
    for x in summaries { print(" largest \(unit) solved by \(x.kind): \(x.largestSolvedLevel.map(String.init) ?? "none")") }
}

func printSummaries(_ summaries: [GridTaskSummary], directory: String) {
    print(" model                                         │ params │ accuracy │ samples seen │ seconds")
    for s in summaries {
        let name = s.model.padding(toLength: 45, withPad: " ", startingAt: 0)
        var line = String(format: " %@ │ %6d │ %7.2f%% │ %12d │ %7.1f", name, s.parameters, s.accuracy * 100, s.samplesSeen, s.seconds)
        for (k, v) in s.extra.sorted(by: { $0.key < $1.key }) {   // counts as counts, measurements to 3 decimals
            line += "  \(k) " + (v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(format: "%.3f", v))
        }
        print(line)
    }
    if summaries.contains(where: { $0.positionAccuracy != nil }) { print(" accuracy (%) by output position, first to last:") }
    for s in summaries {
        guard let a = s.positionAccuracy else { continue }
        print("   \(s.kind): " + a.map { String(format: "%.1f", $0 * 100) }.joined(separator: " "))
    }
    print("→ \(directory)")
}

/// `highway parity`: k-bit parity, 1-LSTM vs a feedforward net of the same width and depth.
struct ParityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "k-bit parity: a 1-LSTM (Grid LSTM along depth) vs a feedforward net of the same size.",
        discussion: """
            Each training step draws fresh random strings of ±1 bits; the target is whether the \
            number of 1 bits is odd. The whole string is the input, projected once into the first \
            block. Reports exact accuracy on 10,000 fresh strings. With --sweep, trains each model on \
            growing k and reports the largest k it solves within the budget (the paper: a tied \
            1-LSTM solves 250 bits).

            Writes into --out: per model config.json, curve.csv/.json/.svg/.png, \
            checkpoint.safetensors, summary.json; with several models a comparison.svg/.png and \
            summary.json; with --sweep sweep.*.

            \(gridResumeHelp)
            """)

    @Option(help: "Input bits k.") var bits = 64
    @Option(help: "Comma-separated models: tied, untied, feedforward.") var model = "tied,feedforward"
    @Option(help: "Blocks (1-LSTM) or hidden layers (feedforward).") var depth = 10
    @Option(help: "Hidden units per block or layer.") var width = 64
    @Option(help: "The feedforward net's activation: tanh or relu.") var activation = "tanh"
    @Option(help: ArgumentHelp("Curriculum of live bits, START[:STEP] (STEP defaults to 4): strings start with START random bits (the rest 0) and gain STEP each time an evaluation reaches --stop-at (default --target); the summary reports the largest k solved.", valueName: "start[:step]"))
    var curriculum: String?
    @Flag(help: "Sweep k over --sweep-bits and report the largest k each model solves.") var sweep = false
    @Option(help: "The k of the sweep, comma-separated.") var sweepBits = "8,16,32,64,128,256"
    @Option(name: .customLong("out"), help: "Output directory.") var output: String?
    @OptionGroup var train: GridTrainArguments
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if bits < 1 { throw ValidationError("--bits must be at least 1, got \(bits).") }
        if depth < 1 || width < 1 { throw ValidationError("--depth and --width must be at least 1.") }
        try checkGridMemory(width: width, depth: depth, steps: 1, batch: train.batch)
        if !["tanh", "relu"].contains(activation) { throw ValidationError("--activation must be tanh or relu, got \(activation).") }
        _ = try parseModels(model, allowed: [.tied, .untied, .feedforward], option: "--model")
        if sweep { _ = try sweepList() }
        if sweep && curriculum != nil { throw ValidationError("--curriculum and --sweep do not go together: a curriculum run already reports the largest k solved.") }
        try train.checkCurriculumOptions(curriculum: curriculum != nil)
        _ = try curriculumStages()
    }

    func curriculumStages() throws -> (start: Int, step: Int)? { try parseCurriculum(curriculum, last: bits, option: "--bits") }

    func sweepList() throws -> [Int] {
        let ks = sweepBits.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !ks.isEmpty, ks.allSatisfy({ $0 > 0 }) else { throw ValidationError("--sweep-bits must list positive integers, got \(sweepBits).") }
        return ks
    }

    func run() throws {
        try runtime.apply()
        try train.applyParallel(runtime)
        let dir = try gridRunDirectory(out: output, resume: train.resume, fallback: sweep ? "runs/parity-sweep" : "runs/parity-\(bits)",
                                           command: "parity", isTask: { $0.hasSuffix("-bit parity") },
                                           singleModel: sweep ? nil : try parseModels(model, allowed: [.tied, .untied, .feedforward], option: "--model").count == 1)
        var task = ParityTask(outputDirectory: URL(fileURLWithPath: dir))
        task.bits = bits; task.depth = depth; task.width = width
        task.activation = activation == "relu" ? .relu : .tanh
        task.curriculum = try curriculumStages()
        task.models = try parseModels(model, allowed: [.tied, .untied, .feedforward], option: "--model")
        task.options = train.options
        let bar = ModelProgress(sideBySide: train.parallel)
        if sweep {
            let (points, largest) = try runGridTask("parity", directory: dir, parallel: train.parallel) { try task.sweep(bitsList: try sweepList(), progress: bar.update) }
            bar.finish()
            for p in points { print(String(format: " %-12@ k = %4d: %6.2f%% %@ (%d samples, %.0f s)", p.model, p.bits, p.accuracy * 100, p.solved ? "solved" : "not solved", p.samplesSeen, p.seconds)) }
            for (m, k) in largest.sorted(by: { $0.key < $1.key }) { print(" largest k solved by \(m): \(k)") }
            print("→ \(dir)")
        } else {
            let s = try runGridTask("parity", directory: dir, parallel: train.parallel) { try task.run(progress: bar.update) }
            bar.finish()
            printSummaries(s, directory: dir)
            if task.curriculum != nil { printLargestSolved(s, unit: "k") }
        }
    }
}

/// The addition task's training aid, one flag each (`addition` and `bench addition-step`).
struct AdditionAidArguments: ParsableArguments {
    @Flag(help: "Operand echoes: at each output step the models also predict both operands' digits at that position (a training aid for both models; accuracies count the sum only).")
    var echo = false
    @Flag(help: "Column targets: when b's i-th digit is read (and at '='), the models also predict the sum's i-th digit and a's i-th digit (a training aid for both models; accuracies count the answer only).")
    var columnTargets = false
    @Flag(help: "Queue targets: column targets, and at every step from a sum digit's column to its answer step the models also predict that digit again (a training aid for both models; accuracies count the answer only).")
    var queueTargets = false

    func validate() throws {
        if [echo, columnTargets, queueTargets].filter({ $0 }).count > 1 {
            throw ValidationError("--echo, --column-targets and --queue-targets do not go together: choose one.")
        }
    }

    var aid: AdditionAid? { echo ? .echo : columnTargets ? .columnTargets : queueTargets ? .queueTargets : nil }
}

/// A one-line error instead of a failed allocation: a grid of `width` × `depth` over `steps`
/// positions at `batch` examples holds about 80·width²·depth Floats of weights, gradients and
/// Adam state (untied 2-LSTM, the largest case) and 12·width·steps·depth·batch of activations.
func checkGridMemory(width: Int, depth: Int, steps: Int, batch: Int) throws {
    let w = Double(width), d = Double(depth)
    let gib = (80 * w * w * d + 12 * w * Double(steps) * d * Double(batch)) * 4 / Double(1 << 30)
    if gib > 8 {
        throw ValidationError(String(format: "--width %d and --depth %d over %@ at --batch-size %d need about %.0f GiB of weights and activations (8 at most); use a smaller --width, --depth or --batch-size.",
                                     width, depth, steps == 1 ? "1 step" : "\(steps) steps", batch, gib))
    }
}

/// The options `addition` and `memorize` share.
struct SequenceModelArguments: ParsableArguments {
    @Option(help: "Comma-separated models: grid (2-LSTM, tied unless --untied), stacked (stacked LSTM of about the same size).") var model = "grid,stacked"
    @Option(help: "Depth of the 2-LSTM and layers of the stacked LSTM.") var depth = 4
    @Option(help: "Hidden units of the 2-LSTM (the stacked LSTM's width is matched by parameter count).") var width = 64
    @Flag(help: "Untie the 2-LSTM's weights along depth: one weight set per level (the stacked LSTM is matched to the larger parameter count).")
    var untied = false
    @Option(name: .customLong("out"), help: "Output directory.") var output: String?

    func validate() throws {
        if depth < 1 || width < 1 { throw ValidationError("--depth and --width must be at least 1.") }
        _ = try parseModels(model, allowed: [.grid, .stacked], option: "--model")
    }

    func modelCount() throws -> Int { try parseModels(model, allowed: [.grid, .stacked], option: "--model").count }

    func configure(_ task: inout SequenceTask, _ train: GridTrainArguments) throws {
        task.depth = depth; task.width = width; task.tied = !untied
        task.models = try parseModels(model, allowed: [.grid, .stacked], option: "--model")
        task.options = train.options
    }
}

/// `highway addition`: 15-digit integer addition, 2-LSTM vs stacked LSTM.
struct AdditionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "addition",
        abstract: "Integer addition: a tied 2-LSTM (time × depth) vs a stacked LSTM, same sample budget.",
        discussion: """
            The input is a's digits, '+', b's digits, '=' and then one blank per digit of the sum, \
            during which the model outputs the sum's digits (every number least significant digit \
            first). Each step draws fresh problems; accuracy is per-sequence exact match on 10,000 \
            fresh problems; the curves also hold the mean accuracy of the sum's digits, which climbs \
            while exact match is still 0. Writes per model config.json, curve.csv/.json/.svg/.png, \
            checkpoint.safetensors, summary.json, and a comparison.svg/.png and summary.json into --out.

            \(gridResumeHelp)
            """)
    @Option(help: "Digits per number.") var digits = 15
    @Option(help: ArgumentHelp("Curriculum of live digits, START[:STEP] (STEP defaults to 4): problems start with START random low digits per number (the higher ones 0) and gain STEP each time an evaluation reaches --stop-at (default --target); the summary reports the largest number of digits solved.", valueName: "start[:step]"))
    var curriculum: String?
    @OptionGroup var aids: AdditionAidArguments
    @OptionGroup var models: SequenceModelArguments
    @OptionGroup var train: GridTrainArguments
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if digits < 1 { throw ValidationError("--digits must be at least 1, got \(digits).") }
        try checkGridMemory(width: models.width, depth: models.depth, steps: 3 * digits + 3, batch: train.batch)
        _ = try parseCurriculum(curriculum, last: digits, option: "--digits")
        try train.checkCurriculumOptions(curriculum: curriculum != nil)
    }

    func run() throws {
        try runtime.apply()
        try train.applyParallel(runtime)
        let dir = try gridRunDirectory(out: models.output, resume: train.resume, fallback: "runs/addition-\(digits)", command: "addition",
                                           isTask: { $0.hasSuffix("-digit addition") }, singleModel: try models.modelCount() == 1)
        var task = SequenceTask(kind: .addition, length: digits, outputDirectory: URL(fileURLWithPath: dir))
        try models.configure(&task, train)
        task.curriculum = try parseCurriculum(curriculum, last: digits, option: "--digits")
        task.aid = aids.aid
        let bar = ModelProgress(sideBySide: train.parallel)
        let s = try runGridTask("addition", directory: dir, parallel: train.parallel) { try task.run(progress: bar.update) }
        bar.finish()
        printSummaries(s, directory: dir)
        if task.curriculum != nil { printLargestSolved(s, unit: "digits") }
    }
}

/// `highway memorize`: reproduce random symbol sequences, 2-LSTM vs stacked LSTM.
struct MemorizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memorize",
        abstract: "Memorisation: reproduce a random symbol sequence; tied 2-LSTM vs stacked LSTM.",
        discussion: """
            The input is the sequence, a delimiter, then one blank per symbol, during which the \
            model outputs the sequence again. Accuracy is per-sequence exact match on 10,000 fresh \
            sequences. Files as for `highway addition`.

            \(gridResumeHelp)
            """)
    @Option(help: "Symbols per sequence.") var length = 20
    @Option(help: "Alphabet size.") var symbols = 10
    @OptionGroup var models: SequenceModelArguments
    @OptionGroup var train: GridTrainArguments
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if length < 1 { throw ValidationError("--length must be at least 1, got \(length).") }
        if symbols < 2 { throw ValidationError("--symbols must be at least 2, got \(symbols).") }
        try checkGridMemory(width: models.width, depth: models.depth, steps: 2 * length + 1, batch: train.batch)
        try train.checkCurriculumOptions(curriculum: false)
    }

    func run() throws {
        try runtime.apply()
        try train.applyParallel(runtime)
        let dir = try gridRunDirectory(out: models.output, resume: train.resume, fallback: "runs/memorize-\(length)", command: "memorize",
                                           isTask: { $0.hasPrefix("memorize ") }, singleModel: try models.modelCount() == 1)
        var task = SequenceTask(kind: .memorize, length: length, outputDirectory: URL(fileURLWithPath: dir))
        task.symbols = symbols
        try models.configure(&task, train)
        let bar = ModelProgress(sideBySide: train.parallel)
        let s = try runGridTask("memorize", directory: dir, parallel: train.parallel) { try task.run(progress: bar.update) }
        bar.finish()
        printSummaries(s, directory: dir)
    }
}

/// `highway charlm`: a character-level language model with a 2D Grid LSTM or a stacked LSTM.
struct CharLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charlm",
        abstract: "Character-level language model: tied 2-LSTM (time × depth) or stacked LSTM; bits per character.",
        discussion: """
            Trains on random windows of the first 90% of FILE (UTF-8) to predict each next \
            character; measures bits per character on the held-out last 10% (windows started from \
            zero state) and samples text from the trained model. Writes per model config.json, \
            curve.csv/.json/.svg/.png (per-character accuracy on the held-out text), sample.txt, \
            checkpoint.safetensors and summary.json (model, accuracy, bits_per_char, samples_seen, \
            seconds).

            \(gridResumeHelp)
            """)
    @Option(help: "A UTF-8 text file.") var text: String
    @Option(help: "Comma-separated models: grid (tied 2-LSTM), stacked.") var model = "grid"
    @Option(help: "Characters per training window (the unrolled steps).") var steps = 50
    @Option(help: "Depth of the 2-LSTM and layers of the stacked LSTM.") var depth = 3
    @Option(help: "Hidden units of the 2-LSTM (the stacked LSTM's width is matched by parameter count).") var width = 64
    @Option(help: "Characters to sample from the trained model.") var sampleLength = 300
    @Option(name: .customLong("out"), help: "Output directory.") var output: String?
    @OptionGroup var train: GridTrainArguments
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if steps < 1 || depth < 1 || width < 1 { throw ValidationError("--steps, --depth and --width must be at least 1.") }
        try checkGridMemory(width: width, depth: depth, steps: steps, batch: train.batch)
        if sampleLength < 0 { throw ValidationError("--sample-length must be ≥ 0, got \(sampleLength).") }
        _ = try parseModels(model, allowed: [.grid, .stacked], option: "--model")
        try train.checkCurriculumOptions(curriculum: false)
    }

    func run() throws {
        try runtime.apply()
        try train.applyParallel(runtime)
        let dir = try gridRunDirectory(out: output, resume: train.resume, fallback: "runs/charlm", command: "charlm", isTask: { $0.hasPrefix("charlm ") },
                                           singleModel: try parseModels(model, allowed: [.grid, .stacked], option: "--model").count == 1)
        var task = CharLMTask(textURL: URL(fileURLWithPath: text), outputDirectory: URL(fileURLWithPath: dir))
        task.steps = steps; task.depth = depth; task.width = width; task.sampleLength = sampleLength
        task.models = try parseModels(model, allowed: [.grid, .stacked], option: "--model")
        var o = train.options
        o.target = 1.01   // a language model trains for its whole budget
        o.evalExamples = max(1, train.evalExamples / steps)
        o.finalExamples = max(1, train.finalExamples / steps)
        task.options = o
        let bar = ModelProgress(sideBySide: train.parallel)
        let s = try runGridTask("charlm", directory: dir, parallel: train.parallel) { try task.run(progress: bar.update) }
        bar.finish()
        printSummaries(s, directory: dir)
        for r in s { if let t = r.sample { print("sample (\(r.kind)):\n\(t)") } }
    }
}

/// `highway compare`: finished Grid LSTM task runs made apart, in one figure.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare finished Grid LSTM task runs made apart (e.g. one process per model, for equal wall time).",
        discussion: """
            Each RUN is a model directory of a finished parity, addition, memorize or charlm run \
            (it holds summary.json and curve.json). Writes their learning curves in one figure, \
            OUT.svg and OUT.png, and prints the summaries.
            """)
    @Argument(help: "Model directories of finished runs.") var runs: [String]
    @Option(name: .customLong("out"), help: "The figure's path without extension.") var output: String
    @Option(help: "The figure's title (default: the task and the models).") var title: String?

    func validate() throws {
        if runs.count < 2 { throw ValidationError("give at least two run directories to compare, got \(runs.count).") }
        try validateOutputDirectory(URL(fileURLWithPath: output).deletingLastPathComponent().path, option: "--out")
    }

    func run() throws {
        let summaries: [GridTaskSummary]
        do {
            summaries = try GridRunComparison.write(runs: runs.map { URL(fileURLWithPath: $0) }, title: title, to: URL(fileURLWithPath: output))
        } catch let e as GridTaskError {
            throw ValidationError("\(e).")   // a directory that is not a finished run: a command-line error
        }
        printSummaries(summaries, directory: output + ".svg, .png")
    }
}
