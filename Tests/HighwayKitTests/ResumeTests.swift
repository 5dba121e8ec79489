// Interrupted and resumed runs of `highway forecast` and the Grid LSTM tasks end bit-identical to
// uninterrupted ones (weights, optimiser state, scores, curves; only wall-clock seconds differ), a
// finished model is skipped on resume, and a broken or foreign checkpoint is refused by name.
import Foundation
@testable import HighwayKit
import Testing

@Suite("Resuming forecast and Grid LSTM runs")
struct ResumeTests {
    static func temporaryDirectory(_ tag: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hk-resume-\(tag)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Every tensor of a safetensors file as bit patterns, by name.
    static func tensorBits(_ url: URL) throws -> [String: [UInt32]] {
        try SafeTensors.read(url).tensors.mapValues { $0.scalars.map(\.bitPattern) }
    }

    /// `value` as JSON with sorted keys (equal text ⇔ equal bits for every finite Double).
    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try ResumeCheckpoint.encoder.encode(value), as: UTF8.self)
    }

    @Test("a generator's state restores exactly, a half-used Box–Muller pair included")
    func generatorState() {
        var a = SeededGenerator(seed: 9)
        _ = a.normal()
        var b = SeededGenerator(stateText: a.stateText)!
        #expect(a.state.count == 5)
        #expect((0..<5).map { _ in a.normal() } == (0..<5).map { _ in b.normal() })
        #expect(SeededGenerator(state: [0, 0, 0, 0]) == nil && SeededGenerator(stateText: "12,zz") == nil)
    }

    // ---- forecast ---------------------------------------------------------------------------

    /// A small LSTNet-Skip with dropout, so the dropout generator's state matters.
    static func forecastConfig() -> ForecastConfig {
        var c = ForecastTests.arConfig()
        c.model = .lstnetSkip
        c.cnnKernel = 3; c.hidCNN = 3; c.hidRNN = 4; c.hidSkip = 2; c.skip = 6
        c.dropout = 0.2
        c.epochs = 4
        c.batchSize = 64
        return c
    }

    enum Stop: Sendable, CustomStringConvertible {
        case interruptAfterStep(Int), killAfterEpoch(Int)
        var description: String {
            switch self {
            case .interruptAfterStep(let k): "SIGINT after step \(k)"
            case .killAfterEpoch(let e): "killed after epoch \(e)'s save"
            }
        }
    }

    @Test("forecast: stopped mid-epoch, after an epoch's last batch or at an epoch boundary, resumed, ends bit-identical",
          arguments: [Stop.interruptAfterStep(5), .interruptAfterStep(8), .killAfterEpoch(2)])
    func forecastResume(stop: Stop) throws {
        let root = try Self.temporaryDirectory("forecast")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = Self.forecastConfig()
        let whole = try ForecastTrainer(config: config, runDirectory: root.appendingPathComponent("whole"), data: ForecastTests.series)
        #expect(whole.batchesPerEpoch == 4)   // so step 8 is the last batch of epoch 2
        var wholeSummary = try whole.run()

        let dir = root.appendingPathComponent("stopped")
        let first = try ForecastTrainer(config: config, runDirectory: dir, data: ForecastTests.series)
        switch stop {
        case .interruptAfterStep(let k): first.interruptAfterStep = k
        case .killAfterEpoch(let e): first.killAfterEpoch = e
        }
        #expect(throws: ForecastError.self) { try first.run() }
        let second = try ForecastTrainer.resuming(dir, data: ForecastTests.series)
        switch stop {
        case .interruptAfterStep(let k): #expect(second.epoch * 4 + second.batch == k)
        case .killAfterEpoch(let e): #expect(second.epoch == e && second.batch == 0)
        }
        var resumedSummary = try second.run()

        wholeSummary.seconds = 0; resumedSummary.seconds = 0
        #expect(try Self.json(resumedSummary) == Self.json(wholeSummary))
        let strip = { (t: ForecastTrainer) in t.history.map { e -> ForecastEpoch in var e = e; e.seconds = 0; return e } }
        #expect(strip(second) == strip(whole))
        #expect(try Self.tensorBits(dir.appendingPathComponent("checkpoint.safetensors"))
            == Self.tensorBits(root.appendingPathComponent("whole/checkpoint.safetensors")))
        #expect(try Data(contentsOf: dir.appendingPathComponent("predictions.csv"))
            == Data(contentsOf: root.appendingPathComponent("whole/predictions.csv")))
        #expect(!FileManager.default.fileExists(atPath: second.resumeURL.path))   // removed once finished
    }

    @Test("forecast: a truncated resume.safetensors, or a directory of another command, is refused by name")
    func forecastBrokenResume() throws {
        let dir = try Self.temporaryDirectory("forecast-broken")
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = Self.forecastConfig()
        config.epochs = 2
        let first = try ForecastTrainer(config: config, runDirectory: dir, data: ForecastTests.series)
        first.interruptAfterStep = 3
        #expect(throws: ForecastError.interrupted(checkpoint: first.resumeURL.path)) { try first.run() }
        let bytes = try Data(contentsOf: first.resumeURL)
        try bytes.prefix(bytes.count / 2).write(to: first.resumeURL)
        let error = try #require(throws: CheckpointError.self) { try ForecastTrainer.resuming(dir, data: ForecastTests.series) }
        #expect("\(error)".contains(first.resumeURL.path))

        let grid = try Self.temporaryDirectory("grid-not-forecast")
        defer { try? FileManager.default.removeItem(at: grid) }
        try "{\"task\": \"6-bit parity\"}".write(to: grid.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let foreign = try #require(throws: ResumeError.self) { try ForecastTrainer.resuming(grid, data: ForecastTests.series) }
        #expect("\(foreign)".contains("config.json") && "\(foreign)".contains("highway forecast"))
    }

    // ---- Grid LSTM tasks ------------------------------------------------------------------------

    /// 8 steps per model, evaluations at 4 and 8.
    static func tinyOptions() -> GridTrainOptions {
        var o = GridTaskTests.tiny()
        o.target = 1.01   // never stop early: every run takes all its steps
        return o
    }

    /// 6-bit parity with tiny nets of `models` into `directory`, on tinyOptions.
    static func tinyParity(_ directory: URL, _ models: [GridTaskModel] = [.tied]) -> ParityTask {
        var t = ParityTask(outputDirectory: directory)
        t.bits = 6; t.depth = 2; t.width = 5; t.models = models
        t.options = tinyOptions()
        return t
    }

    /// A model's results without wall-clock seconds, as comparable text.
    static func gridResult(_ dir: URL) throws -> String {
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("summary.json"))) as! [String: Any]
        let curve = try ResumeCheckpoint.decoder.decode([GridCurvePoint].self, from: Data(contentsOf: dir.appendingPathComponent("curve.json")))
        let points = curve.map { "\($0.step) \($0.samples) \($0.trainLoss.bitPattern) \($0.accuracy.bitPattern) \($0.learningRate ?? 0) \($0.gradientNorm ?? -1)" }
        return "\(summary["accuracy"]!) \(summary["steps"]!) \(summary["samples_seen"]!) \(summary["model"]!) | " + points.joined(separator: "; ")
    }

    /// Expects the model directories `a` and `b` to hold the same run: summary, curve and tensors.
    static func expectSameRun(_ a: URL, _ b: URL, _ label: String = "") throws {
        #expect(try Self.gridResult(b) == Self.gridResult(a), "\(label)")
        #expect(try Self.tensorBits(b.appendingPathComponent("checkpoint.safetensors"))
            == Self.tensorBits(a.appendingPathComponent("checkpoint.safetensors")), "\(label)")
    }

    /// Runs the one-model `task("whole")`, then `task("stopped")` interrupted after the step
    /// `stopAfter` picks from the whole run's curve and resumed; expects the two identical.
    static func interruptedMatchesWhole(_ root: URL, _ task: (String) -> ParityTask,
                                        stopAfter: ([GridCurvePoint]) throws -> Int) throws -> (whole: GridTaskSummary, resumed: GridTaskSummary) {
        let whole = try task("whole").run()[0]
        let curve = try JSONDecoder().decode([GridCurvePoint].self, from: Data(contentsOf: root.appendingPathComponent("whole/curve.json")))
        var t = task("stopped")
        t.options.interruptAfterStep = [whole.kind: try stopAfter(curve)]
        #expect(throws: GridTaskError.self) { try t.run() }
        t.options.resume = true
        t.options.interruptAfterStep = [:]
        let resumed = try t.run()[0]
        try expectSameRun(root.appendingPathComponent("whole"), root.appendingPathComponent("stopped"))
        return (whole, resumed)
    }

    @Test("parity: interrupted in each model in turn, resumed, ends bit-identical; a finished model is skipped")
    func parityResume() throws {
        let root = try Self.temporaryDirectory("parity")
        defer { try? FileManager.default.removeItem(at: root) }
        func task(_ dir: String) -> ParityTask { Self.tinyParity(root.appendingPathComponent(dir), [.tied, .feedforward]) }
        _ = try task("whole").run()

        var t = task("stopped")
        t.options.interruptAfterStep = ["tied": 5]                      // between evaluations
        #expect(throws: GridTaskError.self) { try t.run() }
        t.options.resume = true
        t.options.interruptAfterStep = ["feedforward": 4]               // at an evaluation
        #expect(throws: GridTaskError.self) { try t.run() }
        let tiedSummary = try Data(contentsOf: root.appendingPathComponent("stopped/tied/summary.json"))
        t.options.interruptAfterStep = [:]
        let summaries = try t.run()
        #expect(summaries.map(\.kind) == ["tied", "feedforward"])
        // tied had finished: skipped, its summary (with its own seconds) untouched
        #expect(try Data(contentsOf: root.appendingPathComponent("stopped/tied/summary.json")) == tiedSummary)
        for m in ["tied", "feedforward"] {
            try Self.expectSameRun(root.appendingPathComponent("whole/\(m)"), root.appendingPathComponent("stopped/\(m)"), m)
        }
    }

    @Test("parity with a curriculum: interrupted after a level change, resumed at that level, ends bit-identical")
    func parityCurriculumResume() throws {
        let root = try Self.temporaryDirectory("parity-curriculum")
        defer { try? FileManager.default.removeItem(at: root) }
        func task(_ dir: String) -> ParityTask {
            var t = ParityTask(outputDirectory: root.appendingPathComponent(dir))
            t.bits = 6; t.depth = 2; t.width = 8; t.models = [.tied]
            t.curriculum = (start: 1, step: 2)
            t.options = Self.tinyOptions()
            t.options.maxSamples = 800; t.options.learningRate = 0.01; t.options.target = 0.9
            return t
        }
        // stop a few steps after the first level change, so the resumed run must restore the level
        let (whole, resumed) = try Self.interruptedMatchesWhole(root, task) { curve in
            try #require(zip(curve, curve.dropFirst()).first { $0.level != $1.level }?.1.step) + 2
        }
        #expect(resumed.largestSolvedLevel == whole.largestSolvedLevel)
    }

    @Test("a plateau schedule interrupted after it halved the learning rate resumes at that rate, bit-identical")
    func plateauResume() throws {
        let root = try Self.temporaryDirectory("plateau")
        defer { try? FileManager.default.removeItem(at: root) }
        func task(_ dir: String) -> ParityTask {
            var t = ParityTask(outputDirectory: root.appendingPathComponent(dir))
            t.bits = 12; t.depth = 2; t.width = 4; t.models = [.feedforward]
            t.options = Self.tinyOptions()
            t.options.maxSamples = 8 * 4 * 12; t.options.plateau = 2
            return t
        }
        // stop just after the first halving, so the resumed run must restore the rate
        _ = try Self.interruptedMatchesWhole(root, task) { curve in
            try #require(curve.first { ($0.learningRate ?? 1) < 0.001 }?.step) + 1
        }
    }

    /// A tiny parity run whose gradients are multiplied by `factor` from step `spikeFrom` on.
    static func spiked(_ directory: URL, steps: Int, spikeFrom: Int? = nil, factor: Float = 1e6) -> ParityTask {
        var t = tinyParity(directory)
        t.options.maxSamples = steps * t.options.batchSize
        if let spikeFrom { t.options.gradientSpike = ["tied": .init(step: spikeFrom, factor: factor)] }
        return t
    }

    /// A checkpoint's tensors without the divergence guard's copy, and that copy by its own names.
    static func splitGuard(_ url: URL) throws -> (own: [String: [UInt32]], copy: [String: [UInt32]]) {
        let all = try tensorBits(url), prefix = GridCheckpoint.guardPrefix
        return (all.filter { !$0.key.hasPrefix(prefix) },
                Dictionary(uniqueKeysWithValues: all.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) }))
    }

    @Test("the divergence guard: a gradient spike sends the run back to the last evaluation's weights and Adam state at half the rate; resumed across it, bit-identical")
    func divergenceGuard() throws {
        let root = try Self.temporaryDirectory("guard")
        defer { try? FileManager.default.removeItem(at: root) }
        // evaluations every 4 steps: ten recorded by step 40, the spike from step 42 on, found at 44
        let clean = try Self.spiked(root.appendingPathComponent("clean"), steps: 40).run()[0]
        let hit = try Self.spiked(root.appendingPathComponent("hit"), steps: 44, spikeFrom: 42).run()[0]
        #expect(clean.extra["divergence_rollbacks"] == nil && hit.extra["divergence_rollbacks"] == 1)
        let (own, copy) = try Self.splitGuard(root.appendingPathComponent("hit/checkpoint.safetensors"))
        let cleanBits = try Self.tensorBits(root.appendingPathComponent("clean/checkpoint.safetensors"))
        #expect(own == cleanBits)    // weights and Adam's moments and step count: step 40's
        #expect(copy == cleanBits)   // and the guard's copy, saved since the checkpoint is not at an evaluation of its own
        let curve = try JSONDecoder().decode([GridCurvePoint].self, from: Data(contentsOf: root.appendingPathComponent("hit/curve.json")))
        #expect(curve.count == 11 && curve.dropLast().allSatisfy { $0.learningRate == Double(Float(0.001)) })
        #expect(curve.last!.learningRate == Double(Float(0.0005)) && curve.last!.rolledBack == true)
        #expect(curve.dropLast().allSatisfy { $0.rolledBack == nil })
        let csv = try String(contentsOf: root.appendingPathComponent("hit/curve.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv[0].hasSuffix(",grad_norm_max,rolled_back") && csv[11].hasSuffix(",1") && csv[10].hasSuffix(","))
        let median = curve.dropLast().compactMap(\.gradientNorm).sorted()[5]
        #expect(curve.last!.gradientNorm! > 10_000 * median)
        // interrupted before and after the spike, resumed: as the uninterrupted run
        for stop in [41, 43] {
            _ = try Self.interruptedMatchesWhole(root.appendingPathComponent("at\(stop)")) { dir in
                Self.spiked(root.appendingPathComponent("at\(stop)/\(dir)"), steps: 52, spikeFrom: 42)
            } stopAfter: { _ in stop }
        }
        // a spike too small to go back for but far off the usual (×300): its state is not kept as
        // the one to go back to, so the checkpoint still carries step 40's
        let mild = try Self.spiked(root.appendingPathComponent("mild"), steps: 48, spikeFrom: 42, factor: 300).run()[0]
        #expect(mild.extra["divergence_rollbacks"] == nil)
        let (mildOwn, mildCopy) = try Self.splitGuard(root.appendingPathComponent("mild/checkpoint.safetensors"))
        #expect(mildCopy == cleanBits && mildOwn != cleanBits)
        // off, the spike is clipped and training goes on from it
        var off = Self.spiked(root.appendingPathComponent("off"), steps: 44, spikeFrom: 42)
        off.options.divergenceFactor = 0
        #expect(try off.run()[0].extra["divergence_rollbacks"] == nil)
        #expect(try Self.tensorBits(root.appendingPathComponent("off/checkpoint.safetensors")) != cleanBits)
        // without a divergence the guard changes nothing
        var unguarded = Self.spiked(root.appendingPathComponent("unguarded"), steps: 40)
        unguarded.options.divergenceFactor = 0
        _ = try unguarded.run()
        try Self.expectSameRun(root.appendingPathComponent("clean"), root.appendingPathComponent("unguarded"))
    }

    @Test("a checkpoint that names a return state but lacks its tensors is refused by path")
    func divergenceCopyMissing() throws {
        let root = try Self.temporaryDirectory("guard-missing")
        defer { try? FileManager.default.removeItem(at: root) }
        var t = Self.spiked(root, steps: 40)
        t.options.interruptAfterStep = ["tied": 6]   // between evaluations: the checkpoint carries step 4's state
        #expect(throws: GridTaskError.self) { try t.run() }
        let url = root.appendingPathComponent("checkpoint.safetensors"), file = try SafeTensors.read(url)
        #expect(file.names.contains { $0.hasPrefix(GridCheckpoint.guardPrefix) })
        try SafeTensors.write(file.entries.filter { !$0.name.hasPrefix(GridCheckpoint.guardPrefix) }, metadata: file.metadata, to: url)
        t.options.interruptAfterStep = [:]; t.options.resume = true
        do {
            _ = try t.run()
            Issue.record("resumed without the guard's copy")
        } catch let e as ResumeError {
            #expect(e.path == url.path && e.reason.contains("divergence guard's copy of step 4 is missing tensors"))
        }
    }

    @Test("a divergence that comes back after ten returns stops the run with an error; the checkpoint keeps the last good weights")
    func divergenceGivesUp() throws {
        let root = try Self.temporaryDirectory("guard-up")
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try Self.spiked(root.appendingPathComponent("clean"), steps: 40).run()
        let t = Self.spiked(root.appendingPathComponent("hit"), steps: 200, spikeFrom: 42)
        do {
            _ = try t.run()
            Issue.record("the run did not stop")
        } catch let GridTaskError.diverged(_, step, times) {
            #expect(step == 84 && times == 10)   // back at 44, 48, …, 80; the eleventh at 84 gives up
            #expect("\(GridTaskError.diverged(task: "6-bit parity", step: step, times: times))".contains("diverged again at step 84 after 10 returns"))
        }
        let (own, _) = try Self.splitGuard(root.appendingPathComponent("hit/checkpoint.safetensors"))
        let clean = try Self.tensorBits(root.appendingPathComponent("clean/checkpoint.safetensors"))
        #expect(own.filter { !$0.key.hasPrefix("optimizer.") } == clean.filter { !$0.key.hasPrefix("optimizer.") })
    }

    @Test("a finished run resumed with a larger budget trains on and ends as one run with that budget; a smaller one or a reached target keeps it")
    func budgetExtension() throws {
        let root = try Self.temporaryDirectory("extend")
        defer { try? FileManager.default.removeItem(at: root) }
        func task(_ dir: String, samples: Int) -> ParityTask {
            var t = Self.tinyParity(root.appendingPathComponent(dir))
            t.options.maxSamples = samples
            return t
        }
        _ = try task("whole", samples: 192).run()
        var t = task("extended", samples: 64)
        let short = try t.run()[0]
        #expect(short.samplesSeen == 64)
        t.options.resume = true
        let summaryURL = root.appendingPathComponent("extended/summary.json")
        let shortSummary = try Data(contentsOf: summaryURL)
        t.options.maxSamples = 32                                   // smaller: finished as it was
        #expect(try t.run()[0].samplesSeen == 64)
        #expect(try Data(contentsOf: summaryURL) == shortSummary)
        t.options.maxSamples = 128
        #expect(try t.run()[0].samplesSeen == 128)
        // stopped but not finished (as when interrupted during the final measurement): trains on too
        try FileManager.default.removeItem(at: summaryURL)
        t.options.maxSamples = 192
        #expect(try t.run()[0].samplesSeen == 192)
        try Self.expectSameRun(root.appendingPathComponent("whole"), root.appendingPathComponent("extended"))

        // a run that stopped at its target is done whatever the budget
        var solved = task("solved", samples: 64)
        solved.options.target = 0.01
        let first = try solved.run()[0]
        #expect(first.samplesSeen < 64)
        solved.options.resume = true; solved.options.maxSamples = 640
        #expect(try solved.run()[0].samplesSeen == first.samplesSeen)
    }

    @Test("resumed at another learning rate: the curve records the old rate before and the new one after")
    func resumeLearningRate() throws {
        let root = try Self.temporaryDirectory("resume-lr")
        defer { try? FileManager.default.removeItem(at: root) }
        var t = Self.tinyParity(root)
        t.options.interruptAfterStep = ["tied": 4]
        #expect(throws: GridTaskError.self) { try t.run() }
        t.options.interruptAfterStep = [:]
        t.options.resume = true; t.options.resumeLearningRate = 0.0005
        _ = try t.run()
        let curve = try JSONDecoder().decode([GridCurvePoint].self, from: Data(contentsOf: root.appendingPathComponent("curve.json")))
        #expect(curve.map(\.step) == [4, 8])
        #expect(curve.map { $0.learningRate.map(Float.init) } == [0.001, 0.0005])
        let csv = try String(contentsOf: root.appendingPathComponent("curve.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("step,samples,seconds,train_loss,accuracy,learning_rate,grad_norm_max\n"))
        #expect(curve.allSatisfy { ($0.gradientNorm ?? 0) > 0 && $0.gradientNorm!.isFinite })
    }

    @Test("models side by side end as one after another would, and resume so after one is interrupted")
    func sideBySideRuns() throws {
        let root = try Self.temporaryDirectory("side-by-side")
        defer { try? FileManager.default.removeItem(at: root) }
        func task(_ dir: String, parallel: Bool) -> ParityTask {
            var t = Self.tinyParity(root.appendingPathComponent(dir), [.tied, .feedforward])
            t.options.maxSamples = 160; t.options.parallel = parallel
            return t
        }
        _ = try task("apart", parallel: false).run()
        #expect(try task("together", parallel: true).run().map(\.kind) == ["tied", "feedforward"])
        var cut = task("cut", parallel: true)
        cut.options.interruptAfterStep = ["tied": 5]   // feedforward stops at its next step, or has finished
        #expect(throws: GridTaskError.self) { try cut.run() }
        cut.options.resume = true; cut.options.interruptAfterStep = [:]
        _ = try cut.run()
        for m in ["tied", "feedforward"] {
            try Self.expectSameRun(root.appendingPathComponent("apart/\(m)"), root.appendingPathComponent("together/\(m)"), m)
            try Self.expectSameRun(root.appendingPathComponent("apart/\(m)"), root.appendingPathComponent("cut/\(m)"), m)
        }
    }

    @Test("side by side: results in order; the first real failure is thrown and stops the others")
    func sideBySideFailure() throws {
        #expect(try GridTrainer.sideBySide([{ 1 }, { 2 }, { 3 }]) == [1, 2, 3])
        struct Boom: Error {}
        let waited = NSLock()
        nonisolated(unsafe) var sawStop = false
        #expect(throws: Boom.self) {
            try GridTrainer.sideBySide([
                { throw Boom() },
                {   // a training loop: stops when asked, as on Ctrl-C
                    let start = Date()
                    while StopRequest.current?.isRequested != true && Date().timeIntervalSince(start) < 10 { Thread.sleep(forTimeInterval: 0.001) }
                    waited.lock(); sawStop = StopRequest.current?.isRequested == true; waited.unlock()
                    throw GridTaskError.interrupted(checkpoint: "x")
                },
                { 3 },
            ])
        }
        #expect(sawStop)
        #expect(StopRequest.current == nil)   // the test's own thread was never asked
    }

    @Test("addition: interrupted twice, resumed, ends bit-identical")
    func additionResume() throws {
        let root = try Self.temporaryDirectory("addition")
        defer { try? FileManager.default.removeItem(at: root) }
        func task(_ dir: String) -> SequenceTask {
            var t = SequenceTask(kind: .addition, length: 2, outputDirectory: root.appendingPathComponent(dir))
            t.depth = 2; t.width = 5; t.models = [.grid]
            t.options = Self.tinyOptions()
            return t
        }
        _ = try task("whole").run()
        var t = task("stopped")
        t.options.interruptAfterStep = ["grid": 3]
        #expect(throws: GridTaskError.self) { try t.run() }
        t.options.resume = true
        t.options.interruptAfterStep = ["grid": 6]
        #expect(throws: GridTaskError.self) { try t.run() }
        t.options.interruptAfterStep = [:]
        _ = try t.run()
        try Self.expectSameRun(root.appendingPathComponent("whole"), root.appendingPathComponent("stopped"))
    }

    @Test("Grid tasks: a truncated checkpoint is refused by name, other settings by the setting")
    func gridBrokenResume() throws {
        let root = try Self.temporaryDirectory("grid-broken")
        defer { try? FileManager.default.removeItem(at: root) }
        var t = Self.tinyParity(root)
        t.options.interruptAfterStep = ["tied": 5]
        #expect(throws: GridTaskError.self) { try t.run() }
        t.options.interruptAfterStep = [:]
        t.options.resume = true

        var other = t
        other.bits = 7
        let mismatch = try #require(throws: GridTaskError.self) { try other.run() }
        #expect("\(mismatch)".contains("bits = 6") && "\(mismatch)".contains("config.json"))

        let url = root.appendingPathComponent("checkpoint.safetensors")
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 10).write(to: url)
        let error = try #require(throws: CheckpointError.self) { try t.run() }
        #expect("\(error)".contains(url.path))
    }
}
