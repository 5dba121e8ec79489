// Multivariate series text (raw or gzip'd, as MultivariateSeries.load reads them) through
// MultivariateSeries.parse: rows of comma-separated finite numbers, all of one width; then, for
// an accepted series, ForecastWindows with a small window and horizon, which must throw (not
// trap) when the series has too few rows.
import FuzzDriver
import FuzzSupport
import HighwayKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSeries(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzParser(data, size, expecting: DataError.self) { bytes in
        let raw = Gzip.isGzip(bytes) ? try Gzip.decompress(bytes, path: fuzzInputName, maxBytes: 1 << 26) : bytes
        let parsed = try MultivariateSeries.parse(raw, source: fuzzInputName)
        // the input's length picks the shape, so every size of problem is fuzzed from one corpus
        let window = 1 + size % 4, horizon = 1 + (size / 4) % 3, steps = 1 + (size / 12) % 2
        let windows = try ForecastWindows(parsed, window: window, horizon: horizon, steps: steps)
        return "\(parsed.rows) × \(parsed.series); window \(window), horizon \(horizon), steps \(steps): "
            + "\(windows.train.count)/\(windows.valid.count)/\(windows.test.count) examples"
    }
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's callback.
@_cdecl("FuzzSeries_main")
public func fuzzSeriesMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    hk_fuzz_main(argc, argv, fuzzSeries)
}
