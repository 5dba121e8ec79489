// Forecasting end to end: the AR model learns a series it can represent, the run directory holds
// every file with the documented keys, runs are deterministic, and the GRU-based LSTNet graph
// (with a stand-in recurrent encoder until the GRU lands) is wired and differentiates correctly.
import Foundation
@testable import HighwayKit
import Testing

/// A stand-in for the GRU: a tanh dense layer applied at every time step (no recurrence), enough
/// to exercise LSTNet's wiring (skip sequences, attention, concatenations) and its gradients.
final class StepwiseEncoder: RecurrentEncoder {
    let dense: Dense
    let hidden: Int
    init(name: String, inputs: Int, hidden: Int, rng: inout SeededGenerator) {
        dense = Dense(name: name, inputSize: inputs, outputSize: hidden, activation: .tanh, rng: &rng)
        self.hidden = hidden
    }
    var parameters: [Parameter] { [dense.weight, dense.bias] }
    var summary: String { "Stepwise(\(dense.summary))" }
    func encode(_ x: Variable) throws -> (states: Variable, last: Variable) {
        let tape = x.tape, s = x.shape
        let h = try tape.reshape(try dense(try tape.reshape(x, to: [s[0] * s[1], s[2]])), to: [s[0], s[1], hidden])
        return (h, try tape.timeStep(h, -1))
    }
}

let stepwise: (String, Int, Int, inout SeededGenerator) -> RecurrentEncoder = { name, inputs, hidden, rng in
    StepwiseEncoder(name: name, inputs: inputs, hidden: hidden, rng: &rng)
}

@Suite("Forecasting")
struct ForecastTests {
    /// 3 series of 400 rows: two noisy sines and their sum (an AR-friendly series).
    static let series: MultivariateSeries = {
        var rng = SeededGenerator(seed: 5)
        var v: [Float] = []
        for t in 0..<400 {
            let a = sinf(Float(t) * 0.21) + 0.05 * rng.normal(), b = 0.5 * cosf(Float(t) * 0.07) + 0.05 * rng.normal()
            v += [a + 2, b + 2, a + b + 4]
        }
        return MultivariateSeries(source: "synthetic", rows: 400, series: 3, values: v)
    }()

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hk-forecast-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func arConfig(steps: Int = 1) -> ForecastConfig {
        var c = ForecastConfig(dataPath: "synthetic")
        c.model = .ar
        c.window = 24
        c.horizon = 2
        c.steps = steps
        c.highwayWindow = 12
        c.epochs = 30
        c.batchSize = 32
        c.learningRate = 0.01
        c.plotSeries = [0, 2]
        return c
    }

    @Test("ar learns the synthetic series and writes the whole run directory")
    func arRunDirectory() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try ForecastTrainer(config: Self.arConfig(), runDirectory: dir, data: Self.series)
        let s = try trainer.run()
        #expect(s.test.rse < 0.5 && s.test.corr > 0.8, "\(s.test)")
        #expect(s.bestEpoch >= 1 && s.bestEpoch <= 30 && s.epochs == 30)
        // the kept epoch is the best validation RSE of metrics.csv
        let bestRSE = trainer.history.map(\.valid.rse).min()!
        #expect(trainer.history[s.bestEpoch - 1].valid.rse == bestRSE)
        #expect(abs(s.valid.rse - bestRSE) < 1e-9)
        for f in ["config.json", "metrics.csv", "summary.json", "predictions.csv", "forecast.svg", "forecast.png", "checkpoint.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f) missing")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("summary.json"))) as! [String: Any]
        for split in ["test", "valid"] {
            let scores = json[split] as! [String: Any]
            #expect(Set(scores.keys) == ["rse", "rae", "corr"])
        }
        let csv = try String(contentsOf: dir.appendingPathComponent("predictions.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "row,horizon,true_0,pred_0,true_1,pred_1,true_2,pred_2")
        #expect(csv.count == 1 + trainer.windows.test.count)
        let metrics = try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 31 && metrics[0] == "epoch,train_loss,valid_rse,valid_rae,valid_corr,seconds")
        // predictions.csv holds the truth in the data's units and the scores recompute from it
        let first = csv[1].split(separator: ",").map { Double($0)! }
        #expect(Int(first[0]) == trainer.windows.test[0] && abs(first[2] - Double(Self.series[trainer.windows.test[0], 0])) < 1e-6)
    }

    @Test("multi-step: one score per horizon, and the same seed gives the same run")
    func multiStepAndDeterminism() throws {
        var results: [ForecastSummary] = []
        for _ in 0..<2 {
            let dir = try Self.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            var c = Self.arConfig(steps: 3)
            c.epochs = 5
            results.append(try ForecastTrainer(config: c, runDirectory: dir, data: Self.series).run())
        }
        let s = results[0]
        #expect(s.testPerHorizon.map(\.horizon) == [2, 3, 4])
        #expect(s.test.rse == results[1].test.rse && s.test.corr == results[1].test.corr)
        #expect(s.testPerHorizon.allSatisfy { $0.rse.isFinite && $0.corr.isFinite })
    }

    @Test("settings are checked before anything is written")
    func validation() throws {
        var c = Self.arConfig()
        c.highwayWindow = 0
        #expect(c.validationError()?.contains("--highway-window") == true)
        c = Self.arConfig()
        c.model = .lstnetSkip
        c.window = 20; c.cnnKernel = 6; c.skip = 15
        #expect(c.validationError()?.contains("--skip 15 does not fit the window") == true)
        c.skip = 14
        #expect(c.validationError() == nil && c.skipSteps == 1)
        c = Self.arConfig()
        c.window = 500
        #expect(c.validationError(rows: 400)?.contains("longer than the data") == true)
        c = Self.arConfig()
        c.plotSeries = [3]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hk-forecast-never-\(UUID().uuidString)")
        #expect(throws: ForecastError.self) { _ = try ForecastTrainer(config: c, runDirectory: dir, data: Self.series) }
        #expect(!FileManager.default.fileExists(atPath: dir.path))
        // without a recurrent layer the GRU-based models say so
        c = Self.arConfig()
        c.model = .lstnetSkip
        var rng = SeededGenerator(seed: 1)
        #expect(throws: ForecastError.self) { _ = try LSTNetForecaster(config: c, series: 3, rng: &rng, recurrent: nil) }
    }

    @Test("LSTNet (skip, attention, plain GRU): shapes and a whole-model gradient check, stand-in and real GRU",
          arguments: [ForecastModelKind.lstnetSkip, .lstnetAttn, .gru])
    func lstnetWiring(kind: ForecastModelKind) throws {
        var c = ForecastConfig(dataPath: "synthetic")
        c.model = kind
        c.window = 9; c.cnnKernel = 3; c.hidCNN = 3; c.hidRNN = 4; c.hidSkip = 2; c.skip = 3
        c.highwayWindow = 4; c.steps = 2; c.dropout = 0.2; c.output = .tanh
        #expect(c.validationError() == nil)
        // with the stand-in and with the real GRU: the skip-GRU's and the attention's gradient
        // check inside the whole model
        let encoders = [("stand-in", stepwise)] + (RecurrentEncoders.makeGRU.map { [("GRU", $0)] } ?? [])
        for (label, encoder) in encoders {
            var rng = SeededGenerator(seed: 3)
            let model = try LSTNetForecaster(config: c, series: 2, rng: &rng, recurrent: encoder)
            if let conv = model.conv { conv.bias.value = Tensor(shape: [3], repeating: 3) }   // away from ReLU's kink
            var xr = SeededGenerator(seed: 4)
            let x = Tensor.uniform(shape: [3, 9, 2], in: -1..<1, rng: &xr)
            let report = try GradientCheck.check(inputs: [x], parameters: model.parameters) { _, v in
                var r = SeededGenerator(seed: 9)   // the same dropout masks every call
                return try model.forward(v[0], training: true, rng: &r)
            }
            #expect(report.passed, "\(kind) with \(label): \(report)")
        }
        var rng = SeededGenerator(seed: 3)
        let model = try LSTNetForecaster(config: c, series: 2, rng: &rng, recurrent: stepwise)
        var xr = SeededGenerator(seed: 4)
        let x = Tensor.uniform(shape: [3, 9, 2], in: -1..<1, rng: &xr)
        let tape = Tape()
        var r = SeededGenerator(seed: 9)
        #expect(try model.forward(tape.constant(x), training: false, rng: &r).shape == [3, 2, 2])
        let names = model.parameters.map(\.name)
        #expect(names.contains("linear1.weight") && names.contains("highway.weight"))
        #expect(names.contains("conv1.weight") == (kind != .gru))
        #expect(names.contains("attention.weight") == (kind == .lstnetAttn))
    }

    @Test("lstnet-skip end to end on the synthetic series (tiny sizes, two epochs)")
    func lstnetSkipRun() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = Self.arConfig()
        c.model = .lstnetSkip
        c.window = 30; c.cnnKernel = 3; c.hidCNN = 4; c.hidRNN = 5; c.hidSkip = 2; c.skip = 7
        c.epochs = 2
        let trainer = try ForecastTrainer(config: c, runDirectory: dir, data: Self.series)
        let s = try trainer.run()
        #expect(s.test.rse.isFinite && s.test.corr.isFinite && s.epochs == 2)
        #expect(s.modelSummary.contains("GRUskip") && s.modelSummary.contains("period 7, 3 steps"))
        let names = trainer.model.parameters.map(\.name)
        #expect(names.contains("GRU1.weight_ih_l0") && names.contains("GRUskip.weight_hh_l0"))
    }

    @Test("bench forecast-step stops with an error once the loss is non-finite, rather than timing steps that skip the backward")
    func benchStopsOnNonFiniteLoss() throws {
        var c = Self.arConfig()
        c.learningRate = .greatestFiniteMagnitude; c.clip = 0   // weights overflow after the first step
        #expect(throws: ForecastError.self) { try ForecastStepBenchmark(config: c, series: 3, iterations: 5, warmup: 2).run() }
        c.learningRate = 0.01
        let r = try ForecastStepBenchmark(config: c, series: 3, iterations: 3, warmup: 1).run()
        #expect(r.loss.isFinite && r.times.steps == 3)
    }
}
