// The layer-lesion study of "Training Very Deep Networks" (figure 4): for every highway layer of a
// trained network, force its transform gate to 0 — the layer then copies its input — evaluate the
// whole split, and compare the loss and error with the unlesioned network.

import Foundation
import HighwayData
import HighwayNN

public enum Lesion {
    public struct Point: Codable, Sendable, Equatable {
        /// The lesioned layer, counted from 1 (0 for the unlesioned baseline).
        public var layer: Int
        public var loss: Double
        /// Misclassified fraction.
        public var error: Double
    }

    public struct Result: Codable, Sendable {
        public var run: String
        public var dataset: String
        public var split: String
        public var examples: Int
        public var baseline: Point
        public var layers: [Point]
    }

    /// Lesions every highway layer of the run in `runDirectory` in turn and writes `lesion.json`,
    /// `lesion.svg` and `lesion.png` there. `progress` is called after each layer.
    public static func run(runDirectory: URL, dataDirectory: String?, split: String,
                           progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> Result {
        let trainer = try Trainer.reopening(runDirectory, dataDirectory: dataDirectory)
        let layers = try ExperimentError.highwayLayers(of: trainer, study: "lesion")
        let set = split == "train" ? trainer.data.train : trainer.data.test
        func measure(_ layer: Int) -> Point {
            let (loss, accuracy) = trainer.evaluate(set)
            return Point(layer: layer, loss: loss, error: 1 - accuracy)
        }
        let baseline = measure(0)
        var points: [Point] = []
        for (i, layer) in layers.enumerated() {
            layer.lesioned = true
            defer { layer.lesioned = false }
            points.append(measure(i + 1))
            progress(i + 1, layers.count)
        }
        let result = Result(run: runDirectory.path, dataset: trainer.config.dataset, split: split, examples: set.count, baseline: baseline, layers: points)
        try writeJSON(result, to: runDirectory.appendingPathComponent("lesion.json"))
        try figure(result).write(to: runDirectory.appendingPathComponent("lesion"))
        return result
    }

    /// Loss and error per lesioned layer, the unlesioned values dashed (the paper's figure 4).
    static func figure(_ r: Result) -> Figure {
        let x = r.layers.map { Double($0.layer) }
        let axis = Axis("lesioned highway layer")
        let errorTop = (r.layers.map(\.error) + [r.baseline.error]).max() ?? 0
        return Figure(title: "Lesioning one highway layer at a time: \(r.dataset), \(r.split) set (\(r.examples) examples)", panels: [
            Panel(title: "loss", x: axis, y: Axis("mean cross-entropy", scale: .log10),
                  series: [Series(name: "lesioned", x: x, y: r.layers.map(\.loss), markers: true)],
                  referenceLines: [ReferenceLine(name: "unlesioned", y: r.baseline.loss)]),
            // an error rate cannot go below 0: start the axis there, 15% headroom above
            Panel(title: "error", x: axis, y: Axis("misclassified fraction", range: 0...max(errorTop * 1.15, 1e-3)),
                  series: [Series(name: "lesioned", x: x, y: r.layers.map(\.error), markers: true)],
                  referenceLines: [ReferenceLine(name: "unlesioned", y: r.baseline.error)]),
        ])
    }
}
