// The gate analysis of "Training Very Deep Networks" (figures 2 and 3): what the transform gates of
// a trained highway network learned. Per highway layer and unit: the gate bias, the mean gate
// output over a whole split, the gate outputs and block outputs for one sample; and per class, the
// mean gate output over that class's examples minus the mean over all examples.
//
// The network runs over the split in chunks (a full-split trace of 49 layers would need gigabytes);
// only the sums per class, layer and unit are kept.

import Foundation
import HighwayData
import HighwayNN

public enum Gates {
    public struct Layer: Codable, Sendable {
        /// Counted from 1, like the lesion study.
        public var layer: Int
        /// The transform-gate bias of each unit, `(width)`.
        public var gateBias: [Double]
        public var gateBiasMean: Double
        /// Each unit's gate output averaged over the split, `(width)`.
        public var meanGate: [Double]
        public var meanGateOverall: Double
    }

    public struct Sample: Codable, Sendable {
        public var index: Int
        public var label: Int
        public var className: String
        /// Per layer, each unit's gate output `(layers, width)`.
        public var gates: [[Double]]
        /// Per layer, each unit's block output `(layers, width)`.
        public var outputs: [[Double]]
    }

    public struct ClassActivity: Codable, Sendable {
        public var label: Int
        public var name: String
        public var examples: Int
        /// Per layer and unit, this class's mean gate output minus the mean over all examples,
        /// `(layers, width)`.
        public var gateMinusMean: [[Double]]
        /// The mean of |gateMinusMean| per layer: how differently this class uses each layer.
        public var meanAbsDifference: [Double]
    }

    public struct Result: Codable, Sendable {
        public var run: String
        public var dataset: String
        public var split: String
        public var examples: Int
        public var width: Int
        public var layers: [Layer]
        public var sample: Sample
        public var classes: [ClassActivity]
    }

    /// The most class panels drawn in `gates_classes.png` (all classes are in `gates.json`).
    public static let maxClassPanels = 10

    /// Analyses the gates of the run in `runDirectory` on `split` and writes `gates.json`,
    /// `gates.svg/.png` (figure 2) and `gates_classes.svg/.png` (figure 3) there. `progress` is
    /// called after each chunk of examples.
    public static func run(runDirectory: URL, dataDirectory: String?, split: String, sampleIndex: Int = 0,
                           progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> Result {
        let trainer = try Trainer.reopening(runDirectory, dataDirectory: dataDirectory)
        let network = trainer.network
        let highway = try ExperimentError.highwayLayers(of: trainer, study: "gate analysis")
        let set = split == "train" ? trainer.data.train : trainer.data.test
        guard sampleIndex >= 0, sampleIndex < set.count else {
            throw ExperimentError.invalidArgument("--sample \(sampleIndex) is outside the \(split) set (0..<\(set.count))")
        }
        let width = network.config.width, depth = highway.count, classes = set.classes
        let names = trainer.config.dataset == "synthetic" ? (0..<classes).map { "class \($0)" }
            : (DatasetKind(name: trainer.config.dataset)?.classNames ?? (0..<classes).map { "class \($0)" })

        // sums[c][l·width + u]: gate outputs of class c's examples
        var sums = [[Double]](repeating: [Double](repeating: 0, count: depth * width), count: classes)
        var counts = [Int](repeating: 0, count: classes)
        var sample: Sample?
        let chunk = 1000
        set.pixels.withUnsafeBufferPointer { pixels in
            var start = 0
            while start < set.count {
                let rows = min(chunk, set.count - start)
                let (outputs, gatesOrNil) = network.trace(x: pixels.baseAddress! + start * set.features, rows: rows)
                let gates = gatesOrNil.compactMap { $0 }
                precondition(gates.count == depth, "Gates: the trace has \(gates.count) gate layers, expected \(depth)")
                for (l, g) in gates.enumerated() {
                    let gp = g.unsafePointer
                    for r in 0..<rows {
                        let c = Int(set.labels[start + r])
                        sums[c].withUnsafeMutableBufferPointer { s in
                            for u in 0..<width { s[l * width + u] += Double(gp[r * width + u]) }
                        }
                    }
                }
                for r in 0..<rows { counts[Int(set.labels[start + r])] += 1 }
                if sampleIndex >= start && sampleIndex < start + rows {
                    let r = sampleIndex - start
                    let highwayOutputs = zip(outputs, gatesOrNil).filter { $0.1 != nil }.map(\.0)
                    func rowValues(_ t: Tensor) -> [Double] { (0..<width).map { Double(t.unsafePointer[r * width + $0]) } }
                    let label = Int(set.labels[sampleIndex])
                    sample = Sample(index: sampleIndex, label: label, className: names[label],
                                    gates: gates.map(rowValues), outputs: highwayOutputs.map(rowValues))
                }
                start += rows
                progress(start, set.count)
            }
        }
        let total = Double(set.count)
        let overall = (0..<depth * width).map { i in sums.reduce(0) { $0 + $1[i] } / total }
        var layers: [Layer] = []
        for (l, layer) in highway.enumerated() {
            let bias = layer.bias.value.unsafePointer
            let b = (0..<width).map { Double(bias[width + $0]) }
            let m = Array(overall[l * width ..< (l + 1) * width])
            layers.append(Layer(layer: l + 1, gateBias: b, gateBiasMean: mean(b), meanGate: m, meanGateOverall: mean(m)))
        }
        let activity = (0..<classes).map { c -> ClassActivity in
            let n = Double(max(counts[c], 1))
            let diff = (0..<depth).map { l in (0..<width).map { u in sums[c][l * width + u] / n - overall[l * width + u] } }
            return ClassActivity(label: c, name: names[c], examples: counts[c], gateMinusMean: counts[c] > 0 ? diff : [],
                                 meanAbsDifference: counts[c] > 0 ? diff.map { mean($0.map(abs)) } : [])
        }
        let result = Result(run: runDirectory.path, dataset: trainer.config.dataset, split: split, examples: set.count, width: width,
                            layers: layers, sample: sample!, classes: activity)
        try writeJSON(result, to: runDirectory.appendingPathComponent("gates.json"))
        try figure(result).write(to: runDirectory.appendingPathComponent("gates"))
        try classFigure(result).write(to: runDirectory.appendingPathComponent("gates_classes"))
        return result
    }

    static func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }

    /// Figure 2: four heat maps, layers down, units across.
    static func figure(_ r: Result) -> Figure {
        let unit = Axis("unit"), layer = Axis("highway layer")
        func heat(_ title: String, _ values: [[Double]], _ map: ColorMap, _ range: ClosedRange<Double>?, _ bar: String) -> Panel {
            Panel(title: title, x: unit, y: layer,
                  heatMap: HeatMap(values: values, colorMap: map, range: range, colorBarLabel: bar, xStart: 1, yStart: 1))
        }
        let outputLimit = max(r.sample.outputs.flatMap { $0 }.map(abs).max() ?? 1, 1e-6)
        return Figure(title: "Transform gates of a trained highway network (\(r.dataset), \(r.split) set, \(r.examples) examples; sample \(r.sample.index), a \(r.sample.className))",
                      panels: [
                          heat("transform gate biases", r.layers.map(\.gateBias), .viridis, nil, "bias"),
                          heat("mean transform gate outputs", r.layers.map(\.meanGate), .viridis, 0...1, "mean T(x)"),
                          heat("gate outputs, one sample", r.sample.gates, .viridis, 0...1, "T(x)"),
                          heat("block outputs, one sample", r.sample.outputs, .diverging, -outputLimit...outputLimit, "y"),
                      ], width: 2000, height: 640)
    }

    /// Figure 3: per class, mean gate output minus the mean over all classes (the first
    /// ``maxClassPanels`` classes), one colour scale for all.
    static func classFigure(_ r: Result) -> Figure {
        let shown = r.classes.filter { $0.examples > 0 }.prefix(maxClassPanels)
        let limit = max(shown.flatMap { $0.gateMinusMean.flatMap { $0 } }.map(abs).max() ?? 0, 1e-6)
        let panels = shown.map { c in
            Panel(title: "\(c.name) (\(c.examples) examples)", x: Axis("unit"), y: Axis("highway layer"),
                  heatMap: HeatMap(values: c.gateMinusMean, colorMap: .diverging, range: -limit...limit,
                                   colorBarLabel: "class mean - mean", xStart: 1, yStart: 1))
        }
        let more = r.classes.count > shown.count ? " (first \(shown.count) of \(r.classes.count) classes)" : ""
        return Figure(title: "Mean transform gate output per class minus the mean over all examples (\(r.dataset), \(r.split) set)\(more)",
                      panels: Array(panels), columns: 5, width: 2200)
    }
}
