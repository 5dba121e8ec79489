// Times one training step of `highway forecast`'s models: the workload behind
// `highway bench forecast-step` and Scripts/compare_forecast_step.py, which runs the reference
// LSTNet (laiguokun/LSTNet's models/LSTNet.py, in PyTorch) and a JAX port beside it.
//
// One step is what the forecasting trainer does per batch: the model over a batch of windows
// (dropout on), the L1 loss summed over the batch on the rescaled values, backward, joint
// gradient-norm clip at 10, Adam (lr 0.001). The batch is drawn once (the data pipeline is not
// timed); warm-up steps first, then each step timed alone, and the median is the figure.

import Foundation
import HighwayNN
import HighwayTensor

public struct ForecastStepBenchmark: Sendable {
    /// The model and its sizes (the data path is not read).
    public var config: ForecastConfig
    public var series: Int
    public var iterations: Int
    public var warmup: Int

    public init(config: ForecastConfig, series: Int = 8, iterations: Int = 30, warmup: Int = 5) {
        self.config = config
        self.series = series
        self.iterations = iterations
        self.warmup = warmup
    }

    public struct Result: Sendable {
        public var times: StepTimes
        public var parameters: Int
        /// The loss of the last timed step (before its update), per forecast value.
        public var loss: Float
    }

    public func run() throws -> Result {
        let c = config, m = series
        let model = try makeForecastModel(c, series: m)
        let params = model.parameters
        var rng = SeededGenerator(seed: 2), dropoutRNG = SeededGenerator(seed: 3)
        let x = Tensor.uniform(shape: [c.batchSize, c.window, m], in: 0..<1, rng: &rng)
        let y = Tensor.uniform(shape: [c.batchSize, c.steps, m], in: 0..<1, rng: &rng)
        let scale = Tensor.uniform(shape: [m], in: 0.5..<2, rng: &rng)
        let tape = Tape(), adam = try Adam(learningRate: c.learningRate)
        var loss: Float = 0, failure: (any Error)? = nil
        let times = timeSteps(warmup: warmup, count: iterations, batch: c.batchSize) {
            guard failure == nil else { return }
            do {
                let l = try ForecastTrainer.trainingStep(model, params, x: x, y: y, scale: scale, config: c, optimizer: adam, tape: tape,
                                                         rng: &dropoutRNG)
                loss = Float(l) / Float(y.count)
                // a non-finite loss returns before the backward: timing such steps would flatter them
                if !l.isFinite {
                    failure = ForecastError.invalidConfig("bench forecast-step: the loss became \(l); the steps after it would skip the backward, so their times would mean nothing")
                }
            } catch { failure = error }
        }
        if let failure { throw failure }
        return Result(times: times, parameters: params.reduce(0) { $0 + $1.value.count }, loss: loss)
    }
}
