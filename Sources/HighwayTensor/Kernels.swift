import HighwayKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An instruction-set variant of the compute kernels.
///
/// Every kernel exists once per variant; ``Kernels/variant`` picks the one used by default. The
/// environment variable `HIGHWAY_KERNELS=generic|avx2|avx512` forces one, so every variant can be
/// tested and benchmarked on a single machine.
public enum KernelVariant: Int32, CaseIterable, Sendable, CustomStringConvertible {
    /// Portable C: SSE2 on x86-64, NEON on arm64 (the compiler's choice).
    case generic = 0
    /// AVX2 with FMA.
    case avx2 = 1
    /// AVX-512 F/VL/BW/DQ.
    case avx512 = 2

    /// Whether this CPU can run the variant.
    public var isSupported: Bool { hk_isa_supported(rawValue) != 0 }

    /// The variants this CPU can run, slowest first.
    public static var supported: [KernelVariant] { allCases.filter(\.isSupported) }

    /// The fastest variant this CPU runs.
    public static var best: KernelVariant { KernelVariant(rawValue: hk_isa_best()) ?? .generic }

    /// `generic`, `avx2` or `avx512`, as `HIGHWAY_KERNELS` spells it.
    public var description: String { String(cString: hk_isa_name(rawValue)) }

    /// Parses a name as `HIGHWAY_KERNELS` spells it.
    public init?(name: String) {
        guard let v = KernelVariant.allCases.first(where: { $0.description == name.lowercased() })
        else { return nil }
        self = v
    }
}

/// Entry points to the compute kernels: matrix products and vectorised elementwise functions.
public enum Kernels {
    nonisolated(unsafe) private static var _variant: KernelVariant = defaultVariant()

    /// The variant used when a call does not name one. Starts as `HIGHWAY_KERNELS` if set (an
    /// unknown or unsupported value is reported on standard error and the best variant is used),
    /// otherwise ``KernelVariant/best``.
    public static var variant: KernelVariant {
        get { _variant }
        set {
            precondition(newValue.isSupported, "kernel variant \(newValue) is not supported by this CPU")
            _variant = newValue
        }
    }

    static func defaultVariant() -> KernelVariant {
        guard let raw = getenv("HIGHWAY_KERNELS").map({ String(cString: $0) }), !raw.isEmpty else {
            return .best
        }
        guard let v = KernelVariant(name: raw) else {
            let names = KernelVariant.allCases.map(\.description).joined(separator: ", ")
            fputs("highway: HIGHWAY_KERNELS=\(raw) is not a kernel variant (expected one of \(names)); using \(KernelVariant.best)\n", stderr)
            return .best
        }
        guard v.isSupported else {
            fputs("highway: HIGHWAY_KERNELS=\(raw): this CPU does not support \(v); using \(KernelVariant.best)\n", stderr)
            return .best
        }
        return v
    }

    /// Single-precision matrix product, row-major: `C = alpha·op(A)·op(B) + beta·C`.
    ///
    /// `op(A)` is `m×k` (A is `m×k`, or `k×m` when `transA`), `op(B)` is `k×n` (B is `k×n`, or
    /// `n×k` when `transB`), C is `m×n`. With `beta == 0`, C is not read. Runs on the
    /// ``ThreadPool`` when `threads` allows and the product is large enough to pay for it;
    /// every element is computed the same way whatever the split, so results are bit-identical
    /// for any thread count.
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
        variant: KernelVariant? = nil, threads: Int? = nil
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(lda >= max(1, transA ? m : k) && ldb >= max(1, transB ? k : n) && ldc >= max(1, n),
                     "gemm: leading dimension too small (lda=\(lda) ldb=\(ldb) ldc=\(ldc) for m=\(m) n=\(n) k=\(k))")
        let nt = min(threads ?? ThreadPool.threads, ThreadPool.threads)
        hk_sgemm_threaded((variant ?? Kernels.variant).rawValue, Int32(nt), transA ? 1 : 0, transB ? 1 : 0,
                          m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// `y[i] = exp(x[i])`, vectorised; `y` may be `x`.
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, variant: KernelVariant? = nil) {
        hk_vexp((variant ?? Kernels.variant).rawValue, count, x, y)
    }

    /// `y[i] = tanh(x[i])`, vectorised; `y` may be `x`.
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, variant: KernelVariant? = nil) {
        hk_vtanh((variant ?? Kernels.variant).rawValue, count, x, y)
    }

    /// `y[i] = 1 / (1 + exp(−x[i]))`, vectorised; `y` may be `x`.
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, variant: KernelVariant? = nil) {
        hk_vsigmoid((variant ?? Kernels.variant).rawValue, count, x, y)
    }
}

/// The persistent thread pool every parallel kernel runs on.
///
/// Its size starts at `HIGHWAY_THREADS` if set, else the number of online cores; the `highway`
/// tool's `--threads` sets it. Work item `i` always runs on thread `i % threads`, so a given
/// thread count always splits work the same way (DESIGN.md decision 7).
public enum ThreadPool {
    /// The number of threads, the caller included.
    public static var threads: Int {
        get { Int(hk_pool_threads()) }
        set {
            precondition(newValue >= 1, "thread count must be at least 1, got \(newValue)")
            hk_pool_set_threads(Int32(min(newValue, 256)))
        }
    }

    /// Allocation-free fork/join for hot loops: runs `task(context, i)` for every `i` in
    /// `0..<count` across the pool (index i on thread i % threads). `task` must capture nothing;
    /// pass state through `context` (e.g. `Unmanaged.passUnretained(object).toOpaque()`).
    public static func parallelFor(_ count: Int, context: UnsafeMutableRawPointer,
                                   _ task: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void) {
        hk_pool_run(count, task, context)
    }

    /// Runs `body(i)` for every `i` in `0..<count` across at most `threads` threads and returns
    /// when all are done. Nested calls run serially on the calling thread.
    public static func parallelFor(_ count: Int, threads: Int? = nil, _ body: (Int) -> Void) {
        if count <= 0 { return }
        let nt = min(threads ?? Self.threads, Self.threads)
        if count == 1 || nt <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        // The closure travels to the C pool as a pointer to a local. Swift boxes its context (two
        // small allocations per call): hot loops use parallelFor(_:context:_:) instead.
        withoutActuallyEscaping(body) { body in
            var task = body
            withUnsafeMutablePointer(to: &task) { ptr in
                hk_pool_run(count, { ctx, i in
                    ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(i)
                }, ptr)
            }
        }
    }
}
