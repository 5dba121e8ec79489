// The Grid LSTM paper's algorithmic tasks (Kalchbrenner, Danihelka & Graves 2016, §4): k-bit
// parity with a 1-LSTM against a feedforward net of the same width and depth, and 15-digit
// addition and 20-symbol memorisation with a 2-LSTM against a stacked LSTM. Every example is
// drawn fresh from a seeded generator (no fixed training set); accuracy is per-example exact match
// on fresh examples (the evaluation stream is seeded apart from the training stream).
//
// One run directory per model: config.json, curve.csv / curve.json (one row per evaluation),
// curve.svg / curve.png, checkpoint.safetensors (to continue with `resume`, GridCheckpoint.swift),
// summary.json (model, accuracy, samples_seen, seconds, …). A comparison of several models adds
// comparison.svg / .png and a summary.json listing them, in the parent.

import Foundation
import HighwayNN
import HighwayTensor

/// The models of the Grid LSTM tasks.
public enum GridTaskModel: String, Codable, CaseIterable, Sendable {
    /// 1-LSTM with one weight set for every layer (parity).
    case tied
    /// 1-LSTM with one weight set per layer (parity).
    case untied
    /// Dense layers of the same width and depth (parity's baseline).
    case feedforward
    /// 2-LSTM (time × depth), tied, depth the priority dimension (addition, memorize, charlm).
    case grid
    /// Stacked LSTM of about the same size (the sequence tasks' baseline).
    case stacked
}

/// A model as the tasks use it: a batch `x` (B, T, in) to logits (B·K, classes).
final class TaskNet {
    let summary: String
    let parameters: [Parameter]
    let logits: (Variable) throws -> Variable
    var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    init(summary: String, parameters: [Parameter], logits: @escaping (Variable) throws -> Variable) {
        self.summary = summary
        self.parameters = parameters
        self.logits = logits
    }

    /// Parity: x (B, 1, bits) → logits (B, 2).
    static func parity(_ kind: GridTaskModel, bits: Int, width: Int, depth: Int, activation: Activation,
                       rng: inout SeededGenerator) -> TaskNet {
        switch kind {
        case .tied, .untied:
            let grid = GridLSTM.oneLSTM(name: "grid", inputSize: bits, hiddenSize: width, depth: depth, tied: kind == .tied, rng: &rng)
            let out = Dense(name: "output", inputSize: width, outputSize: 2, activation: .identity, rng: &rng)
            let top = GridTopology.depthStack(depth: depth)
            return TaskNet(summary: "\(kind.rawValue) 1-LSTM, depth \(depth), width \(width)", parameters: grid.parameters + [out.weight, out.bias]) { x in
                let h = try grid(x, topology: top)
                return try out(x.tape.reshape(h, to: [-1, width]))
            }
        default:
            var layers = [Dense(name: "layers.0", inputSize: bits, outputSize: width, activation: activation, rng: &rng)]
            for l in 1..<max(depth, 1) {
                layers.append(Dense(name: "layers.\(l)", inputSize: width, outputSize: width, activation: activation, rng: &rng))
            }
            let out = Dense(name: "output", inputSize: width, outputSize: 2, activation: .identity, rng: &rng)
            let params = (layers + [out]).flatMap { [$0.weight, $0.bias] }
            return TaskNet(summary: "feedforward \(activation), depth \(depth), width \(width)", parameters: params) { x in
                var h = try x.tape.reshape(x, to: [-1, bits])
                for l in layers { h = try l(h) }
                return try out(h)
            }
        }
    }

    /// Sequences: x (B, steps, inputs) → logits (B·outputSteps·heads, classes) from the last
    /// `outputSteps` steps; with several `heads` (one output layer of heads·classes units) each
    /// step's rows are its heads' logits in turn.
    static func sequence(_ kind: GridTaskModel, inputs: Int, classes: Int, heads: Int = 1, steps: Int, outputSteps: Int,
                         width: Int, depth: Int, tied: Bool = true, rng: inout SeededGenerator) -> TaskNet {
        let out = Dense(name: "output", inputSize: width, outputSize: classes * heads, activation: .identity, rng: &rng)
        let body = sequenceBody(kind, inputs: inputs, out: out, steps: steps, outputSteps: outputSteps, width: width, depth: depth,
                                tied: tied, rng: &rng)
        guard heads > 1 else { return body }
        return TaskNet(summary: body.summary, parameters: body.parameters) { x in try x.tape.reshape(body.logits(x), to: [-1, classes]) }
    }

    private static func sequenceBody(_ kind: GridTaskModel, inputs: Int, out: Dense, steps: Int, outputSteps: Int,
                                     width: Int, depth: Int, tied: Bool, rng: inout SeededGenerator) -> TaskNet {
        if kind == .stacked {
            let lstm = LSTM(name: "lstm", inputSize: inputs, hiddenSize: width, layers: depth, rng: &rng)
            return TaskNet(summary: "stacked LSTM, \(depth) layers, width \(width)", parameters: lstm.parameters + [out.weight, out.bias]) { x in
                let tape = x.tape
                let y = try lstm(x).output                                    // (B, T, w)
                let flat = try tape.reshape(y, to: [-1, steps * width])
                let tail = outputSteps == steps ? flat
                    : try tape.split(flat, lastAxisSizes: [(steps - outputSteps) * width, outputSteps * width])[1]
                return try out(tape.reshape(tail, to: [-1, width]))
            }
        }
        let grid = GridLSTM.twoLSTM(name: "grid", inputSize: inputs, hiddenSize: width, depth: depth, tied: tied, rng: &rng)
        let top = GridTopology.timeDepth(steps: steps, depth: depth, outputSteps: outputSteps)
        return TaskNet(summary: "\(tied ? "tied" : "untied") 2-LSTM, depth \(depth), width \(width)", parameters: grid.parameters + [out.weight, out.bias]) { x in
            try out(x.tape.reshape(grid(x, topology: top), to: [-1, width]))
        }
    }
}

/// One evaluation during training.
public struct GridCurvePoint: Codable, Sendable {
    public var step: Int
    public var samples: Int
    public var seconds: Double
    /// Mean training loss since the previous point.
    public var trainLoss: Double
    /// Exact-match accuracy on the evaluation examples.
    public var accuracy: Double
    /// Tasks with several outputs per example (addition, memorize): the mean accuracy of the
    /// outputs — the progress a model makes while whole answers are still wrong.
    public var outputAccuracy: Double? = nil
    /// The curriculum level trained and evaluated at this point (nil: no curriculum).
    public var level: Int? = nil
    /// The learning rate of the steps before this point (with a plateau schedule, or once
    /// `resumeLearningRate` changed it).
    public var learningRate: Double? = nil
    /// The largest global gradient norm, before clipping, of the steps since the previous point:
    /// a divergence shows here first (nil in runs made before it was recorded).
    public var gradientNorm: Double? = nil
    /// True where the divergence guard went back to the last sound evaluation's weights (the
    /// accuracy is theirs, the loss and gradient norm those of the diverging steps).
    public var rolledBack: Bool? = nil
}

/// What a task run ends with (`summary.json`).
public struct GridTaskSummary: Codable, Sendable {
    public var task: String
    public var model: String
    public var kind: String
    public var parameters: Int
    /// Exact-match accuracy on `evalExamples` fresh examples at the end.
    public var accuracy: Double
    public var evalExamples: Int
    public var samplesSeen: Int
    public var steps: Int
    public var seconds: Double
    /// Whether the target accuracy was reached.
    public var solved: Bool
    public var target: Double
    /// Bits per character on the held-out text (charlm).
    public var bitsPerChar: Double?
    /// Text sampled from the model (charlm).
    public var sample: String?
    /// Extra measurements.
    public var extra: [String: Double]
    /// With a curriculum: the hardest level at which an evaluation reached `advanceAt` (for the last
    /// level, the final measurement decides against the target); nil without a curriculum.
    public var largestSolvedLevel: Int? = nil
    /// Tasks with several outputs per example (addition's sum digits, least significant first;
    /// memorize's symbols): the final measurement's accuracy at each output position, which shows
    /// how far a model got where exact match is 0.
    public var positionAccuracy: [Double]? = nil

    enum CodingKeys: String, CodingKey {
        case task, model, kind, parameters, accuracy
        case evalExamples = "eval_examples", samplesSeen = "samples_seen", steps, seconds, solved, target
        case bitsPerChar = "bits_per_char", sample, extra, largestSolvedLevel = "largest_solved_level"
        case positionAccuracy = "position_accuracy"
    }
}

/// Training options shared by the tasks.
public struct GridTrainOptions: Codable, Sendable {
    public var batchSize = 32
    public var learningRate: Float = 0.001
    /// Stop after this many training examples…
    public var maxSamples = 1_000_000
    /// … or this many seconds of training, whichever comes first.
    public var maxSeconds = 600.0
    /// The final measurement's accuracy that counts as solving the task (and, without `stopAt`,
    /// the evaluation accuracy that stops training early).
    public var target = 0.99
    /// Evaluations during training stop it (or advance a curriculum) at this accuracy; nil: at
    /// `target`. A value above `target` leaves a margin for the sampling noise of an evaluation of
    /// `evalExamples` examples, so the final measurement is not just below `target`.
    public var stopAt: Double? = nil
    /// A curriculum moves to its next level once an evaluation reaches this accuracy; nil: at
    /// `stopAt` (or `target`). Lower than `stopAt`, levels pass once the new digits are learned
    /// instead of waiting for the last percent of polish, which only the last level needs.
    public var advanceAt: Double? = nil
    /// With a curriculum: the share of training examples drawn at a random level (uniform over all
    /// levels) instead of the current one; 0: every training example at the current level.
    /// Evaluations, and so advancing, stay at the current level. Ignored without a curriculum.
    public var mix = 0.0
    /// Halve the learning rate after this many evaluations in a row without a better accuracy
    /// (0: never); with a curriculum, at its last level only, and with `advanceAt`, once an
    /// evaluation there reached it; never below 1/1024 of `learningRate`. Adam's steps at a fixed
    /// rate keep an accuracy near 99% swinging by a few percent; smaller steps settle it.
    public var plateau = 0
    /// Evaluate every this many steps, on `evalExamples` fresh examples.
    public var evalEvery = 100
    public var evalExamples = 1000
    /// Fresh examples of the final measurement.
    public var finalExamples = 10_000
    /// Global gradient-norm clip (0: none).
    public var clip: Float = 1
    public var seed: UInt64 = 1
    /// Continue each model from the checkpoint in its run directory, skip those already finished
    /// (GridCheckpoint.swift); the other options must be the run's own.
    public var resume = false
    /// Train the models side by side, each on a thread of its own, so that each model's time
    /// budget runs in the same wall time; the results are those of the models one after another
    /// (same seed and threads). Set `ThreadPool.threads` to 1 first: the pool runs one model's
    /// kernels at a time, so the models would wait on each other's parallel work.
    public var parallel = false
    /// With `resume`: go on at this learning rate from the checkpoint's step (Adam's moments kept),
    /// e.g. lower after a divergence; the curve records the rate at every evaluation from then on.
    public var resumeLearningRate: Float? = nil
    /// The divergence guard (DivergenceGuard.swift): when the largest gradient norm since the last
    /// evaluation exceeds this many times the usual one (the median of the last 50 evaluations',
    /// once five are recorded), training goes back to the weights and Adam state of the last
    /// evaluation whose norm was within 1/100 of this factor of the usual, and on at half the
    /// learning rate. A blow-up to 10⁷ times within a few hundred steps has been seen at lr 0.003,
    /// starting at about 10³ times; ordinary spikes stayed under 30 times. 0: off. At most ten
    /// times in a run, then it stops with an error.
    public var divergenceFactor = 10_000.0
    /// Tests: act as a SIGINT after this step of the named model (save, then throw).
    var interruptAfterStep: [String: Int] = [:]
    /// Tests: multiply the gradients of the named model from this step on, as a divergence would.
    var gradientSpike: [String: GradientSpike] = [:]
    struct GradientSpike: Codable, Sendable { var step: Int; var factor: Float }
    public init() {}
}

/// Where an example's targets sit among a batch's labels and the net's logit rows: per example
/// `leading` outputs that only train (addition's column targets), then the `outputs` scored ones;
/// each output holds its `heads` targets together, the first of them the scored one (the others,
/// addition's aids, only train).
struct OutputLayout: Sendable {
    var outputs: Int
    var leading = 0
    var heads = 1
    /// Output steps the net gives per example.
    var steps: Int { leading + outputs }
    var labelsPerExample: Int { steps * heads }
    /// The label (and logit row) of example `b`'s output `k`'s first target; `k` counts the leading outputs.
    func row(_ b: Int, _ k: Int) -> Int { (b * steps + k) * heads }
}

/// A task's example stream: `draw(batch, rng)` gives x (batch, steps, inputs) and labels laid out
/// as `layout` says.
struct TaskStream {
    var layout: OutputLayout
    /// The label of a target that is not there (an output with fewer targets than the others):
    /// it adds nothing to the loss.
    static let noTarget = -1
    var draw: (Int, inout SeededGenerator) -> (x: Tensor, labels: [Int])
    /// Where the evaluations draw from (nil: `draw`, with a separate seed).
    var evalDraw: ((Int, inout SeededGenerator) -> (x: Tensor, labels: [Int]))? = nil
    /// Accuracy per output (a character) instead of per example (exact match).
    var perOutput = false
    /// Makes the task harder in stages; `draw` and `evalDraw` read its current level.
    var curriculum: Curriculum? = nil
}

/// A staged curriculum: training starts at the first level and moves to the next each time an
/// evaluation reaches the target; only the last level counts as solving the task. A class, so the
/// stream's draw closures and the trainer see the same current level.
final class Curriculum {
    let levels: [Int]
    private(set) var index = 0
    init(levels: [Int]) { precondition(!levels.isEmpty); self.levels = levels }
    var level: Int { levels[index] }
    /// The share of training examples drawn at a level picked uniformly from all levels instead of
    /// the current one (Zaremba & Sutskever's "combined" strategy), so that harder problems than the
    /// current level are seen all along and easier ones are not forgotten; evaluations stay at `level`.
    var mix = 0.0
    /// The level of one example: `level`, or for a training example with probability `mix` a random
    /// one (the generator is only drawn from then, so runs without a mix are unchanged).
    func level(training: Bool, _ rng: inout SeededGenerator) -> Int {
        guard training, mix > 0, Double(rng.next() >> 11) * 0x1p-53 < mix else { return level }
        return levels[Int(rng.next(below: UInt64(levels.count)))]
    }
    var isLast: Bool { index == levels.count - 1 }
    func advance() { if !isLast { index += 1 } }
    /// Moves to the last level (the final measurement is always at full difficulty).
    func finish() { index = levels.count - 1 }
    /// Continues a resumed run at the level it had reached.
    func move(to index: Int) { self.index = index }

    /// `start`, `start + step`, … up to and including `last`.
    static func stepping(from start: Int, by step: Int, to last: Int) -> Curriculum {
        Curriculum(levels: Array(stride(from: min(start, last), to: last, by: max(step, 1))) + [last])
    }
}

enum GridTrainer {
    /// A training step's forward and backward on `tape` (reset first): the mean cross-entropy of
    /// `net` on (x, labels), its gradients added into the parameters. `highway bench addition-step`
    /// times this and ``update(_:optimizer:clip:)``.
    static func lossAndGradients(_ net: TaskNet, x: Tensor, labels: [Int], tape: Tape) throws -> Double {
        tape.reset()
        let loss = try tape.softmaxCrossEntropy(logits: net.logits(tape.constant(x)), labels: labels, ignoreIndex: TaskStream.noTarget)
        try tape.backward(loss)
        return Double(loss.value[flat: 0])
    }

    /// The update after it: the gradients clipped to a global norm of `clip` (≤ 0: only measured),
    /// the optimiser's step, the gradients cleared. Returns the norm before clipping.
    static func update(_ net: TaskNet, optimizer: any Optimizer, clip: Float) -> Double {
        let norm = clipGradientNorm(net.parameters, maxNorm: clip)
        optimizer.step(net.parameters)
        for p in net.parameters { p.zeroGrad() }
        return norm
    }

    /// Trains `net` on `stream` and writes the run directory; `progress(step, steps, note)`, where
    /// `steps` is the number it will reach (`maxSamples`, or fewer where `maxSeconds` ends it first).
    static func run(task: String, kind: GridTaskModel, net: TaskNet, stream: TaskStream, options o: GridTrainOptions,
                    config: [String: Any], directory: URL, extra: ((TaskNet, Tape) throws -> (numbers: [String: Double], text: String?))? = nil,
                    progress: (Int, Int, String) -> Void) throws -> (GridTaskSummary, [GridCurvePoint]) {
        try checkWritableDirectory(directory, create: true)
        var cfg = config
        cfg["task"] = task; cfg["model"] = kind.rawValue; cfg["batch_size"] = o.batchSize
        cfg["learning_rate"] = Double(o.learningRate); cfg["max_samples"] = o.maxSamples; cfg["max_seconds"] = o.maxSeconds
        cfg["target"] = o.target; cfg["stop_at"] = o.stopAt ?? o.target; cfg["eval_every"] = o.evalEvery; cfg["eval_examples"] = o.evalExamples
        cfg["final_examples"] = o.finalExamples; cfg["clip"] = Double(o.clip); cfg["seed"] = Int(o.seed)
        if let c = stream.curriculum {
            cfg["curriculum_levels"] = c.levels
            c.mix = o.mix
            if o.mix > 0 { cfg["curriculum_mix"] = o.mix }   // absent at 0, so earlier runs still resume
        }
        if let a = o.advanceAt { cfg["advance_at"] = a }
        if o.plateau > 0 { cfg["plateau"] = o.plateau }
        // recorded when not the default, so runs from before the guard still resume
        if o.divergenceFactor != GridTrainOptions().divergenceFactor { cfg["divergence_factor"] = o.divergenceFactor }
        let optimizer = try Adam(learningRate: o.learningRate)
        // ---- resuming (GridCheckpoint.swift) ----
        let checkpoint = GridCheckpoint(directory: directory, config: cfg, parameters: net.parameters, optimizer: optimizer)
        let maxSteps = max(1, o.maxSamples / o.batchSize), stopAt = o.stopAt ?? o.target
        /// Whether a model that stopped here trains on: its budget was smaller than this one, and
        /// its last evaluation had not reached the target.
        func trainsOn(steps: Int, seconds: Double, curve: [GridCurvePoint]) -> Bool {
            let reached = curve.last.map { $0.level == stream.curriculum?.levels.last && $0.accuracy >= stopAt } ?? false
            return !reached && steps < maxSteps && seconds < o.maxSeconds
        }
        var finished = false
        if o.resume {
            try checkpoint.checkConfig(cfg)
            if let done = try checkpoint.finished() {
                guard trainsOn(steps: done.0.steps, seconds: done.0.seconds, curve: done.1) else { return done }
                finished = true
            }
        }
        let loaded = o.resume ? try checkpoint.load() : nil
        var saved = loaded?.state
        if finished && saved == nil {
            throw ResumeError(path: checkpoint.url.path, reason: "a larger budget continues a finished model from its checkpoint, and there is none")
        }
        if let s = saved, s.stopped, trainsOn(steps: s.step, seconds: s.elapsed, curve: s.curve) {
            saved!.stopped = false
            // an interruption from here on must not leave the model looking finished at its old budget
            if finished { try FileManager.default.removeItem(at: checkpoint.summaryURL) }
        }
        // ----
        try writeJSON(cfg, to: directory.appendingPathComponent("config.json"))
        var trainRNG = SeededGenerator(seed: o.seed &* 0x9E37_79B9 &+ 1)
        var evalRNG = SeededGenerator(seed: o.seed &* 0x9E37_79B9 &+ 2)
        let evalDraw = stream.evalDraw ?? stream.draw
        // the generator's state before the current evaluation set, so a resumed run redraws the same set
        var evalSetRNG = evalRNG.stateText
        func drawEvalSet() -> [(x: Tensor, labels: [Int])] {
            evalSetRNG = evalRNG.stateText
            return (0..<max(1, o.evalExamples / o.batchSize)).map { _ in evalDraw(o.batchSize, &evalRNG) }
        }
        var largestSolvedLevel = saved?.largestSolvedLevel
        if let saved, let index = saved.curriculumIndex {
            guard let c = stream.curriculum, c.levels.indices.contains(index),
                  let rng = saved.evalSetRNG.flatMap(SeededGenerator.init(stateText:)) else {
                throw ResumeError(path: checkpoint.url.path, reason: "its curriculum state (level \(index), evaluation generator) does not fit this task")
            }
            c.move(to: index)
            evalRNG = rng
        }
        var evalSet = drawEvalSet()
        // the predictions an example is scored on: each output, or (charlm) each as an example of its own
        let scored = stream.perOutput ? OutputLayout(outputs: 1) : stream.layout, outputs = scored.outputs
        let tape = Tape()
        let start = monotonicSeconds(), elapsedBefore = saved?.elapsed ?? 0
        func elapsed() -> Double { elapsedBefore + monotonicSeconds() - start }
        var curve = saved?.curve ?? []
        var step = saved?.step ?? 0, lossSum = saved?.lossSum ?? 0, lossCount = saved?.lossCount ?? 0, stopped = saved?.stopped ?? false
        var largestNorm = saved?.largestGradientNorm ?? 0
        // the plateau schedule: the best accuracy at this level and the evaluations since it
        var best = saved?.bestAccuracy ?? -1, sinceBest = saved?.evaluationsSinceBest ?? 0
        optimizer.learningRate = saved?.learningRate ?? o.learningRate
        if let rate = o.resumeLearningRate, saved != nil {
            // the points so far ran at the saved rate: recorded, so that the curve shows the change
            curve = curve.map { var p = $0; p.learningRate = p.learningRate ?? Double(optimizer.learningRate); return p }
            optimizer.learningRate = rate
        }
        var recordRate = o.plateau > 0 || curve.contains { $0.learningRate != nil }
        if let saved {
            guard let rng = SeededGenerator(stateText: saved.trainRNG) else {
                throw ResumeError(path: checkpoint.url.path, reason: "its training generator state '\(saved.trainRNG)' is not one")
            }
            trainRNG = rng
        }
        var divergence = try DivergenceGuard(factor: o.divergenceFactor, parameters: net.parameters, optimizer: optimizer, step: step,
                                             rollbacks: saved?.rollbacks ?? 0, saved: loaded?.guardCopy ?? [:],
                                             savedStep: saved?.guardStep, checkpointPath: checkpoint.url.path)
        func save(stopped: Bool) throws {
            try checkpoint.save(GridRunState(step: step, trainRNG: trainRNG.stateText, lossSum: lossSum, lossCount: lossCount,
                                             largestGradientNorm: largestNorm,
                                             elapsed: elapsed(), curve: curve, stopped: stopped,
                                             curriculumIndex: stream.curriculum?.index, largestSolvedLevel: largestSolvedLevel,
                                             evalSetRNG: evalSetRNG, learningRate: optimizer.learningRate,
                                             bestAccuracy: best, evaluationsSinceBest: sinceBest, rollbacks: divergence.rollbacks,
                                             guardStep: divergence.copy?.step),
                                guardCopy: divergence.checkpointTensors(at: step, parameters: net.parameters))
        }
        for p in net.parameters { p.zeroGrad() }
        let stopRequest = StopRequest.current   // models side by side: another one failed
        try withInterruptHandler {
            while !stopped && step < maxSteps && elapsed() < o.maxSeconds {
                let (x, labels) = stream.draw(o.batchSize, &trainRNG)
                let l = try lossAndGradients(net, x: x, labels: labels, tape: tape)
                if let spike = o.gradientSpike[kind.rawValue], step + 1 >= spike.step {
                    for p in net.parameters { p.grad.withUnsafeMutableBufferPointer { g in for i in g.indices { g[i] *= spike.factor } } }
                }
                guard l.isFinite else { throw GridTaskError.nonFinite(task: task, step: step + 1) }
                lossSum += l; lossCount += 1
                largestNorm = max(largestNorm, update(net, optimizer: optimizer, clip: o.clip))
                step += 1
                if step % o.evalEvery == 0 || step == maxSteps {
                    // the divergence guard (DivergenceGuard.swift)
                    let norm = largestNorm, usual = DivergenceGuard.usualNorm(curve), rate = optimizer.learningRate
                    var rolledBack: String? = nil
                    if let back = try divergence.check(norm: norm, usual: usual, parameters: net.parameters, optimizer: optimizer,
                                                       task: task, step: step) {
                        if !recordRate {   // the points so far ran at the old rate: recorded, so the curve shows the change
                            curve = curve.map { var p = $0; p.learningRate = Double(rate); return p }
                            recordRate = true
                        }
                        rolledBack = DivergenceGuard.notePrefix
                            + String(format: " (gradient norm %.3g, %.0f× the usual): back to step %d's weights, lr %g; ",
                                     norm, norm / usual!, back, optimizer.learningRate)
                    }
                    let (acc, positions) = try score(net, evalSet, scored, tape: tape)
                    let perOutput = outputs > 1 ? positions.reduce(0, +) / Double(outputs) : nil
                    let level = stream.curriculum?.level
                    curve.append(GridCurvePoint(step: step, samples: step * o.batchSize, seconds: elapsed(),
                                                trainLoss: lossSum / Double(max(lossCount, 1)), accuracy: acc,
                                                outputAccuracy: perOutput, level: level,
                                                learningRate: recordRate ? Double(optimizer.learningRate) : nil,
                                                gradientNorm: norm, rolledBack: rolledBack.map { _ in true }))
                    lossSum = 0; lossCount = 0; largestNorm = 0
                    // the steps this run will get to: all of them, or as many as the time budget allows at this pace
                    let reachable = min(maxSteps, max(step, Int(Double(step) / max(curve.last!.seconds, 1e-9) * o.maxSeconds)))
                    progress(step, reachable, (rolledBack ?? "") + (level.map { "level \($0), " } ?? "")
                             + String(format: "loss %.4f, accuracy %.2f%%", curve.last!.trainLoss, acc * 100)
                             + (perOutput.map { String(format: " (per output %.2f%%)", $0 * 100) } ?? "")
                             + String(format: ", %.0f of %.0f s", curve.last!.seconds, o.maxSeconds)
                             + (recordRate ? ", lr \(optimizer.learningRate)" : ""))
                    try writeCurve(curve, task: task, model: net.summary, directory: directory)
                    if let c = stream.curriculum, !c.isLast {
                        if acc >= o.advanceAt ?? stopAt {   // the next level, with its own evaluation set
                            largestSolvedLevel = c.level
                            c.advance()
                            evalSet = drawEvalSet()
                            best = -1; sinceBest = 0
                        }
                    } else if acc >= stopAt {
                        stopped = true
                    }
                    // the plateau schedule polishes the last level once it is learned (best ≥ advanceAt):
                    // during a search at chance for new digits it would halve the rate away first
                    if stream.curriculum?.isLast ?? true, curve.last!.level == stream.curriculum?.level {
                        if acc > best { best = acc; sinceBest = 0 } else if best >= o.advanceAt ?? 0 { sinceBest += 1 }
                        if o.plateau > 0 && sinceBest >= o.plateau {   // at most ten halvings: below that it barely moves
                            optimizer.learningRate = max(optimizer.learningRate / 2, o.learningRate / 1024); sinceBest = 0
                        }
                    }
                    if rolledBack == nil { divergence.keep(norm: norm, usual: usual, parameters: net.parameters, optimizer: optimizer, step: step) }
                    try save(stopped: stopped)
                    if stopped { break }
                }
                if interruptRequested != 0 || stopRequest?.isRequested == true || o.interruptAfterStep[kind.rawValue] == step {
                    try save(stopped: false)
                    throw GridTaskError.interrupted(checkpoint: checkpoint.url.path)
                }
            }
        }
        // the final weights, and a mark that only the final measurement is left
        try save(stopped: true)
        let seconds = elapsed()
        // the final measurement, on examples never seen: a third seeded stream, at full difficulty
        stream.curriculum?.finish()
        var finalRNG = SeededGenerator(seed: o.seed &* 0x9E37_79B9 &+ 3)
        let finalSet = stride(from: 0, to: o.finalExamples, by: o.batchSize).map { i in
            evalDraw(min(o.batchSize, o.finalExamples - i), &finalRNG)
        }
        let (finalAccuracy, positions) = try score(net, finalSet, scored, tape: tape)
        if let c = stream.curriculum, c.isLast, finalAccuracy >= o.target { largestSolvedLevel = c.level }
        var more = try extra?(net, tape) ?? (numbers: [:], text: nil)
        if divergence.rollbacks > 0 { more.numbers["divergence_rollbacks"] = Double(divergence.rollbacks) }
        let summary = GridTaskSummary(task: task, model: net.summary, kind: kind.rawValue, parameters: net.parameterCount,
                                      accuracy: finalAccuracy, evalExamples: o.finalExamples,
                                      samplesSeen: step * o.batchSize, steps: step, seconds: seconds,
                                      solved: finalAccuracy >= o.target, target: o.target,
                                      bitsPerChar: more.numbers["bits_per_char"], sample: more.text, extra: more.numbers,
                                      largestSolvedLevel: largestSolvedLevel, positionAccuracy: outputs > 1 ? positions : nil)
        try writeCurve(curve, task: task, model: net.summary, directory: directory)
        try writeJSON(summary, to: directory.appendingPathComponent("summary.json"))
        return (summary, curve)
    }

    /// Exact-match accuracy (an example counts when all of its scored predictions are right) and
    /// the accuracy at each of `layout`'s scored outputs.
    static func score(_ net: TaskNet, _ set: [(x: Tensor, labels: [Int])], _ layout: OutputLayout,
                      tape: Tape) throws -> (exact: Double, positions: [Double]) {
        let K = layout.outputs
        var correct = 0, total = 0, right = [Int](repeating: 0, count: K)
        for (x, labels) in set {
            tape.reset()
            let z = try net.logits(tape.constant(x)).value    // (labels, C)
            let C = z.shape[1], B = labels.count / layout.labelsPerExample
            z.withUnsafeBufferPointer { p in
                for b in 0..<B {
                    var all = true
                    for k in 0..<K {
                        let r = layout.row(b, layout.leading + k)
                        var best = 0
                        for c in 1..<C where p[r * C + c] > p[r * C + best] { best = c }
                        if best == labels[r] { right[k] += 1 } else { all = false }
                    }
                    if all { correct += 1 }
                }
            }
            total += B
        }
        tape.reset()
        let n = Double(max(total, 1))
        return (Double(correct) / n, right.map { Double($0) / n })
    }

    static func writeCurve(_ curve: [GridCurvePoint], task: String, model: String, directory: URL) throws {
        let levels = curve.contains { $0.level != nil }, rates = curve.contains { $0.learningRate != nil }
        let perOutput = curve.contains { $0.outputAccuracy != nil }
        let norms = curve.contains { $0.gradientNorm != nil }, rollbacks = curve.contains { $0.rolledBack == true }
        var table = CSVTable(header: ["step", "samples", "seconds", "train_loss", "accuracy"] + (perOutput ? ["output_accuracy"] : [])
                                     + (levels ? ["level"] : [])
                                     + (rates ? ["learning_rate"] : []) + (norms ? ["grad_norm_max"] : []) + (rollbacks ? ["rolled_back"] : []))
        // a value a point lacks (a run resumed by a build that records more) is an empty cell
        func cell(_ v: Double?) -> CSVCell { v.map(CSVCell.number) ?? .text("") }
        for p in curve {
            table.append([Double(p.step), Double(p.samples), p.seconds, p.trainLoss, p.accuracy].map(CSVCell.number)
                         + (perOutput ? [cell(p.outputAccuracy)] : []) + (levels ? [cell(p.level.map(Double.init))] : []) + (rates ? [cell(p.learningRate)] : [])
                         + (norms ? [cell(p.gradientNorm)] : []) + (rollbacks ? [cell(p.rolledBack == true ? 1 : nil)] : []))
        }
        try table.write(to: directory.appendingPathComponent("curve.csv"))
        try writeJSON(curve, to: directory.appendingPathComponent("curve.json"))
        guard !curve.isEmpty else { return }
        try curveFigure(title: "\(task): \(model)", curves: [(model, curve)]).write(to: directory.appendingPathComponent("curve"))
    }

    /// Training loss and exact-match accuracy against training examples seen, one line per model;
    /// with `summaries` that have them, the final accuracy at each output position too.
    static func curveFigure(title: String, curves: [(String, [GridCurvePoint])], summaries: [GridTaskSummary] = []) -> Figure {
        let colors = Color.palette
        // a point without the value (a run resumed by a build that records more) is left out of its line
        func series(_ value: (GridCurvePoint) -> Double?) -> [Series] {
            curves.enumerated().compactMap { i, c in
                let points = c.1.compactMap { p in value(p).map { (Double(p.samples), $0) } }
                return points.isEmpty ? nil : Series(name: c.0, x: points.map(\.0), y: points.map(\.1), color: colors[i % colors.count])
            }
        }
        var panels = [
            Panel(title: "training loss", x: Axis("training examples"), y: Axis("mean cross-entropy", scale: .log10),
                  series: series { max($0.trainLoss, 1e-6) }),
            Panel(title: "exact-match accuracy (fresh examples)", x: Axis("training examples"), y: Axis("accuracy", range: 0...1),
                  series: series { $0.accuracy }),
        ]
        if curves.contains(where: { $0.1.contains { $0.outputAccuracy != nil } }) {
            panels.append(Panel(title: "mean accuracy of the outputs (fresh examples)", x: Axis("training examples"),
                                y: Axis("accuracy", range: 0...1), series: series { $0.outputAccuracy }))
        }
        if curves.contains(where: { $0.1.contains { $0.level != nil } }) {
            panels.append(Panel(title: "curriculum level", x: Axis("training examples"), y: Axis("level"), series: series { $0.level.map(Double.init) }))
        }
        let positions = summaries.enumerated().compactMap { i, s in
            s.positionAccuracy.map { a in
                Series(name: s.model, x: a.indices.map { Double($0 + 1) }, y: a, color: colors[i % colors.count], markers: true)
            }
        }
        if !positions.isEmpty {
            panels.append(Panel(title: "final accuracy by output position", x: Axis("position (addition: 1 = lowest digit)"),
                                y: Axis("accuracy", range: 0...1), series: positions))
        }
        return Figure(title: title, panels: panels, columns: panels.count > 3 ? 2 : nil)
    }

    /// Runs several models of one task into `directory/<model>` and writes the comparison; with
    /// `parallel`, each model on its own thread at once (GridTrainOptions.parallel).
    static func compare(task: String, title: String, directory: URL, parallel: Bool = false,
                        runs: [(GridTaskModel, () throws -> (GridTaskSummary, [GridCurvePoint]))]) throws -> [GridTaskSummary] {
        try checkWritableDirectory(directory, create: true)
        // one handler across the models (see withInterruptHandler)
        let results = try withInterruptHandler { try runAll(runs.map(\.1), parallel: parallel) }
        let summaries = results.map(\.0), curves = results.map { ($0.0.model, $0.1) }
        if runs.count > 1 {
            try curveFigure(title: title, curves: curves, summaries: summaries).write(to: directory.appendingPathComponent("comparison"))
            try writeJSON(summaries, to: directory.appendingPathComponent("summary.json"))
        }
        return summaries
    }
}

extension GridTrainer {
    /// Runs the bodies one after another, or with `parallel` (and more than one) side by side.
    static func runAll<T>(_ bodies: [() throws -> T], parallel: Bool) throws -> [T] {
        parallel && bodies.count > 1 ? try sideBySide(bodies) : try bodies.map { try $0() }
    }

    /// Runs every body on a thread of its own, all at once, and returns their results in order.
    /// The first failure stops the others at their next step (checkpoints saved, as on Ctrl-C,
    /// through StopRequest) and is the one thrown; an interruption only when nothing else failed.
    static func sideBySide<T>(_ bodies: [() throws -> T]) throws -> [T] {
        let outcomes = SideBySideOutcomes<T>(bodies.count), done = DispatchGroup(), stop = StopRequest()
        for (i, body) in bodies.enumerated() {
            done.enter()
            let thread = Thread {
                Thread.current.threadDictionary[StopRequest.key] = stop
                let result = Result { try body() }
                outcomes.lock.lock()
                outcomes.results[i] = result
                outcomes.lock.unlock()
                if case .failure = result { stop.request() }   // the others stop too
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        let results = outcomes.results.map { $0! }
        func isInterruption(_ e: any Error) -> Bool { if case GridTaskError.interrupted = e { true } else { false } }
        let errors = results.compactMap { r -> (any Error)? in if case .failure(let e) = r { e } else { nil } }
        if let first = errors.first(where: { !isInterruption($0) }) ?? errors.first { throw first }
        return try results.map { try $0.get() }
    }
}

/// A sweep's points so far, written to sweep.json after each (from several threads side by side).
private final class SweepPoints: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var points: [ParityTask.SweepPoint] = []
    func append(_ p: ParityTask.SweepPoint, writing url: URL) throws {
        lock.lock(); defer { lock.unlock() }
        points.append(p)
        try writeJSON(points, to: url)
    }
}

/// Asks the training loops of models side by side to stop at their next step, as Ctrl-C does:
/// each thread of GridTrainer.sideBySide holds one under `key` (not a global, which would stop
/// every other run in the process).
final class StopRequest: @unchecked Sendable {
    static let key = "HighwayKit.StopRequest"
    private let lock = NSLock()
    private var requested = false
    func request() { lock.lock(); requested = true; lock.unlock() }
    var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return requested }
    /// This thread's, if it runs side by side.
    static var current: StopRequest? { Thread.current.threadDictionary[key] as? StopRequest }
}

/// What the threads of GridTrainer.sideBySide hand back, under a lock.
private final class SideBySideOutcomes<T>: @unchecked Sendable {
    let lock = NSLock()
    var results: [Result<T, any Error>?]
    init(_ n: Int) { results = Array(repeating: nil, count: n) }
}

/// Finished task runs made apart (e.g. one process per model, side by side on the cores, for
/// equal wall time) compared in one figure, as one multi-model run writes `comparison.*`.
public enum GridRunComparison {
    /// Reads each model directory's `summary.json` and `curve.json` and writes `output`.svg/.png.
    /// - Throws: ``GridTaskError/notARun(path:reason:)`` for a directory that is not one finished
    ///   model's, or whose files do not decode.
    public static func write(runs directories: [URL], title: String? = nil, to output: URL) throws -> [GridTaskSummary] {
        var summaries: [GridTaskSummary] = [], curves: [(String, [GridCurvePoint])] = []
        func read<T: Decodable>(_ url: URL, as type: T.Type) throws -> T {
            do { return try GridCheckpoint.read(url, as: type) } catch let e as ResumeError {
                throw GridTaskError.notARun(path: e.path, reason: e.reason)
            }
        }
        for dir in directories {
            let summaryURL = dir.appendingPathComponent("summary.json")
            guard FileManager.default.fileExists(atPath: summaryURL.path) else {
                throw GridTaskError.notARun(path: dir.path, reason: "no summary.json (not a finished model directory of a Grid LSTM task run)")
            }
            if let several = try? GridCheckpoint.read(summaryURL, as: [GridTaskSummary].self) {
                throw GridTaskError.notARun(path: dir.path, reason: "a run of several models (\(several.map(\.kind).joined(separator: ", "))): "
                                            + "give its model directories, e.g. \(dir.appendingPathComponent(several.first?.kind ?? "MODEL").path)")
            }
            let summary = try read(summaryURL, as: GridTaskSummary.self)
            summaries.append(summary)
            curves.append((summary.model, try read(dir.appendingPathComponent("curve.json"), as: [GridCurvePoint].self)))
        }
        let tasks = Set(summaries.map(\.task)).sorted()
        try GridTrainer.curveFigure(title: title ?? "\(tasks.joined(separator: ", ")): \(summaries.map(\.kind).joined(separator: " vs "))",
                                    curves: curves, summaries: summaries).write(to: output)
        return summaries
    }
}

public enum GridTaskError: Error, CustomStringConvertible {
    case nonFinite(task: String, step: Int)
    /// The divergence guard went back `times` times and the gradient norm exploded again at `step`.
    case diverged(task: String, step: Int, times: Int)
    case badText(path: String, reason: String)
    /// A directory given as a finished run is not one.
    case notARun(path: String, reason: String)
    /// Stopped by SIGINT after saving `checkpoint`.
    case interrupted(checkpoint: String)
    /// `resume` was given a run directory of another task or other settings.
    case resumeMismatch(path: String, detail: String)
    public var description: String {
        switch self {
        case .nonFinite(let t, let s): "\(t): the loss is not finite at step \(s) (try a smaller --lr)"
        case .diverged(let t, let s, let n):
            "\(t): training diverged again at step \(s) after \(n) returns to earlier weights at halved learning rates (try a smaller --lr); the checkpoint holds the last good weights"
        case .badText(let p, let r): "\(p): \(r)"
        case .notARun(let p, let r): "\(p): \(r)"
        case .interrupted(let c): "interrupted: checkpoint saved at \(c); continue with the same command and --resume RUN_DIR"
        case .resumeMismatch(let p, let d): "cannot resume \(p): \(d)"
        }
    }
}

// ---- parity ------------------------------------------------------------------------------------

/// k-bit parity (§4.1): the whole string of ±1 bits is the input; the target is whether the number
/// of 1 bits is odd.
public struct ParityTask {
    public var bits = 64
    public var models: [GridTaskModel] = [.tied, .feedforward]
    public var depth = 10
    public var width = 64
    public var activation: Activation = .tanh
    /// Curriculum of live bits (nil: every string fully random from the start): training starts
    /// with `start` random bits and adds `step` each time an evaluation reaches the target.
    public var curriculum: (start: Int, step: Int)? = nil
    public var options = GridTrainOptions()
    public var outputDirectory: URL
    public init(outputDirectory: URL) { self.outputDirectory = outputDirectory }

    /// Strings of `bits` ±1 values. With a curriculum of live-bit counts, only the first `level`
    /// inputs carry bits and the rest are 0 ("no bit": neither a 0 bit, −1, nor a 1 bit, +1), so an
    /// early level is parity of a short string and each level adds inputs to the same net.
    /// (Filling with −1 instead — 0 bits — left even 4 live bits of 64 unlearned: the constant
    /// inputs drown the live ones in the first projection.)
    static func stream(bits: Int, curriculum: Curriculum? = nil) -> TaskStream {
        // training draws may mix levels (Curriculum.mix); evaluations are at the current level
        func strings(training: Bool) -> (Int, inout SeededGenerator) -> (x: Tensor, labels: [Int]) { { batch, rng in
            var x = Tensor.zeros([batch, 1, bits]), labels = [Int](repeating: 0, count: batch)
            x.withUnsafeMutableBufferPointer { p in
                for b in 0..<batch {
                    let live = curriculum?.level(training: training, &rng) ?? bits
                    var odd = 0
                    let row = b * bits
                    for i in 0..<live {          // inputs from `live` on stay 0
                        let one = rng.next() & 1 == 1
                        p[row + i] = one ? 1 : -1
                        if one { odd ^= 1 }
                    }
                    labels[b] = odd
                }
            }
            return (x, labels)
        } }
        var stream = TaskStream(layout: OutputLayout(outputs: 1), draw: strings(training: true), evalDraw: strings(training: false))
        stream.curriculum = curriculum
        return stream
    }

    /// Trains every model; `progress(model, step, maxSteps, note)`.
    public func run(progress: @escaping (String, Int, Int, String) -> Void = { _, _, _, _ in }) throws -> [GridTaskSummary] {
        try GridTrainer.compare(task: "\(bits)-bit parity", title: "\(bits)-bit parity: 1-LSTM vs feedforward (width \(width), depth \(depth))",
                                directory: outputDirectory, parallel: options.parallel, runs: models.map { kind in
            (kind, {
                var rng = SeededGenerator(seed: options.seed)
                let net = TaskNet.parity(kind, bits: bits, width: width, depth: depth, activation: activation, rng: &rng)
                let dir = models.count > 1 ? outputDirectory.appendingPathComponent(kind.rawValue) : outputDirectory
                let levels = curriculum.map { Curriculum.stepping(from: $0.start, by: $0.step, to: bits) }
                return try GridTrainer.run(task: "\(bits)-bit parity", kind: kind, net: net, stream: Self.stream(bits: bits, curriculum: levels),
                                           options: options, config: ["bits": bits, "depth": depth, "width": width, "activation": activation.rawValue],
                                           directory: dir) { s, n, note in progress(kind.rawValue, s, n, note) }
            })
        })
    }

    /// One point of a sweep.
    public struct SweepPoint: Codable, Sendable {
        public var model: String
        public var bits: Int
        public var accuracy: Double
        public var solved: Bool
        public var samplesSeen: Int
        public var seconds: Double
        enum CodingKeys: String, CodingKey { case model, bits, accuracy, solved, samplesSeen = "samples_seen", seconds }
    }

    /// For every model, trains on each of `bitsList` in order within the budget of `options`, and
    /// stops at the first k it does not solve. Writes sweep.json / .csv / .svg / .png.
    public func sweep(bitsList: [Int], progress: @escaping (String, Int, Int, String) -> Void = { _, _, _, _ in })
        throws -> (points: [SweepPoint], largest: [String: Int]) {
        try checkWritableDirectory(outputDirectory, create: true)
        // each model's ladder of k; side by side with options.parallel, each on its own thread
        let found = SweepPoints(), path = outputDirectory.appendingPathComponent("sweep.json")
        let ladders = models.map { kind in {
            var largest = 0
            for k in bitsList {
                var t = self
                t.bits = k
                t.models = [kind]
                t.outputDirectory = outputDirectory.appendingPathComponent("\(kind.rawValue)-\(k)")
                let s = try t.run { m, step, n, note in progress("\(m) k=\(k)", step, n, note) }[0]
                try found.append(SweepPoint(model: kind.rawValue, bits: k, accuracy: s.accuracy, solved: s.solved,
                                            samplesSeen: s.samplesSeen, seconds: s.seconds), writing: path)
                guard s.solved else { break }
                largest = k
            }
            return largest
        } }
        let largestK = try withInterruptHandler { try GridTrainer.runAll(ladders, parallel: options.parallel) }
        let largest = Dictionary(uniqueKeysWithValues: zip(models.map(\.rawValue), largestK))
        // in model order, each model's k ascending (side by side they finish interleaved)
        let points = models.flatMap { kind in found.points.filter { $0.model == kind.rawValue } }
        try writeJSON(points, to: path)
        var table = CSVTable(header: ["model", "bits", "accuracy", "solved", "samples_seen", "seconds"])
        for p in points {
            table.append([.text(p.model), .number(Double(p.bits)), .number(p.accuracy), .number(p.solved ? 1 : 0),
                          .number(Double(p.samplesSeen)), .number(p.seconds)])
        }
        try table.write(to: outputDirectory.appendingPathComponent("sweep.csv"))
        let series = models.enumerated().map { i, kind in
            let ps = points.filter { $0.model == kind.rawValue }
            return Series(name: kind.rawValue, x: ps.map { Double($0.bits) }, y: ps.map(\.accuracy),
                          color: Color.palette[i % Color.palette.count], markers: true)
        }
        try Figure(title: "Parity: accuracy by input bits k",
                   panels: [Panel(title: "fresh strings, budget \(Int(options.maxSeconds)) s per k", x: Axis("input bits k"),
                                  y: Axis("accuracy", range: 0...1), series: series,
                                  referenceLines: [ReferenceLine(name: "target", y: options.target)])])
            .write(to: outputDirectory.appendingPathComponent("sweep"))
        try writeJSON(["points": points.map { ["model": $0.model, "bits": $0.bits, "accuracy": $0.accuracy, "solved": $0.solved] as [String: Any] },
                       "largest_solved": largest] as [String: Any],
                      to: outputDirectory.appendingPathComponent("summary.json"))
        return (points, largest)
    }
}

// ---- addition and memorisation ------------------------------------------------------------------

/// Addition's training aids: more targets for both models, softmaxes from the same output layer
/// weighed like the sum's. Accuracies count the answer's digits only. Raw values are the keys in
/// a run's config.json.
public enum AdditionAid: String, CaseIterable, Sendable {
    /// Operand echoes: at each output step the model also predicts both operands' digits at that
    /// position. A new digit's operands then get a gradient of their own for reaching the output,
    /// where the sum digit alone gives none until both have (it is independent of either).
    case echo
    /// Column targets: when b's i-th digit is read (and at '=', the column of the final carry) the
    /// model also predicts the sum's i-th digit and a's i-th digit. a's digit gets a gradient for
    /// reaching its partner in b, the sum digit one for being formed where both are at hand; the
    /// answer then only carries each sum digit to its output step, holding at most n + 1 digits at
    /// a time where echoes hold 2n.
    case columnTargets = "column_targets"
    /// Queue targets: column targets, and at every step from a sum digit's column to its answer
    /// step the model also predicts that digit again (one head per age, the answer the oldest).
    /// Each step of the delay line between column and answer then gets its own gradient, where
    /// column targets leave the n + 1 steps of holding a digit unsupervised.
    case queueTargets = "queue_targets"

    /// Targets per output step of `length`-digit addition: the sum's digit and the aid's (echo: a's
    /// and b's; column targets: a's, and none at the answer's steps; queue targets: the sum digit of
    /// each age 0 … length, then a's).
    public func heads(length: Int) -> Int {
        switch self {
        case .echo: 3
        case .columnTargets: 2
        case .queueTargets: length + 3
        }
    }
}

/// The sequence tasks of §4.2: 15-digit addition and the memorisation of random symbol sequences,
/// each a 2-LSTM (tied along depth unless `tied` is false) against a stacked LSTM of about the same
/// number of parameters.
public struct SequenceTask {
    public enum Kind: String, Codable, Sendable { case addition, memorize }
    public var kind: Kind
    /// Digits per number (addition) or symbols per sequence (memorize).
    public var length: Int
    /// Alphabet of the memorised sequences.
    public var symbols = 10
    public var models: [GridTaskModel] = [.grid, .stacked]
    public var depth = 4
    public var width = 64
    /// Whether the 2-LSTM shares one weight set among its depth levels (the paper's tied 2-LSTM);
    /// untied, every level has its own, and the matched stacked LSTM grows with it.
    public var tied = true
    /// Addition only: a curriculum of live digits (nil: every digit random from the start) —
    /// problems start with `start` random low digits per number, the higher ones 0, and gain
    /// `step` digits each time an evaluation reaches the target.
    public var curriculum: (start: Int, step: Int)? = nil
    /// Addition only: a training aid (nil: none), the same for both models.
    public var aid: AdditionAid? = nil
    public var options = GridTrainOptions()
    public var outputDirectory: URL
    public init(kind: Kind, length: Int, outputDirectory: URL) {
        self.kind = kind
        self.length = length
        self.outputDirectory = outputDirectory
    }

    /// Input symbols (one-hot), output classes, steps and output steps of one example.
    ///
    /// addition: a's digits, '+', b's digits, '=', then length + 1 blanks during which the target
    /// is the sum's digits; all numbers least significant digit first. memorize: the sequence, a
    /// delimiter, then `length` blanks during which the target is the sequence again.
    var shape: (inputs: Int, classes: Int, steps: Int, outputs: Int) {
        switch kind {
        case .addition: (13, 10, 3 * length + 3, length + 1)
        case .memorize: (symbols + 2, symbols, 2 * length + 1, length)
        }
    }

    /// Where an example's targets sit: the answer's outputs, after the aid's leading ones and with its heads.
    var layout: OutputLayout {
        let K = shape.outputs
        guard kind == .addition, let aid else { return OutputLayout(outputs: K) }
        return OutputLayout(outputs: K, leading: aid == .echo ? 0 : length + 1, heads: aid.heads(length: length))
    }

    func stream(curriculum: Curriculum? = nil) -> TaskStream {
        let (V, _, T, _) = shape, n = length, kind = self.kind, symbols = self.symbols, layout = self.layout
        let lead = layout.leading, aid = self.aid
        // training draws may mix levels (Curriculum.mix); evaluations are at the current level
        func problems(training: Bool) -> (Int, inout SeededGenerator) -> (x: Tensor, labels: [Int]) { { batch, rng in
            // a target no line below writes is absent (an aid's head where it has none)
            var x = Tensor.zeros([batch, T, V]), labels = [Int](repeating: TaskStream.noTarget, count: batch * layout.labelsPerExample)
            x.withUnsafeMutableBufferPointer { p in
                for b in 0..<batch {
                    func put(_ t: Int, _ s: Int) { p[(b * T + t) * V + s] = 1 }
                    switch kind {
                    case .addition:
                        // digit n of both is 0: the final carry's column
                        var a = [Int](repeating: 0, count: n + 1), c = [Int](repeating: 0, count: n + 1)
                        let live = curriculum?.level(training: training, &rng) ?? n
                        for i in 0..<live { a[i] = Int(rng.next(below: 10)); c[i] = Int(rng.next(below: 10)) }
                        for i in 0..<n { put(i, a[i]); put(n + 1 + i, c[i]) }
                        put(n, 10); put(2 * n + 1, 11)
                        var sum = [Int](repeating: 0, count: n + 1), carry = 0
                        for i in 0...n {
                            put(2 * n + 2 + i, 12)
                            let s = a[i] + c[i] + carry
                            sum[i] = s % 10; carry = s / 10
                            labels[layout.row(b, lead + i)] = sum[i]
                        }
                        switch aid {
                        case nil: break
                        case .echo?:   // a's and b's digits at each output step
                            for i in 0...n { let r = layout.row(b, i); labels[r + 1] = a[i]; labels[r + 2] = c[i] }
                        case .columnTargets?:   // at the step reading b's digit i (i = n: '=')
                            for i in 0...n { let q = layout.row(b, i); labels[q] = sum[i]; labels[q + 1] = a[i] }
                        case .queueTargets?:   // sum digit i at each age 0 … n in head n + 1 − age (age n + 1 is the answer), a's digit i at its column
                            for i in 0...n {
                                for age in 0...n { labels[layout.row(b, i + age) + n + 1 - age] = sum[i] }
                                labels[layout.row(b, i) + n + 2] = a[i]
                            }
                        }
                    case .memorize:
                        for i in 0..<n {
                            let s = Int(rng.next(below: UInt64(symbols)))
                            put(i, s)
                            put(n + 1 + i, symbols + 1)
                            labels[layout.row(b, i)] = s
                        }
                        put(n, symbols)
                    }
                }
            }
            return (x, labels)
        } }
        var stream = TaskStream(layout: layout, draw: problems(training: true), evalDraw: problems(training: false))
        stream.curriculum = curriculum
        return stream
    }

    /// The task's net for `kind`, seeded with `seed`: the 2-LSTM of `width` (weights tied along
    /// depth or not), or the stacked LSTM at the width whose parameter count is closest to that 2-LSTM's;
    /// its logits are `layout`'s: the last `layout.steps` of `steps`, `layout.heads` targets each.
    static func matchedNet(_ kind: GridTaskModel, inputs: Int, classes: Int, steps: Int, layout: OutputLayout,
                           width: Int, depth: Int, tied: Bool = true, seed: UInt64) -> (net: TaskNet, width: Int) {
        func net(_ kind: GridTaskModel, width: Int) -> TaskNet {
            var rng = SeededGenerator(seed: seed)
            return TaskNet.sequence(kind, inputs: inputs, classes: classes, heads: layout.heads, steps: steps, outputSteps: layout.steps,
                                    width: width, depth: depth, tied: tied, rng: &rng)
        }
        guard kind == .stacked else { return (net(kind, width: width), width) }
        let w = matchedWidth(target: net(.grid, width: width).parameterCount, inputs: inputs, classes: classes * layout.heads, depth: depth)
        return (net(.stacked, width: w), w)
    }

    /// The stacked LSTM's width whose parameter count is closest to `target` at `depth` layers.
    static func matchedWidth(target: Int, inputs: Int, classes: Int, depth: Int) -> Int {
        func count(_ w: Int) -> Int { 4 * w * (inputs + w + 2) + (depth - 1) * 4 * w * (2 * w + 2) + classes * (w + 1) }
        var best = 1
        for w in 1...2048 where abs(count(w) - target) < abs(count(best) - target) { best = w }
        return best
    }

    var taskName: String { kind == .addition ? "\(length)-digit addition" : "memorize \(length) symbols of \(symbols)" }

    public func run(progress: @escaping (String, Int, Int, String) -> Void = { _, _, _, _ in }) throws -> [GridTaskSummary] {
        let (V, C, T, _) = shape
        return try GridTrainer.compare(task: taskName, title: "\(taskName): \(tied ? "tied" : "untied") 2-LSTM vs stacked LSTM (same budget)",
                                       directory: outputDirectory, parallel: options.parallel, runs: models.map { kind in
            (kind, {
                let (net, w) = Self.matchedNet(kind, inputs: V, classes: C, steps: T, layout: layout, width: width, depth: depth,
                                               tied: tied, seed: options.seed)
                let dir = models.count > 1 ? outputDirectory.appendingPathComponent(kind.rawValue) : outputDirectory
                let levels = self.kind == .addition ? curriculum.map { Curriculum.stepping(from: $0.start, by: $0.step, to: length) } : nil
                var config: [String: Any] = ["task_kind": self.kind.rawValue, "length": length, "symbols": symbols, "depth": depth,
                                             "width": w, "grid_tied": tied]
                // absent without, so earlier runs still resume
                if let aid { config[aid.rawValue] = true }
                return try GridTrainer.run(task: taskName, kind: kind, net: net, stream: stream(curriculum: levels), options: options,
                                           config: config, directory: dir) { s, n, note in progress(kind.rawValue, s, n, note) }
            })
        })
    }
}

// ---- character-level language model ------------------------------------------------------------

/// A character-level language model (§4.3): a tied 2-LSTM (time × depth) or a stacked LSTM reads
/// `steps` characters and predicts each next one. Trained on random windows of the text's head;
/// bits per character measured on the held-out tail in non-overlapping windows, each started
/// from zero state (so slightly worse than a model that carries its state across windows).
public struct CharLMTask {
    public var textURL: URL
    public var models: [GridTaskModel] = [.grid]
    public var steps = 50
    public var depth = 3
    public var width = 64
    /// The fraction of the text held out at its end.
    public var heldOut = 0.1
    /// Characters sampled from the trained model (0: none).
    public var sampleLength = 300
    public var options: GridTrainOptions
    public var outputDirectory: URL

    public init(textURL: URL, outputDirectory: URL) {
        self.textURL = textURL
        self.outputDirectory = outputDirectory
        var o = GridTrainOptions()
        o.target = 1.01   // train for the whole budget
        o.evalExamples = 256
        o.finalExamples = 256
        options = o
    }

    /// The text's characters (Unicode scalars) as indices into a sorted vocabulary.
    static func load(_ url: URL, steps: Int, heldOut: Double) throws -> (vocab: [Unicode.Scalar], train: [Int], test: [Int]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw GridTaskError.badText(path: url.path, reason: "cannot read the file (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw GridTaskError.badText(path: url.path, reason: "not UTF-8 text")
        }
        let scalars = Array(text.unicodeScalars)
        let vocab = Array(Set(scalars)).sorted { $0.value < $1.value }
        let index = Dictionary(uniqueKeysWithValues: vocab.enumerated().map { ($1, $0) })
        let ids = scalars.map { index[$0]! }
        let testCount = Int(Double(ids.count) * heldOut)
        guard vocab.count >= 2, testCount >= steps + 1, ids.count - testCount >= steps + 1 else {
            throw GridTaskError.badText(path: url.path, reason: "\(ids.count) characters of \(vocab.count) kinds: need at least 2 kinds and \(steps + 1) characters in both the training part and the held-out \(Int(heldOut * 100))% (steps \(steps))")
        }
        return (vocab, Array(ids[..<(ids.count - testCount)]), Array(ids[(ids.count - testCount)...]))
    }

    /// Random windows of `text`: x one-hot (B, steps, V), labels the next characters.
    static func windows(_ text: [Int], vocab V: Int, steps: Int) -> (Int, inout SeededGenerator) -> (x: Tensor, labels: [Int]) {
        { batch, rng in
            var x = Tensor.zeros([batch, steps, V]), labels = [Int](repeating: 0, count: batch * steps)
            x.withUnsafeMutableBufferPointer { p in
                for b in 0..<batch {
                    let s = Int(rng.next(below: UInt64(text.count - steps)))
                    for t in 0..<steps {
                        p[(b * steps + t) * V + text[s + t]] = 1
                        labels[b * steps + t] = text[s + t + 1]
                    }
                }
            }
            return (x, labels)
        }
    }

    /// Bits per character over the non-overlapping windows of `text`.
    static func bitsPerChar(_ net: TaskNet, _ text: [Int], vocab V: Int, steps: Int, batch: Int, tape: Tape) throws -> Double {
        let starts = Array(stride(from: 0, to: text.count - steps, by: steps))
        var nats = 0.0, count = 0
        for chunk in stride(from: 0, to: starts.count, by: batch) {
            let ss = starts[chunk..<min(chunk + batch, starts.count)]
            var x = Tensor.zeros([ss.count, steps, V]), labels: [Int] = []
            x.withUnsafeMutableBufferPointer { p in
                for (b, s) in ss.enumerated() {
                    for t in 0..<steps { p[(b * steps + t) * V + text[s + t]] = 1; labels.append(text[s + t + 1]) }
                }
            }
            tape.reset()
            let loss = try tape.softmaxCrossEntropy(logits: net.logits(tape.constant(x)), labels: labels)
            nats += Double(loss.value[flat: 0]) * Double(labels.count)
            count += labels.count
        }
        tape.reset()
        return nats / Double(max(count, 1)) / log(2)
    }

    /// Samples `length` characters after `prefix` (steps characters), temperature 1.
    static func sample(_ net: TaskNet, prefix: [Int], vocab: [Unicode.Scalar], steps: Int, length: Int, seed: UInt64, tape: Tape) throws -> String {
        var rng = SeededGenerator(seed: seed)
        var context = Array(prefix.suffix(steps)), out = String.UnicodeScalarView()
        let V = vocab.count
        for _ in 0..<length {
            var x = Tensor.zeros([1, steps, V])
            for (t, c) in context.enumerated() { x[flat: t * V + c] = 1 }
            tape.reset()
            let z = try net.logits(tape.constant(x)).value    // (steps, V): the last row predicts the next
            var p = [Double](repeating: 0, count: V), mx = -Double.infinity
            for c in 0..<V { p[c] = Double(z[flat: (steps - 1) * V + c]); mx = max(mx, p[c]) }
            var sum = 0.0
            for c in 0..<V { p[c] = exp(p[c] - mx); sum += p[c] }
            var u = Double(rng.nextUnitFloat()) * sum, next = V - 1
            for c in 0..<V { u -= p[c]; if u <= 0 { next = c; break } }
            out.append(vocab[next])
            context.removeFirst()
            context.append(next)
        }
        tape.reset()
        return String(out)
    }

    public func run(progress: @escaping (String, Int, Int, String) -> Void = { _, _, _, _ in }) throws -> [GridTaskSummary] {
        let (vocab, train, test) = try Self.load(textURL, steps: steps, heldOut: heldOut)
        let V = vocab.count, L = steps
        let name = "charlm \(textURL.lastPathComponent)"
        let summaries = try GridTrainer.compare(task: name, title: "\(name): per-character accuracy on the held-out tail",
                                                directory: outputDirectory, parallel: options.parallel, runs: models.map { kind in
            (kind, {
                let layout = OutputLayout(outputs: L)
                let (net, w) = SequenceTask.matchedNet(kind, inputs: V, classes: V, steps: L, layout: layout, width: width, depth: depth, seed: options.seed)
                let dir = models.count > 1 ? outputDirectory.appendingPathComponent(kind.rawValue) : outputDirectory
                let stream = TaskStream(layout: layout, draw: Self.windows(train, vocab: V, steps: L),
                                        evalDraw: Self.windows(test, vocab: V, steps: L), perOutput: true)
                return try GridTrainer.run(task: name, kind: kind, net: net, stream: stream, options: options,
                                           config: ["text": textURL.path, "characters": train.count + test.count, "vocabulary": V,
                                                    "steps": L, "depth": depth, "width": w, "held_out": heldOut],
                                           directory: dir, extra: { net, tape in
                    let bpc = try Self.bitsPerChar(net, test, vocab: V, steps: L, batch: options.batchSize, tape: tape)
                    let text = sampleLength > 0
                        ? try Self.sample(net, prefix: Array(test.prefix(L)), vocab: vocab, steps: L, length: sampleLength, seed: options.seed, tape: tape)
                        : nil
                    if let text { try AtomicFile.write(text, to: dir.appendingPathComponent("sample.txt")) }
                    return (["bits_per_char": bpc], text)
                }) { s, n, note in progress(kind.rawValue, s, n, note) }
            })
        })
        return summaries
    }
}
