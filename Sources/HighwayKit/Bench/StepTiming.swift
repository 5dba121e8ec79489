// The timing loop every step benchmark shares: warm up, time each step alone, report the median.
import Foundation

/// Median and minimum seconds of `count` calls of `step` after `warmup` untimed ones.
func timeSteps(warmup: Int, count: Int, _ step: () -> Void) -> (median: Double, min: Double, samples: Int) {
    for _ in 0..<warmup { step() }
    var times: [Double] = []
    times.reserveCapacity(count)
    for _ in 0..<count {
        let t0 = DispatchTime.now().uptimeNanoseconds
        step()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    times.sort()
    return (times[times.count / 2], times[0], times.count)
}
