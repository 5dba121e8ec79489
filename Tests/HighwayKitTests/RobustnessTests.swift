// Issue 7 on the library side: a NaN or infinity stops a run naming the step and the layer where
// it appeared, leaving the last good checkpoint intact and resumable; sizes and paths a command
// line can get wrong are refused before training starts.
import Foundation
@testable import HighwayKit
import Testing

@Suite("Robustness: non-finite values, impossible sizes, unusable paths")
struct RobustnessTests {
    typealias T = TrainingTests

    static func checkpointBytes(_ trainer: Trainer) throws -> Data { try Data(contentsOf: trainer.checkpointURL) }

    @Test("a non-finite gradient stops the run at that step; the last checkpoint is untouched and resumes exactly")
    func nonFiniteGradientKeepsTheCheckpoint() throws {
        let root = try T.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = T.config()   // 16 steps per epoch, a checkpoint every 7 steps

        let whole = try Trainer(config: config, runDirectory: root.appendingPathComponent("whole"), data: T.data)
        try whole.run()

        let dir = root.appendingPathComponent("run")
        let first = try Trainer(config: config, runDirectory: dir, data: T.data)
        first.killAfterStep = 9                                    // checkpoint of step 7 on disk
        #expect(throws: TrainingError.self) { try first.run() }
        let saved = try Self.checkpointBytes(first)

        let second = try Trainer.resuming(dir, data: T.data)
        second.injectNonFiniteGradientAtStep = 12
        do {
            try second.run()
            Issue.record("an injected non-finite gradient did not stop the run")
        } catch let error as TrainingError {
            guard case let .nonFinite(epoch, step, _, checkpoint) = error else { Issue.record("\(error)"); return }
            #expect(step == 12 && epoch == 0)
            #expect(checkpoint == "\(second.checkpointURL.path) (step 7)")
            let message = error.description
            #expect(message.contains("step 12") && message.contains("(step 7)") && message.contains("is intact"), "\(message)")
        }
        // the checkpoint of step 7 is byte for byte what it was, and the run resumes from it
        #expect(try Self.checkpointBytes(second) == saved)
        let third = try Trainer.resuming(dir, data: T.data)
        #expect(third.step == 7)
        try third.run()
        #expect(T.bits(third) == T.bits(whole))
    }

    @Test("a NaN in the data is traced to the input; the message names the step and says no checkpoint exists yet")
    func nonFiniteInputData() throws {
        let dir = try T.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var pixels = T.data.train.pixels
        pixels[5 * T.data.train.features + 3] = .nan       // example 5, which batch 1 holds
        let train = try ImageDataset(name: "nan", imageShape: T.data.train.imageShape, classes: T.data.train.classes,
                                     pixels: pixels, labels: T.data.train.labels)
        var config = T.config()
        config.checkpointEvery = 0
        let trainer = try Trainer(config: config, runDirectory: dir, data: DataSplits(train: train, test: T.data.test))
        do {
            try trainer.run()
            Issue.record("a NaN in the data did not stop the run")
        } catch let error as TrainingError {
            guard case let .nonFinite(_, step, detail, checkpoint) = error else { Issue.record("\(error)"); return }
            #expect(step >= 1 && step <= 16)
            #expect(detail.contains("the input data"), "\(detail)")
            #expect(checkpoint == nil)
            #expect(error.description.contains("No checkpoint had been written yet"))
        }
        #expect(!FileManager.default.fileExists(atPath: trainer.checkpointURL.path))
    }

    @Test("diverging weights are traced to the first layer of the forward pass that overflows")
    func forwardOverflowNamesTheLayer() throws {
        // identity activations, so nothing saturates: layer 2's huge weights overflow its output
        let net = FeedForwardNetwork(config: NetworkConfig(kind: .highway, inputSize: 6, classes: 3, depth: 5, width: 4,
                                                           activation: .identity), seed: 1)
        let hidden = net.parameters.first { $0.name == "layers.2.linear.weight" }!
        hidden.value.fill(with: 3e38)
        let x = [Float](repeating: 1, count: 2 * 6)
        let labels: [Int32] = [0, 1]
        let r = x.withUnsafeBufferPointer { xp in
            labels.withUnsafeBufferPointer { net.trainStep(x: xp.baseAddress!, labels: $0.baseAddress!, rows: 2, threads: 1) }
        }
        #expect(!r.lossSum.isFinite || !net.gradientsAreFinite)
        let detail = x.withUnsafeBufferPointer { net.locateNonFinite(x: $0.baseAddress!, rows: 2) }
        #expect(detail == "first in the forward pass at the output of layer layers.2", "\(detail)")
        // and weights that are already broken are named as such
        net.parameters[0].value.fill(with: .infinity)
        let again = x.withUnsafeBufferPointer { net.locateNonFinite(x: $0.baseAddress!, rows: 2) }
        #expect(again.contains("the weights of input.weight are already non-finite"), "\(again)")
    }

    @Test("a checkpoint is never written from non-finite weights")
    func noCheckpointFromBrokenWeights() throws {
        let dir = try T.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(config: T.config(), runDirectory: dir, data: T.data)
        try trainer.saveCheckpoint()
        let good = try Self.checkpointBytes(trainer)
        trainer.network.parameters[3].value.fill(with: .nan)
        #expect(throws: TrainingError.self) { try trainer.saveCheckpoint() }
        #expect(try Self.checkpointBytes(trainer) == good)
    }

    @Test("a huge learning rate stops the run with the step and a layer named; any checkpoint left is finite and resumable")
    func hugeLearningRate() throws {
        for optimizer in ["sgd", "adam"] {
            let dir = try T.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let trainer = try Trainer(config: T.config(optimizer: optimizer, lr: 1e30), runDirectory: dir, data: T.data)
            do {
                try trainer.run()
                if optimizer == "sgd" { Issue.record("sgd with lr 1e30 did not stop") }
            } catch let error as TrainingError {
                guard case let .nonFinite(_, step, detail, _) = error else { Issue.record("\(error)"); continue }
                #expect(error.description.contains("step \(step)"))
                #expect(["input", "layers.", "output"].contains { detail.contains($0) }, "\(detail)")
            }
            if FileManager.default.fileExists(atPath: trainer.checkpointURL.path) {
                let resumed = try Trainer.resuming(dir, data: T.data)
                #expect(resumed.network.valuesAreFinite)
            }
        }
    }

    @Test("the finiteness test agrees with Float.isFinite on every kind of value")
    func allFiniteMatchesIsFinite() {
        let values: [Float] = [0, -0, 1, -1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude,
                               .leastNormalMagnitude, .infinity, -.infinity, .nan, -.nan, .signalingNaN,
                               Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFFFF_FFFF)]
        for v in values {
            for n in [1, 7, 64, 1001] {
                for position in Set([0, n / 2, n - 1]) {
                    var a = [Float](repeating: 0.5, count: n)
                    a[position] = v
                    #expect(a.withUnsafeBufferPointer { allFinite($0.baseAddress!, count: n) } == v.isFinite, "\(v) at \(position) of \(n)")
                }
            }
        }
    }

    // ---- what the command line checks before a run starts -------------------------------------

    @Test("impossible network sizes are refused with the fix, without overflowing")
    func impossibleSizes() {
        func error(_ depth: Int, _ width: Int, _ kind: ModelKind = .highway) -> String? {
            NetworkConfig(kind: kind, inputSize: 784, classes: 10, depth: depth, width: width).validationError()
        }
        #expect(error(0, 50)?.contains("depth must be at least 1") == true)
        #expect(error(50, 0)?.contains("width must be at least 1") == true)
        #expect(error(50, 50) == nil)
        #expect(error(1000, 50) == nil)
        #expect(error(NetworkConfig.maxDepth + 1, 2)?.contains("smaller --depth") == true)
        for width in [100_000, 1 << 31, Int.max / 2, Int.max] {
            let e = error(50, width)
            #expect(e?.contains("use a smaller --width or --depth") == true, "\(width): \(String(describing: e))")
        }
        #expect(error(Int.max, Int.max, .plain) != nil)
        #expect(NetworkConfig(kind: .highway, inputSize: 784, classes: 10, depth: 50, width: 50).parameterCount == 289_660)
        #expect(NetworkConfig(kind: .plain, inputSize: 784, classes: 10, depth: 50, width: 71).parameterCount == 306_943)
        #expect(NetworkConfig(kind: .highway, inputSize: 784, classes: 10, depth: 50, width: 50, tied: true).parameterCount
                == 784 * 50 + 50 + 2 * 50 * 50 + 100 + 510)
    }

    @Test("a missing data directory or file is found before training, with how to get the files")
    func missingData() throws {
        var c = TrainingConfig.defaultRecipe(dataDirectory: "/nonexistent/mnist")
        do { try c.checkDataFiles(); Issue.record("accepted a missing directory") } catch let e as DataError {
            #expect(e.description.contains("/nonexistent/mnist") && e.description.contains("download"))
        }
        let dir = try T.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        c.dataDirectory = dir.path
        do { try c.checkDataFiles(); Issue.record("accepted an empty directory") } catch let e as DataError {
            #expect(e.description.contains("train-images-idx3-ubyte"))
        }
        c.dataset = "synthetic"
        try c.checkDataFiles()
        c.dataset = "kmnist"
        #expect(throws: DataError.self) { try c.checkDataFiles() }
    }

    @Test("run directories: missing, a file, or without a checkpoint are refused with what is wrong")
    func runDirectories() throws {
        let root = try T.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        for (url, fragment) in [(root.appendingPathComponent("nope"), "no such directory"), (file, "it is a file"),
                                (root, "no config.json")] {
            do { try Trainer.checkRunDirectory(url); Issue.record("\(url.path) accepted") } catch let e as TrainingError {
                #expect(e.description.contains(url.path) && e.description.contains(fragment), "\(e)")
            }
        }
        let run = root.appendingPathComponent("run")
        let trainer = try Trainer(config: T.config(epochs: 1), runDirectory: run, data: T.data)
        try trainer.writeConfig()
        #expect(throws: TrainingError.self) { try Trainer.checkRunDirectory(run) }   // no checkpoint yet
        try trainer.run()
        try Trainer.checkRunDirectory(run)
    }

    @Test("a checkpoint that does not fit the run's model lists every differing name and shape")
    func checkpointModelMismatch() throws {
        let dir = try T.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Trainer(config: T.config(epochs: 1), runDirectory: dir, data: T.data).run()
        // the run's config now says width 6 and depth 4: the checkpoint holds width 8, depth 5
        var config = try Trainer.configuration(of: dir)
        config.network.width = 6
        config.network.depth = 4
        try JSONEncoder().encode(config).write(to: dir.appendingPathComponent("config.json"))
        do {
            _ = try Trainer.resuming(dir, data: T.data)
            Issue.record("a mismatched checkpoint loaded")
        } catch let error as CheckpointError {
            guard case let .stateMismatch(path, _, differences) = error else { Issue.record("\(error)"); return }
            #expect(path?.hasSuffix("checkpoint.safetensors") == true)
            #expect(differences.contains(.shapeMismatch(name: "input.weight", checkpoint: [8, 12], model: [6, 12])))
            #expect(differences.contains(.shapeMismatch(name: "layers.0.linear.weight", checkpoint: [16, 8], model: [12, 6])))
            #expect(differences.contains(.unexpected(name: "layers.3.linear.weight", shape: [16, 8])))
            #expect(differences.contains(.shapeMismatch(name: "output.weight", checkpoint: [4, 8], model: [4, 6])))
            let message = error.description
            for piece in ["differences", "input.weight", "[8, 12]", "[6, 12]", "unexpected \"layers.3.linear.bias\""] {
                #expect(message.contains(piece), "\(piece) not in \(message)")
            }
        }
    }

    @Test("an output directory without the space for its checkpoints is refused before training")
    func fullOutputDirectory() throws {
        let dir = try T.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try checkWritableDirectory(dir, create: false, freeBytes: 1 << 20)
        do {
            try checkWritableDirectory(dir, create: false, freeBytes: Int.max / 2)
            Issue.record("claimed \(Int.max / 2) bytes free")
        } catch let e as ReportError {
            #expect(e.description.contains(dir.path) && e.description.contains("bytes free") && e.description.contains("--out"))
        }
        #expect(T.config().requiredFreeBytes > 2 * 3 * 4 * 100)
    }

    @Test("a batch size beyond the data set is one full batch, not a huge allocation")
    func hugeBatchSize() throws {
        let dir = try T.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = T.config(epochs: 1)
        config.batchSize = 1 << 40
        let trainer = try Trainer(config: config, runDirectory: dir, data: T.data)
        try trainer.run()
        #expect(trainer.step == 1)
    }
}
