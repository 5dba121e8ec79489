// DataError: what was wrong with a data file or a data argument, and which one.
//
// Every loader in HighwayData throws one of these for anything a user can cause (a missing
// directory, a truncated download, a file that is not what its name says). The message names the
// path, the offset or field where it went wrong and what was expected, so the command-line tool
// can print it as is and exit. `precondition` is kept for bugs inside the library.

/// An error a user can cause with a data file, directory or data-set argument.
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing exists at `path`.
    case fileNotFound(path: String)
    /// `path` exists but could not be read (a directory, no permission, an I/O error).
    case unreadable(path: String, reason: String)
    /// A gzip file whose compressed stream ends before its end marker (an interrupted download).
    case truncatedGzip(path: String, decompressedBytes: Int)
    /// A gzip file whose compressed stream is damaged; `reason` is zlib's message.
    case corruptGzip(path: String, reason: String)
    /// A file that decompresses to more than the allowed number of bytes (a decompression bomb,
    /// or the wrong file).
    case tooLarge(path: String, limit: Int)
    /// A file whose contents break its format at byte `offset` (nil: the file as a whole).
    case invalidFormat(path: String, offset: Int?, message: String)
    /// A file whose header declares `expected` bytes in all but which holds `actual` bytes.
    case sizeMismatch(path: String, expected: Int, actual: Int, detail: String)
    /// A class label outside `0..<classes` at record `index` (the first bad one).
    case labelOutOfRange(path: String, index: Int, label: Int, classes: Int)
    /// Two files of one split that disagree on the number of records.
    case countMismatch(imagesPath: String, images: Int, labelsPath: String, labels: Int)
    /// A data directory that does not exist; `expected` lists the files that should be in it.
    case directoryNotFound(path: String, expected: [String], hint: String?)
    /// A data directory without one of its files; `tried` lists the names looked for.
    case missingFile(directory: String, tried: [String], hint: String?)
    /// A data-set name that is not one of `valid`.
    case unknownDataset(name: String, valid: [String])
    /// An argument (a size, a count, a range) that cannot work, e.g. a batch size of 0.
    case invalidArgument(name: String, value: String, expected: String)
    /// A text data file whose line `line` (from 1) breaks the format at field `column` (from 1;
    /// nil: the line as a whole), e.g. a value that is not a number or a row of the wrong length.
    case invalidText(path: String, line: Int, column: Int?, message: String)
    /// A series file with too few rows for what was asked of it (a window, a split).
    case tooFewRows(path: String, rows: Int, needed: Int, reason: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): file not found"
        case let .unreadable(path, reason):
            return "\(path): cannot read the file (\(reason))"
        case let .truncatedGzip(path, n):
            return "\(path): truncated gzip stream (it ends after \(n) decompressed bytes, before the gzip end marker; download the file again)"
        case let .corruptGzip(path, reason):
            return "\(path): corrupt gzip stream (\(reason))"
        case let .tooLarge(path, limit):
            return "\(path): decompresses to more than the limit of \(limit) bytes (a decompression bomb, or not the expected file)"
        case let .invalidFormat(path, offset, message):
            let at = offset.map { " at byte \($0)" } ?? ""
            return "\(path): invalid file\(at): \(message)"
        case let .sizeMismatch(path, expected, actual, detail):
            let what = actual < expected ? "truncated" : "has \(actual - expected) trailing bytes"
            return "\(path): \(what): expected \(expected) bytes (\(detail)) but the file has \(actual)"
        case let .labelOutOfRange(path, index, label, classes):
            return "\(path): label \(label) at index \(index) is outside 0..<\(classes)"
        case let .countMismatch(imagesPath, images, labelsPath, labels):
            return "\(imagesPath) holds \(images) images but \(labelsPath) holds \(labels) labels (expected the same count)"
        case let .directoryNotFound(path, expected, hint):
            var s = "\(path): data directory not found (expected it to hold \(expected.joined(separator: ", ")))"
            if let hint { s += "; \(hint)" }
            return s
        case let .missingFile(directory, tried, hint):
            var s = "\(directory): missing data file (looked for \(tried.joined(separator: " or ")))"
            if let hint { s += "; \(hint)" }
            return s
        case let .unknownDataset(name, valid):
            return "unknown data set '\(name)' (expected one of: \(valid.joined(separator: ", ")))"
        case let .invalidArgument(name, value, expected):
            return "\(name) = \(value) is not valid (expected \(expected))"
        case let .invalidText(path, line, column, message):
            let at = column.map { ", column \($0)" } ?? ""
            return "\(path): line \(line)\(at): \(message)"
        case let .tooFewRows(path, rows, needed, reason):
            return "\(path): \(rows) rows are too few: \(reason) needs at least \(needed)"
        }
    }
}
