import Foundation
@testable import HighwayKit
import Testing

@Suite("Lesion study")
struct LesionTests {
    @Test("every highway layer is lesioned once; files are written; the network is left unlesioned")
    func lesionStudy() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hk-lesion-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = TrainingTests.config(epochs: 1)
        config.network = NetworkConfig(kind: .highway, inputSize: 64, classes: 10, depth: 4, width: 8)
        config.trainLimit = 300
        try Trainer(config: config, runDirectory: dir).run()  // synthetic: the data are regenerated from the seed

        let r = try Lesion.run(runDirectory: dir, dataDirectory: nil, split: "test")
        #expect(r.layers.map(\.layer) == [1, 2, 3])
        #expect(r.examples == 2000)
        let again = try Trainer.resuming(dir)
        let (loss, accuracy) = again.evaluate(again.data.test)
        #expect(abs(r.baseline.loss - loss) < 1e-12 && abs(r.baseline.error - (1 - accuracy)) < 1e-12)
        #expect(r.layers.contains { $0.loss != r.baseline.loss }, "lesioning changed nothing")
        for name in ["lesion.json", "lesion.svg", "lesion.png"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
        }
    }

    @Test("a plain network is refused with a message")
    func plainRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hk-lesion-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = TrainingTests.config(epochs: 1)
        config.network = NetworkConfig(kind: .plain, inputSize: 64, classes: 10, depth: 3, width: 8)
        config.trainLimit = 200
        try Trainer(config: config, runDirectory: dir).run()
        #expect(throws: ExperimentError.self) { try Lesion.run(runDirectory: dir, dataDirectory: nil, split: "test") }
    }
}
