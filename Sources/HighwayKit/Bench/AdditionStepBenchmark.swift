// Times one training step of `highway addition`'s models: the workload behind
// `highway bench addition-step` and Scripts/compare_addition_step.py, which runs the same step in
// PyTorch (eager) and JAX (jit) beside it.
//
// One step is exactly what the task's trainer does per batch: the 2-LSTM (or the stacked LSTM
// matched to it by parameter count) over a batch of addition problems, softmax cross-entropy on the
// sum's digits, backward through the grid, global gradient-norm clip at 1, Adam (lr 0.003). The
// batch is drawn once (the data pipeline is not timed); warm-up steps first, then each step timed
// alone, and the median is the figure.

import Foundation
import HighwayNN
import HighwayTensor

public struct AdditionStepBenchmark: Sendable {
    /// `.grid` (2-LSTM) or `.stacked` (the stacked LSTM the task matches to it).
    public var model: GridTaskModel
    public var digits: Int
    /// The 2-LSTM's width; the stacked LSTM's is matched by parameter count, as in the task.
    public var width: Int
    public var depth: Int
    public var tied: Bool
    public var batchSize: Int
    public var iterations: Int
    public var warmup: Int
    /// The task's training aid (``AdditionAid``; nil: none): more heads and, with column or queue
    /// targets, more output steps.
    public var aid: AdditionAid? = nil

    public init(model: GridTaskModel = .grid, digits: Int = 15, width: Int = 64, depth: Int = 4, tied: Bool = true,
                batchSize: Int = 32, iterations: Int = 50, warmup: Int = 5) {
        self.model = model
        self.digits = digits
        self.width = width
        self.depth = depth
        self.tied = tied
        self.batchSize = batchSize
        self.iterations = iterations
        self.warmup = warmup
    }

    public struct Result: Sendable {
        public var times: StepTimes
        /// The width the model ran at (the stacked LSTM's matched width).
        public var width: Int
        public var parameters: Int
        /// The loss of the last timed step (before its update).
        public var loss: Float
    }

    public func run() throws -> Result {
        precondition(model == .grid || model == .stacked, "addition-step: the model is grid or stacked")
        var task = SequenceTask(kind: .addition, length: digits, outputDirectory: URL(fileURLWithPath: "/dev/null"))
        task.aid = aid
        let (V, C, T, _) = task.shape, layout = task.layout
        let (net, w) = SequenceTask.matchedNet(model, inputs: V, classes: C, steps: T, layout: layout, width: width, depth: depth,
                                               tied: tied, seed: 1)
        var rng = SeededGenerator(seed: 2)
        let (x, labels) = task.stream().draw(batchSize, &rng)
        let tape = Tape(), adam = try Adam(learningRate: 0.003)
        var loss: Float = 0, failure: (any Error)? = nil
        let times = timeSteps(warmup: warmup, count: iterations, batch: batchSize) {
            guard failure == nil else { return }
            do {
                loss = Float(try GridTrainer.lossAndGradients(net, x: x, labels: labels, tape: tape))
                _ = GridTrainer.update(net, optimizer: adam, clip: 1)
            } catch { failure = error }
        }
        if let failure { throw failure }
        return Result(times: times, width: w, parameters: net.parameterCount, loss: loss)
    }
}
