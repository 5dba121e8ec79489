// Rasterises a laid-out `Scene` into RGB pixels, then encodes them as PNG.
//
// Our own small rasteriser, so pictures need no external tool: lines are anti-aliased by exact
// distance-to-segment coverage (a pixel's ink is how much of a `width`-wide stroke overlaps it,
// approximated by clamp(width/2 + 0.5 − distance)); each polyline accumulates coverage with `max`
// in a mask before blending, so joints are not painted twice. Rectangles use exact area
// coverage, dots radial coverage, and text the 5×7 `BitmapFont` scaled by whole pixels.

import Foundation

/// An 8-bit RGB image being drawn on.
struct Raster {
    let width: Int
    let height: Int
    /// Row-major RGB triples.
    var pixels: [UInt8]

    init(width: Int, height: Int, background: Color = .white) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = background.r
            pixels[3 * i + 1] = background.g
            pixels[3 * i + 2] = background.b
        }
    }

    func pixel(_ x: Int, _ y: Int) -> Color {
        let i = 3 * (y * width + x)
        return Color(r: pixels[i], g: pixels[i + 1], b: pixels[i + 2])
    }

    /// Mixes `color` into pixel (x, y) with opacity `alpha` ∈ [0, 1]; out-of-bounds is ignored.
    @inline(__always)
    mutating func blend(_ x: Int, _ y: Int, _ color: Color, _ alpha: Double) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        let i = 3 * (y * width + x)
        if alpha >= 1 {
            pixels[i] = color.r
            pixels[i + 1] = color.g
            pixels[i + 2] = color.b
            return
        }
        func mix(_ old: UInt8, _ new: UInt8) -> UInt8 {
            UInt8((Double(old) * (1 - alpha) + Double(new) * alpha).rounded())
        }
        pixels[i] = mix(pixels[i], color.r)
        pixels[i + 1] = mix(pixels[i + 1], color.g)
        pixels[i + 2] = mix(pixels[i + 2], color.b)
    }

    /// Fills [x0, x1) × [y0, y1) with exact fractional coverage at the edges.
    mutating func fillRect(x0: Double, y0: Double, x1: Double, y1: Double, color: Color) {
        let px0 = max(0, Int(floor(x0))), px1 = min(width, Int(ceil(x1)))
        let py0 = max(0, Int(floor(y0))), py1 = min(height, Int(ceil(y1)))
        guard px1 > px0, py1 > py0 else { return }
        for y in py0..<py1 {
            let cy = min(Double(y + 1), y1) - max(Double(y), y0)
            for x in px0..<px1 {
                let cx = min(Double(x + 1), x1) - max(Double(x), x0)
                blend(x, y, color, cx * cy)
            }
        }
    }

    /// Strokes a polyline of the given width, anti-aliased, butt ends.
    mutating func strokePolyline(_ points: [ScenePoint], width lineWidth: Double, color: Color) {
        guard points.count >= 2 else { return }
        let reach = lineWidth / 2 + 1
        let minX = max(0, Int(floor(points.map(\.x).min()! - reach)))
        let maxX = min(width - 1, Int(ceil(points.map(\.x).max()! + reach)))
        let minY = max(0, Int(floor(points.map(\.y).min()! - reach)))
        let maxY = min(height - 1, Int(ceil(points.map(\.y).max()! + reach)))
        guard maxX >= minX, maxY >= minY else { return }
        let mw = maxX - minX + 1
        var mask = [Float](repeating: 0, count: mw * (maxY - minY + 1))
        let half = lineWidth / 2
        for i in 1..<points.count {
            let a = points[i - 1], b = points[i]
            let dx = b.x - a.x, dy = b.y - a.y
            let len2 = dx * dx + dy * dy
            let len = len2.squareRoot()
            let sx0 = max(minX, Int(floor(min(a.x, b.x) - reach))), sx1 = min(maxX, Int(ceil(max(a.x, b.x) + reach)))
            let sy0 = max(minY, Int(floor(min(a.y, b.y) - reach))), sy1 = min(maxY, Int(ceil(max(a.y, b.y) + reach)))
            guard sx1 >= sx0, sy1 >= sy0 else { continue }
            for y in sy0...sy1 {
                let py = Double(y) + 0.5
                for x in sx0...sx1 {
                    let px = Double(x) + 0.5
                    // Distance across the segment, and how far inside it along its length
                    // (negative past an end): butt ends fade over one pixel at the endpoint.
                    guard len2 > 0 else { continue }
                    let along = ((px - a.x) * dx + (py - a.y) * dy) / len
                    let across = abs((px - a.x) * dy - (py - a.y) * dx) / len
                    let inside = min(along, len - along)
                    let c = min(max(half + 0.5 - across, 0), 1) * min(max(0.5 + inside, 0), 1)
                    if c <= 0 { continue }
                    let m = (y - minY) * mw + (x - minX)
                    if Float(c) > mask[m] { mask[m] = Float(c) }
                }
            }
            // Round joins: a disc at each interior vertex fills the wedge between segments.
            if i < points.count - 1 { discCoverage(center: b, radius: half, mask: &mask, minX: minX, minY: minY, maxX: maxX, maxY: maxY) }
        }
        for y in minY...maxY {
            for x in minX...maxX {
                let c = mask[(y - minY) * mw + (x - minX)]
                if c > 0 { blend(x, y, color, Double(c)) }
            }
        }
    }

    private func discCoverage(center: ScenePoint, radius: Double, mask: inout [Float], minX: Int, minY: Int,
                              maxX: Int, maxY: Int)
    {
        let mw = maxX - minX + 1
        let x0 = max(minX, Int(floor(center.x - radius - 1))), x1 = min(maxX, Int(ceil(center.x + radius + 1)))
        let y0 = max(minY, Int(floor(center.y - radius - 1))), y1 = min(maxY, Int(ceil(center.y + radius + 1)))
        guard x1 >= x0, y1 >= y0 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let d = hypot(Double(x) + 0.5 - center.x, Double(y) + 0.5 - center.y)
                let c = Float(min(max(radius + 0.5 - d, 0), 1))
                let m = (y - minY) * mw + (x - minX)
                if c > mask[m] { mask[m] = c }
            }
        }
    }

    /// A filled, anti-aliased disc.
    mutating func fillDisc(center: ScenePoint, radius: Double, color: Color) {
        let x0 = max(0, Int(floor(center.x - radius - 1))), x1 = min(width - 1, Int(ceil(center.x + radius + 1)))
        let y0 = max(0, Int(floor(center.y - radius - 1))), y1 = min(height - 1, Int(ceil(center.y + radius + 1)))
        guard x1 >= x0, y1 >= y0 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let d = hypot(Double(x) + 0.5 - center.x, Double(y) + 0.5 - center.y)
                blend(x, y, color, min(max(radius + 0.5 - d, 0), 1))
            }
        }
    }

    /// Draws `text` with the bitmap font. The cap height is centred on `at.y` (horizontal) or on
    /// `at.x` (rotated: reading upwards, letter tops facing left).
    mutating func drawText(_ text: String, at: ScenePoint, scale: Int, color: Color, anchor: TextAnchor,
                           rotated: Bool, bold: Bool)
    {
        let characters = Array(text)
        let length = BitmapFont.width(ofCount: characters.count) * scale
        let offset: Int
        switch anchor {
        case .start: offset = 0
        case .middle: offset = length / 2
        case .end: offset = length
        }
        let halfCap = BitmapFont.capHeight * scale / 2
        // Text-space origin (start of the line, top of the caps) in pixels.
        let ox = Int(at.x.rounded()), oy = Int(at.y.rounded())
        let thick = bold ? 1 : 0
        for (index, character) in characters.enumerated() {
            let rows = BitmapFont.rows(for: character)
            for (r, bits) in rows.enumerated() where bits != 0 {
                for c in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - c)) != 0 {
                    // u runs along the text, v down the glyph.
                    let u = (index * BitmapFont.advance + c) * scale - offset
                    let v = r * scale - halfCap
                    for dv in 0..<scale {
                        for du in 0..<(scale + thick) {
                            if rotated {
                                blend(ox + v + dv, oy - (u + du) - 1, color, 1)
                            } else {
                                blend(ox + u + du, oy + v + dv, color, 1)
                            }
                        }
                    }
                }
            }
        }
    }
}

enum PNGRenderer {
    /// Draws the scene and returns the PNG file's bytes.
    static func render(_ scene: Scene) -> Data {
        let raster = rasterize(scene)
        return PNGEncoder.encode(rgb: raster.pixels, width: raster.width, height: raster.height)
    }

    static func rasterize(_ scene: Scene) -> Raster {
        var raster = Raster(width: scene.width, height: scene.height)
        for op in scene.ops {
            switch op {
            case let .rect(x, y, width, height, fill, _):
                raster.fillRect(x0: x, y0: y, x1: x + width, y1: y + height, color: fill)
            case let .polyline(points, color, width, dash):
                for piece in dashed(points, pattern: dash) {
                    raster.strokePolyline(piece, width: width, color: color)
                }
            case let .dot(center, radius, fill):
                raster.fillDisc(center: center, radius: radius, color: fill)
            case let .text(string, at, scale, color, anchor, rotated, bold):
                raster.drawText(string, at: at, scale: scale, color: color, anchor: anchor, rotated: rotated, bold: bold)
            }
        }
        return raster
    }

    /// Splits a polyline into its "on" dashes (the same pattern SVG's stroke-dasharray draws).
    static func dashed(_ points: [ScenePoint], pattern: [Double]) -> [[ScenePoint]] {
        guard pattern.count >= 2, pattern.allSatisfy({ $0 > 0 }), points.count >= 2 else { return [points] }
        var pieces: [[ScenePoint]] = []
        var current: [ScenePoint] = [points[0]]
        var phase = 0  // index into pattern; even = on
        var left = pattern[0]
        for i in 1..<points.count {
            var a = points[i - 1]
            let b = points[i]
            var remaining = hypot(b.x - a.x, b.y - a.y)
            while remaining > 0 {
                let step = min(left, remaining)
                let t = step / remaining
                let p = ScenePoint(x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y))
                if phase % 2 == 0 { current.append(p) }
                remaining -= step
                left -= step
                a = p
                if left <= 1e-9 {
                    if phase % 2 == 0 {
                        if current.count >= 2 { pieces.append(current) }
                        current = []
                    } else {
                        current = [p]
                    }
                    phase = (phase + 1) % pattern.count
                    left = pattern[phase]
                }
            }
        }
        if phase % 2 == 0, current.count >= 2 { pieces.append(current) }
        return pieces
    }
}
