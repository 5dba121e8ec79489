import ArgumentParser
import HighwayKit

/// `highway bench gemm`: times `Kernels.gemm` on one shape and prints one JSON line.
struct BenchGEMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time single-precision GEMM C = op(A)·op(B) on one shape.",
        discussion: """
            op(A) is M×K and op(B) is K×N, row-major. Prints one JSON line:
              {"bench":"gemm","m":..,"n":..,"k":..,"trans_a":..,"trans_b":..,"threads":..,
               "kernels":"avx512","median_us":..,"min_us":..,"gflops":..,"samples":..}
            gflops is 2·M·N·K divided by the median time.
            """
    )

    @Option(name: .customLong("m"), help: "Rows of op(A) and of C.")
    var m: Int

    @Option(name: .customLong("n"), help: "Columns of op(B) and of C.")
    var n: Int

    @Option(name: .customLong("k"), help: "Columns of op(A), rows of op(B).")
    var k: Int

    @Flag(name: .customLong("trans-a"), help: "Store A as K×M and use it transposed.")
    var transA = false

    @Flag(name: .customLong("trans-b"), help: "Store B as N×K and use it transposed.")
    var transB = false

    @OptionGroup var runtime: RuntimeOptions

    @Option(name: .long, help: "Take at least this many samples.")
    var repeats = 15

    @Option(name: .customLong("min-time"), help: "Keep sampling for at least this many seconds.")
    var minTime = 0.25

    func validate() throws {
        for (name, value) in [("--m", m), ("--n", n), ("--k", k)] where value < 1 {
            throw ValidationError("\(name) must be at least 1, got \(value).")
        }
        // each of A, B and C must fit in memory: at most 2^28 Floats (1 GiB) apiece
        for (name, rows, cols) in [("A", m, k), ("B", k, n), ("C", m, n)] {
            let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
            if overflow || count > 1 << 28 {
                throw ValidationError("--m, --n and --k make \(name) \(rows)×\(cols), more than 2^28 Floats (1 GiB); use smaller sizes.")
            }
        }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1, got \(repeats).") }
        if !(minTime >= 0 && minTime.isFinite) {
            throw ValidationError("--min-time must be a finite number of seconds ≥ 0, got \(minTime).")
        }
    }

    func run() throws {
        try runtime.apply()
        let bench = GEMMBenchmark(m: m, n: n, k: k, transA: transA, transB: transB,
                                  variant: Kernels.variant, threads: ThreadPool.threads,
                                  minSamples: repeats, minSeconds: minTime)
        let r = bench.run()
        let fields: [(String, String)] = [
            ("bench", "\"gemm\""),
            ("m", "\(m)"), ("n", "\(n)"), ("k", "\(k)"),
            ("trans_a", "\(transA)"), ("trans_b", "\(transB)"),
            ("threads", "\(r.threads)"),
            ("kernels", "\"\(bench.variant)\""),
            ("median_us", json(r.medianSeconds * 1e6)),
            ("min_us", json(r.minSeconds * 1e6)),
            ("gflops", json(r.gflops)),
            ("samples", "\(r.samples)"),
        ]
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
    }

    /// A JSON number with 3 decimals.
    private func json(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        return "\((x * 1000).rounded() / 1000)"
    }
}
