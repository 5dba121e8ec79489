import Foundation
@testable import HighwayKit
import Testing

/// The Grid LSTM tasks on tiny settings: the example streams are right, every run writes its
/// files and a summary with the required keys, and bad text files throw.
@Suite("Grid LSTM tasks")
struct GridTaskTests {
    static func tempDir(_ tag: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("hk-grid-\(tag)-\(UUID().uuidString)")
    }

    static func tiny() -> GridTrainOptions {
        var o = GridTrainOptions()
        o.batchSize = 8; o.maxSamples = 64; o.evalEvery = 4; o.evalExamples = 16; o.finalExamples = 20
        return o
    }

    static func summaryKeys(_ url: URL) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("summary.json")))
        return try #require(object as? [String: Any])
    }

    @Test("parity strings are ±1 bits labelled with their parity")
    func parityStream() {
        var rng = SeededGenerator(seed: 1)
        let (x, labels) = ParityTask.stream(bits: 7).draw(50, &rng)
        #expect(x.shape == [50, 1, 7])
        for b in 0..<50 {
            let ones = (0..<7).filter { x[flat: b * 7 + $0] == 1 }.count
            #expect((0..<7).allSatisfy { abs(x[flat: b * 7 + $0]) == 1 })
            #expect(labels[b] == ones % 2)
        }
        #expect(Set(labels) == [0, 1])
    }

    @Test("curriculum levels step up to the last; parity at a level has its live bits first and zeros after")
    func parityCurriculumStream() {
        #expect(Curriculum.stepping(from: 4, by: 4, to: 14).levels == [4, 8, 12, 14])
        #expect(Curriculum.stepping(from: 20, by: 4, to: 14).levels == [14])
        let c = Curriculum.stepping(from: 3, by: 2, to: 9)
        let stream = ParityTask.stream(bits: 9, curriculum: c)
        var rng = SeededGenerator(seed: 3)
        for level in [3, 5, 7, 9] {
            #expect(c.level == level)
            let (x, labels) = stream.draw(40, &rng)
            for b in 0..<40 {
                let row = (0..<9).map { x[flat: b * 9 + $0] }
                #expect(row[..<level].allSatisfy { abs($0) == 1 } && row[level...].allSatisfy { $0 == 0 })
                #expect(labels[b] == row.filter { $0 == 1 }.count % 2)
            }
            c.advance()
        }
        #expect(c.isLast && c.level == 9)
    }

    /// 6-bit parity with the curriculum 1, 3, 5, 6 on a tiny tied 1-LSTM: the task, its summary and curve.
    static func curriculumParity(_ dir: URL, maxSamples: Int, _ adjust: (inout GridTrainOptions) -> Void = { _ in }) throws
        -> (ParityTask, GridTaskSummary, [GridCurvePoint]) {
        var task = ParityTask(outputDirectory: dir)
        task.bits = 6; task.models = [.tied]; task.depth = 2; task.width = 8
        task.curriculum = (start: 1, step: 2)                   // levels 1, 3, 5, 6
        task.options = Self.tiny()
        task.options.maxSamples = maxSamples; task.options.learningRate = 0.01
        adjust(&task.options)
        let s = try task.run()[0]
        let curve = try JSONDecoder().decode([GridCurvePoint].self, from: Data(contentsOf: dir.appendingPathComponent("curve.json")))
        return (task, s, curve)
    }

    @Test("a curriculum run advances a level at each evaluation that reaches the target and reports the largest solved")
    func parityCurriculumRun() throws {
        let dir = Self.tempDir("parity-curriculum")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (task, s, curve) = try Self.curriculumParity(dir, maxSamples: 1000)
        #expect(s.positionAccuracy == nil)   // one output: exact match says it all
        let levels = curve.compactMap(\.level)
        #expect(levels.count == curve.count && levels.first == 1)
        #expect(zip(levels, levels.dropFirst()).allSatisfy { a, b in b == a || [1, 3, 5, 6].firstIndex(of: b) == [1, 3, 5, 6].firstIndex(of: a)! + 1 })
        // a level moves on exactly after an evaluation at or above the target
        for (p, q) in zip(curve, curve.dropFirst()) { #expect((q.level != p.level) == (p.accuracy >= task.options.target)) }
        // 1-bit parity (the sign of one input) is learned: level 1 at least is solved
        #expect((s.largestSolvedLevel ?? 0) >= 1)
        let summary = try Self.summaryKeys(dir)
        #expect(summary["largest_solved_level"] as? Int == s.largestSolvedLevel)
        let csv = try String(contentsOf: dir.appendingPathComponent("curve.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("step,samples,seconds,train_loss,accuracy,level"))
    }

    @Test("with advanceAt below the target a curriculum moves on at advanceAt, and only the last level must reach the stop")
    func curriculumAdvanceAt() throws {
        let dir = Self.tempDir("parity-advance")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, s, curve) = try Self.curriculumParity(dir, maxSamples: 4000) { $0.advanceAt = 0.6; $0.stopAt = 0.999; $0.plateau = 1 }
        // the plateau schedule leaves the lower levels at the full rate and polishes the last one
        // once an evaluation there reached advanceAt
        var best = -1.0, rate: Float = 0.01
        for p in curve {
            if p.level != 6 { #expect(p.learningRate == Double(Float(0.01)), "\(p)"); continue }
            #expect(p.learningRate == Double(rate), "\(p)")
            if p.accuracy > best { best = p.accuracy } else if best >= 0.6 { rate = max(rate / 2, 0.01 / 1024) }
        }
        #expect(curve.filter { $0.level == 6 }.count > 2 && rate < 0.01, "the last level was not reached, or never polished")
        for (p, q) in zip(curve, curve.dropFirst()) {
            if p.level != 6 { #expect((q.level != p.level) == (p.accuracy >= 0.6), "\(p) → \(q)") }
            else { #expect(q.level == 6 && p.accuracy < 0.999) }   // the last level trains on below the stop
        }
        #expect(curve.contains { $0.level != 6 && $0.accuracy >= 0.6 && $0.accuracy < 0.999 }, "no level passed below the stop")
        #expect((s.largestSolvedLevel ?? 0) >= 1)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as? [String: Any]
        #expect(config?["advance_at"] as? Double == 0.6)
    }

    @Test("a run with a curriculum mix records it, trains differently from one without, and resumes only with the same mix")
    func curriculumMixRun() throws {
        let plain = Self.tempDir("parity-unmixed"), mixed = Self.tempDir("parity-mixed")
        defer { for d in [plain, mixed] { try? FileManager.default.removeItem(at: d) } }
        let (_, _, a) = try Self.curriculumParity(plain, maxSamples: 600) { $0.target = 1.01 }
        let (task, _, b) = try Self.curriculumParity(mixed, maxSamples: 600) { $0.target = 1.01; $0.mix = 0.5 }
        #expect(a.map(\.trainLoss) != b.map(\.trainLoss))
        #expect(b.allSatisfy { $0.level == 1 })   // evaluations at level 1 (target 1.01: never passed)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: mixed.appendingPathComponent("config.json"))) as? [String: Any]
        #expect(config?["curriculum_mix"] as? Double == 0.5)
        let unmixed = try JSONSerialization.jsonObject(with: Data(contentsOf: plain.appendingPathComponent("config.json"))) as? [String: Any]
        #expect(unmixed?["curriculum_mix"] == nil)   // absent at 0: runs from before the option resume
        var other = task
        other.options.mix = 0.25; other.options.resume = true; other.options.maxSamples = 1200
        #expect(throws: GridTaskError.self) { try other.run() }
    }

    @Test("the plateau schedule halves the learning rate after `plateau` evaluations without a better accuracy")
    func plateauSchedule() throws {
        let dir = Self.tempDir("parity-plateau")
        defer { try? FileManager.default.removeItem(at: dir) }
        var task = ParityTask(outputDirectory: dir)
        task.bits = 12; task.models = [.feedforward]; task.depth = 2; task.width = 4
        task.options = Self.tiny()
        task.options.maxSamples = 8 * 4 * 12; task.options.target = 1.01; task.options.plateau = 2
        _ = try task.run()
        let curve = try JSONDecoder().decode([GridCurvePoint].self, from: Data(contentsOf: dir.appendingPathComponent("curve.json")))
        #expect(curve.count == 12 && curve[0].learningRate == Double(Float(0.001)))
        // replay the rule on the recorded accuracies: the rate each point should have trained at
        var best = -1.0, since = 0, rate: Float = 0.001
        for p in curve {
            #expect(p.learningRate == Double(rate), "\(p)")
            if p.accuracy > best { best = p.accuracy; since = 0 } else { since += 1 }
            if since >= 2 { rate = max(rate / 2, 0.001 / 1024); since = 0 }
        }
        #expect(rate < 0.001, "12-bit parity at chance for 12 evaluations must have plateaued")
        let csv = try String(contentsOf: dir.appendingPathComponent("curve.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("step,samples,seconds,train_loss,accuracy,learning_rate"))
    }

    @Test("runs made apart are compared in one figure; a multi-model directory or a non-run is refused by name")
    func compareRunsMadeApart() throws {
        let dir = Self.tempDir("compare")
        defer { try? FileManager.default.removeItem(at: dir) }
        var models: [URL] = []
        for kind in [GridTaskModel.grid, .stacked] {
            var task = SequenceTask(kind: .addition, length: 2, outputDirectory: dir.appendingPathComponent(kind.rawValue))
            task.depth = 2; task.width = 6; task.models = [kind]
            task.options = Self.tiny()
            _ = try task.run()
            models.append(task.outputDirectory)
        }
        let figure = dir.appendingPathComponent("both")
        let s = try GridRunComparison.write(runs: models, to: figure)
        #expect(s.map(\.kind) == ["grid", "stacked"])
        for ext in ["svg", "png"] {
            let bytes = try Data(contentsOf: figure.appendingPathExtension(ext))
            #expect(bytes.count > 1000, "\(ext)")
        }
        let svg = try String(contentsOf: figure.appendingPathExtension("svg"), encoding: .utf8)
        #expect(svg.contains("2-digit addition: grid vs stacked") && svg.contains(s[0].model) && svg.contains(s[1].model))
        // the final accuracy at each of the sum's 3 digits: an exact match needs all of them
        #expect(svg.contains("final accuracy by output position"))
        for x in s {
            let a = try #require(x.positionAccuracy)
            #expect(a.count == 3 && a.allSatisfy { (0...1).contains($0) } && x.accuracy <= a.min()!, "\(a) \(x.accuracy)")
        }
        // and during training the outputs' mean accuracy, at least the exact match's
        #expect(svg.contains("mean accuracy of the outputs"))
        for m in models {
            let curve = try JSONDecoder().decode([GridCurvePoint].self, from: Data(contentsOf: m.appendingPathComponent("curve.json")))
            #expect(!curve.isEmpty && curve.allSatisfy { p in p.outputAccuracy.map { $0 >= p.accuracy && $0 <= 1 } ?? false }, "\(curve)")
            let csv = try String(contentsOf: m.appendingPathComponent("curve.csv"), encoding: .utf8)
            #expect(csv.hasPrefix("step,samples,seconds,train_loss,accuracy,output_accuracy,"))
        }
        // a directory of a two-model run, and one that is no run at all
        var both = SequenceTask(kind: .addition, length: 2, outputDirectory: dir.appendingPathComponent("pair"))
        both.depth = 2; both.width = 6; both.options = Self.tiny()
        _ = try both.run()
        #expect { try GridRunComparison.write(runs: [both.outputDirectory, models[0]], to: figure) } throws: { e in
            "\(e)".contains("a run of several models (grid, stacked)")
        }
        #expect { try GridRunComparison.write(runs: [models[0], dir], to: figure) } throws: { e in
            "\(e)".contains(dir.path) && "\(e)".contains("no summary.json")
        }
    }

    @Test("the outputs' mean accuracy is a mean: one symbol to memorise makes every output right, and it is 1")
    func outputAccuracyIsAMean() throws {
        let dir = Self.tempDir("one-symbol")
        defer { try? FileManager.default.removeItem(at: dir) }
        var task = SequenceTask(kind: .memorize, length: 3, outputDirectory: dir)
        task.symbols = 1; task.depth = 2; task.width = 4; task.models = [.grid]
        task.options = Self.tiny()
        _ = try task.run()
        let curve = try JSONDecoder().decode([GridCurvePoint].self, from: Data(contentsOf: dir.appendingPathComponent("curve.json")))
        #expect(curve.count == 1 && curve[0].accuracy == 1 && curve[0].outputAccuracy == 1, "\(curve)")
    }

    /// Decodes one-hot step t of example b.
    static func symbol(_ x: Tensor, _ b: Int, _ t: Int) -> Int {
        let T = x.shape[1], V = x.shape[2]
        return (0..<V).first { x[flat: (b * T + t) * V + $0] == 1 }!
    }

    @Test("addition problems: digits, '+', digits, '=', blanks; labels are the sum's digits")
    func additionStream() {
        let task = SequenceTask(kind: .addition, length: 5, outputDirectory: Self.tempDir("unused"))
        var rng = SeededGenerator(seed: 2)
        let (x, labels) = task.stream().draw(20, &rng)
        #expect(x.shape == [20, 18, 13] && labels.count == 20 * 6)
        for b in 0..<20 {
            func number(_ from: Int, _ n: Int, _ digit: (Int) -> Int) -> Int {
                (0..<n).reversed().reduce(0) { $0 * 10 + digit(from + $1) }   // least significant first
            }
            let a = number(0, 5) { Self.symbol(x, b, $0) }, c = number(6, 5) { Self.symbol(x, b, $0) }
            let sum = number(0, 6) { labels[b * 6 + $0] }
            #expect(a + c == sum)
            #expect(Self.symbol(x, b, 5) == 10 && Self.symbol(x, b, 11) == 11 && Self.symbol(x, b, 17) == 12)
        }
    }

    @Test("addition with a curriculum: only the low `level` digits of each number are random, the sum is right")
    func additionCurriculumStream() {
        let task = SequenceTask(kind: .addition, length: 6, outputDirectory: Self.tempDir("unused"))
        let c = Curriculum.stepping(from: 2, by: 3, to: 6)                // 2, 5, 6
        let stream = task.stream(curriculum: c)
        var rng = SeededGenerator(seed: 4)
        for level in [2, 5, 6] {
            let (x, labels) = stream.draw(30, &rng)
            var highNonZero = false
            for b in 0..<30 {
                let digits = (0..<6).map { Self.symbol(x, b, $0) }, other = (7..<13).map { Self.symbol(x, b, $0) }
                #expect(digits[level...].allSatisfy { $0 == 0 } && other[level...].allSatisfy { $0 == 0 })
                highNonZero = highNonZero || digits[level - 1] != 0
                let value = { (d: [Int]) in d.reversed().reduce(0) { $0 * 10 + $1 } }
                #expect(value(digits) + value(other) == value((0..<7).map { labels[b * 7 + $0] }))
            }
            #expect(highNonZero)
            c.advance()
        }
    }

    /// Ten 4-digit addition problems drawn with a training aid that `aid` sets, and the plain
    /// stream's labels (the sums) of the same draw, whose problems must be the same.
    static func drawWithAid(_ aid: (inout SequenceTask) -> Void) -> (stream: TaskStream, x: Tensor, labels: [Int], sums: [Int]) {
        var task = SequenceTask(kind: .addition, length: 4, outputDirectory: tempDir("unused"))
        let plain = task.stream()
        aid(&task)
        let stream = task.stream()
        var rng = SeededGenerator(seed: 3), plainRNG = SeededGenerator(seed: 3)
        let (x, labels) = stream.draw(10, &rng), (x0, sums) = plain.draw(10, &plainRNG)
        #expect(x.scalars == x0.scalars, "the same problems as without the aid")
        return (stream, x, labels, sums)
    }

    @Test("operand echoes: each output step's targets are the sum's digit, then a's and b's digits there (0 at the carry)")
    func additionEchoStream() {
        let (stream, x, labels, sums) = Self.drawWithAid { $0.aid = .echo }
        #expect(stream.layout.heads == 3 && labels.count == 10 * 5 * 3)
        for b in 0..<10 {
            for i in 0...4 {
                let r = (b * 5 + i) * 3
                #expect(labels[r] == sums[b * 5 + i])
                #expect(labels[r + 1] == (i < 4 ? Self.symbol(x, b, i) : 0) && labels[r + 2] == (i < 4 ? Self.symbol(x, b, 5 + i) : 0))
            }
        }
    }

    @Test("column targets: the sum's digit and a's digit at each step from b's first digit to '=', then the answer with no second target")
    func additionColumnStream() {
        let (stream, x, labels, sums) = Self.drawWithAid { $0.aid = .columnTargets }
        #expect(stream.layout.heads == 2 && stream.layout.leading == 5 && stream.layout.outputs == 5 && labels.count == 10 * 10 * 2)
        for b in 0..<10 {
            for i in 0...4 {
                let column = (b * 10 + i) * 2, answer = (b * 10 + 5 + i) * 2
                #expect(labels[answer] == sums[b * 5 + i] && labels[answer + 1] == TaskStream.noTarget)
                #expect(labels[column] == sums[b * 5 + i] && labels[column + 1] == (i < 4 ? Self.symbol(x, b, i) : 0))
            }
        }
    }

    @Test("queue targets: at each output the sum digit of every age (answer first, column last) where it exists, then a's digit while b is read")
    func additionQueueStream() {
        let (stream, x, labels, sums) = Self.drawWithAid { $0.aid = .queueTargets }
        let H = 7   // ages 5 … 0 (head h: age 5 − h), a's digit
        #expect(stream.layout.heads == H && stream.layout.leading == 5 && stream.layout.outputs == 5 && labels.count == 10 * 10 * H)
        for b in 0..<10 {
            for u in 0..<10 {
                let r = (b * 10 + u) * H
                for age in 0...5 {
                    let i = u - age
                    #expect(labels[r + 5 - age] == ((0...4).contains(i) ? sums[b * 5 + i] : TaskStream.noTarget), "output \(u), age \(age)")
                }
                #expect(labels[r + 6] == (u < 4 ? Self.symbol(x, b, u) : u == 4 ? 0 : TaskStream.noTarget))
            }
            for i in 0...4 { #expect(labels[(b * 10 + 5 + i) * H] == sums[b * 5 + i], "the answer is each output's first target") }
        }
    }

    @Test("scoring skips the leading outputs (column targets) and counts each output's first target only")
    func leadingScoring() throws {
        // one example, a leading output and two scored ones of two targets each; logits pick class 1 everywhere
        let z = try Tensor(shape: [6, 3], values: (0..<6).flatMap { _ in [Float(0), 1, 0] })
        let net = TaskNet(summary: "fixed", parameters: []) { x in x.tape.constant(z) }
        let x = Tensor.zeros([1, 1, 1]), tape = Tape()
        let leadWrong = try GridTrainer.score(net, [(x, [2, 2, 1, -1, 1, -1])], OutputLayout(outputs: 2, leading: 1, heads: 2), tape: tape)
        #expect(leadWrong.exact == 1 && leadWrong.positions == [1, 1])
        let answerWrong = try GridTrainer.score(net, [(x, [1, 1, 1, -1, 0, -1])], OutputLayout(outputs: 2, leading: 1, heads: 2), tape: tape)
        #expect(answerWrong.exact == 0 && answerWrong.positions == [1, 0])
    }

    @Test("bench addition-step times the step with the task's aids: their heads and outputs, a finite loss")
    func additionStepBenchAids() throws {
        var bench = AdditionStepBenchmark(digits: 3, width: 6, depth: 2, tied: false, batchSize: 4, iterations: 2, warmup: 1)
        let plain = try bench.run()
        bench.aid = .echo
        let echo = try bench.run()
        bench.aid = .columnTargets
        let columns = try bench.run()
        bench.aid = .queueTargets
        let queue = try bench.run()
        #expect(echo.parameters == plain.parameters + 20 * 7 && columns.parameters == plain.parameters + 10 * 7)
        #expect(queue.parameters == plain.parameters + 50 * 7, "3 digits: ages 0 … 4 and a's digit besides the answer")
        #expect([plain, echo, columns, queue].allSatisfy { $0.loss.isFinite && $0.loss > 0 })
    }

    @Test("scoring with operand echoes counts each output's first target only")
    func echoScoring() throws {
        // one example, two output steps of three targets; logits pick class 1 everywhere
        let z = try Tensor(shape: [6, 3], values: (0..<6).flatMap { _ in [Float(0), 1, 0] })
        let net = TaskNet(summary: "fixed", parameters: []) { x in x.tape.constant(z) }
        let x = Tensor.zeros([1, 1, 1]), tape = Tape()
        let echoesWrong = try GridTrainer.score(net, [(x, [1, 2, 2, 1, 0, 0])], OutputLayout(outputs: 2, heads: 3), tape: tape)
        #expect(echoesWrong.exact == 1 && echoesWrong.positions == [1, 1])
        let sumWrong = try GridTrainer.score(net, [(x, [1, 1, 1, 2, 1, 1])], OutputLayout(outputs: 2, heads: 3), tape: tape)
        #expect(sumWrong.exact == 0 && sumWrong.positions == [1, 0])
    }

    @Test("a curriculum mix draws that share of training problems at random levels; evaluation problems stay at the current level")
    func curriculumMixStreams() {
        let task = SequenceTask(kind: .addition, length: 6, outputDirectory: Self.tempDir("unused"))
        let c = Curriculum.stepping(from: 1, by: 1, to: 6)                // 1 … 6, at level 1
        let stream = task.stream(curriculum: c)
        /// The share of problems with a live digit above the lowest.
        func higher(_ draw: (Int, inout SeededGenerator) -> (x: Tensor, labels: [Int])) -> Double {
            var rng = SeededGenerator(seed: 9)
            let (x, _) = draw(3000, &rng)
            return Double((0..<3000).filter { b in (1..<6).contains { Self.symbol(x, b, $0) != 0 || Self.symbol(x, b, 7 + $0) != 0 } }.count) / 3000
        }
        // without a mix, training and evaluation draw the same problems from the same generator state
        var r1 = SeededGenerator(seed: 5), r2 = SeededGenerator(seed: 5)
        #expect(stream.draw(50, &r1).labels == stream.evalDraw!(50, &r2).labels && r1.next() == r2.next())
        #expect(higher(stream.draw) == 0 && higher(stream.evalDraw!) == 0)
        c.mix = 0.5
        // half at a random level of six; a level above 1 has a nonzero digit above the lowest almost always
        let share = higher(stream.draw)
        #expect(share > 0.5 * 5 / 6 - 0.05 && share < 0.5 * 5 / 6 + 0.05, "\(share)")
        #expect(higher(stream.evalDraw!) == 0)
        c.mix = 1
        #expect(higher(stream.draw) > 0.8)
        // parity: live bits at random levels in training, the current level in evaluation
        let p = Curriculum.stepping(from: 2, by: 2, to: 8)               // 2, 4, 6, 8
        p.mix = 1
        let parity = ParityTask.stream(bits: 8, curriculum: p)
        var rng = SeededGenerator(seed: 2)
        let live = { (x: Tensor, b: Int) in (0..<8).filter { x[flat: b * 8 + $0] != 0 }.count }
        let (xt, _) = parity.draw(400, &rng), (xe, _) = parity.evalDraw!(400, &rng)
        #expect(Set((0..<400).map { live(xt, $0) }) == [2, 4, 6, 8])
        #expect((0..<400).allSatisfy { live(xe, $0) == 2 })
    }

    @Test("memorisation: the sequence, a delimiter, blanks; labels repeat the sequence")
    func memorizeStream() {
        var task = SequenceTask(kind: .memorize, length: 4, outputDirectory: Self.tempDir("unused"))
        task.symbols = 6
        var rng = SeededGenerator(seed: 3)
        let (x, labels) = task.stream().draw(10, &rng)
        #expect(x.shape == [10, 9, 8])
        for b in 0..<10 {
            #expect((0..<4).map { Self.symbol(x, b, $0) } == Array(labels[(b * 4)..<(b * 4 + 4)]))
            #expect(Self.symbol(x, b, 4) == 6 && Self.symbol(x, b, 8) == 7)
        }
    }

    @Test("parity run: tied, untied and feedforward write curves, comparison and summaries")
    func parityRun() throws {
        let dir = Self.tempDir("parity")
        defer { try? FileManager.default.removeItem(at: dir) }
        var task = ParityTask(outputDirectory: dir)
        task.bits = 6; task.depth = 2; task.width = 5; task.models = [.tied, .untied, .feedforward]
        task.options = Self.tiny()
        let s = try task.run()
        #expect(s.map(\.kind) == ["tied", "untied", "feedforward"])
        for m in ["tied", "untied", "feedforward"] {
            let sub = dir.appendingPathComponent(m)
            for f in ["config.json", "curve.csv", "curve.json", "curve.svg", "curve.png", "summary.json"] {
                #expect(FileManager.default.fileExists(atPath: sub.appendingPathComponent(f).path), "\(m)/\(f)")
            }
            let j = try Self.summaryKeys(sub)
            for k in ["model", "accuracy", "samples_seen", "seconds"] { #expect(j[k] != nil, "\(m): \(k)") }
            #expect(j["samples_seen"] as? Int == 64)
        }
        for f in ["comparison.svg", "comparison.png", "summary.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)")
        }
        #expect(s.allSatisfy { $0.evalExamples == 20 && $0.accuracy >= 0 && $0.accuracy <= 1 })
    }

    @Test("parity sweep stops at the first k not solved and writes sweep files")
    func paritySweep() throws {
        let dir = Self.tempDir("sweep")
        defer { try? FileManager.default.removeItem(at: dir) }
        var task = ParityTask(outputDirectory: dir)
        task.depth = 2; task.width = 4; task.models = [.feedforward]
        task.options = Self.tiny()
        task.options.target = 1.0
        let (points, largest) = try task.sweep(bitsList: [40, 80])
        #expect(points.count == 1 && largest["feedforward"] == 0)   // 40-bit parity is not solved in 64 examples
        for f in ["sweep.json", "sweep.csv", "sweep.svg", "sweep.png", "summary.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)")
        }
    }

    @Test("addition and memorize runs: 2-LSTM (tied or untied) and stacked LSTM of about the same size",
          arguments: [true, false])
    func sequenceRuns(tied: Bool) throws {
        var gridParameters: [Int] = []
        for kind in [SequenceTask.Kind.addition, .memorize] {
            let dir = Self.tempDir(kind.rawValue)
            defer { try? FileManager.default.removeItem(at: dir) }
            var task = SequenceTask(kind: kind, length: 3, outputDirectory: dir)
            task.depth = 3; task.width = 6; task.tied = tied
            task.options = Self.tiny()
            let s = try task.run()
            #expect(s.count == 2)
            #expect(s[0].model.hasPrefix(tied ? "tied 2-LSTM" : "untied 2-LSTM"))
            let ratio = Double(s[1].parameters) / Double(s[0].parameters)
            #expect(ratio > 0.8 && ratio < 1.25, "\(kind): \(s[0].parameters) vs \(s[1].parameters) parameters")
            let j = try Self.summaryKeys(dir.appendingPathComponent("grid"))
            for k in ["model", "accuracy", "samples_seen", "seconds"] { #expect(j[k] != nil, "\(kind): \(k)") }
            gridParameters.append(s[0].parameters)
        }
        // with a training aid: its extra 10-way heads for both models, matched as before; only the
        // answer's digits scored; the aid's key in config.json (and no other aid's)
        let extraHeads: [AdditionAid: Int] = [.echo: 2, .columnTargets: 1, .queueTargets: 5]
        for aid in AdditionAid.allCases {
            let dir = Self.tempDir(aid.rawValue), extra = extraHeads[aid]!
            defer { try? FileManager.default.removeItem(at: dir) }
            var task = SequenceTask(kind: .addition, length: 3, outputDirectory: dir)
            task.depth = 3; task.width = 6; task.tied = tied; task.aid = aid
            task.options = Self.tiny()
            let e = try task.run()
            #expect(e[0].parameters == gridParameters[0] + extra * 10 * 7, "\(aid): \(extra) more heads of 10 × (width 6 + bias)")
            let ratio = Double(e[1].parameters) / Double(e[0].parameters)
            #expect(ratio > 0.8 && ratio < 1.25, "\(aid)")
            #expect(e.allSatisfy { $0.positionAccuracy?.count == 4 }, "\(aid): positions are the answer's digits only")
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("grid/config.json"))) as? [String: Any]
            // the keys earlier runs were written with, so they still resume
            #expect(config?[aid.rawValue] as? Bool == true && config?.keys.filter { ["echo", "column_targets", "queue_targets"].contains($0) }.count == 1)
        }
        // untied, each of the 3 levels has its own two LSTM transforms: 3× the tied weights (not the projections)
        var rng = SeededGenerator(seed: 1)
        let tiedCount = TaskNet.sequence(.grid, inputs: 13, classes: 10, steps: 12, outputSteps: 4, width: 6, depth: 3, rng: &rng).parameterCount
        let lstmWeights = 2 * 4 * 6 * (12 + 1)   // two dimensions, [4w, 2w] weights and 4w biases each
        #expect(gridParameters[0] == (tied ? tiedCount : tiedCount + 2 * lstmWeights))
    }

    @Test("charlm on a text the test writes: bits per character, a sample, and broken files refused")
    func charlm() throws {
        let dir = Self.tempDir("charlm")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("text.txt")
        try String(repeating: "the cat sat on the mat. ", count: 40).write(to: file, atomically: true, encoding: .utf8)
        var task = CharLMTask(textURL: file, outputDirectory: dir.appendingPathComponent("run"))
        task.steps = 8; task.depth = 2; task.width = 6; task.sampleLength = 20; task.models = [.grid, .stacked]
        task.options.batchSize = 4; task.options.maxSamples = 32; task.options.evalEvery = 4
        task.options.evalExamples = 8; task.options.finalExamples = 8
        let s = try task.run()
        for r in s {
            let bpc = try #require(r.bitsPerChar)
            #expect(bpc.isFinite && bpc > 0 && bpc < 10)
            #expect(r.sample?.unicodeScalars.count == 20)
            let j = try Self.summaryKeys(dir.appendingPathComponent("run/\(r.kind)"))
            #expect(j["bits_per_char"] != nil && j["samples_seen"] != nil && j["model"] != nil && j["seconds"] != nil)
        }
        let bad = dir.appendingPathComponent("bad.txt")
        try Data([0xFF, 0xFE, 0x00, 0xC3]).write(to: bad)
        #expect(throws: GridTaskError.self) { try CharLMTask(textURL: bad, outputDirectory: dir.appendingPathComponent("x")).run() }
        let short = dir.appendingPathComponent("short.txt")
        try "abc".write(to: short, atomically: true, encoding: .utf8)
        #expect(throws: GridTaskError.self) { try CharLMTask(textURL: short, outputDirectory: dir.appendingPathComponent("y")).run() }
        #expect(throws: GridTaskError.self) { try CharLMTask(textURL: dir.appendingPathComponent("missing.txt"), outputDirectory: dir).run() }
    }
}
