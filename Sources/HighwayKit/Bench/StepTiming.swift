// The timing loop every step benchmark shares: warm up, time each step alone, report the median.
import Foundation

/// What a step benchmark measured: the median and the fastest of the timed steps, how many were
/// timed, and examples per second at the median.
public struct StepTimes: Sendable {
    public var medianSeconds: Double
    public var minSeconds: Double
    public var steps: Int
    public var samplesPerSecond: Double
}

/// The times of `count` calls of `step` (each `batch` examples) after `warmup` untimed ones.
func timeSteps(warmup: Int, count: Int, batch: Int, _ step: () -> Void) -> StepTimes {
    for _ in 0..<warmup { step() }
    var times: [Double] = []
    times.reserveCapacity(count)
    for _ in 0..<count {
        let t0 = DispatchTime.now().uptimeNanoseconds
        step()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    times.sort()
    return StepTimes(medianSeconds: times[times.count / 2], minSeconds: times[0], steps: times.count,
                     samplesPerSecond: Double(batch) / times[times.count / 2])
}
