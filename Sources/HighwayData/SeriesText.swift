// SeriesText: multivariate time series stored as text, one time step per line, the series'
// values separated by commas (the LSTNet data sets: exchange_rate.txt, electricity.txt, …),
// optionally gzip-compressed.
//
// Every line must hold the same number of finite numbers; the first line fixes the count. Blank
// lines and lines starting with `#` are skipped (as numpy.loadtxt does); `\r\n` line ends are
// accepted. Anything else — a ragged row, a value that is not a number, an empty field, a
// non-finite value, a file with no rows — throws a `DataError` naming the file, the line and the
// column (both counted from 1), so the user can open the file at that spot.
//
// What it deliberately does not do: headers, quoting, other separators, missing values.
import Foundation

/// A multivariate time series: `rows` time steps of `series` values, row-major.
///
/// ```swift
/// let data = try MultivariateSeries.load(path: "../shared/data/exchange_rate/exchange_rate.txt.gz")
/// data.rows      // 7588 days
/// data.series    // 8 currencies
/// data[10, 3]    // day 10, currency 3
/// ```
public struct MultivariateSeries: Sendable, Equatable {
    /// Where the values came from (a path, or a name for data made in memory); errors name it.
    public let source: String
    /// Time steps.
    public let rows: Int
    /// Values per time step.
    public let series: Int
    /// `rows × series` values, row-major: step t, series s at `t·series + s`.
    public let values: [Float]

    /// A series from values already in memory (`values.count == rows·series`).
    public init(source: String, rows: Int, series: Int, values: [Float]) {
        precondition(rows >= 0 && series >= 0 && values.count == rows * series,
                     "MultivariateSeries: \(values.count) values for \(rows) × \(series)")
        self.source = source
        self.rows = rows
        self.series = series
        self.values = values
    }

    /// The value of series `s` at step `t`.
    public subscript(t: Int, s: Int) -> Float { values[t * series + s] }

    /// Reads the text file at `path` (inflated first when it is gzip), see ``parse(_:source:)``.
    /// - Throws: ``DataError`` naming `path` (not found, unreadable, truncated gzip, bad text).
    public static func load(path: String, maxBytes: Int = 1 << 31) throws -> MultivariateSeries {
        try parse(Gzip.readFile(atPath: path, maxBytes: maxBytes), source: path)
    }

    /// Parses comma-separated rows of numbers.
    /// - Throws: ``DataError/invalidText(path:line:column:message:)`` at the first bad line or
    ///   value, ``DataError/invalidFormat(path:offset:message:)`` for a file with no rows.
    public static func parse(_ bytes: [UInt8], source: String) throws -> MultivariateSeries {
        var values: [Float] = []
        var width = -1, rows = 0, line = 0, widthLine = 0
        var field: [UInt8] = []
        field.reserveCapacity(64)
        let n = bytes.count
        var i = 0
        while i < n {
            // one line: [i, end)
            var end = i
            while end < n && bytes[end] != 0x0A { end += 1 }
            line += 1
            var stop = end
            if stop > i && bytes[stop - 1] == 0x0D { stop -= 1 }   // \r\n
            defer { i = end + 1 }
            var first = i
            while first < stop && (bytes[first] == 0x20 || bytes[first] == 0x09) { first += 1 }
            if first == stop || bytes[first] == UInt8(ascii: "#") { continue }   // blank or comment
            var column = 0
            var start = i
            while true {
                var j = start
                while j < stop && bytes[j] != UInt8(ascii: ",") { j += 1 }
                column += 1
                field.removeAll(keepingCapacity: true)
                var a = start, b = j
                while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
                while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
                field.append(contentsOf: bytes[a..<b])
                let text = String(decoding: field, as: UTF8.self)
                guard !text.isEmpty else {
                    throw DataError.invalidText(path: source, line: line, column: column, message: "empty value (expected a number)")
                }
                // Double reads a C string, so "1\0abc" would read as 1: no control bytes in a value;
                // and it reads C's hexadecimal floats ("0x1p3" is 8): decimal numbers only
                guard !field.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") }),
                      let v = Double(text) else {
                    throw DataError.invalidText(path: source, line: line, column: column,
                                                message: "'\(text.prefix(40))' is not a number")
                }
                guard v.isFinite, abs(v) <= Double(Float.greatestFiniteMagnitude) else {
                    throw DataError.invalidText(path: source, line: line, column: column,
                                                message: "'\(text.prefix(40))' is not a finite 32-bit float")
                }
                values.append(Float(v))
                if j >= stop { break }
                start = j + 1
            }
            if width < 0 {
                width = column
                widthLine = line
            } else if column != width {
                throw DataError.invalidText(path: source, line: line, column: nil,
                                            message: "\(column) values, but line \(widthLine) has \(width) (every row must have the same number of series)")
            }
            rows += 1
        }
        guard rows > 0 else {
            throw DataError.invalidFormat(path: source, offset: nil, message: "no rows of comma-separated numbers (the file is empty)")
        }
        return MultivariateSeries(source: source, rows: rows, series: width, values: values)
    }
}
