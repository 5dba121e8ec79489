// Tests of the report writers: atomic files, CSV/JSON, charts (SVG and PNG), progress display.
//
// The PNG checks decode the file independently of the encoder: chunk CRCs with a CRC-32 written
// here, IDAT inflated with zlib, scanline filters undone, then pixels inspected.

import CZlib
import Foundation
import FoundationXML
@testable import HighwayKit
import Testing

// MARK: - An independent PNG reader

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bitwise, as in the PNG spec's annex.
private func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return crc ^ 0xFFFF_FFFF
}

private struct DecodedPNG {
    var width: Int
    var height: Int
    var chunkTypes: [String]
    var rawIDATSize: Int
    var rgb: [UInt8]

    func pixel(_ x: Int, _ y: Int) -> (r: Int, g: Int, b: Int) {
        let i = 3 * (y * width + x)
        return (Int(rgb[i]), Int(rgb[i + 1]), Int(rgb[i + 2]))
    }

    func isBackground(_ x: Int, _ y: Int) -> Bool {
        let p = pixel(x, y)
        return p.r == 255 && p.g == 255 && p.b == 255
    }
}

private struct PNGFormatError: Error, CustomStringConvertible {
    var description: String
}

private func decodePNG(_ data: Data) throws -> DecodedPNG {
    let bytes = [UInt8](data)
    guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
        throw PNGFormatError(description: "bad signature")
    }
    func be32(_ i: Int) -> UInt32 {
        (UInt32(bytes[i]) << 24) | (UInt32(bytes[i + 1]) << 16) | (UInt32(bytes[i + 2]) << 8) | UInt32(bytes[i + 3])
    }
    var offset = 8
    var types: [String] = []
    var width = 0, height = 0
    var idat: [UInt8] = []
    while offset < bytes.count {
        let length = Int(be32(offset))
        let typeAndData = Array(bytes[(offset + 4)..<(offset + 8 + length)])
        let type = String(decoding: typeAndData.prefix(4), as: UTF8.self)
        let stored = be32(offset + 8 + length)
        guard stored == referenceCRC32(typeAndData) else { throw PNGFormatError(description: "CRC mismatch in \(type)") }
        let payload = Array(typeAndData.dropFirst(4))
        types.append(type)
        if type == "IHDR" {
            width = Int(be32(offset + 8))
            height = Int(be32(offset + 12))
            guard payload[8] == 8, payload[9] == 2, payload[10] == 0, payload[11] == 0, payload[12] == 0 else {
                throw PNGFormatError(description: "unexpected IHDR \(payload)")
            }
        } else if type == "IDAT" {
            idat += payload
        }
        offset += 12 + length
    }
    guard offset == bytes.count else { throw PNGFormatError(description: "trailing bytes") }

    let expected = height * (1 + 3 * width)
    var raw = [UInt8](repeating: 0, count: expected + 16)
    var rawLength = uLongf(raw.count)
    let status = idat.withUnsafeBufferPointer { src in
        raw.withUnsafeMutableBufferPointer { dst in
            uncompress(dst.baseAddress, &rawLength, src.baseAddress, uLong(src.count))
        }
    }
    guard status == Z_OK else { throw PNGFormatError(description: "zlib uncompress status \(status)") }

    // Undo the scanline filters (all five types, so the reader does not trust the writer's choice).
    let stride = 3 * width
    var rgb = [UInt8](repeating: 0, count: height * stride)
    for y in 0..<height where Int(rawLength) == expected {
        let filter = raw[y * (stride + 1)]
        for i in 0..<stride {
            let x = raw[y * (stride + 1) + 1 + i]
            let a = i >= 3 ? Int(rgb[y * stride + i - 3]) : 0
            let b = y > 0 ? Int(rgb[(y - 1) * stride + i]) : 0
            let c = (i >= 3 && y > 0) ? Int(rgb[(y - 1) * stride + i - 3]) : 0
            let predictor: Int
            switch filter {
            case 0: predictor = 0
            case 1: predictor = a
            case 2: predictor = b
            case 3: predictor = (a + b) / 2
            case 4:
                let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
            default: throw PNGFormatError(description: "bad filter \(filter)")
            }
            rgb[y * stride + i] = UInt8((Int(x) + predictor) & 0xFF)
        }
    }
    return DecodedPNG(width: width, height: height, chunkTypes: types, rawIDATSize: Int(rawLength), rgb: rgb)
}

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("highwaykit-report-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

// MARK: - Sample figures (also rendered for looking at; see `sampleFiguresRender`)

/// Fake but plausible learning curves: plain nets stall as they get deeper, highway nets don't.
private func depthSweepFigure() -> Figure {
    let depths = [10, 20, 50, 100]
    func curve(start: Double, floor: Double, rate: Double) -> [Double] {
        (0..<20).map { e in floor + (start - floor) * exp(-rate * Double(e)) }
    }
    let plain = depths.enumerated().map { i, d in
        Series(name: "depth \(d)", y: curve(start: 2.3, floor: [2e-3, 1e-2, 0.9, 2.3][i], rate: [0.5, 0.3, 0.08, 0.001][i]))
    }
    let highway = depths.enumerated().map { i, d in
        Series(name: "depth \(d)", y: curve(start: 1.2, floor: [1.5e-3, 8e-4, 5e-4, 4e-4][i], rate: [0.45, 0.5, 0.55, 0.5][i]))
    }
    return Figure(title: "Training loss on MNIST by depth: plain vs highway", panels: [
        Panel(title: "plain (width 71)", x: Axis("epoch"), y: Axis("mean training loss", scale: .log10), series: plain),
        Panel(title: "highway (width 50)", x: Axis("epoch"), y: Axis("mean training loss", scale: .log10), series: highway),
    ], shareY: true)
}

private func heatMapFigure() -> Figure {
    // Gate outputs of 49 layers × 50 units: mostly closed, a few units open in early layers.
    let gates = (0..<50).map { unit in
        (0..<49).map { layer -> Double in
            let open = exp(-Double(layer) / 6) * (unit % 7 == 0 ? 0.9 : 0.3)
            return min(1, 0.05 + open + 0.03 * sin(Double(unit * layer)))
        }
    }
    let signed = (0..<10).map { digit in
        (0..<49).map { layer in 0.2 * sin(Double(digit + layer) / 3) * exp(-Double(layer) / 20) }
    }
    return Figure(title: "Transform gates of a 50-layer highway network", panels: [
        Panel(title: "gate outputs, one sample", x: Axis("layer"), y: Axis("unit"),
              heatMap: HeatMap(values: gates, range: 0...1, colorBarLabel: "T(x)", xStart: 1)),
        Panel(title: "class mean minus overall mean", x: Axis("layer"), y: Axis("digit"),
              heatMap: HeatMap(values: signed, colorMap: .diverging, range: -0.2...0.2, colorBarLabel: "mean T difference",
                               xStart: 1)),
    ])
}

private func lesionFigure() -> Figure {
    let loss = (1...49).map { l in l <= 3 ? 0.8 / Double(l) : 0.02 + 0.01 * sin(Double(l)) + 0.012 }
    let error = loss.map { $0 / 4 }
    return Figure(title: "Lesioning single highway layers (MNIST, training set)", panels: [
        Panel(title: "loss", x: Axis("lesioned layer"), y: Axis("cross-entropy loss"),
              series: [Series(name: "lesioned", y: loss, markers: true)],
              referenceLines: [ReferenceLine(name: "unlesioned", y: 0.018)]),
        Panel(title: "error", x: Axis("lesioned layer"), y: Axis("error"),
              series: [Series(name: "lesioned", y: error, color: .vermillion, kind: .bars)],
              referenceLines: [ReferenceLine(name: "unlesioned", y: 0.004)]),
    ])
}

@Suite("Report")
struct ReportTests {
    // MARK: Atomic files, JSON, CSV

    @Test func atomicWriteReplacesContentAndLeavesNoTemporaries() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("summary.json")
        try AtomicFile.write(Data("first".utf8), to: url)
        try AtomicFile.write(Data("second, longer".utf8), to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "second, longer")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["summary.json"])
    }

    @Test func atomicWriteFailureNamesThePathAndLeavesNothing() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("missing/summary.json")
        do {
            try AtomicFile.write(Data("x".utf8), to: url)
            Issue.record("write into a missing directory succeeded")
        } catch {
            let message = "\(error)"
            #expect(message.contains(url.deletingLastPathComponent().path), "\(message)")
            #expect(message.contains("does not exist") || message.contains("No such file or directory"), "\(message)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func checkWritableDirectoryCreatesAndRejects() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let nested = dir.appendingPathComponent("a/b/run")
        try checkWritableDirectory(nested, create: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: nested.path).isEmpty)  // probe removed

        let file = dir.appendingPathComponent("plain-file")
        try AtomicFile.write("x", to: file)
        #expect(throws: ReportError.self) { try checkWritableDirectory(file.appendingPathComponent("run"), create: true) }
        #expect(throws: ReportError.self) { try checkWritableDirectory(file, create: true) }
        #expect(throws: ReportError.self) { try checkWritableDirectory(dir.appendingPathComponent("nope"), create: false) }
    }

    @Test func csvQuotesAndKeepsFullPrecision() throws {
        var table = CSVTable(header: ["epoch", "note", "loss"])
        table.append([1, "plain, deep", .number(0.1 + 0.2)])
        table.append([2, "say \"hi\"", .number(.nan)])
        table.append([3, "line\nbreak", 1e-7])
        #expect(table.text == """
        epoch,note,loss
        1,"plain, deep",0.30000000000000004
        2,"say ""hi\""",NaN
        3,"line
        break",1e-07

        """)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("metrics.csv")
        try table.write(to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == table.text)
    }

    @Test func jsonIsSortedPrettyAndSurvivesNaN() throws {
        struct Summary: Encodable {
            var test_loss: Double
            var epochs: Int
            var accuracy: Double
        }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.json"), b = dir.appendingPathComponent("b.json")
        try writeJSON(Summary(test_loss: .nan, epochs: 3, accuracy: 0.5), to: a)
        let text = try String(contentsOf: a, encoding: .utf8)
        #expect(text.contains("\"test_loss\" : \"NaN\""))
        #expect(text.range(of: "accuracy")!.lowerBound < text.range(of: "epochs")!.lowerBound)
        try writeJSON(["z": 1, "a": ["x": Double.infinity, "list": [1.5, 2]]], to: b)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: b)) as? [String: Any]
        #expect((object?["a"] as? [String: Any])?["x"] as? String == "Infinity")
        let textB = try String(contentsOf: b, encoding: .utf8)
        #expect(textB.range(of: "\"a\"")!.lowerBound < textB.range(of: "\"z\"")!.lowerBound)
    }

    // MARK: Ticks

    @Test func niceTicks() {
        #expect(Ticks.niceStep(0.13) == 0.2)
        #expect(Ticks.niceStep(3.7) == 5)
        #expect(Ticks.niceStep(10) == 10)
        #expect(Ticks.niceStep(0.2) == 0.2)
        let (values, step) = Ticks.linear(0...1, target: 5)
        #expect(step == 0.2)
        #expect(values.map { Ticks.format($0, step: step) } == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(Ticks.niceRange(0.03, 2.27, target: 5) == 0...2.5)
        #expect(Ticks.linear(1...20, target: 4).values == [5, 10, 15, 20])
        #expect(Ticks.format(-0.5, step: 0.5) == "-0.5")
        #expect(Ticks.format(2_000_000, step: 1_000_000) == "2e6")
        #expect(Ticks.format(0.00025, step: 0.00005) == "0.00025")
        #expect(Ticks.format(0.000025, step: 0.000005) == "2.5e-5")
        #expect(Ticks.linear(-1...1, target: 4).values.contains(0))
    }

    @Test func logTicksAreDecades() {
        let decades = Ticks.log10Major(1e-4...1)
        #expect(decades == [1e-4, 1e-3, 1e-2, 1e-1, 1])
        #expect(decades.map(Ticks.logLabel) == ["1e-4", "1e-3", "0.01", "0.1", "1"])
        #expect(Ticks.logLabel(1000) == "1e3")
        // Many decades are thinned, never shown off-decade.
        let wide = Ticks.log10Major(1e-12...1e4, maxCount: 6)
        #expect(wide.count <= 6 && wide.count >= 3)
        #expect(wide.allSatisfy { abs(log10($0) - log10($0).rounded()) < 1e-9 })
        // Less than two decades: 2× and 5× ticks fill in.
        #expect(Ticks.log10Major(0.15...0.9) == [0.2, 0.5])

        // A fitted log axis spans whole decades.
        let range = ChartLayout.resolveY(Axis("", scale: .log10), data: 0.0023...1.7, target: 5)
        #expect(range == 1e-3...10)
    }

    // MARK: PNG

    @Test func pngIsWellFormed() throws {
        let png = depthSweepFigure().png()
        let decoded = try decodePNG(png)
        #expect(decoded.width == 1200 && decoded.height == 500)
        #expect(decoded.chunkTypes.first == "IHDR" && decoded.chunkTypes.last == "IEND")
        #expect(decoded.chunkTypes.contains("IDAT"))
        #expect(decoded.rawIDATSize == 500 * (1 + 3 * 1200))
        #expect(png.count < 200_000)  // flat chart colours compress well
    }

    @Test func redDiagonalIsDrawnInsideThePlotArea() throws {
        let red = Color(r: 255, g: 0, b: 0)
        let figure = Figure(title: "", panels: [
            Panel(title: "", x: Axis("", range: 0...1), y: Axis("", range: 0...1),
                  series: [Series(name: "", x: [0, 1], y: [0, 1], color: red)], legend: .none),
        ], width: 400, height: 300)
        let plot = ChartLayout.layout(figure).plotAreas[0]
        let png = try decodePNG(figure.png())
        func isRed(_ x: Int, _ y: Int) -> Bool {
            let p = png.pixel(x, y)
            return p.r > 200 && p.g < 80 && p.b < 80
        }
        // Along the diagonal (bottom-left to top-right) every sampled point is red.
        for k in 1..<10 {
            let t = Double(k) / 10
            let x = Int(plot.x + t * plot.width), y = Int(plot.maxY - t * plot.height)
            let hit = (-1...1).contains { dy in (-1...1).contains { dx in isRed(x + dx, y + dy) } }
            #expect(hit, "no red near (\(x), \(y))")
            // Off the line, inside the plot: background (or light grid), never red.
            let offY = Int(plot.y + (1 - t) * plot.height * 0.5)
            if abs(offY - y) > 10 { #expect(!isRed(x, offY)) }
        }
        // Opposite corners of the plot stay background: the line does not leak.
        #expect(png.isBackground(Int(plot.x) + 12, Int(plot.y) + 12))
        #expect(png.isBackground(Int(plot.maxX) - 12, Int(plot.maxY) - 12))
        // Nothing red outside the plot area.
        var outside = 0
        for y in 0..<png.height {
            for x in 0..<png.width where isRed(x, y) {
                if Double(x) < plot.x - 2 || Double(x) > plot.maxX + 2 || Double(y) < plot.y - 2 || Double(y) > plot.maxY + 2 {
                    outside += 1
                }
            }
        }
        #expect(outside == 0)
    }

    @Test func titleTextIsRasterised() throws {
        // Ink above the plot area (and above its top tick label): only the title can put any there.
        func inkInTitleBand(_ title: String) throws -> Int {
            let figure = Figure(title: title, panels: [
                Panel(title: "", x: Axis(), y: Axis(), series: [Series(name: "a", y: [1, 2, 3])]),
            ], width: 500, height: 300)
            let png = try decodePNG(figure.png())
            let plotTop = Int(ChartLayout.layout(figure).plotAreas[0].y)
            var ink = 0
            for y in 0..<(plotTop - 9) {
                for x in 0..<png.width where !png.isBackground(x, y) { ink += 1 }
            }
            return ink
        }
        #expect(try inkInTitleBand("Training loss") > 200)
        #expect(try inkInTitleBand("") == 0)
    }

    @Test func nonFiniteAndNonPositivePointsBreakLinesWithoutCrashing() throws {
        let series = Series(name: "diverged", x: [1, 2, 3, 4, 5, 6, 7], y: [1, .nan, 0.5, .infinity, -1, 0.1, 0.05])
        let figure = Figure(title: "NaN", panels: [
            Panel(title: "log", x: Axis("epoch"), y: Axis("loss", scale: .log10), series: [series]),
            Panel(title: "linear", x: Axis("epoch"), y: Axis("loss"), series: [series]),
            Panel(title: "empty", x: Axis("epoch"), y: Axis("loss", scale: .log10),
                  series: [Series(name: "all NaN", y: [.nan, .nan])]),
        ])
        let runs = ChartLayout.pixelRuns(series, xMap: AxisMap(scale: .linear, range: 0...10, pixelFrom: 0, pixelTo: 100),
                                         yMap: AxisMap(scale: .log10, range: 0.01...10, pixelFrom: 100, pixelTo: 0))
        #expect(runs.map(\.count) == [1, 1, 2])
        _ = try decodePNG(figure.png())
        #expect(figure.svg().contains("all NaN"))
        // Degenerate inputs render too: no points, one point, an empty heat map, a tiny canvas.
        let odd = Figure(title: String(repeating: "very long title ", count: 20), panels: [
            Panel(title: "none", x: Axis(), y: Axis(), series: []),
            Panel(title: "one", x: Axis(), y: Axis("", scale: .log10), series: [Series(name: "p", y: [0.5], markers: true)]),
            Panel(title: "heat", x: Axis(), y: Axis(), heatMap: HeatMap(values: [])),
            Panel(title: "flat", x: Axis(), y: Axis(), heatMap: HeatMap(values: [[1, 1], [1, .nan]])),
        ])
        _ = try decodePNG(odd.png())
        _ = try XMLDocument(xmlString: odd.svg(), options: [])
        _ = try decodePNG(Figure(title: "tiny", panels: [Panel(title: "t", x: Axis(), y: Axis(), series: [])],
                                 width: 40, height: 30).png())
    }

    @Test func clippingAndDashing() {
        let rect = SceneRect(x: 0, y: 0, width: 10, height: 10)
        let pieces = ChartLayout.clip([ScenePoint(x: -5, y: 5), ScenePoint(x: 5, y: 5), ScenePoint(x: 5, y: 20),
                                       ScenePoint(x: 8, y: 20), ScenePoint(x: 8, y: 5)], to: rect)
        #expect(pieces == [[ScenePoint(x: 0, y: 5), ScenePoint(x: 5, y: 5), ScenePoint(x: 5, y: 10)],
                           [ScenePoint(x: 8, y: 10), ScenePoint(x: 8, y: 5)]])
        let dashes = PNGRenderer.dashed([ScenePoint(x: 0, y: 0), ScenePoint(x: 30, y: 0)], pattern: [7, 5])
        #expect(dashes.map { $0.first!.x } == [0, 12, 24])
        #expect(dashes.map { $0.last!.x } == [7, 19, 30])
    }

    // MARK: SVG

    @Test func svgIsWellFormedXMLWithTitleLegendAndTicks() throws {
        var figure = depthSweepFigure()
        figure.title = "Loss <plain> & \"highway\""
        let svg = figure.svg()
        let document = try XMLDocument(xmlString: svg, options: [])
        #expect(document.rootElement()?.name == "svg")
        let texts = (try document.nodes(forXPath: "//*[local-name()='text']")).compactMap(\.stringValue)
        #expect(texts.contains("Loss <plain> & \"highway\""))
        #expect(texts.contains("depth 10") && texts.contains("depth 100"))
        #expect(texts.contains("plain (width 71)") && texts.contains("highway (width 50)"))
        #expect(texts.contains("1e-4") && texts.contains("0.1") && texts.contains("1"))
        #expect(texts.contains("epoch") && texts.contains("mean training loss"))
        #expect(svg.contains("viewBox=\"0 0 1200 500\""))
        #expect(svg.contains("font-family=\"sans-serif\""))
    }

    @Test func heatMapHasColourBarAndTicks() throws {
        let figure = heatMapFigure()
        let texts = try XMLDocument(xmlString: figure.svg(), options: [])
            .nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
        #expect(texts.contains("T(x)") && texts.contains("layer") && texts.contains("1.0") && texts.contains("-0.2"))
        let png = try decodePNG(figure.png())
        let scene = ChartLayout.layout(figure)
        // The first panel's top-left cell (unit 0, layer 1: gate wide open) is bright (viridis top end).
        let plot = scene.plotAreas[0]
        let p = png.pixel(Int(plot.x) + 3, Int(plot.y) + 3)
        #expect(p.r > 150 && p.g > 180 && p.b < 120)
        // Far right, low gates: dark purple-blue.
        let q = png.pixel(Int(plot.maxX) - 3, Int(plot.y) + 30)
        #expect(q.r < 100 && q.b > 60)
    }

    @Test func figureWriteProducesBothFilesAtomically() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try lesionFigure().write(to: dir.appendingPathComponent("lesion"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["lesion.png", "lesion.svg"])
        _ = try decodePNG(Data(contentsOf: dir.appendingPathComponent("lesion.png")))
        _ = try XMLDocument(contentsOf: dir.appendingPathComponent("lesion.svg"), options: [])
    }

    /// Writes the sample figures for a person to look at when HIGHWAYKIT_SAMPLES_DIR is set.
    @Test func sampleFiguresRender() throws {
        let env = ProcessInfo.processInfo.environment["HIGHWAYKIT_SAMPLES_DIR"]
        let dir = try env.map { URL(fileURLWithPath: $0) } ?? temporaryDirectory()
        defer { if env == nil { try? FileManager.default.removeItem(at: dir) } }
        try checkWritableDirectory(dir, create: true)
        try depthSweepFigure().write(to: dir.appendingPathComponent("depth_sweep"))
        try heatMapFigure().write(to: dir.appendingPathComponent("gates"))
        try lesionFigure().write(to: dir.appendingPathComponent("lesion"))
    }

    // MARK: Progress

    @Test func progressPrintsOneLinePerEpochWhenNotATerminal() {
        final class Box { var text = "" }
        let box = Box()
        let progress = ProgressReporter(epochs: 2, batchesPerEpoch: 50, batchSize: 32, interactive: false) { box.text += $0 }
        for epoch in 1...2 {
            progress.beginEpoch(epoch)
            for b in 1...50 { progress.batch(b, loss: 1.0 / Double(b)) }
            progress.endEpoch(metrics: [("test_acc", 0.9)])
        }
        progress.finish()
        let lines = box.text.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("epoch 1/2  loss "))
        #expect(lines[1].contains("test_acc 0.9"))
        #expect(!box.text.contains("\r"))
    }

    @Test func progressRedrawsOnATerminalAndCanBeSilenced() {
        final class Box { var text = "" }
        let box = Box()
        let progress = ProgressReporter(epochs: 1, batchesPerEpoch: 1000, batchSize: 8, interactive: true) { box.text += $0 }
        progress.beginEpoch(1)
        for b in 1...1000 { progress.batch(b, loss: 0.5) }
        progress.endEpoch()
        // Throttled: far fewer redraws than batches, the last batch always drawn.
        let redraws = box.text.components(separatedBy: "\r").count - 1
        #expect(redraws >= 2 && redraws < 100)
        #expect(box.text.contains("batch 1000/1000"))

        let quiet = Box()
        let silent = ProgressReporter(epochs: 1, batchesPerEpoch: 10, batchSize: 8, quiet: true, interactive: true) { quiet.text += $0 }
        silent.beginEpoch(1)
        for b in 1...10 { silent.batch(b, loss: 0.5) }
        silent.endEpoch()
        let loop = LoopProgress(total: 3, label: "lesion", quiet: true, interactive: false) { quiet.text += $0 }
        loop.advance()
        loop.finish()
        #expect(quiet.text.isEmpty)
    }

    @Test func loopProgressReportsCompletion() {
        final class Box { var text = "" }
        let box = Box()
        let loop = LoopProgress(total: 49, label: "lesion", interactive: false) { box.text += $0 }
        for layer in 1...49 { loop.advance(note: "layer \(layer)") }
        loop.finish()
        #expect(box.text.hasPrefix("lesion: 49/49 done in "))
        #expect(formatDuration(125) == "2m 05s")
        #expect(progressBar(0.5, width: 10) == "[=====>    ]")
    }

    @Test func loopProgressPacesAResumedLoopByItsOwnSteps() throws {
        final class Box { var text = "" }
        let box = Box()
        // 900 of 1000 steps done before: no ETA until this bar has done steps of its own
        let loop = LoopProgress(total: 10000, label: "grid", completed: 900, interactive: true) { box.text += $0 }
        loop.update(completed: 900)
        #expect(box.text.contains("900/10000") && !box.text.contains("ETA"))
        Thread.sleep(forTimeInterval: 0.2)
        loop.update(completed: 950)
        // 50 steps took ≥ 0.2 s, so the other 9050 take ≥ 36 s (at the pace of all 950: about 2 s)
        let eta = try #require(box.text.components(separatedBy: "950/10000  ETA ").last)
        #expect(eta.count >= 3, "ETA \(eta)")
    }

    @Test("an announcement gets a line of its own at once, between the rate-limited progress lines")
    func loopProgressAnnounces() {
        final class Box { var text = "" }
        let box = Box()
        let loop = LoopProgress(total: 100, label: "grid", interactive: false) { box.text += $0 }
        loop.update(completed: 10, note: "level 2")   // within the first 10 s: no line
        loop.announce("grid: diverged (gradient norm 4e+07): back to step 8's weights")
        #expect(box.text == "grid: diverged (gradient norm 4e+07): back to step 8's weights\n")
        let live = Box()
        let bar = LoopProgress(total: 100, label: "grid", interactive: true) { live.text += $0 }
        bar.update(completed: 10)
        bar.announce("event")
        #expect(live.text.hasSuffix("event\n") && live.text.contains("\r"))   // the bar's line cleared first
    }

    @Test func loopProgressTakesARevisedTotal() {
        final class Box { var text = "" }
        let box = Box()
        let loop = LoopProgress(total: 1000, label: "grid", interactive: true) { box.text += $0 }
        loop.update(completed: 100, total: 400, note: "level 2")
        #expect(loop.total == 400 && box.text.contains("grid \(progressBar(0.25)) 100/400  level 2  ETA"))
        loop.finish()
        #expect(box.text.hasSuffix("grid: 100/400 done in 0s\n"))
    }
}
