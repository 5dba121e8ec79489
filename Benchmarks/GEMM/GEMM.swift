// GEMM throughput of every kernel variant on the shapes HighwayKit's layers use, plus squares.
//
// Shapes are M×N×K: C (M×N) = A (M×K) · B (K×N), row-major, no transposes. 128×N×K are the
// forward products of a batch of 128; 50×50×128 is a weight gradient. Each shape runs on one
// thread and on all of the pool's threads (HIGHWAY_THREADS, else the number of cores), for every
// kernel variant this CPU supports.
//
// One benchmark iteration is a batch of `calls` products (about 20 MFLOP, ~0.2 ms at 100 GFLOP/s),
// so the harness's per-iteration cost stays small beside the work. Metrics:
//   FLOP/s   the batch's 2·M·N·K·calls over its own monotonic-clock time, shown in G (= GFLOP/s)
//   wallClock, throughput   per iteration, i.e. per batch of `calls` products (in the name)
//   mallocCountTotal        should be 0: a product allocates nothing

import Benchmark
import HighwayKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// GFLOP/s are recorded as FLOP/s (the metric takes integers) and displayed in units of 10⁹.
let flopsPerSecond = BenchmarkMetric.custom("FLOP/s", polarity: .prefersLarger, useScalingFactor: false)

/// The three operands of one shape, 64-byte aligned, filled once with a fixed pattern.
final class Operands: @unchecked Sendable {
    let m: Int, n: Int, k: Int
    let a: UnsafeMutablePointer<Float>
    let b: UnsafeMutablePointer<Float>
    let c: UnsafeMutablePointer<Float>

    init(m: Int, n: Int, k: Int) {
        self.m = m; self.n = n; self.k = k
        a = Operands.buffer(m * k, seed: 1)
        b = Operands.buffer(k * n, seed: 2)
        c = Operands.buffer(m * n, seed: 3)
    }

    deinit { a.deallocate(); b.deallocate(); c.deallocate() }

    static func buffer(_ count: Int, seed: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        for i in 0..<count { p[i] = Float((i &* 7919 &+ seed &* 104_729) % 2003) / 1001.5 - 1 }
        return p
    }

    /// C = A·B.
    @inline(__always)
    func gemm(variant: KernelVariant, threads: Int) {
        Kernels.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n,
                     variant: variant, threads: threads)
    }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [flopsPerSecond, .wallClock, .throughput, .mallocCountTotal],
        units: [flopsPerSecond: .giga],
        warmupIterations: 5,
        maxDuration: .milliseconds(600),
        maxIterations: 2_000
    )

    let shapes = [
        (128, 50, 50), (128, 100, 50), (128, 784, 50), (128, 142, 71), (50, 50, 128),
        (256, 256, 256), (512, 512, 512), (1024, 1024, 1024),
    ]
    let threadCounts = ThreadPool.threads > 1 ? [1, ThreadPool.threads] : [1]

    for (m, n, k) in shapes {
        let operands = Operands(m: m, n: n, k: k)
        let flops = 2 * m * n * k
        let calls = max(1, 20_000_000 / flops)
        for threads in threadCounts {
            for variant in KernelVariant.supported.reversed() {
                let name = "gemm \(m)x\(n)x\(k) \(variant) threads=\(threads) (\(calls) calls/iteration)"
                Benchmark(name) { benchmark in
                    let start = monotonicSeconds()
                    for _ in 0..<calls { operands.gemm(variant: variant, threads: threads) }
                    let seconds = monotonicSeconds() - start
                    benchmark.measurement(flopsPerSecond, Int((Double(flops * calls) / seconds).rounded()))
                    blackHole(operands.c[0])
                }
            }
        }
    }
}
