// The chart model behind every picture HighwayKit writes (depth sweeps, lesion studies, gates).
//
// A `Figure` is a title plus one or more `Panel`s side by side. A panel is either a line/bar chart
// (series, reference lines, legend, linear or log10 axes) or a heat map with a colour bar. The
// model holds only data and intent; `ChartLayout` turns it into positioned drawing operations
// once, and the SVG and PNG renderers both draw that same list, so the two files always agree.

import Foundation

/// An opaque 8-bit sRGB colour.
public struct Color: Equatable, Hashable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(r: UInt8, g: UInt8, b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// A colour from `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(r: UInt8((hex >> 16) & 0xFF), g: UInt8((hex >> 8) & 0xFF), b: UInt8(hex & 0xFF))
    }

    /// `#rrggbb`, as SVG wants it.
    public var hexString: String {
        let v = (UInt32(r) << 16) | (UInt32(g) << 8) | UInt32(b)
        let s = String(v, radix: 16)
        return "#" + String(repeating: "0", count: 6 - s.count) + s
    }

    public static let black = Color(hex: 0x000000)
    public static let white = Color(hex: 0xFFFFFF)
    public static let gray = Color(hex: 0x666666)
    public static let lightGray = Color(hex: 0xE5E5E5)

    // Okabe & Ito's palette: distinguishable with the common colour-vision deficiencies.
    public static let blue = Color(hex: 0x0072B2)
    public static let vermillion = Color(hex: 0xD55E00)
    public static let bluishGreen = Color(hex: 0x009E73)
    public static let orange = Color(hex: 0xE69F00)
    public static let skyBlue = Color(hex: 0x56B4E9)
    public static let reddishPurple = Color(hex: 0xCC79A7)
    public static let yellow = Color(hex: 0xF0E442)

    /// Series colours in the order they are handed out. Yellow comes last: it is faint on white.
    public static let palette: [Color] = [
        .blue, .vermillion, .bluishGreen, .orange, .skyBlue, .reddishPurple, .black, .yellow,
    ]
}

/// How values map to positions along an axis.
public enum AxisScale: Equatable, Sendable {
    case linear
    /// Base-10 logarithmic; ticks at decades. Values ≤ 0 cannot be shown and break lines.
    case log10
}

/// One axis of a panel.
public struct Axis: Equatable {
    public var label: String
    public var scale: AxisScale
    /// A fixed range; `nil` fits the data (rounded out to nice ticks on the value axis).
    public var range: ClosedRange<Double>?

    public init(_ label: String = "", scale: AxisScale = .linear, range: ClosedRange<Double>? = nil) {
        self.label = label
        self.scale = scale
        self.range = range
    }
}

/// How a line is stroked.
public enum LineStyle: Equatable, Sendable {
    case solid
    case dashed
    case dotted
}

/// What a series looks like.
public enum SeriesKind: Equatable, Sendable {
    /// A polyline; points that are NaN, infinite or (on a log axis) ≤ 0 break it.
    case line
    /// Vertical bars from the axis baseline (0 when visible); several bar series are grouped.
    case bars
}

/// One named set of (x, y) points.
public struct Series {
    public var name: String
    public var points: [(x: Double, y: Double)]
    /// `nil` takes the next colour of `Color.palette` by the series' position in its panel, so the
    /// same position gets the same colour in every panel (depth 10 is blue in "plain" and "highway").
    public var color: Color?
    public var style: LineStyle
    public var kind: SeriesKind
    /// Draw a dot at every point (lines only).
    public var markers: Bool

    public init(name: String, points: [(x: Double, y: Double)], color: Color? = nil,
                style: LineStyle = .solid, kind: SeriesKind = .line, markers: Bool = false)
    {
        self.name = name
        self.points = points
        self.color = color
        self.style = style
        self.kind = kind
        self.markers = markers
    }

    /// A series from parallel arrays of x and y values.
    public init(name: String, x: [Double], y: [Double], color: Color? = nil, style: LineStyle = .solid,
                kind: SeriesKind = .line, markers: Bool = false)
    {
        precondition(x.count == y.count, "Series \(name): \(x.count) x values but \(y.count) y values")
        self.init(name: name, points: Array(zip(x, y)).map { (x: $0.0, y: $0.1) }, color: color,
                  style: style, kind: kind, markers: markers)
    }

    /// A series of y values at x = xStart, xStart + 1, … (epochs counted from 1, layers from 1).
    public init(name: String, y: [Double], xStart: Double = 1, color: Color? = nil,
                style: LineStyle = .solid, kind: SeriesKind = .line, markers: Bool = false)
    {
        self.init(name: name, points: y.enumerated().map { (x: xStart + Double($0.offset), y: $0.element) },
                  color: color, style: style, kind: kind, markers: markers)
    }
}

/// A horizontal line across the plot, e.g. the unlesioned baseline. Listed in the legend.
public struct ReferenceLine {
    public var name: String
    public var y: Double
    public var color: Color
    public var style: LineStyle

    public init(name: String, y: Double, color: Color = .gray, style: LineStyle = .dashed) {
        self.name = name
        self.y = y
        self.color = color
        self.style = style
    }
}

/// Where a panel's legend goes.
public enum LegendPosition: Equatable, Sendable {
    /// The inside corner that covers the fewest data points.
    case auto
    case topLeft, topRight, bottomLeft, bottomRight
    case none
}

/// The colour scale of a heat map.
public enum ColorMap: Equatable, Sendable {
    /// Perceptually uniform dark-blue → green → yellow (matplotlib's viridis, sampled).
    case viridis
    /// Blue → white → red around the middle of the range, for signed values such as
    /// "class mean minus overall mean" (use a range symmetric about 0).
    case diverging

    /// The colour at `t` ∈ [0, 1].
    public func color(at t: Double) -> Color {
        let stops: [UInt32]
        switch self {
        case .viridis:
            stops = [0x440154, 0x482878, 0x3E4989, 0x31688E, 0x26828E, 0x1F9E89, 0x35B779, 0x6DCD59,
                     0xB4DE2C, 0xFDE725]
        case .diverging:
            stops = [0x2166AC, 0x67A9CF, 0xD1E5F0, 0xF7F7F7, 0xFDDBC7, 0xEF8A62, 0xB2182B]
        }
        let u = t.isNaN ? 0 : min(max(t, 0), 1) * Double(stops.count - 1)
        let i = min(Int(u), stops.count - 2)
        let f = u - Double(i)
        let a = Color(hex: stops[i]), b = Color(hex: stops[i + 1])
        func mix(_ p: UInt8, _ q: UInt8) -> UInt8 { UInt8((Double(p) * (1 - f) + Double(q) * f).rounded()) }
        return Color(r: mix(a.r, b.r), g: mix(a.g, b.g), b: mix(a.b, b.b))
    }
}

/// A matrix drawn as coloured cells with a colour bar.
public struct HeatMap {
    /// `values[row][column]`; row 0 is drawn at the top (as in an image). NaN cells are grey.
    public var values: [[Double]]
    public var colorMap: ColorMap
    /// The values at the two ends of the colour bar; `nil` uses the data's finite min and max.
    public var range: ClosedRange<Double>?
    public var colorBarLabel: String
    /// The label of column 0 and row 0 on their axes (e.g. 1 to count layers from 1).
    public var xStart: Double
    public var yStart: Double

    public init(values: [[Double]], colorMap: ColorMap = .viridis, range: ClosedRange<Double>? = nil,
                colorBarLabel: String = "", xStart: Double = 0, yStart: Double = 0)
    {
        self.values = values
        self.colorMap = colorMap
        self.range = range
        self.colorBarLabel = colorBarLabel
        self.xStart = xStart
        self.yStart = yStart
    }
}

/// One chart in a figure.
public struct Panel {
    public var title: String
    public var x: Axis
    public var y: Axis
    public var series: [Series]
    public var referenceLines: [ReferenceLine]
    public var legend: LegendPosition
    /// When set, the panel is a heat map and `series`/`referenceLines` are ignored.
    public var heatMap: HeatMap?

    /// A line (or bar) chart.
    public init(title: String, x: Axis, y: Axis, series: [Series], referenceLines: [ReferenceLine] = [],
                legend: LegendPosition = .auto)
    {
        self.title = title
        self.x = x
        self.y = y
        self.series = series
        self.referenceLines = referenceLines
        self.legend = legend
        self.heatMap = nil
    }

    /// A heat map; `x` labels the columns, `y` the rows.
    public init(title: String, x: Axis, y: Axis, heatMap: HeatMap) {
        self.title = title
        self.x = x
        self.y = y
        self.series = []
        self.referenceLines = []
        self.legend = .none
        self.heatMap = heatMap
    }
}

/// A titled figure of panels side by side, written as SVG and PNG.
///
/// ```swift
/// let figure = Figure(title: "Training loss by depth", panels: [
///     Panel(title: "plain", x: Axis("epoch"), y: Axis("training loss", scale: .log10), series: plain),
///     Panel(title: "highway", x: Axis("epoch"), y: Axis("training loss", scale: .log10), series: highway),
/// ], shareY: true)
/// try figure.write(to: runDir.appendingPathComponent("depth_sweep"))   // depth_sweep.svg + .png
/// ```
public struct Figure {
    public var title: String
    public var panels: [Panel]
    /// Pixels (PNG) and user units (SVG viewBox).
    public var width: Int
    public var height: Int
    /// Give all line panels the same y range (the union of their data), so they compare at a glance.
    public var shareY: Bool
    /// Panels per row; more panels wrap into further rows.
    public var columns: Int

    /// `columns` defaults to all panels in one row; `width` to 600 per column, `height` to 500 per
    /// row (plus the title).
    public init(title: String, panels: [Panel], columns: Int? = nil, width: Int? = nil, height: Int? = nil,
                shareY: Bool = false) {
        precondition(!panels.isEmpty, "a Figure needs at least one panel")
        let columns = min(max(columns ?? panels.count, 1), panels.count)
        let rows = (panels.count + columns - 1) / columns
        self.title = title
        self.panels = panels
        self.columns = columns
        self.width = width ?? 600 * columns
        self.height = height ?? (rows == 1 ? 500 : 40 + 460 * rows)
        self.shareY = shareY
    }

    /// The figure as standalone SVG 1.1 text.
    public func svg() -> String {
        SVGRenderer.render(ChartLayout.layout(self))
    }

    /// The figure as a PNG file's bytes (8-bit RGB).
    public func png() -> Data {
        PNGRenderer.render(ChartLayout.layout(self))
    }

    /// Writes `base.svg` and `base.png` atomically; `base` has no extension.
    public func write(to base: URL) throws {
        let scene = ChartLayout.layout(self)
        let name = base.lastPathComponent
        let directory = base.deletingLastPathComponent()
        try AtomicFile.write(SVGRenderer.render(scene), to: directory.appendingPathComponent(name + ".svg"))
        try AtomicFile.write(PNGRenderer.render(scene), to: directory.appendingPathComponent(name + ".png"))
    }
}
