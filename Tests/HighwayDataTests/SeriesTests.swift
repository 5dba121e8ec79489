// Multivariate series text files (good and broken, raw and gzip) and the forecasting windows cut
// from them: normalisation, the chronological split and the example layout of the LSTNet reference.
import Foundation
import Testing
import HighwayTensor
@testable import HighwayData

/// `../shared/data/exchange_rate/exchange_rate.txt.gz`, found by walking up from this file.
func sharedExchangeRateFile() -> String? {
    guard let mnist = sharedMNISTDirectory() else { return nil }
    let path = mnist.deletingLastPathComponent().appendingPathComponent("exchange_rate/exchange_rate.txt.gz").path
    return FileManager.default.fileExists(atPath: path) ? path : nil
}

@Suite struct SeriesTextTests {
    func withFile(_ text: String, name: String = "series.txt", gzip: Bool = false,
                  _ body: (String) throws -> Void) throws {
        try withTempDirectory { dir in
            let url = dir.appendingPathComponent(name)
            let bytes = Array(text.utf8)
            try write(gzip ? gzipStored(bytes) : bytes, to: url)
            try body(url.path)
        }
    }

    @Test func parsesRowsRawAndGzip() throws {
        let text = "1.5,-2,3e-1\n  4 , 5.25,6\r\n\n# a comment\n7,8,9"   // CRLF, blank, comment, no final newline
        for gz in [false, true] {
            try withFile(text, gzip: gz) { path in
                let s = try MultivariateSeries.load(path: path)
                #expect(s.rows == 3 && s.series == 3)
                #expect(s.values == [1.5, -2, 0.3, 4, 5.25, 6, 7, 8, 9])
                #expect(s[1, 1] == 5.25)
            }
        }
    }

    @Test func raggedRowNamesFileAndLine() throws {
        try withFile("1,2,3\n4,5,6\n7,8\n", name: "ragged.txt") { path in
            expectDataError(["ragged.txt", "line 3", "2 values", "line 1 has 3"]) { _ = try MultivariateSeries.load(path: path) }
        }
        try withFile("1,2\n4,5,6\n", name: "long.txt") { path in
            expectDataError(["long.txt", "line 2", "3 values"]) { _ = try MultivariateSeries.load(path: path) }
        }
    }

    @Test func nonNumberNamesLineAndColumn() throws {
        try withFile("1,2,3\n4,abc,6\n", name: "bad.txt") { path in
            expectDataError(["bad.txt", "line 2, column 2", "'abc' is not a number"]) { _ = try MultivariateSeries.load(path: path) }
        }
        try withFile("1,2,3\n4,,6\n", name: "empty-field.txt") { path in
            expectDataError(["line 2, column 2", "empty value"]) { _ = try MultivariateSeries.load(path: path) }
        }
        try withFile("1,2,3\n4,5,nan\n", name: "nan.txt") { path in
            expectDataError(["line 2, column 3", "not a finite"]) { _ = try MultivariateSeries.load(path: path) }
        }
        try withFile("1,2,1e40\n", name: "huge.txt") { path in
            expectDataError(["line 1, column 3", "not a finite 32-bit float"]) { _ = try MultivariateSeries.load(path: path) }
        }
    }

    @Test func emptyFilesAreErrors() throws {
        for text in ["", "\n\n", "# only a comment\n"] {
            try withFile(text, name: "empty.txt") { path in
                expectDataError(["empty.txt", "no rows"]) { _ = try MultivariateSeries.load(path: path) }
            }
        }
        expectDataError(["/nonexistent/series.txt", "not found"]) { _ = try MultivariateSeries.load(path: "/nonexistent/series.txt") }
    }

    @Test func truncatedGzipIsAnError() throws {
        try withTempDirectory { dir in
            let url = dir.appendingPathComponent("cut.txt.gz")
            let gz = gzipStored(Array(String(repeating: "1,2,3\n", count: 100).utf8))
            try write(Array(gz.prefix(gz.count - 30)), to: url)
            expectDataError(["cut.txt.gz", "truncated gzip"]) { _ = try MultivariateSeries.load(path: url.path) }
        }
    }
}

@Suite struct ForecastWindowTests {
    /// 20 rows × 2 series: row t = (t + 1, −2(t + 1)).
    static let ramp = MultivariateSeries(source: "ramp", rows: 20, series: 2,
                                         values: (0..<20).flatMap { (t: Int) -> [Float] in
                                             let v = Float(t + 1)
                                             return [v, -2 * v]
                                         })

    @Test func referenceSplitAndLayout() throws {
        let w = try ForecastWindows(Self.ramp, window: 3, horizon: 2, normalization: .max)
        #expect(w.scaling.scale == [20, 40])
        #expect(w.trainEnd == 12 && w.validEnd == 16)
        // targets: train from window + horizon − 1 = 4 up to 12, valid 12..<16, test 16..<20
        #expect(w.train == Array(4..<12) && w.valid == Array(12..<16) && w.test == Array(16..<20))
        var x = Tensor.zeros([0]), y = Tensor.zeros([0])
        w.fill(w.test, positions: [0, 3], inputs: &x, targets: &y)
        #expect(x.shape == [2, 3, 2] && y.shape == [2, 1, 2])
        // target row 16 (value 17): inputs rows 12, 13, 14 (values 13, 14, 15), the last 2 steps before
        let xs = x.scalars
        let firstSeries: [Float] = stride(from: 0, to: xs.count, by: 2).map { (xs[$0] * 20).rounded() }
        #expect(firstSeries == [13, 14, 15, 16, 17, 18])
        // targets rows 16 and 19: (17, −34) / (20, 40) and (20, −40) / (20, 40)
        #expect(zip(y.scalars, [0.85, -0.85, 1, -1] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func multiStepKeepsTargetsInsideTheirSplit() throws {
        let w = try ForecastWindows(Self.ramp, window: 3, horizon: 1, steps: 3, normalization: .none)
        #expect(w.train == Array(3..<10) && w.valid == Array(12..<14) && w.test == Array(16..<18))
        var x = Tensor.zeros([0]), y = Tensor.zeros([0])
        w.fill(w.valid, positions: [1], inputs: &x, targets: &y)
        #expect(x.shape == [1, 3, 2] && y.shape == [1, 3, 2])
        #expect(x.scalars == [11, -22, 12, -24, 13, -26])
        #expect(y.scalars == [14, -28, 15, -30, 16, -32])
    }

    @Test func stdNormalization() throws {
        let w = try ForecastWindows(Self.ramp, window: 2, horizon: 1, normalization: .std)
        #expect(abs(w.scaling.offset[0] - 10.5) < 1e-5)
        #expect(abs(w.scaling.scale[0] - Float((399.0 / 12).squareRoot())) < 1e-4)
        #expect(abs(w.scaling.raw(w.normalized[6], series: 0) - 4) < 1e-5)
        let constant = MultivariateSeries(source: "c", rows: 10, series: 1, values: Array(repeating: 3, count: 10))
        let c = try ForecastWindows(constant, window: 1, horizon: 1, normalization: .std)
        #expect(c.scaling.scale == [1] && c.normalized.allSatisfy { $0 == 0 })
    }

    @Test func tooFewRowsNamesTheFileAndTheNeed() throws {
        let e = expectDataError(["ramp", "20 rows are too few", "window of 18"]) {
            _ = try ForecastWindows(Self.ramp, window: 18, horizon: 1)
        }
        if case let .tooFewRows(_, _, needed, _) = e {
            // the minimum it reports really works, one row less does not
            let rows = needed
            let s = MultivariateSeries(source: "s", rows: rows, series: 1, values: (0..<rows).map(Float.init))
            #expect(throws: Never.self) { _ = try ForecastWindows(s, window: 18, horizon: 1) }
            let t = MultivariateSeries(source: "t", rows: rows - 1, series: 1, values: (0..<rows - 1).map(Float.init))
            #expect(throws: DataError.self) { _ = try ForecastWindows(t, window: 18, horizon: 1) }
        }
        expectDataError(["horizon = 0"]) { _ = try ForecastWindows(Self.ramp, window: 3, horizon: 0) }
        expectDataError(["window = 0"]) { _ = try ForecastWindows(Self.ramp, window: 0, horizon: 1) }
    }

    @Test func realExchangeRateFile() throws {
        guard let path = sharedExchangeRateFile() else {
            Issue.record("../shared/data/exchange_rate/exchange_rate.txt.gz not found")
            return
        }
        let s = try MultivariateSeries.load(path: path)
        #expect(s.rows == 7588 && s.series == 8)
        #expect(s.values.allSatisfy { $0 > 0 && $0.isFinite })
        let w = try ForecastWindows(s, window: 168, horizon: 24)
        // the reference's counts: int(0.6·7588) = 4552, int(0.8·7588) = 6070
        #expect(w.trainEnd == 4552 && w.validEnd == 6070)
        #expect(w.train.count == 4552 - 191 && w.valid.count == 1518 && w.test.count == 1518)
        #expect(w.scaling.scale.allSatisfy { $0 > 0 })
        #expect(w.normalized.allSatisfy { $0 > 0 && $0 <= 1 })
    }
}
