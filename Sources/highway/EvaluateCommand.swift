import ArgumentParser
import Foundation
import HighwayKit

/// `highway evaluate RUN_DIR`: the test metrics of a run's checkpoint.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a run's checkpoint on the test set; prints and writes evaluation.json.")

    @Argument(help: "A run directory written by `highway train`.") var runDirectory: String
    @Option(help: "Directory of the data set (default: the one the run was trained on).") var data: String?
    @Option(help: "test or train.") var split = "test"
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if !["test", "train"].contains(split) { throw ValidationError("--split must be test or train, got \(split).") }
    }

    func run() throws {
        try validateRunDirectory(runDirectory)   // paths here, not in validate(): see TrainCommand.checkPaths
        try validateRunData(runDirectory, data: data)
        try runtime.apply()
        let r = try Evaluation.run(runDirectory: URL(fileURLWithPath: runDirectory), dataDirectory: data, split: split)
        print(String(format: "%@ %@: accuracy %.2f%%, loss %.4f (%d examples) → %@", runDirectory, split,
                     r.accuracy * 100, r.loss, r.examples, r.outputPath))
    }
}
