// RSE, RAE and CORR against values computed by hand from the reference code's formulas.
import Testing
@testable import HighwayKit

@Suite struct ForecastMetricsTests {
    @Test func handComputedValues() {
        // 3 rows × 2 series
        let y: [Double] = [1, 10, 2, 20, 3, 60]
        let p: [Double] = [1, 12, 3, 18, 2, 55]
        let s = ForecastScores.compute(prediction: p, truth: y, rows: 3, columns: 2)
        // errors 0, 2, 1, −2, −1, −5: SSE = 35, SAE = 11, n·c = 6
        // mean Y = 16; Σ(Y − 16)² = 225 + 36 + 196 + 16 + 169 + 1936 = 2578; Σ|Y − 16| = 15+6+14+4+13+44 = 96
        // normal_std = sqrt(2578/5)·sqrt(2/3)
        let rse = (35.0 / 6).squareRoot() / ((2578.0 / 5).squareRoot() * (2.0 / 3).squareRoot())
        let rae = (11.0 / 6) / (96.0 / 6)
        // series 0: p = 1,3,2 (mean 2), y = 1,2,3 (mean 2): cov = (1·1 + 1·0 + 0·1)/3... by hand:
        //   dp = −1, 1, 0; dg = −1, 0, 1 → cov = 1/3, σp = σg = sqrt(2/3) → corr 0.5
        // series 1: p = 12, 18, 55 (mean 85/3), y = 10, 20, 60 (mean 30)
        let mp = 85.0 / 3, dp = [12 - mp, 18 - mp, 55 - mp], dg = [-20.0, -10, 30]
        let cov = zip(dp, dg).map { $0 * $1 }.reduce(0, +) / 3
        let sp = (dp.map { $0 * $0 }.reduce(0, +) / 3).squareRoot(), sg = (dg.map { $0 * $0 }.reduce(0, +) / 3).squareRoot()
        let corr = (0.5 + cov / (sp * sg)) / 2
        #expect(abs(s.rse - rse) < 1e-12)
        #expect(abs(s.rae - rae) < 1e-12)
        #expect(abs(s.corr - corr) < 1e-12)
    }

    @Test func perfectAndConstantForecasts() {
        let y: [Double] = [1, 5, 2, 5, 4, 5]   // series 1 is constant: left out of CORR
        let s = ForecastScores.compute(prediction: y, truth: y, rows: 3, columns: 2)
        #expect(s.rse == 0 && s.rae == 0 && abs(s.corr - 1) < 1e-12)
        // a constant prediction of a varying series: NaN, as numpy gives in the reference
        let c = ForecastScores.compute(prediction: [2, 5, 2, 5, 2, 5], truth: y, rows: 3, columns: 2)
        #expect(c.corr.isNaN)
    }

    @Test func referenceDenominators() {
        // the same errors against a reference set twice as spread out: RSE and RAE halve
        let y: [Double] = [0, 2, 4, 6], p: [Double] = [1, 2, 4, 5]
        let own = ForecastScores.compute(prediction: p, truth: y, rows: 4, columns: 1)
        let wide = ForecastScores.compute(prediction: p, truth: y, rows: 4, columns: 1, reference: y.map { $0 * 2 })
        #expect(abs(wide.rse - own.rse / 2) < 1e-12 && abs(wide.rae - own.rae / 2) < 1e-12 && wide.corr == own.corr)
    }
}
