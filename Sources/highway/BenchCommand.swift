import ArgumentParser

/// `highway bench`: micro-benchmarks of the kernels, each printing one JSON line.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the compute kernels and print the result as one JSON line.",
        discussion: """
            Each benchmark warms up, then times batches of calls long enough (≥ 2 ms) for the \
            clock not to matter, and reports the median and minimum time per call. Compare \
            with numpy/OpenBLAS on the same machine with Scripts/compare_gemm.py.
            """,
        subcommands: [BenchGEMMCommand.self, BenchTrainStepCommand.self, BenchLSTMStepCommand.self, BenchAdditionStepCommand.self, BenchForecastStepCommand.self]
    )
}
