// Turns a `Figure` into a `Scene`: positioned rectangles, polylines, dots and text in pixel
// coordinates (origin top-left, y down). Both renderers draw the same scene, so the SVG and the
// PNG of a figure match. Text is measured with the bitmap font's metrics (the SVG's sans-serif is
// a little narrower), so margins computed here never clip a label in either file.

import Foundation

/// A point in scene coordinates.
struct ScenePoint: Equatable {
    var x: Double
    var y: Double
}

enum TextAnchor {
    case start, middle, end
}

/// One drawing operation, in painting order.
enum DrawOp {
    /// A filled rectangle; `crisp` ones have integer edges and tile without seams (heat-map cells).
    case rect(x: Double, y: Double, width: Double, height: Double, fill: Color, crisp: Bool)
    /// A stroked open polyline; `dash` is [on, off] lengths, empty for solid.
    case polyline([ScenePoint], color: Color, width: Double, dash: [Double])
    case dot(center: ScenePoint, radius: Double, fill: Color)
    /// Text whose cap height is centred on `at.y` (or, rotated, on `at.x`). `scale` multiplies the
    /// 5×7 font; `rotated` runs the text upwards (a y-axis label).
    case text(String, at: ScenePoint, scale: Int, color: Color, anchor: TextAnchor, rotated: Bool, bold: Bool)
}

struct Scene {
    var width: Int
    var height: Int
    var ops: [DrawOp] = []
    /// Each panel's plot rectangle (data area), for tests and hit-testing.
    var plotAreas: [SceneRect] = []
}

/// A rectangle in scene coordinates.
struct SceneRect {
    var x: Double, y: Double, width: Double, height: Double
    var maxX: Double { x + width }
    var maxY: Double { y + height }
    var midX: Double { x + width / 2 }
    var midY: Double { y + height / 2 }
    func contains(_ p: ScenePoint) -> Bool { p.x >= x && p.x <= maxX && p.y >= y && p.y <= maxY }
}

/// Maps data values on one axis to pixels, linear or log10.
struct AxisMap {
    var scale: AxisScale
    var range: ClosedRange<Double>
    var pixelFrom: Double  // pixel of range.lowerBound
    var pixelTo: Double  // pixel of range.upperBound

    private func t(_ v: Double) -> Double {
        scale == .log10 ? log10(v) : v
    }

    /// The pixel of `v`, or nil when `v` cannot be shown (NaN, infinite, ≤ 0 on a log axis).
    func pixel(_ v: Double) -> Double? {
        guard v.isFinite, scale == .linear || v > 0 else { return nil }
        let a = t(range.lowerBound), b = t(range.upperBound)
        return pixelFrom + (t(v) - a) / (b - a) * (pixelTo - pixelFrom)
    }
}

enum ChartLayout {
    // Text sizes as multiples of the 5×7 font: 14 px labels, 21 px figure title.
    static let labelScale = 2
    static let titleScale = 3
    static let tickLength = 5.0

    /// The plot area of `panel` inside `region`: the side margins given, the title above, the
    /// tick labels and axis label below.
    static func plotRect(_ panel: Panel, in region: SceneRect, left: Double, right: Double, lineHeight lh: Double) -> SceneRect {
        let topMargin = panel.title.isEmpty ? 12 : 12 + lh + 14
        let bottom = tickLength + 7 + lh + (panel.x.label.isEmpty ? 0 : 12 + lh) + 12
        return SceneRect(x: (region.x + left).rounded(), y: (region.y + topMargin).rounded(),
                         width: (region.width - left - right).rounded(),
                         height: (region.height - topMargin - bottom).rounded())
    }
    static let lineWidth = 2.0
    static let gridColor = Color(hex: 0xE8E8E8)
    static let frameColor = Color(hex: 0x333333)
    static let textColor = Color(hex: 0x1A1A1A)
    static let missingColor = Color(hex: 0xBBBBBB)

    static func textWidth(_ s: String, scale: Int) -> Double {
        Double(BitmapFont.width(ofCount: s.count) * scale)
    }

    static func textHeight(scale: Int) -> Double {
        Double(BitmapFont.capHeight * scale)
    }

    /// Shrinks and then truncates `s` so it fits `maxWidth`.
    static func fit(_ s: String, maxWidth: Double, scale: Int) -> (String, Int) {
        var scale = scale
        while scale > labelScale, textWidth(s, scale: scale) > maxWidth { scale -= 1 }
        guard textWidth(s, scale: scale) > maxWidth else { return (s, scale) }
        let keep = max(0, Int(maxWidth) / (BitmapFont.advance * scale) - 3)
        return (String(s.prefix(keep)) + "...", scale)
    }

    static func layout(_ figure: Figure) -> Scene {
        var scene = Scene(width: figure.width, height: figure.height)
        let w = Double(figure.width), h = Double(figure.height)
        scene.ops.append(.rect(x: 0, y: 0, width: w, height: h, fill: .white, crisp: true))
        var top = 8.0
        if !figure.title.isEmpty {
            let (title, scale) = fit(figure.title, maxWidth: w - 24, scale: titleScale)
            let th = textHeight(scale: scale)
            scene.ops.append(.text(title, at: ScenePoint(x: w / 2, y: 14 + th / 2), scale: scale,
                                   color: textColor, anchor: .middle, rotated: false, bold: false))
            top = 14 + th + 12
        }
        let shared: ClosedRange<Double>? = figure.shareY ? sharedYRange(figure.panels) : nil
        // panels fill a grid row by row: `columns` wide, as many rows as needed
        let columns = figure.columns
        let rows = (figure.panels.count + columns - 1) / columns
        let panelWidth = w / Double(columns), panelHeight = (h - top) / Double(rows)
        for (i, panel) in figure.panels.enumerated() {
            let region = SceneRect(x: (Double(i % columns) * panelWidth).rounded(),
                                   y: (top + Double(i / columns) * panelHeight).rounded(),
                                   width: panelWidth.rounded(.down), height: panelHeight.rounded(.down))
            if let heat = panel.heatMap {
                layoutHeatMap(panel, heat, in: region, into: &scene)
            } else {
                layoutLines(panel, in: region, sharedY: shared, into: &scene)
            }
        }
        return scene
    }

    // MARK: Data ranges

    /// Finite y values of a line panel that its y axis can show, reference lines included.
    static func yValues(_ panel: Panel) -> [Double] {
        let log = panel.y.scale == .log10
        var values = panel.series.flatMap { $0.points.map(\.y) } + panel.referenceLines.map(\.y)
        values = values.filter { $0.isFinite && (!log || $0 > 0) }
        if !log, panel.series.contains(where: { $0.kind == .bars }) { values.append(0) }
        return values
    }

    static func sharedYRange(_ panels: [Panel]) -> ClosedRange<Double>? {
        let values = panels.filter { $0.heatMap == nil && $0.y.range == nil }.flatMap(yValues)
        guard let lo = values.min(), let hi = values.max() else { return nil }
        return lo...hi
    }

    /// The y range to draw: fixed, or the data (or shared) range rounded out to nice ticks/decades.
    static func resolveY(_ axis: Axis, data: ClosedRange<Double>?, target: Int) -> ClosedRange<Double> {
        if let r = axis.range, r.upperBound > r.lowerBound, axis.scale == .linear || r.lowerBound > 0 {
            return r
        }
        switch axis.scale {
        case .linear:
            guard var lo = data?.lowerBound, var hi = data?.upperBound else { return 0...1 }
            if lo == hi {
                let pad = lo == 0 ? 1 : abs(lo) * 0.1
                lo -= pad
                hi += pad
            } else {
                // A little headroom so extreme points and bars do not sit on the frame; an end
                // at exactly 0 (a baseline) stays put.
                let pad = (hi - lo) * 0.02
                if lo != 0 { lo -= pad }
                if hi != 0 { hi += pad }
            }
            return Ticks.niceRange(lo, hi, target: target)
        case .log10:
            guard let lo = data?.lowerBound, let hi = data?.upperBound, lo > 0 else { return 0.1...1 }
            var a = floor(log10(lo) + 1e-9), b = ceil(log10(hi) - 1e-9)
            if b <= a { b = a + 1 }
            // Very wide spans stay wide; a one-decade span is fine as it is.
            if b - a < 1 { a = b - 1 }
            return Ticks.decade(Int(a))...Ticks.decade(Int(b))
        }
    }

    /// The x range: fixed, or exactly the data (padded for bars so edge bars are whole).
    static func resolveX(_ panel: Panel) -> ClosedRange<Double> {
        let axis = panel.x
        if let r = axis.range, r.upperBound > r.lowerBound, axis.scale == .linear || r.lowerBound > 0 {
            return r
        }
        let log = axis.scale == .log10
        let xs = panel.series.flatMap { $0.points.map(\.x) }.filter { $0.isFinite && (!log || $0 > 0) }
        guard var lo = xs.min(), var hi = xs.max() else { return log ? 1...10 : 0...1 }
        if panel.series.contains(where: { $0.kind == .bars }), !log {
            let pad = barSpacing(panel) / 2
            lo -= pad
            hi += pad
        }
        if lo == hi {
            if log {
                lo /= 2
                hi *= 2
            } else {
                lo -= 1
                hi += 1
            }
        }
        return lo...hi
    }

    /// The smallest gap between distinct x values of the bar series (the width of a bar group).
    static func barSpacing(_ panel: Panel) -> Double {
        let xs = Set(panel.series.filter { $0.kind == .bars }.flatMap { $0.points.map(\.x) }.filter(\.isFinite))
            .sorted()
        var gap = Double.infinity
        for i in 1..<max(xs.count, 1) { gap = min(gap, xs[i] - xs[i - 1]) }
        return gap.isFinite && gap > 0 ? gap : 1
    }

    // MARK: Ticks

    struct TickSet {
        var values: [Double]
        var labels: [String]
        var minor: [Double] = []
    }

    static func ticks(_ axis: Axis, range: ClosedRange<Double>, target: Int) -> TickSet {
        switch axis.scale {
        case .linear:
            let (values, step) = Ticks.linear(range, target: target)
            return TickSet(values: values, labels: values.map { Ticks.format($0, step: step) })
        case .log10:
            let values = Ticks.log10Major(range, maxCount: max(target, 2))
            let minor = Ticks.log10Minor(range).filter { m in !values.contains { abs($0 - m) <= m * 1e-9 } }
            return TickSet(values: values, labels: values.map(Ticks.logLabel), minor: minor)
        }
    }

    /// X ticks whose labels do not collide: fewer ticks until they fit.
    static func xTicks(_ axis: Axis, range: ClosedRange<Double>, plotWidth: Double) -> TickSet {
        var target = max(2, Int(plotWidth / 90))
        while true {
            let set = ticks(axis, range: range, target: target)
            let map = AxisMap(scale: axis.scale, range: range, pixelFrom: 0, pixelTo: plotWidth)
            let px = set.values.compactMap(map.pixel)
            var fits = true
            for i in 1..<max(px.count, 1) {
                let need = (textWidth(set.labels[i - 1], scale: labelScale) + textWidth(set.labels[i], scale: labelScale)) / 2 + 14
                if px[i] - px[i - 1] < need { fits = false }
            }
            if fits || target <= 1 { return set }
            target -= 1
        }
    }

    // MARK: Line panels

    static func layoutLines(_ panel: Panel, in region: SceneRect, sharedY: ClosedRange<Double>?,
                            into scene: inout Scene)
    {
        let lh = textHeight(scale: labelScale)
        let yTarget = max(2, Int((region.height - 100) / 55))
        let values = yValues(panel)
        let dataY: ClosedRange<Double>? = sharedY ?? (values.isEmpty ? nil : values.min()!...values.max()!)
        let yRange = resolveY(panel.y, data: dataY, target: yTarget)
        let xRange = resolveX(panel)
        let yTicks = ticks(panel.y, range: yRange, target: yTarget)

        // Margins from the text they must hold.
        let maxYLabel = yTicks.labels.map { textWidth($0, scale: labelScale) }.max() ?? 0
        let left = 12 + (panel.y.label.isEmpty ? 0 : lh + 12) + maxYLabel + 6 + tickLength
        let lastXLabel = Ticks.format(xRange.upperBound, step: 1)
        let right = max(20, textWidth(lastXLabel, scale: labelScale) / 2 + 8)
        let plot = plotRect(panel, in: region, left: left, right: right, lineHeight: lh)
        guard plot.width > 10, plot.height > 10 else { return }
        scene.plotAreas.append(plot)

        let xMap = AxisMap(scale: panel.x.scale, range: xRange, pixelFrom: plot.x, pixelTo: plot.maxX)
        let yMap = AxisMap(scale: panel.y.scale, range: yRange, pixelFrom: plot.maxY, pixelTo: plot.y)
        let xTicks = xTicks(panel.x, range: xRange, plotWidth: plot.width)

        drawAxes(panel, plot: plot, xMap: xMap, yMap: yMap, xTicks: xTicks, yTicks: yTicks,
                 region: region, into: &scene)

        // Reference lines under the data, so curves stay visible where they meet.
        for line in panel.referenceLines {
            guard let y = yMap.pixel(line.y), y >= plot.y - 0.5, y <= plot.maxY + 0.5 else { continue }
            scene.ops.append(.polyline([ScenePoint(x: plot.x, y: y), ScenePoint(x: plot.maxX, y: y)],
                                       color: line.color, width: 1.5, dash: dashPattern(line.style)))
        }

        // Bars first (behind lines), grouped side by side at each x.
        let barSeries = panel.series.enumerated().filter { $0.element.kind == .bars }
        if !barSeries.isEmpty {
            let spacing = barSpacing(panel)
            let groupWidth = abs((xMap.pixel(xRange.lowerBound + spacing) ?? 0) - (xMap.pixel(xRange.lowerBound) ?? 0)) * 0.8
            let barWidth = groupWidth / Double(barSeries.count)
            let base = yMap.pixel(panel.y.scale == .linear && yRange.contains(0) ? 0 : yRange.lowerBound) ?? plot.maxY
            for (k, (index, series)) in barSeries.enumerated() {
                let color = series.color ?? Color.palette[index % Color.palette.count]
                for p in series.points {
                    guard let cx = xMap.pixel(p.x), let py = yMap.pixel(p.y) else { continue }
                    let x0 = max(cx - groupWidth / 2 + Double(k) * barWidth, plot.x)
                    let x1 = min(x0 + barWidth, plot.maxX)
                    let y0 = min(max(min(py, base), plot.y), plot.maxY)
                    let y1 = min(max(max(py, base), plot.y), plot.maxY)
                    guard x1 > x0, y1 > y0 else { continue }
                    scene.ops.append(.rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0, fill: color, crisp: false))
                }
            }
        }

        for (index, series) in panel.series.enumerated() where series.kind == .line {
            let color = series.color ?? Color.palette[index % Color.palette.count]
            for run in pixelRuns(series, xMap: xMap, yMap: yMap) {
                for piece in clip(run, to: plot) where piece.count >= 2 {
                    scene.ops.append(.polyline(piece, color: color, width: lineWidth, dash: dashPattern(series.style)))
                }
                if run.count == 1, plot.contains(run[0]), !series.markers {
                    // An isolated valid point between breaks would vanish without a dot.
                    scene.ops.append(.dot(center: run[0], radius: lineWidth, fill: color))
                }
            }
            if series.markers {
                for p in series.points {
                    guard let x = xMap.pixel(p.x), let y = yMap.pixel(p.y) else { continue }
                    let c = ScenePoint(x: x, y: y)
                    if plot.contains(c) { scene.ops.append(.dot(center: c, radius: 3.5, fill: color)) }
                }
            }
        }

        drawLegend(panel, plot: plot, xMap: xMap, yMap: yMap, into: &scene)
    }

    static func dashPattern(_ style: LineStyle) -> [Double] {
        switch style {
        case .solid: return []
        case .dashed: return [7, 5]
        case .dotted: return [2, 4]
        }
    }

    /// The series in pixels, split wherever a point cannot be shown.
    static func pixelRuns(_ series: Series, xMap: AxisMap, yMap: AxisMap) -> [[ScenePoint]] {
        var runs: [[ScenePoint]] = []
        var current: [ScenePoint] = []
        for p in series.points {
            if let x = xMap.pixel(p.x), let y = yMap.pixel(p.y) {
                current.append(ScenePoint(x: x, y: y))
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// Clips a polyline to a rectangle (Liang–Barsky per segment), returning the visible pieces.
    static func clip(_ points: [ScenePoint], to r: SceneRect) -> [[ScenePoint]] {
        var pieces: [[ScenePoint]] = []
        var current: [ScenePoint] = []
        for i in 1..<max(points.count, 1) {
            let a = points[i - 1], b = points[i]
            var t0 = 0.0, t1 = 1.0
            let dx = b.x - a.x, dy = b.y - a.y
            var visible = true
            for (p, q) in [(-dx, a.x - r.x), (dx, r.maxX - a.x), (-dy, a.y - r.y), (dy, r.maxY - a.y)] {
                if p == 0 {
                    if q < 0 { visible = false }
                } else {
                    let t = q / p
                    if p < 0 { t0 = max(t0, t) } else { t1 = min(t1, t) }
                }
            }
            if !visible || t0 > t1 {
                if !current.isEmpty { pieces.append(current); current = [] }
                continue
            }
            let start = ScenePoint(x: a.x + t0 * dx, y: a.y + t0 * dy)
            let end = ScenePoint(x: a.x + t1 * dx, y: a.y + t1 * dy)
            if current.isEmpty { current.append(start) } else if current.last != start {
                pieces.append(current)
                current = [start]
            }
            current.append(end)
            if t1 < 1 { pieces.append(current); current = [] }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// Grid, frame, ticks, tick labels, axis labels and panel title.
    static func drawAxes(_ panel: Panel, plot: SceneRect, xMap: AxisMap, yMap: AxisMap, xTicks: TickSet,
                         yTicks: TickSet, region: SceneRect, into scene: inout Scene)
    {
        let lh = textHeight(scale: labelScale)
        // Lines at half pixels so 1-px strokes fall on exactly one pixel row or column.
        func snap(_ v: Double) -> Double { v.rounded(.down) + 0.5 }
        let left = plot.x + 0.5, right = plot.maxX - 0.5, top = plot.y + 0.5, bottom = plot.maxY - 0.5

        for v in yTicks.values {
            guard let y = yMap.pixel(v) else { continue }
            scene.ops.append(.polyline([ScenePoint(x: left, y: snap(y)), ScenePoint(x: right, y: snap(y))],
                                       color: gridColor, width: 1, dash: []))
        }
        for v in xTicks.values {
            guard let x = xMap.pixel(v) else { continue }
            scene.ops.append(.polyline([ScenePoint(x: snap(x), y: top), ScenePoint(x: snap(x), y: bottom)],
                                       color: gridColor, width: 1, dash: []))
        }
        scene.ops.append(.polyline([ScenePoint(x: left, y: top), ScenePoint(x: right, y: top),
                                    ScenePoint(x: right, y: bottom), ScenePoint(x: left, y: bottom),
                                    ScenePoint(x: left, y: top)], color: frameColor, width: 1, dash: []))
        for (v, label) in zip(yTicks.values, yTicks.labels) {
            guard let y = yMap.pixel(v) else { continue }
            scene.ops.append(.polyline([ScenePoint(x: left - tickLength, y: snap(y)), ScenePoint(x: left, y: snap(y))],
                                       color: frameColor, width: 1, dash: []))
            scene.ops.append(.text(label, at: ScenePoint(x: left - tickLength - 6, y: y.rounded()), scale: labelScale,
                                   color: textColor, anchor: .end, rotated: false, bold: false))
        }
        for v in yTicks.minor {
            guard let y = yMap.pixel(v) else { continue }
            scene.ops.append(.polyline([ScenePoint(x: left - 3, y: snap(y)), ScenePoint(x: left, y: snap(y))],
                                       color: frameColor, width: 1, dash: []))
        }
        for (v, label) in zip(xTicks.values, xTicks.labels) {
            guard let x = xMap.pixel(v) else { continue }
            scene.ops.append(.polyline([ScenePoint(x: snap(x), y: bottom), ScenePoint(x: snap(x), y: bottom + tickLength)],
                                       color: frameColor, width: 1, dash: []))
            scene.ops.append(.text(label, at: ScenePoint(x: x.rounded(), y: plot.maxY + tickLength + 7 + lh / 2),
                                   scale: labelScale, color: textColor, anchor: .middle, rotated: false, bold: false))
        }
        for v in xTicks.minor {
            guard let x = xMap.pixel(v) else { continue }
            scene.ops.append(.polyline([ScenePoint(x: snap(x), y: bottom), ScenePoint(x: snap(x), y: bottom + 3)],
                                       color: frameColor, width: 1, dash: []))
        }
        axisLabelsAndTitle(panel, plot: plot, region: region, into: &scene)
    }

    static func axisLabelsAndTitle(_ panel: Panel, plot: SceneRect, region: SceneRect, into scene: inout Scene) {
        let lh = textHeight(scale: labelScale)
        if !panel.x.label.isEmpty {
            let (label, scale) = fit(panel.x.label, maxWidth: region.width - 16, scale: labelScale)
            scene.ops.append(.text(label, at: ScenePoint(x: plot.midX, y: plot.maxY + tickLength + 7 + lh + 12 + lh / 2),
                                   scale: scale, color: textColor, anchor: .middle, rotated: false, bold: false))
        }
        if !panel.y.label.isEmpty {
            let (label, scale) = fit(panel.y.label, maxWidth: plot.height + 40, scale: labelScale)
            scene.ops.append(.text(label, at: ScenePoint(x: region.x + 12 + lh / 2, y: plot.midY), scale: scale,
                                   color: textColor, anchor: .middle, rotated: true, bold: false))
        }
        if !panel.title.isEmpty {
            let (title, scale) = fit(panel.title, maxWidth: region.width - 16, scale: labelScale)
            // Centred over the plot, unless that would push it out of the panel.
            let w = textWidth(title, scale: scale)
            let cx = min(max(plot.midX, region.x + 8 + w / 2), region.maxX - 8 - w / 2)
            scene.ops.append(.text(title, at: ScenePoint(x: cx, y: region.y + 12 + lh / 2), scale: scale,
                                   color: textColor, anchor: .middle, rotated: false, bold: true))
        }
    }

    // MARK: Legend

    static func drawLegend(_ panel: Panel, plot: SceneRect, xMap: AxisMap, yMap: AxisMap, into scene: inout Scene) {
        struct Entry {
            var name: String, color: Color, dash: [Double], bar: Bool, marker: Bool
        }
        var entries: [Entry] = []
        for (i, s) in panel.series.enumerated() where !s.name.isEmpty {
            entries.append(Entry(name: s.name, color: s.color ?? Color.palette[i % Color.palette.count],
                                 dash: dashPattern(s.style), bar: s.kind == .bars, marker: s.markers))
        }
        for r in panel.referenceLines where !r.name.isEmpty {
            entries.append(Entry(name: r.name, color: r.color, dash: dashPattern(r.style), bar: false, marker: false))
        }
        guard panel.legend != .none, !entries.isEmpty else { return }

        let row = 22.0, pad = 8.0, sample = 28.0
        let textW = entries.map { textWidth($0.name, scale: labelScale) }.max() ?? 0
        let boxW = (pad + sample + 8 + textW + pad).rounded(.up)
        let boxH = (pad + Double(entries.count) * row - (row - textHeight(scale: labelScale)) + pad).rounded(.up)
        let inset = 8.0
        let corners: [(LegendPosition, SceneRect)] = [
            (.topRight, SceneRect(x: plot.maxX - inset - boxW, y: plot.y + inset, width: boxW, height: boxH)),
            (.topLeft, SceneRect(x: plot.x + inset, y: plot.y + inset, width: boxW, height: boxH)),
            (.bottomRight, SceneRect(x: plot.maxX - inset - boxW, y: plot.maxY - inset - boxH, width: boxW, height: boxH)),
            (.bottomLeft, SceneRect(x: plot.x + inset, y: plot.maxY - inset - boxH, width: boxW, height: boxH)),
        ]
        var box = corners[0].1
        if panel.legend == .auto {
            // Sample every series every few pixels; keep the corner that hides the least data.
            var samples: [ScenePoint] = []
            for s in panel.series {
                for run in pixelRuns(s, xMap: xMap, yMap: yMap) {
                    samples.append(run[0])
                    for i in 1..<max(run.count, 1) {
                        let a = run[i - 1], b = run[i]
                        let n = max(1, Int(hypot(b.x - a.x, b.y - a.y) / 4))
                        for k in 1...n {
                            let t = Double(k) / Double(n)
                            samples.append(ScenePoint(x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y)))
                        }
                    }
                }
            }
            for r in panel.referenceLines {
                if let y = yMap.pixel(r.y) {
                    samples += stride(from: plot.x, through: plot.maxX, by: 4).map { ScenePoint(x: $0, y: y) }
                }
            }
            var best = Int.max
            for (_, rect) in corners {
                let grown = SceneRect(x: rect.x - 4, y: rect.y - 4, width: rect.width + 8, height: rect.height + 8)
                let hits = samples.reduce(0) { $0 + (grown.contains($1) ? 1 : 0) }
                if hits < best {
                    best = hits
                    box = rect
                }
            }
        } else if let chosen = corners.first(where: { $0.0 == panel.legend }) {
            box = chosen.1
        }
        box.x = box.x.rounded()
        box.y = box.y.rounded()

        scene.ops.append(.rect(x: box.x, y: box.y, width: box.width, height: box.height, fill: .white, crisp: true))
        let l = box.x + 0.5, t = box.y + 0.5, r = box.maxX - 0.5, b = box.maxY - 0.5
        scene.ops.append(.polyline([ScenePoint(x: l, y: t), ScenePoint(x: r, y: t), ScenePoint(x: r, y: b),
                                    ScenePoint(x: l, y: b), ScenePoint(x: l, y: t)],
                                   color: Color(hex: 0xBBBBBB), width: 1, dash: []))
        for (i, e) in entries.enumerated() {
            let cy = box.y + pad + textHeight(scale: labelScale) / 2 + Double(i) * row
            let x0 = box.x + pad
            if e.bar {
                scene.ops.append(.rect(x: x0 + 6, y: cy - 7, width: sample - 12, height: 14, fill: e.color, crisp: false))
            } else {
                scene.ops.append(.polyline([ScenePoint(x: x0, y: cy), ScenePoint(x: x0 + sample, y: cy)],
                                           color: e.color, width: lineWidth, dash: e.dash))
                if e.marker {
                    scene.ops.append(.dot(center: ScenePoint(x: x0 + sample / 2, y: cy), radius: 3.5, fill: e.color))
                }
            }
            scene.ops.append(.text(e.name, at: ScenePoint(x: x0 + sample + 8, y: cy), scale: labelScale,
                                   color: textColor, anchor: .start, rotated: false, bold: false))
        }
    }

    // MARK: Heat maps

    static func layoutHeatMap(_ panel: Panel, _ heat: HeatMap, in region: SceneRect, into scene: inout Scene) {
        let rows = heat.values.count
        let cols = heat.values.map(\.count).max() ?? 0
        let lh = textHeight(scale: labelScale)
        let finite = heat.values.flatMap { $0 }.filter(\.isFinite)
        var lo = heat.range?.lowerBound ?? finite.min() ?? 0
        var hi = heat.range?.upperBound ?? finite.max() ?? 1
        if !(hi > lo) {
            lo -= 0.5
            hi += 0.5
        }
        let barTicks = ticks(Axis(), range: lo...hi, target: max(2, Int((region.height - 100) / 55)))

        // Row and column labels are cell positions shown as xStart + column, yStart + row.
        let xRange = heat.xStart...(heat.xStart + Double(max(cols - 1, 1)))
        let yRange = heat.yStart...(heat.yStart + Double(max(rows - 1, 1)))
        let yLabelSet = integerTicks(range: yRange, target: max(2, Int((region.height - 100) / 40)))
        let maxYLabel = yLabelSet.labels.map { textWidth($0, scale: labelScale) }.max() ?? 0
        let maxBarLabel = barTicks.labels.map { textWidth($0, scale: labelScale) }.max() ?? 0

        let left = 12 + (panel.y.label.isEmpty ? 0 : lh + 12) + maxYLabel + 6 + tickLength
        let barWidth = 18.0
        let right = 16 + barWidth + tickLength + 6 + maxBarLabel + (heat.colorBarLabel.isEmpty ? 0 : 12 + lh) + 12
        let plot = plotRect(panel, in: region, left: left, right: right, lineHeight: lh)
        guard plot.width > 10, plot.height > 10 else { return }
        scene.plotAreas.append(plot)

        // Cell edges on whole pixels so neighbouring cells tile without seams.
        func colEdge(_ c: Int) -> Double { (plot.x + Double(c) * plot.width / Double(max(cols, 1))).rounded() }
        func rowEdge(_ r: Int) -> Double { (plot.y + Double(r) * plot.height / Double(max(rows, 1))).rounded() }
        for r in 0..<rows {
            for c in 0..<cols {
                let v = c < heat.values[r].count ? heat.values[r][c] : .nan
                let color = v.isFinite ? heat.colorMap.color(at: (v - lo) / (hi - lo)) : missingColor
                scene.ops.append(.rect(x: colEdge(c), y: rowEdge(r), width: colEdge(c + 1) - colEdge(c),
                                       height: rowEdge(r + 1) - rowEdge(r), fill: color, crisp: true))
            }
        }
        let l = plot.x - 0.5, t = plot.y - 0.5, rr = plot.maxX + 0.5, b = plot.maxY + 0.5
        scene.ops.append(.polyline([ScenePoint(x: l, y: t), ScenePoint(x: rr, y: t), ScenePoint(x: rr, y: b),
                                    ScenePoint(x: l, y: b), ScenePoint(x: l, y: t)], color: frameColor, width: 1, dash: []))

        // Ticks at cell centres.
        let xLabelSet = integerTicks(range: xRange, target: max(2, Int(plot.width / 60)))
        for (v, label) in zip(xLabelSet.values, xLabelSet.labels) {
            let c = Int((v - heat.xStart).rounded())
            guard c >= 0, c < cols else { continue }
            let x = ((colEdge(c) + colEdge(c + 1)) / 2).rounded(.down) + 0.5
            scene.ops.append(.polyline([ScenePoint(x: x, y: b), ScenePoint(x: x, y: b + tickLength)],
                                       color: frameColor, width: 1, dash: []))
            scene.ops.append(.text(label, at: ScenePoint(x: x.rounded(), y: plot.maxY + tickLength + 7 + lh / 2),
                                   scale: labelScale, color: textColor, anchor: .middle, rotated: false, bold: false))
        }
        for (v, label) in zip(yLabelSet.values, yLabelSet.labels) {
            let r = Int((v - heat.yStart).rounded())
            guard r >= 0, r < rows else { continue }
            let y = ((rowEdge(r) + rowEdge(r + 1)) / 2).rounded(.down) + 0.5
            scene.ops.append(.polyline([ScenePoint(x: l - tickLength, y: y), ScenePoint(x: l, y: y)],
                                       color: frameColor, width: 1, dash: []))
            scene.ops.append(.text(label, at: ScenePoint(x: l - tickLength - 6, y: y.rounded()), scale: labelScale,
                                   color: textColor, anchor: .end, rotated: false, bold: false))
        }

        // Colour bar: thin strips from the low end (bottom) to the high end (top).
        let barX = plot.maxX + 16
        let strips = Int(plot.height)
        for s in 0..<strips {
            let y0 = plot.maxY - Double(s + 1), t = (Double(s) + 0.5) / Double(strips)
            scene.ops.append(.rect(x: barX, y: y0, width: barWidth, height: 1, fill: heat.colorMap.color(at: t), crisp: true))
        }
        let bl = barX - 0.5, br = barX + barWidth + 0.5
        scene.ops.append(.polyline([ScenePoint(x: bl, y: t), ScenePoint(x: br, y: t), ScenePoint(x: br, y: b),
                                    ScenePoint(x: bl, y: b), ScenePoint(x: bl, y: t)], color: frameColor, width: 1, dash: []))
        let barMap = AxisMap(scale: .linear, range: lo...hi, pixelFrom: plot.maxY, pixelTo: plot.y)
        for (v, label) in zip(barTicks.values, barTicks.labels) {
            guard let y = barMap.pixel(v) else { continue }
            let yy = y.rounded(.down) + 0.5
            scene.ops.append(.polyline([ScenePoint(x: br, y: yy), ScenePoint(x: br + tickLength, y: yy)],
                                       color: frameColor, width: 1, dash: []))
            scene.ops.append(.text(label, at: ScenePoint(x: br + tickLength + 6, y: y.rounded()), scale: labelScale,
                                   color: textColor, anchor: .start, rotated: false, bold: false))
        }
        if !heat.colorBarLabel.isEmpty {
            let (label, scale) = fit(heat.colorBarLabel, maxWidth: plot.height + 40, scale: labelScale)
            scene.ops.append(.text(label, at: ScenePoint(x: br + tickLength + 6 + maxBarLabel + 12 + lh / 2, y: plot.midY),
                                   scale: scale, color: textColor, anchor: .middle, rotated: true, bold: false))
        }
        axisLabelsAndTitle(panel, plot: plot, region: region, into: &scene)
    }

    /// Nice ticks restricted to whole numbers (cell indices).
    static func integerTicks(range: ClosedRange<Double>, target: Int) -> TickSet {
        let (values, step) = Ticks.linear(range, target: target)
        if step >= 1 {
            return TickSet(values: values, labels: values.map { Ticks.format($0, step: 1) })
        }
        let all = stride(from: ceil(range.lowerBound), through: range.upperBound, by: 1).map { $0 }
        return TickSet(values: all, labels: all.map { Ticks.format($0, step: 1) })
    }
}
