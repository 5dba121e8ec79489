// One SGD training step of an LSTM (forward over the sequence, MSE, backward through time,
// update): the REFERENCE.md §6 workload, 128 → 128, 50 steps, batch 32, on the pool's threads
// (HIGHWAY_THREADS=1 for one; on several the batch is split, still with no allocation).
//
// One iteration is one step on a fixed random batch. mallocCountTotal must be 0: the step runs
// the raw-buffer pair on one preallocated workspace (DESIGN.md decision 3).
// Scripts/compare_lstm_step.py times the same step in PyTorch.

import Benchmark
import HighwayKit

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        // no .instructions: reading the perf counters itself allocates 16 times per iteration
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 10,
        scalingFactor: .one,
        maxDuration: .seconds(3),
        maxIterations: 500
    )
    Benchmark("lstm-step 128→128 steps50 batch32") { (benchmark: Benchmark, state: UncheckedState) in
        for _ in benchmark.scaledIterations {
            state.step()
        }
    } setup: {
        let state = try LSTMStepBenchmark.State(LSTMStepBenchmark())
        state.step()  // the optimiser's state outside the measurement
        return UncheckedState(state)
    }
}

/// The benchmark's state, built once (package-benchmark wants it Sendable; it is used on one thread).
final class UncheckedState: @unchecked Sendable {
    let state: LSTMStepBenchmark.State
    init(_ state: LSTMStepBenchmark.State) { self.state = state }
    @inline(__always) func step() { state.step() }
}
