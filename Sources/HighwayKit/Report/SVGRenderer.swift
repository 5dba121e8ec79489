// Writes a laid-out `Scene` as standalone SVG 1.1 text.
//
// Plain elements only (rect, polyline, circle, text), every attribute value and text XML-escaped,
// so the file opens in browsers, Inkscape and LaTeX toolchains and parses as XML.

import Foundation

enum SVGRenderer {
    static func render(_ scene: Scene) -> String {
        var out = """
        <?xml version="1.0" encoding="UTF-8" standalone="no"?>
        <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(scene.width)" height="\(scene.height)" \
        viewBox="0 0 \(scene.width) \(scene.height)" font-family="sans-serif">

        """
        for op in scene.ops {
            switch op {
            case let .rect(x, y, width, height, fill, crisp):
                out += "<rect x=\"\(num(x))\" y=\"\(num(y))\" width=\"\(num(width))\" height=\"\(num(height))\" "
                    + "fill=\"\(fill.hexString)\"" + (crisp ? " shape-rendering=\"crispEdges\"" : "") + "/>\n"
            case let .polyline(points, color, width, dash):
                let coordinates = points.map { "\(num($0.x)),\(num($0.y))" }.joined(separator: " ")
                out += "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(color.hexString)\" "
                    + "stroke-width=\"\(num(width))\" stroke-linejoin=\"round\" stroke-linecap=\"butt\""
                    + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash.map(num).joined(separator: ","))\"") + "/>\n"
            case let .dot(center, radius, fill):
                out += "<circle cx=\"\(num(center.x))\" cy=\"\(num(center.y))\" r=\"\(num(radius))\" fill=\"\(fill.hexString)\"/>\n"
            case let .text(string, at, scale, color, anchor, rotated, bold):
                // Font size chosen so sans-serif cap height (~0.72 em) matches the bitmap font's
                // 7 × scale; the baseline sits half a cap height below the centre line.
                let size = 9.7 * Double(scale)
                let half = 3.5 * Double(scale)
                let anchorName = anchor == .start ? "start" : anchor == .middle ? "middle" : "end"
                var attributes = "font-size=\"\(num(size))\" fill=\"\(color.hexString)\" text-anchor=\"\(anchorName)\""
                if bold { attributes += " font-weight=\"bold\"" }
                if rotated {
                    attributes = "x=\"\(num(at.x))\" y=\"\(num(at.y + half))\" transform=\"rotate(-90 \(num(at.x)) \(num(at.y)))\" "
                        + attributes
                } else {
                    attributes = "x=\"\(num(at.x))\" y=\"\(num(at.y + half))\" " + attributes
                }
                out += "<text \(attributes)>\(escape(string))</text>\n"
            }
        }
        out += "</svg>\n"
        return out
    }

    /// A coordinate with at most two decimals, no trailing zeros (keeps files small and stable).
    static func num(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let r = (v * 100).rounded() / 100
        if r == r.rounded() { return String(Int(r)) }
        var s = String(format: "%.2f", r)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }

    /// Escapes the five XML special characters and drops control characters XML 1.0 forbids.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                if scalar.value < 0x20, scalar != "\t", scalar != "\n", scalar != "\r" { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
