// Axis tick positions and their labels.
//
// Linear axes use "nice" steps (1, 2 or 5 × 10^k) so labels are round numbers a reader can
// interpolate between; log axes use decades (1e-4, 1e-3, …), which is what the paper's loss plots
// show. Labels are as short as the step allows ("0.5", "20", "1e-3").

import Foundation

enum Ticks {
    /// The smallest of 1, 2, 5 × 10^k that is ≥ `rough`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough.isFinite, rough > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(rough)))
        let residual = rough / magnitude
        // Tolerance so that 0.2 / 0.1 = 2.0000000000000004 still counts as 2.
        let nice: Double = residual <= 1 + 1e-9 ? 1 : residual <= 2 + 1e-9 ? 2 : residual <= 5 + 1e-9 ? 5 : 10
        return nice * magnitude
    }

    /// The range rounded outwards to multiples of a nice step giving about `target` intervals.
    static func niceRange(_ lo: Double, _ hi: Double, target: Int) -> ClosedRange<Double> {
        let step = niceStep((hi - lo) / Double(max(target, 1)))
        let a = floor(lo / step + 1e-9) * step
        let b = ceil(hi / step - 1e-9) * step
        return a...max(b, a + step)
    }

    /// Nice ticks inside `range`, about `target` intervals, with their step.
    static func linear(_ range: ClosedRange<Double>, target: Int) -> (values: [Double], step: Double) {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return ([range.lowerBound], 1) }
        let step = niceStep(span / Double(max(target, 1)))
        let eps = step * 1e-6
        var values: [Double] = []
        var k = ceil((range.lowerBound - eps) / step)
        while k * step <= range.upperBound + eps, values.count < 1000 {
            // Snap tiny residues (e.g. 1.1e-17) to exactly zero so "0" is printed.
            let v = abs(k * step) < eps ? 0 : k * step
            values.append(v)
            k += 1
        }
        return (values, step)
    }

    /// Ticks of a log10 axis over `range` (positive values): decades, thinned to every 2nd, 3rd, …
    /// decade when there are many; when the range holds fewer than two decades, 2× and 5× ticks are
    /// added so the axis still has labels.
    static func log10Major(_ range: ClosedRange<Double>, maxCount: Int = 8) -> [Double] {
        let a = log10(range.lowerBound), b = log10(range.upperBound)
        let first = Int(ceil(a - 1e-9)), last = Int(floor(b + 1e-9))
        if last - first + 1 >= 2 {
            let count = last - first + 1
            let every = max(1, Int(ceil(Double(count) / Double(max(maxCount, 1)))))
            return stride(from: first, through: last, by: 1).filter { ($0 - first) % every == 0 }.map { decade($0) }
        }
        var values: [Double] = []
        for k in (first - 1)...(last + 1) {
            for m in [1.0, 2.0, 5.0] {
                let v = m * decade(k)
                if v >= range.lowerBound * (1 - 1e-9), v <= range.upperBound * (1 + 1e-9) { values.append(v) }
            }
        }
        return values
    }

    /// Unlabelled minor ticks of a log axis: 2…9 × 10^k inside the range.
    static func log10Minor(_ range: ClosedRange<Double>) -> [Double] {
        let first = Int(floor(log10(range.lowerBound))), last = Int(ceil(log10(range.upperBound)))
        guard last - first <= 12 else { return [] }
        var values: [Double] = []
        for k in first...last {
            for m in 2...9 {
                let v = Double(m) * decade(k)
                if v > range.lowerBound, v < range.upperBound { values.append(v) }
            }
        }
        return values
    }

    /// 10^k, exact for the decades we label.
    static func decade(_ k: Int) -> Double {
        k >= 0 ? pow(10, Double(k)) : 1 / pow(10, Double(-k))
    }

    /// A label for a log-axis tick: "0.01" … "100" near 1, "1e-3", "1e4" beyond; 2× and 5× ticks
    /// as "2e-3" or "0.2".
    static func logLabel(_ v: Double) -> String {
        let k = Int(floor(log10(v) + 1e-9))
        let mantissa = (v / decade(k)).rounded()
        if (-2...2).contains(k) { return format(v, step: decade(min(k, 0))) }
        return (mantissa == 1 ? "1" : String(Int(mantissa))) + "e" + String(k)
    }

    /// A compact label for a linear tick `v` on an axis whose ticks are `step` apart.
    static func format(_ v: Double, step: Double) -> String {
        if v == 0 { return "0" }
        guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "inf" : "-inf") }
        let magnitude = abs(v)
        if magnitude >= 1e6 || magnitude < 1e-4 {
            // Scientific, with as many mantissa digits as the step needs.
            let k = Int(floor(log10(magnitude) + 1e-9))
            let digits = max(0, k - Int(floor(log10(step) + 1e-9)))
            var mantissa = String(format: "%.\(min(digits, 6))f", v / decade(k))
            if mantissa.contains(".") {
                while mantissa.hasSuffix("0") { mantissa.removeLast() }
                if mantissa.hasSuffix(".") { mantissa.removeLast() }
            }
            return mantissa + "e" + String(k)
        }
        let decimals = max(0, -Int(floor(log10(step) + 1e-9)))
        return String(format: "%.\(min(decimals, 8))f", v)
    }
}
