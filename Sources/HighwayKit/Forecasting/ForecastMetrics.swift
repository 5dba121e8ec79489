// The forecasting metrics of LSTNet (Lai et al. 2018), computed exactly as its reference code does
// (main.py `evaluate`, utils.py `normal_std`), on values scaled back to the data's units.
//
// With predictions P and targets Y as n rows × c columns (c = series, or series × steps):
//
//   RSE  = sqrt(Σ (P − Y)² / (n·c))  /  normal_std(Y)
//          normal_std(Y) = std(Y over all n·c elements, divisor n·c − 1) · sqrt((n − 1)/n)
//          (the reference's `x.std() * sqrt((len(x) − 1)/len(x))`, where len(x) is the number of
//          ROWS, not elements — so this is the paper's sqrt(Σ(Y − Ŷ)²)/sqrt(Σ(Y − mean Y)²) times
//          sqrt((n·c − 1)/(n·c)) / sqrt((n − 1)/n), a factor within 1e-3 of 1 on real data sets)
//   RAE  = (Σ |P − Y| / (n·c))  /  mean(|Y − mean Y|)        mean Y over all elements
//   CORR = mean over columns j with σ(Y_j) ≠ 0 of
//          mean_t((P_tj − mean P_j)(Y_tj − mean Y_j)) / (σ(P_j)·σ(Y_j))     σ with divisor n
//          (a column whose predictions are constant gives NaN, as numpy does in the reference)
//
// The denominators come from `reference` targets: the reference code always uses the TEST set's
// (`Data.rse`, `Data.rae`), even when it evaluates the validation set. HighwayKit passes each
// set's own targets, so validation numbers are on their own scale; test numbers are identical to
// the reference's, and the choice of the best epoch (smallest validation RSE) is the same either
// way, since the denominator is a constant.

/// RSE, RAE and CORR of one set of forecasts.
public struct ForecastScores: Codable, Equatable, Sendable {
    public var rse: Double
    public var rae: Double
    public var corr: Double

    public init(rse: Double, rae: Double, corr: Double) {
        self.rse = rse
        self.rae = rae
        self.corr = corr
    }

    /// Scores `prediction` against `truth`, both `rows × columns` row-major, in the data's units;
    /// `reference` (default: `truth`) supplies the RSE and RAE denominators.
    public static func compute(prediction: [Double], truth: [Double], rows n: Int, columns c: Int,
                               reference: [Double]? = nil) -> ForecastScores {
        precondition(prediction.count == n * c && truth.count == n * c, "ForecastScores: \(prediction.count), \(truth.count) values for \(n) × \(c)")
        let ref = reference ?? truth
        let refRows = ref.count / Swift.max(c, 1)
        let count = Double(n * c)
        var sse = 0.0, sae = 0.0
        for i in 0..<(n * c) {
            let d = prediction[i] - truth[i]
            sse += d * d
            sae += abs(d)
        }
        // denominators
        let rn = Double(ref.count)
        let mean = ref.reduce(0, +) / rn
        var ss = 0.0, sa = 0.0
        for v in ref { ss += (v - mean) * (v - mean); sa += abs(v - mean) }
        let normalStd = (ss / (rn - 1)).squareRoot() * ((Double(refRows) - 1) / Double(refRows)).squareRoot()
        let rse = (sse / count).squareRoot() / normalStd
        let rae = (sae / count) / (sa / rn)
        // correlation per column
        var corrSum = 0.0, used = 0
        for j in 0..<c {
            var mp = 0.0, mg = 0.0
            for t in 0..<n { mp += prediction[t * c + j]; mg += truth[t * c + j] }
            mp /= Double(n); mg /= Double(n)
            var vp = 0.0, vg = 0.0, cov = 0.0
            for t in 0..<n {
                let dp = prediction[t * c + j] - mp, dg = truth[t * c + j] - mg
                vp += dp * dp; vg += dg * dg; cov += dp * dg
            }
            let sp = (vp / Double(n)).squareRoot(), sg = (vg / Double(n)).squareRoot()
            guard sg != 0 else { continue }
            corrSum += (cov / Double(n)) / (sp * sg)
            used += 1
        }
        return ForecastScores(rse: rse, rae: rae, corr: used > 0 ? corrSum / Double(used) : .nan)
    }
}
