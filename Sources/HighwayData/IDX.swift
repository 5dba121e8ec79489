// IDX: the file format of the MNIST family (LeCun et al., http://yann.lecun.com/exdb/mnist/).
//
//   bytes 0-1   0x00 0x00            magic
//   byte  2     element type         0x08 = unsigned byte (the only one these data sets use)
//   byte  3     ndims                number of dimensions
//   then ndims  big-endian UInt32    the size of each dimension, outermost first
//   then        the data, row-major  product(dims) elements
//
// The header is untrusted: every size is checked (each > 0, the product without overflow, header
// plus data exactly the file's length) before anything is allocated from it, so a hostile or
// truncated file is a thrown error naming the file, never a crash or a 4 GiB allocation.
//
// What it deliberately does not do: element types other than unsigned byte (rejected by name).
import Foundation

/// A parsed IDX file: its dimensions and its data bytes (row-major).
public struct IDXArray: Sendable {
    /// The size of each dimension, outermost first (e.g. `[60000, 28, 28]`); every size > 0.
    public let dims: [Int]
    /// The data, `dims.reduce(1, *)` bytes. Shares the file's storage, so its indices start at
    /// the header length, not 0: index it from `bytes.startIndex`.
    public let bytes: ArraySlice<UInt8>

    /// The number of elements, the product of ``dims``.
    public var count: Int { bytes.count }
}

/// Reading IDX files (plain or gzip-compressed).
public enum IDX {
    /// The element types the format defines, for naming them in errors.
    static let typeNames: [UInt8: String] = [
        0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32",
        0x0D: "float32", 0x0E: "float64",
    ]

    /// The most dimensions accepted: MNIST images have 3, labels 1.
    public static let maxDims = 4

    /// Reads and parses the IDX file at `url`, inflating it first if it is gzip.
    /// - Parameter maxBytes: the most decompressed bytes accepted (see ``Gzip/readFile(atPath:maxBytes:)``).
    /// - Throws: ``DataError`` naming the file.
    public static func read(_ url: URL, maxBytes: Int? = nil) throws -> IDXArray {
        try parse(Gzip.readFile(atPath: url.path, maxBytes: maxBytes), path: url.path)
    }

    /// Parses the bytes of an IDX file held in memory, inflating them first if they are gzip
    /// (what ``read(_:maxBytes:)`` does with a file's bytes); `path` names the source in errors.
    /// - Parameter maxBytes: the most decompressed bytes accepted (nil: no limit).
    /// - Throws: ``DataError`` naming `path`.
    public static func decode(_ bytes: [UInt8], path: String, maxBytes: Int? = nil) throws -> IDXArray {
        if Gzip.isGzip(bytes) { return try parse(Gzip.decompress(bytes, path: path, maxBytes: maxBytes), path: path) }
        if let maxBytes, bytes.count > maxBytes { throw DataError.tooLarge(path: path, limit: maxBytes) }
        return try parse(bytes, path: path)
    }

    /// Parses the bytes of an IDX file (already decompressed); `path` names the file in errors.
    /// - Throws: ``DataError/invalidFormat(path:offset:message:)`` for a bad magic, type, ndims or
    ///   dimension, ``DataError/sizeMismatch(path:expected:actual:detail:)`` when the header's sizes
    ///   and the file's length disagree.
    public static func parse(_ file: [UInt8], path: String) throws -> IDXArray {
        func bad(_ offset: Int?, _ message: String) -> DataError {
            DataError.invalidFormat(path: path, offset: offset, message: message)
        }
        guard file.count >= 4 else {
            throw bad(nil, "the file has \(file.count) bytes, fewer than the 4-byte IDX magic (expected 00 00 08 ndims)")
        }
        guard file[0] == 0, file[1] == 0 else {
            throw bad(0, "magic bytes are \(hex(file[0])) \(hex(file[1])), expected 00 00 (not an IDX file)")
        }
        let type = file[2]
        guard type == 0x08 else {
            let name = typeNames[type].map { "\($0) elements" } ?? "an unknown element type"
            throw bad(2, "element type \(hex(type)) (\(name)) is not supported, expected 08 (unsigned byte)")
        }
        let ndims = Int(file[3])
        guard (1...maxDims).contains(ndims) else {
            throw bad(3, "\(ndims) dimensions, expected 1...\(maxDims)")
        }
        let headerLength = 4 + 4 * ndims
        guard file.count >= headerLength else {
            throw DataError.sizeMismatch(path: path, expected: headerLength, actual: file.count,
                                         detail: "an IDX header with \(ndims) dimensions")
        }
        var dims: [Int] = []
        var product = 1
        for d in 0..<ndims {
            let o = 4 + 4 * d
            let size = Int(file[o]) << 24 | Int(file[o + 1]) << 16 | Int(file[o + 2]) << 8 | Int(file[o + 3])
            guard size > 0 else { throw bad(o, "dimension \(d) has size 0, expected > 0") }
            dims.append(size)
            let (p, overflow) = product.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw bad(o, "dimensions \(dims)... multiply past \(Int.max) (impossible sizes)")
            }
            product = p
        }
        let (expected, overflow) = headerLength.addingReportingOverflow(product)
        guard !overflow else { throw bad(nil, "dimensions \(dims) plus the header overflow a file size") }
        guard expected == file.count else {
            throw DataError.sizeMismatch(path: path, expected: expected, actual: file.count,
                                         detail: "\(headerLength)-byte header + \(dims.map(String.init).joined(separator: "×")) = \(product) data bytes")
        }
        return IDXArray(dims: dims, bytes: file[headerLength...])
    }

    static func hex(_ b: UInt8) -> String {
        let s = String(b, radix: 16, uppercase: true)
        return s.count == 1 ? "0" + s : s
    }
}
