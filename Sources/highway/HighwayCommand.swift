// The `highway` command-line tool: parses arguments and calls the library, nothing else
// (DESIGN.md). Each subcommand lives in its own file, named for the command it holds.

import ArgumentParser
import HighwayKit

@main
struct HighwayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "highway",
        abstract: "Train, evaluate and benchmark gated deep networks on the CPU.",
        discussion: """
            HighwayKit trains highway networks, GRU/LSTM, Grid LSTM and LSTNet fast on an \
            ordinary CPU, using hand-fused kernels picked at run time for the instruction set \
            (AVX-512, AVX2+FMA or a portable fallback).

            Environment:
              HIGHWAY_KERNELS  force a kernel variant: generic, avx2 or avx512
                               (default: the best this CPU runs)
              HIGHWAY_THREADS  threads in the pool (default: the number of cores)

            Examples:
              highway bench gemm --m 512 --n 512 --k 512
              highway bench gemm --m 128 --n 50 --k 50 --threads 1 --kernels avx2
            """,
        version: highwayKitVersion,
        subcommands: [DemoCommand.self, TrainCommand.self, EvaluateCommand.self, BenchCommand.self]
    )
}
