// One SGD training step (forward, mean cross-entropy, backward, update) of the REFERENCE.md §6
// workloads: batch 128, 784 inputs, 50 hidden layers, 10 classes; highway width 50 and 71 (tanh),
// plain width 71 (ReLU); on one thread and on all of the pool's threads.
//
// One iteration is one step on a fixed random batch. mallocCountTotal must be 0: the step reuses
// its workspaces (DESIGN.md decision 3). Scripts/compare_train_step.py times the same step in
// PyTorch and JAX.

import Benchmark
import HighwayKit

let workloads: [(ModelKind, Int, Activation)] = [(.highway, 50, .tanh), (.highway, 71, .tanh), (.plain, 71, .relu)]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        // no .instructions: reading the perf counters itself allocates 16 times per iteration
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 20,
        scalingFactor: .one,
        maxDuration: .seconds(3),
        maxIterations: 1000
    )
    for threads in Set([1, ThreadPool.threads]).sorted() {
        for (kind, width, activation) in workloads {
            let name = "train-step \(kind) w\(width) \(activation) depth50 batch128 threads=\(threads)"
            Benchmark(name) { benchmark, state in
                ThreadPool.threads = max(ThreadPool.threads, threads)
                for _ in benchmark.scaledIterations {
                    state.step()
                }
            } setup: {
                try StepState(kind: kind, width: width, activation: activation, threads: threads)
            }
        }
    }
}

/// A network, an optimiser and a batch, built once per benchmark.
final class StepState: @unchecked Sendable {
    let net: FeedForwardNetwork
    let sgd: SGD
    let x: Tensor
    let labels: [Int32]
    let threads: Int

    init(kind: ModelKind, width: Int, activation: Activation, threads: Int) throws {
        net = FeedForwardNetwork(config: NetworkConfig(kind: kind, inputSize: 784, classes: 10, depth: 50,
                                                       width: width, activation: activation), seed: 1)
        sgd = try SGD(learningRate: 0.01)
        var rng = SeededGenerator(seed: 2)
        x = Tensor.uniform(shape: [128, 784], in: 0..<1, rng: &rng)
        labels = (0..<128).map { Int32($0 % 10) }
        self.threads = threads
        step()  // creates the workspaces and the optimiser's state outside the measurement
    }

    @inline(__always)
    func step() {
        labels.withUnsafeBufferPointer { lp in
            _ = net.trainStep(x: x.unsafePointer, labels: lp.baseAddress!, rows: 128, threads: threads)
        }
        sgd.step(net.parameters)
    }
}
