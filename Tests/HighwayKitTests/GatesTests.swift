import Foundation
@testable import HighwayKit
import Testing

@Suite("Gate analysis")
struct GatesTests {
    /// A small trained highway run on the synthetic task (its data are regenerated from the seed).
    static func trainedRun() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hk-gates-\(UUID().uuidString)")
        var config = TrainingTests.config(epochs: 1)
        config.network = NetworkConfig(kind: .highway, inputSize: 64, classes: 10, depth: 4, width: 8)
        config.trainLimit = 300
        try Trainer(config: config, runDirectory: dir).run()
        return dir
    }

    @Test("gate statistics agree with a direct trace; class differences average to zero; files written")
    func gateStatistics() throws {
        let dir = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Gates.run(runDirectory: dir, dataDirectory: nil, split: "test", sampleIndex: 7)
        #expect(r.layers.map(\.layer) == [1, 2, 3] && r.width == 8 && r.examples == 2000)

        // the same network, traced directly over the whole split
        let trainer = try Trainer.reopening(dir, dataDirectory: nil)
        let set = trainer.data.test
        let (outputs, gates) = set.pixels.withUnsafeBufferPointer { trainer.network.trace(x: $0.baseAddress!, rows: set.count) }
        for l in 0..<3 {
            let g = gates[l]!.unsafePointer
            for u in 0..<8 {
                let mean = (0..<set.count).reduce(0.0) { $0 + Double(g[$1 * 8 + u]) } / Double(set.count)
                #expect(abs(r.layers[l].meanGate[u] - mean) < 1e-9)
                #expect(abs(r.sample.gates[l][u] - Double(g[7 * 8 + u])) < 1e-7)
                #expect(abs(r.sample.outputs[l][u] - Double(outputs[l].unsafePointer[7 * 8 + u])) < 1e-7)
            }
            // transform-gate biases are the second half of the layer's bias
            let bias = trainer.network.highwayLayers[l].bias.value.unsafePointer
            #expect(r.layers[l].gateBias == (0..<8).map { Double(bias[8 + $0]) })
        }
        #expect(r.sample.label == Int(set.labels[7]))
        // Σ_c n_c · (class mean − overall mean) = 0 for every layer and unit
        for l in 0..<3 {
            for u in 0..<8 {
                let s = r.classes.filter { $0.examples > 0 }.reduce(0.0) { $0 + Double($1.examples) * $1.gateMinusMean[l][u] }
                #expect(abs(s) < 1e-6)
            }
        }
        #expect(r.classes.map(\.examples).reduce(0, +) == 2000)
        for name in ["gates.json", "gates.svg", "gates.png", "gates_classes.svg", "gates_classes.png"] {
            let data = try Data(contentsOf: dir.appendingPathComponent(name))
            #expect(data.count > 1000, "\(name)")
            if name.hasSuffix(".png") { #expect(Array(data.prefix(4)) == [0x89, 0x50, 0x4E, 0x47], "\(name)") }
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("gates.json"))) as! [String: Any]
        #expect(Set(json.keys).isSuperset(of: ["layers", "sample", "classes", "split", "examples"]))
    }

    @Test("a sample index outside the split and a plain network are refused")
    func refusals() throws {
        let dir = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: ExperimentError.invalidArgument("--sample 2000 is outside the test set (0..<2000)")) {
            try Gates.run(runDirectory: dir, dataDirectory: nil, split: "test", sampleIndex: 2000)
        }
        let plain = FileManager.default.temporaryDirectory.appendingPathComponent("hk-gates-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: plain) }
        var config = TrainingTests.config(epochs: 1)
        config.network = NetworkConfig(kind: .plain, inputSize: 64, classes: 10, depth: 3, width: 8)
        config.trainLimit = 200
        try Trainer(config: config, runDirectory: plain).run()
        #expect(throws: ExperimentError.self) { try Gates.run(runDirectory: plain, dataDirectory: nil, split: "test") }
    }
}

@Suite("Depth sweep")
struct DepthSweepTests {
    static func sweep(_ dir: URL) -> DepthSweep {
        var s = DepthSweep(outputDirectory: dir)
        s.dataset = "synthetic"
        s.trainLimit = 400
        s.depths = [2, 4]
        s.epochs = 2
        s.search = 2
        s.batchSize = 50
        return s
    }

    @Test("every model × depth × setting trains; best and mean of the best are right; a rerun reuses the runs")
    func sweepRunsAndResumes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hk-sweep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = Self.sweep(dir)
        #expect(s.settings() == s.settings() && s.settings().count == 3)
        #expect(s.settings()[0].learningRate == TrainingConfig.defaultRecipe(dataDirectory: nil).learningRate)
        var started = 0
        let r = try s.run { if case .runStart = $0 { started += 1 } }
        #expect(started == 12 && r.cells.count == 4)
        for cell in r.cells {
            #expect(cell.runs.count == 3 && cell.width == DepthSweep.width(of: ModelKind(rawValue: cell.model)!))
            #expect(cell.best.finalTrainLoss == cell.runs.map(\.finalTrainLoss).min())
            let finished = cell.runs.filter { !$0.diverged }
            #expect(cell.meanOfBestCount == finished.count)
            for e in 0..<2 {
                let mean = finished.reduce(0.0) { $0 + $1.trainLoss[e] } / Double(finished.count)
                #expect(abs(cell.meanOfBest[e] - mean) < 1e-12)
            }
        }
        for name in ["depth_sweep.json", "depth_sweep.csv", "depth_sweep.svg", "depth_sweep.png"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
        }
        let csv = try String(contentsOf: dir.appendingPathComponent("depth_sweep.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + 12 * 2)

        // a second run reads every finished run back instead of training it again
        let again = try s.run()
        #expect(again.cells.map(\.best.trainLoss) == r.cells.map(\.best.trainLoss))
        #expect(again.wallSeconds < r.wallSeconds && again.trainingSeconds == r.trainingSeconds)

        // asking for other settings in the same directory is refused, not mixed in
        var other = s
        other.epochs = 3
        #expect(throws: ExperimentError.self) { try other.run() }
    }

    @Test("impossible sweeps are refused with a message")
    func validation() {
        var s = Self.sweep(URL(fileURLWithPath: "/tmp/unused"))
        s.depths = [1]
        #expect(s.validationError()?.contains("--depths") == true)
        s = Self.sweep(URL(fileURLWithPath: "/tmp/unused"))
        s.dataset = "imagenet"
        #expect(s.validationError()?.contains("imagenet") == true)
        s = Self.sweep(URL(fileURLWithPath: "/tmp/unused"))
        s.search = -1
        #expect(s.validationError()?.contains("--search") == true)
    }
}
