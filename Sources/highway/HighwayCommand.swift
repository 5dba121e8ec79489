// The `highway` command-line tool: parses arguments and calls the library, nothing else
// (DESIGN.md). Each subcommand lives in its own file, named for the command it holds.

import ArgumentParser
import Foundation
import HighwayKit

@main
struct HighwayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "highway",
        abstract: "Train, study and benchmark gated deep networks (highway, LSTM/GRU, Grid LSTM, LSTNet) on the CPU.",
        discussion: """
            HighwayKit trains highway networks, LSTM/GRU, Grid LSTM and LSTNet fast on an \
            ordinary CPU, using hand-fused kernels picked at run time for the instruction set \
            (AVX-512, AVX2+FMA or a portable fallback), and reproduces the papers' experiments.

            Environment:
              HIGHWAY_KERNELS  force a kernel variant: generic, avx2 or avx512
                               (default: the best this CPU runs)
              HIGHWAY_THREADS  threads in the pool (default: the number of cores)

            Examples:
              highway demo
              highway train --data ../shared/data/mnist
              highway train --resume runs/highway50-mnist-seed1
              highway evaluate runs/highway50-mnist-seed1
              highway lesion runs/highway50-mnist-seed1
              highway gates runs/highway50-mnist-seed1
              highway depth-sweep --data ../shared/data/mnist --depths 10,20,50 --out runs/sweep
              highway parity --bits 16
              highway forecast --model ar --data ../shared/data/exchange_rate/exchange_rate.txt.gz --horizon 3
              highway bench train-step --threads 1
              highway bench gemm --m 512 --n 512 --k 512

            Exit status: 0 on success, 2 for an unusable command line, 1 for a failure while running.
            """,
        version: highwayKitVersion,
        subcommands: [DemoCommand.self, TrainCommand.self, EvaluateCommand.self, DepthSweepCommand.self, LesionCommand.self,
                      GatesCommand.self, ForecastCommand.self, ParityCommand.self, AdditionCommand.self,
                      MemorizeCommand.self, CharLMCommand.self, CompareCommand.self, BenchCommand.self]
    )

    /// Exit codes: 0 success (and --help/--version), 2 for a command line that cannot work (bad
    /// option values, unknown data set names — a one-line error with the fix), 1 for a failure
    /// while running (a missing or broken file, a diverging run), with the message of the error.
    static func main() {
        do {
            var saveArguments: (() throws -> Void)?
            let args = joiningNegativeValues(Array(CommandLine.arguments.dropFirst()))
            var command = try parseAsRoot(try replayingRunArguments(args, save: &saveArguments))
            try saveArguments?()   // a resumed run's new budget, once it parsed
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                // one line, the message with its fix (the usage text would bury it)
                FileHandle.standardError.write(Data(("Error: " + message(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// `--name -1` as `--name=-1`: ArgumentParser reads a token that starts with "-" as an option, so
/// a negative value would be "missing" instead of refused by the option's own check. No positional
/// argument of this tool is a negative number.
func joiningNegativeValues(_ args: [String]) -> [String] {
    var out: [String] = []
    for a in args {
        let negative = a.count > 1 && a.hasPrefix("-") && a.dropFirst().first.map { $0.isNumber || $0 == "." } == true
        if negative, let last = out.last, last.hasPrefix("--"), !last.contains("=") {
            out[out.count - 1] = last + "=" + a
        } else {
            out.append(a)
        }
    }
    return out
}
