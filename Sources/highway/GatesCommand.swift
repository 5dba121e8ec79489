import ArgumentParser
import Foundation
import HighwayKit

/// `highway gates RUN_DIR`: what the transform gates of a trained highway network learned.
struct GatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gates",
        abstract: "Analyse the transform gates of a trained highway network (biases, mean outputs, one sample, per class).",
        discussion: """
            Runs the run's checkpoint over the whole split and writes into RUN_DIR:
              gates.json          every number: per layer and unit the gate bias and mean gate
                                  output, the gate and block outputs of one sample, and per class
                                  the mean gate output minus the overall mean
              gates.svg/.png      figure 2 of "Training Very Deep Networks": four heat maps,
                                  highway layers down, units across
              gates_classes.svg/.png   figure 3: per class (the first 10), mean gate activity minus
                                  the mean over all examples
            Prints, per layer, the mean gate bias and mean gate output.
            """)

    @Argument(help: "A run directory written by `highway train` (a highway model).") var runDirectory: String
    @Option(help: "Directory of the data set (default: the one the run was trained on).") var data: String?
    @Option(help: "train or test.") var split = "train"
    @Option(help: "Index of the example whose gate and block outputs are drawn.") var sample = 0
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if !["train", "test"].contains(split) { throw ValidationError("--split must be train or test, got \(split).") }
        if sample < 0 { throw ValidationError("--sample must be ≥ 0, got \(sample).") }
    }

    func run() throws {
        try validateRunDirectory(runDirectory)   // paths here, not in validate(): see TrainCommand.checkPaths
        try validateRunData(runDirectory, data: data)
        try runtime.apply()
        var bar: LoopProgress?
        let r = try Gates.run(runDirectory: URL(fileURLWithPath: runDirectory), dataDirectory: data, split: split,
                              sampleIndex: sample) { done, total in
            if bar == nil { bar = LoopProgress(total: total, label: "gates") }
            bar?.update(completed: done, note: "\(done) examples")
        }
        bar?.finish()
        print("transform gates of \(r.layers.count) highway layers × \(r.width) units, \(r.split) set (\(r.examples) examples)")
        print(" layer │ mean bias │ mean T(x) │ T(x), sample \(r.sample.index)")
        for (l, layer) in r.layers.enumerated() {
            let s = r.sample.gates[l]
            print(String(format: " %5d │ %9.3f │ %9.3f │ %9.3f", layer.layer, layer.gateBiasMean, layer.meanGateOverall,
                         s.reduce(0, +) / Double(s.count)))
        }
        print("→ \(runDirectory)/gates.json, gates.svg, gates.png, gates_classes.svg, gates_classes.png")
    }
}
