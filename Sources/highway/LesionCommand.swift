import ArgumentParser
import Foundation
import HighwayKit

/// `highway lesion RUN_DIR`: the paper's layer-lesion study on a trained highway network.
struct LesionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesion",
        abstract: "Lesion each highway layer in turn (gate forced to 0) and measure loss and error.",
        discussion: """
            For every highway layer of the run's checkpoint, forces its transform gate to 0 (the
            layer copies its input), evaluates the whole split, and records loss and error. Prints a
            table and writes lesion.json, lesion.svg and lesion.png into RUN_DIR, the unlesioned
            values drawn dashed (figure 4 of "Training Very Deep Networks").
            """)

    @Argument(help: "A run directory written by `highway train` (a highway model).") var runDirectory: String
    @Option(help: "Directory of the data set (default: the one the run was trained on).") var data: String?
    @Option(help: "train or test.") var split = "train"
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if !["train", "test"].contains(split) { throw ValidationError("--split must be train or test, got \(split).") }
    }

    func run() throws {
        try validateRunDirectory(runDirectory)   // paths here, not in validate(): see TrainCommand.checkPaths
        try validateRunData(runDirectory, data: data)
        try runtime.apply()
        var bar: LoopProgress?
        let r = try Lesion.run(runDirectory: URL(fileURLWithPath: runDirectory), dataDirectory: data, split: split) { done, total in
            if bar == nil { bar = LoopProgress(total: total, label: "lesioning") }
            bar?.update(completed: done, note: "layer \(done)")
        }
        bar?.finish()
        print(String(format: "unlesioned: loss %.4f, error %.2f%% (%@ set, %d examples)", r.baseline.loss, r.baseline.error * 100, r.split, r.examples))
        print(" layer │    loss │  error │ Δ error (points)")
        for p in r.layers {
            print(String(format: " %5d │ %7.4f │ %5.2f%% │ %+7.2f", p.layer, p.loss, p.error * 100, (p.error - r.baseline.error) * 100))
        }
        print("→ \(runDirectory)/lesion.json, lesion.svg, lesion.png")
    }
}
