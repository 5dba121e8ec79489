// Times steady-state SGD steps of an LSTM: the workload behind `highway bench lstm-step` and the
// PyTorch comparison (Scripts/compare_lstm_step.py runs the same step with nn.LSTM).
//
// One step = LSTM forward over the whole sequence (batch-first), mean squared error of the output
// against a fixed random target, backward through time, SGD update (lr 0.01), on one fixed random
// batch. The input needs no gradient (as in PyTorch, where it does not require grad). Warm-up
// steps first; the step runs on the raw-buffer pair and one workspace, so it allocates nothing.

import Foundation
import HighwayNN
import HighwayTensor

public struct LSTMStepBenchmark: Sendable {
    public var inputSize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var steps: Int
    public var batchSize: Int
    public var iterations: Int
    public var warmup: Int

    public init(inputSize: Int = 128, hiddenSize: Int = 128, layers: Int = 1, steps: Int = 50, batchSize: Int = 32,
                iterations: Int = 100, warmup: Int = 10) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.steps = steps
        self.batchSize = batchSize
        self.iterations = iterations
        self.warmup = warmup
    }

    public struct Result: Sendable {
        public var times: StepTimes
        public var loss: Float
    }

    /// A network, its workspace and a batch, built once; `step()` is one training step.
    public final class State {
        public let lstm: LSTM
        let sgd: SGD
        let workspace: RecurrentWorkspace
        let x: Tensor, target: Tensor
        let y: FloatBuffer, dy: FloatBuffer

        public init(_ b: LSTMStepBenchmark) throws {
            var rng = SeededGenerator(seed: 1)
            lstm = LSTM(name: "lstm", inputSize: b.inputSize, hiddenSize: b.hiddenSize, layers: b.layers, rng: &rng)
            sgd = try SGD(learningRate: 0.01)
            workspace = lstm.makeWorkspace(batch: b.batchSize, steps: b.steps)
            x = .uniform(shape: [b.batchSize, b.steps, b.inputSize], in: -1..<1, rng: &rng)
            target = .uniform(shape: [b.batchSize, b.steps, b.hiddenSize], in: -1..<1, rng: &rng)
            y = FloatBuffer(count: target.count)
            dy = FloatBuffer(count: target.count)
        }

        /// One SGD step; returns the loss before the update.
        @discardableResult
        public func step() -> Float {
            for p in lstm.parameters { p.zeroGrad() }
            lstm.forward(x: x.unsafePointer, output: y.base, workspace: workspace)
            // loss = mean((y − target)²)  ⇒  dy = 2·(y − target) / n; sixteen partial sums, so the
            // loss is not one chain of n dependent additions
            let n = target.count, t = target.unsafePointer, scale = 2 / Float(n)
            var partial = SIMD16<Float>(), i = 0
            while i + 16 <= n {
                let d = SIMD16<Float>(UnsafeBufferPointer(start: y.base + i, count: 16))
                    - SIMD16<Float>(UnsafeBufferPointer(start: t + i, count: 16))
                partial += d * d
                UnsafeMutableRawPointer(dy.base + i).storeBytes(of: scale * d, as: SIMD16<Float>.self)
                i += 16
            }
            var loss = partial.sum()
            for j in i..<n {
                let d = y.base[j] - t[j]
                loss += d * d
                dy.base[j] = scale * d
            }
            lstm.backward(dOutput: dy.base, dx: nil, workspace: workspace)
            sgd.step(lstm.parameters)
            return loss / Float(n)
        }
    }

    public func run() throws -> Result {
        let state = try State(self)
        var loss: Float = 0
        let times = timeSteps(warmup: warmup, count: iterations, batch: batchSize) { loss = state.step() }
        return Result(times: times, loss: loss)
    }
}
