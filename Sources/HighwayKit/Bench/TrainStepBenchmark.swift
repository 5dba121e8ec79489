// Times steady-state SGD training steps: the workload behind `highway bench train-step` and the
// peers' comparison (Scripts/compare_train_step.py runs the same step in PyTorch and JAX).
//
// One step = forward, mean softmax cross-entropy, backward, SGD update, on one fixed random batch
// (the data pipeline is not timed). Warm-up steps first, so the workspaces exist and the step
// allocates nothing; then `steps` timed steps, each timed alone; the median is the figure.

import Foundation
import HighwayNN
import HighwayTensor

public struct TrainStepBenchmark: Sendable {
    public var network: NetworkConfig
    public var batchSize: Int
    public var threads: Int
    public var steps: Int
    public var warmup: Int

    public init(network: NetworkConfig, batchSize: Int = 128, threads: Int = 1, steps: Int = 200, warmup: Int = 20) {
        self.network = network
        self.batchSize = batchSize
        self.threads = threads
        self.steps = steps
        self.warmup = warmup
    }

    public struct Result: Sendable {
        public var times: StepTimes
    }

    public func run() throws -> Result {
        let net = FeedForwardNetwork(config: network, seed: 1)
        let sgd = try SGD(learningRate: 0.01)
        var rng = SeededGenerator(seed: 2)
        let x = Tensor.uniform(shape: [batchSize, network.inputSize], in: 0..<1, rng: &rng)
        let labels: [Int32] = (0..<batchSize).map { Int32($0 % network.classes) }
        func step() {
            _ = labels.withUnsafeBufferPointer { lp in
                net.trainStep(x: x.unsafePointer, labels: lp.baseAddress!, rows: batchSize, threads: threads)
            }
            sgd.step(net.parameters)
        }
        return Result(times: timeSteps(warmup: warmup, count: steps, batch: batchSize, step))
    }
}
