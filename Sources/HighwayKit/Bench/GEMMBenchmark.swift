// Times `Kernels.gemm` on one shape: the workload behind `highway bench gemm`.
//
// Method: allocate A, B, C (64-byte aligned, deterministic fill), warm up, then group calls into
// batches long enough (≥ `minSampleSeconds`) that the clock's resolution and the loop cost vanish,
// and take one sample per batch until there are at least `minSamples` samples and at least
// `minSeconds` have passed. Each sample is the batch time divided by its number of calls. The
// median is the figure to quote; the minimum shows the best case.

import HighwayTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A timing of single-precision GEMM `C = op(A)·op(B)` (row-major, `op(A)` is `m×k`, `op(B)` is
/// `k×n`) for one shape, transpose combination, kernel variant and thread count.
///
/// ```swift
/// let result = GEMMBenchmark(m: 512, n: 512, k: 512, variant: .avx2, threads: 1).run()
/// print(result.gflops)
/// ```
public struct GEMMBenchmark: Sendable {
    /// Rows of `op(A)` and of C.
    public var m: Int
    /// Columns of `op(B)` and of C.
    public var n: Int
    /// Columns of `op(A)`, rows of `op(B)`.
    public var k: Int
    /// Whether A is stored `k×m` and used transposed.
    public var transA: Bool
    /// Whether B is stored `n×k` and used transposed.
    public var transB: Bool
    /// The kernel variant to time; it must be supported by this CPU.
    public var variant: KernelVariant
    /// Threads to use, at most ``ThreadPool/threads``.
    public var threads: Int
    /// Take at least this many samples.
    public var minSamples: Int
    /// Keep sampling for at least this long (seconds of sampling, warm-up excluded).
    public var minSeconds: Double
    /// Each sample times enough calls to last at least this long (seconds).
    public var minSampleSeconds: Double

    public init(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                variant: KernelVariant = Kernels.variant, threads: Int = ThreadPool.threads,
                minSamples: Int = 15, minSeconds: Double = 0.25, minSampleSeconds: Double = 0.002) {
        self.m = m; self.n = n; self.k = k
        self.transA = transA; self.transB = transB
        self.variant = variant; self.threads = threads
        self.minSamples = minSamples; self.minSeconds = minSeconds
        self.minSampleSeconds = minSampleSeconds
    }

    /// What one run measured. Times are per `gemm` call.
    public struct Result: Sendable {
        /// Median time per call, in seconds.
        public var medianSeconds: Double
        /// Fastest time per call, in seconds.
        public var minSeconds: Double
        /// Number of samples taken.
        public var samples: Int
        /// `gemm` calls timed together in each sample.
        public var callsPerSample: Int
        /// The thread count actually used: `min(threads, ThreadPool.threads)`.
        public var threads: Int
        /// Floating-point operations per call: `2·m·n·k`.
        public var flops: Double
        /// Throughput at the median time, in GFLOP/s.
        public var gflops: Double { medianSeconds > 0 ? flops / medianSeconds / 1e9 : 0 }
    }

    /// Runs the benchmark. Sizes must be at least 1 and the variant supported (checked with
    /// `precondition`: callers validate user input first).
    public func run() -> Result {
        precondition(m >= 1 && n >= 1 && k >= 1, "GEMMBenchmark: sizes must be ≥ 1 (m=\(m) n=\(n) k=\(k))")
        precondition(threads >= 1, "GEMMBenchmark: threads must be ≥ 1, got \(threads)")
        precondition(variant.isSupported, "GEMMBenchmark: kernel variant \(variant) is not supported by this CPU")

        // A is m×k (k×m when transposed), B is k×n (n×k when transposed), C is m×n.
        let lda = transA ? m : k
        let ldb = transB ? k : n
        let ldc = n
        let a = Self.alignedBuffer(count: m * k, seed: 1)
        let b = Self.alignedBuffer(count: k * n, seed: 2)
        let c = Self.alignedBuffer(count: m * n, seed: 3)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        let usedThreads = min(threads, ThreadPool.threads)
        let (m, n, k, transA, transB, variant) = (self.m, self.n, self.k, self.transA, self.transB, self.variant)

        func timeBatch(_ calls: Int) -> Double {
            let start = Self.now()
            for _ in 0..<calls {
                Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                             a: UnsafePointer(a), lda: lda, b: UnsafePointer(b), ldb: ldb,
                             c: c, ldc: ldc, variant: variant, threads: usedThreads)
            }
            return Self.now() - start
        }

        // Calibrate the batch size (this also warms caches, the thread pool and the clock speed).
        var batch = 1
        while true {
            let t = timeBatch(batch)
            if t >= minSampleSeconds || batch >= 1 << 24 { break }
            let target = minSampleSeconds * 1.25
            let scaled = t > 0 ? Int((Double(batch) * target / t).rounded(.up)) : batch * 100
            batch = min(max(scaled, batch * 2), batch * 100)
        }
        // Warm up for at least 50 ms.
        let warmStart = Self.now()
        repeat { _ = timeBatch(batch) } while Self.now() - warmStart < 0.05

        var samples: [Double] = []
        samples.reserveCapacity(max(minSamples, 64))
        let start = Self.now()
        while samples.count < minSamples || Self.now() - start < minSeconds {
            samples.append(timeBatch(batch) / Double(batch))
            if samples.count >= 1_000_000 { break }
        }
        samples.sort()
        let mid = samples.count / 2
        let median = samples.count % 2 == 1 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2
        return Result(medianSeconds: median, minSeconds: samples[0], samples: samples.count,
                      callsPerSample: batch, threads: usedThreads,
                      flops: 2 * Double(m) * Double(n) * Double(k))
    }

    /// Seconds on a monotonic clock.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// A 64-byte-aligned buffer filled with a deterministic pattern in [-1, 1).
    static func alignedBuffer(count: Int, seed: UInt32) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        let p = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        var state = seed &* 2_654_435_761 | 1
        for i in 0..<count {
            // xorshift32: cheap, deterministic, good enough for benchmark data.
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            p[i] = Float(state >> 8) * (2 / Float(1 << 24)) - 1
        }
        return p
    }
}
