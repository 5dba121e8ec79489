// Atomic file output for run directories (DESIGN.md: "Writes are atomic").
//
// Every result file goes through `AtomicFile.write`: the bytes land in a uniquely named temporary
// file in the target's own directory (so the final `rename` never crosses a file system), are
// fsync'ed, then renamed over the target. A reader therefore sees either the old file or the whole
// new one — never a half-written result that looks whole — and a failure leaves no temporary behind.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error while writing a report or run-directory file. Its message names the path, what was
/// being done, and the operating system's reason.
public struct ReportError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The file or directory concerned.
    public var path: String
    /// What was wrong, e.g. "cannot create temporary file: Permission denied".
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// An error from a failed system call, with `strerror(code)` as the reason.
    static func os(_ path: String, _ operation: String, _ code: Int32) -> ReportError {
        ReportError(path: path, reason: "\(operation): \(String(cString: strerror(code)))")
    }

    public var description: String { "\(path): \(reason)" }
    public var errorDescription: String? { description }
}

// One atomic writer for the whole project: HighwayNN's `AtomicFile` (temporary file in the same
// directory, fsync, rename, fsync of the directory). Report files add Data and String inputs.
extension AtomicFile {
    /// Writes `data` atomically; an existing target is left untouched on failure.
    public static func write(_ data: Data, to url: URL) throws {
        try write([UInt8](data), to: url)
    }

    /// Writes `string` as UTF-8, atomically.
    public static func write(_ string: String, to url: URL) throws {
        try write(Array(string.utf8), to: url)
    }
}

// MARK: - JSON

/// Writes `value` as pretty-printed JSON with sorted keys (stable diffs between runs), atomically.
/// Non-finite numbers — a diverged plain net's loss is NaN — become the strings "NaN",
/// "Infinity" and "-Infinity" instead of failing the whole write.
public func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    let data: Data
    do {
        data = try encoder.encode(value)
    } catch {
        throw ReportError(path: url.path, reason: "cannot encode JSON: \(error)")
    }
    try AtomicFile.write(data + Data("\n".utf8), to: url)
}

/// Writes a JSON object built from dictionaries, arrays, strings, numbers and booleans, pretty
/// printed with sorted keys, atomically. Non-finite numbers are written as strings as in
/// `writeJSON(_:to:)` for `Encodable` values.
public func writeJSON(_ object: [String: Any], to url: URL) throws {
    let cleaned = jsonSafe(object)
    guard JSONSerialization.isValidJSONObject(cleaned) else {
        throw ReportError(path: url.path, reason: "cannot encode JSON: the value holds a type JSON cannot represent")
    }
    let data: Data
    do {
        data = try JSONSerialization.data(
            withJSONObject: cleaned, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    } catch {
        throw ReportError(path: url.path, reason: "cannot encode JSON: \(error)")
    }
    try AtomicFile.write(data + Data("\n".utf8), to: url)
}

/// Replaces non-finite floating-point numbers (which JSONSerialization rejects) by strings.
private func jsonSafe(_ value: Any) -> Any {
    switch value {
    case let d as Double: return d.isFinite ? d : nonFiniteName(d)
    case let f as Float: return f.isFinite ? Double(f) : nonFiniteName(Double(f))
    case let dict as [String: Any]: return dict.mapValues(jsonSafe)
    case let array as [Any]: return array.map(jsonSafe)
    default: return value
    }
}

private func nonFiniteName(_ d: Double) -> String {
    d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity")
}

// MARK: - CSV

/// One CSV cell: text (quoted when needed) or a number (written with full round-trip precision).
public enum CSVCell: Equatable, ExpressibleByStringLiteral, ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral
{
    case text(String)
    case number(Double)

    public init(stringLiteral value: String) { self = .text(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }

    /// The cell as it appears in the file (RFC 4180 quoting for text).
    public var encoded: String {
        switch self {
        case .number(let d):
            // Integral values print without ".0" so epochs and counts read naturally; everything
            // else uses Swift's shortest representation that parses back to the same Double.
            if d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
            return "\(d)"
        case .text(let s):
            let needsQuotes = s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
                || s.first == " " || s.last == " "
            guard needsQuotes else { return s }
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
    }
}

/// A table written as CSV: one header row, then data rows, RFC 4180 quoting.
///
/// ```swift
/// var table = CSVTable(header: ["epoch", "train_loss"])
/// table.append([1, 0.4321])
/// try table.write(to: runDir.appendingPathComponent("metrics.csv"))
/// ```
public struct CSVTable: Equatable {
    public var header: [String]
    public var rows: [[CSVCell]]

    public init(header: [String], rows: [[CSVCell]] = []) {
        self.header = header
        self.rows = rows
    }

    /// Appends a row; it must have one cell per header column.
    public mutating func append(_ row: [CSVCell]) {
        precondition(row.count == header.count, "CSV row has \(row.count) cells, header has \(header.count)")
        rows.append(row)
    }

    /// Appends a row of numbers.
    public mutating func append(numbers: [Double]) {
        append(numbers.map(CSVCell.number))
    }

    /// The CSV text, lines ending in "\n" (what Python's csv, pandas and spreadsheets all read).
    public var text: String {
        var out = header.map { CSVCell.text($0).encoded }.joined(separator: ",") + "\n"
        for row in rows {
            out += row.map(\.encoded).joined(separator: ",")
            out += "\n"
        }
        return out
    }

    /// Writes the table atomically.
    public func write(to url: URL) throws {
        try AtomicFile.write(text, to: url)
    }
}

// MARK: - Output directories

/// Makes sure `url` is a directory this process can write into: creates it (with parents) when
/// `create` is true, then proves writability by creating and removing a probe file. Call it
/// before training starts so an unwritable output directory fails in a second, not after an hour.
public func checkWritableDirectory(_ url: URL, create: Bool, freeBytes: Int = 0) throws {
    let path = url.path
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else {
            throw ReportError(path: path, reason: "exists and is not a directory")
        }
    } else {
        guard create else {
            throw ReportError(path: path, reason: "output directory does not exist")
        }
        // mkdir each missing component ourselves so the error carries the OS reason (ENOTDIR,
        // EACCES, …) for the exact component that failed.
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 {
                let code = errno
                if code == EEXIST {
                    var st = stat()
                    if stat(prefix, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { continue }
                    throw ReportError(path: path, reason: "cannot create directory: \(prefix) is not a directory")
                }
                throw ReportError.os(path, "cannot create directory \(prefix)", code)
            }
        }
    }
    let probe = path + "/.highway-write-probe-\(getpid())-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
        throw ReportError.os(path, "output directory is not writable", errno)
    }
    _ = close(fd)
    _ = unlink(probe)
    // a full file system lets the empty probe through (an inode is enough): ask for the space
    var fs = statvfs()
    if freeBytes > 0, statvfs(path, &fs) == 0 {
        let available = Double(fs.f_bavail) * Double(fs.f_frsize)
        if available < Double(freeBytes) {
            throw ReportError(path: path, reason: "output directory has \(Int(available)) bytes free, "
                + "but the run needs about \(freeBytes) (two checkpoints while one replaces the other); free some space or choose another --out")
        }
    }
}
