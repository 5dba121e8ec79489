import Foundation
@testable import HighwayKit
import Testing

@Suite("Training runs")
struct TrainingTests {
    static let data: DataSplits = {
        let (train, test) = try! SyntheticTask(inputs: 12, classes: 4, teacherWidth: 6, trainCount: 500, testCount: 100, seed: 3).generate()
        return DataSplits(train: train, test: test)
    }()

    static func config(threads: Int = 1, optimizer: String = "sgd", lr: Float = 0.05, epochs: Int = 3) -> TrainingConfig {
        TrainingConfig(network: NetworkConfig(kind: .highway, inputSize: 12, classes: 4, depth: 5, width: 8),
                       dataset: "synthetic", dataDirectory: nil, trainLimit: nil, epochs: epochs, batchSize: 32,
                       optimizer: optimizer, learningRate: lr, momentum: 0.9, nesterov: true, weightDecay: 1e-4,
                       schedule: "exponential", gamma: 0.9, decayEvery: 1, seed: 42, threads: threads, checkpointEvery: 7)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hk-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func bits(_ trainer: Trainer) -> [[UInt32]] {
        trainer.network.parameters.map { $0.value.scalars.map(\.bitPattern) }
    }

    @Test("killed mid-epoch and resumed, a run ends bit-identical to an uninterrupted one", arguments: [
        (1, "sgd"), (2, "sgd"), (1, "adam"),
    ])
    func resumeIsExact(threads: Int, optimizer: String) throws {
        let saved = ThreadPool.threads
        defer { ThreadPool.threads = saved }
        ThreadPool.threads = threads
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = Self.config(threads: threads, optimizer: optimizer, lr: optimizer == "adam" ? 0.01 : 0.05)

        let whole = try Trainer(config: config, runDirectory: root.appendingPathComponent("whole"), data: Self.data)
        try whole.run()

        // 16 steps per epoch; die at step 24 (mid-epoch 2), last checkpoint at step 21, then again at 40
        let dir = root.appendingPathComponent("killed")
        let first = try Trainer(config: config, runDirectory: dir, data: Self.data)
        first.killAfterStep = 24
        #expect(throws: TrainingError.self) { try first.run() }
        let second = try Trainer.resuming(dir, data: Self.data)
        #expect(second.step == 21 && second.epoch == 1 && second.batch == 5)
        second.killAfterStep = 40
        #expect(throws: TrainingError.self) { try second.run() }
        let third = try Trainer.resuming(dir, data: Self.data)
        try third.run()

        #expect(Self.bits(third) == Self.bits(whole))
        let strip = { (t: Trainer) in t.history.map { m -> EpochMetrics in var m = m; m.seconds = 0; return m } }
        #expect(strip(third) == strip(whole))
        #expect(third.history.count == 3)
    }

    @Test("the run directory holds config, metrics, summary and a checkpoint that evaluates the same")
    func runDirectory() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(config: Self.config(), runDirectory: dir, data: Self.data)
        let summary = try trainer.run()
        for name in ["config.json", "metrics.csv", "summary.json", "checkpoint.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
        }
        let csv = try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 4)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("summary.json"))) as! [String: Any]
        for key in ["test_accuracy", "test_loss", "train_loss", "epochs", "seconds"] { #expect(json[key] != nil, "\(key)") }
        #expect(summary.trainLoss < 1.2)  // 4 classes: chance is ln 4 ≈ 1.39
        let reopened = try Trainer.resuming(dir, data: Self.data)
        #expect(reopened.isFinished)
        #expect(reopened.evaluate(Self.data.test).accuracy == summary.testAccuracy)
    }

    @Test("a diverging run stops with the step and a parameter named, and keeps the last good checkpoint")
    func nonFinite() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(config: Self.config(lr: 1e30), runDirectory: dir, data: Self.data)
        do {
            try trainer.run()
            Issue.record("training with lr 1e30 did not stop")
        } catch let TrainingError.nonFinite(_, step, detail, checkpoint) {
            #expect(step >= 1)
            #expect(!detail.isEmpty)
            #expect(checkpoint == nil || checkpoint!.contains("checkpoint.safetensors"))
        }
        // whatever checkpoint exists is loadable
        if FileManager.default.fileExists(atPath: trainer.checkpointURL.path) {
            _ = try Trainer.resuming(dir, data: Self.data)
        }
    }

    @Test("an output directory under a file is an error before training starts")
    func unwritableOutput() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        #expect(throws: (any Error).self) {
            _ = try Trainer(config: Self.config(), runDirectory: file.appendingPathComponent("run"), data: Self.data)
        }
    }

    @Test("bad configurations are refused with a message")
    func invalidConfig() {
        var c = Self.config()
        c.network.depth = 0
        #expect(c.validationError()?.contains("depth") == true)
        c = Self.config(); c.optimizer = "rmsprop"
        #expect(c.validationError()?.contains("optimizer") == true)
        c = Self.config(); c.dataset = "cifar7"
        #expect(c.validationError()?.contains("cifar7") == true)
    }

    /// `--dataset cifar100 --data DIR` for a user who has the official binary files: the network
    /// gets 3072 inputs and 100 classes, and a run trains on them.
    @Test func trainsOnCIFAR100Files() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("cifar-100-binary")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for (name, n) in [("train.bin", 40), ("test.bin", 10)] {
            var bytes: [UInt8] = []
            for r in 0..<n { bytes += [UInt8(r % 20), UInt8(r * 37 % 100)] + (0..<3072).map { UInt8(truncatingIfNeeded: r * $0) } }
            try Data(bytes).write(to: data.appendingPathComponent(name))
        }
        let kind = DatasetKind.cifar100
        var config = Self.config(epochs: 1)
        config.network = NetworkConfig(kind: .highway, inputSize: kind.features, classes: kind.classes, depth: 3, width: 8)
        config.dataset = "cifar100"
        config.dataDirectory = root.path
        #expect(config.validationError() == nil)
        let trainer = try Trainer(config: config, runDirectory: root.appendingPathComponent("run"))
        #expect(trainer.data.train.count == 40 && trainer.data.test.features == 3072)
        let summary = try trainer.run()
        #expect(summary.epochs == 1 && summary.testLoss.isFinite)
    }
}
