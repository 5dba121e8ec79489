import ArgumentParser
import HighwayKit

/// `--threads` and `--kernels`: the options every compute-heavy command shares.
///
/// Include with `@OptionGroup var runtime: RuntimeOptions` and call ``apply()`` at the start of
/// `run()`; validation runs before `run()`, so `apply()` cannot fail.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long,
            help: "Threads to use (default: HIGHWAY_THREADS, else the number of cores).")
    var threads: Int?

    @Option(name: .long,
            help: ArgumentHelp("Kernel variant: generic, avx2 or avx512 (default: HIGHWAY_KERNELS, else the best this CPU runs).",
                               valueName: "variant"))
    var kernels: String?

    func validate() throws {
        if let threads, threads < 1 || threads > 256 {
            throw ValidationError("--threads must be in 1...256, got \(threads).")
        }
        _ = try variant()
    }

    /// The variant `--kernels` names, or nil if it was not given.
    func variant() throws -> KernelVariant? {
        guard let kernels else { return nil }
        let supported = KernelVariant.supported.map(\.description).joined(separator: ", ")
        guard let v = KernelVariant(name: kernels) else {
            let all = KernelVariant.allCases.map(\.description).joined(separator: ", ")
            throw ValidationError("--kernels \(kernels) is not a kernel variant: expected one of \(all) (this CPU supports \(supported)).")
        }
        guard v.isSupported else {
            throw ValidationError("--kernels \(kernels) is not supported by this CPU: it supports \(supported).")
        }
        return v
    }

    /// Sets ``ThreadPool/threads`` and ``Kernels/variant`` from the options given.
    func apply() throws {
        if let threads { ThreadPool.threads = threads }
        if let v = try variant() { Kernels.variant = v }
    }
}
