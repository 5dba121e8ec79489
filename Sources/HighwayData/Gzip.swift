// Gzip: read a whole data file, inflating it with the system zlib if it is gzip-compressed.
//
// Data sets ship both ways (MNIST as `.gz`, Debian's packages sometimes raw), so a loader calls
// `Gzip.readFile` and never cares which it got: a file that starts with the gzip magic 1f 8b is
// inflated, anything else is returned as it is. Concatenated gzip members (what `cat a.gz b.gz`
// makes, and what gzip(1) accepts) are inflated one after another.
//
// What it deliberately does not do: stream to the caller (every file we read fits in memory and
// is parsed as a whole), or write gzip.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import CZlib

/// Reading whole files that may or may not be gzip-compressed.
///
/// ```swift
/// let bytes = try Gzip.readFile(atPath: "mnist/train-labels-idx1-ubyte.gz", maxBytes: 1 << 30)
/// ```
public enum Gzip {
    /// The first two bytes of every gzip member (RFC 1952).
    public static let magic: [UInt8] = [0x1F, 0x8B]

    /// Whether `bytes` starts with the gzip magic.
    public static func isGzip<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var it = bytes.makeIterator()
        return it.next() == magic[0] && it.next() == magic[1]
    }

    /// The contents of the file at `url`, inflated if it is gzip. See ``readFile(atPath:maxBytes:)``.
    public static func readFile(_ url: URL, maxBytes: Int? = nil) throws -> [UInt8] {
        try readFile(atPath: url.path, maxBytes: maxBytes)
    }

    /// The contents of the file at `path`, inflated if it starts with the gzip magic.
    ///
    /// - Parameter maxBytes: the most bytes the result may hold (raw or decompressed); guards
    ///   against decompression bombs. `nil`: no limit.
    /// - Throws: ``DataError`` naming `path`: not found, unreadable, truncated or corrupt gzip,
    ///   larger than `maxBytes`.
    public static func readFile(atPath path: String, maxBytes: Int? = nil) throws -> [UInt8] {
        let raw = try readRaw(path: path, maxBytes: isGzipFile(path) ? nil : maxBytes)
        return isGzip(raw) ? try decompress(raw, path: path, maxBytes: maxBytes) : raw
    }

    /// Inflates `data`, one or more concatenated gzip members. `path` only names the source in errors.
    ///
    /// Trailing zero bytes after the last member are ignored (tape-style padding, as gzip(1) does);
    /// any other trailing data is an error.
    /// - Throws: ``DataError/truncatedGzip(path:decompressedBytes:)``,
    ///   ``DataError/corruptGzip(path:reason:)``, ``DataError/tooLarge(path:limit:)``.
    public static func decompress(_ data: [UInt8], path: String, maxBytes: Int? = nil) throws -> [UInt8] {
        guard isGzip(data) else {
            throw DataError.corruptGzip(path: path, reason: "it does not start with the gzip magic 1f 8b")
        }
        let limit = maxBytes ?? Int.max
        var out: [UInt8] = []
        // ISIZE (the last 4 bytes, little-endian) is the size of the last member mod 2^32. It is
        // untrusted (a truncated file ends in arbitrary bytes), so it is only a capacity hint,
        // capped at 16× the input: MNIST's images inflate ~5×.
        let n = data.count
        let isize = n < 4 ? 0 : Int(data[n - 1]) << 24 | Int(data[n - 2]) << 16 | Int(data[n - 3]) << 8 | Int(data[n - 4])
        out.reserveCapacity(Swift.min(isize, 16 * n + 4096, limit))

        var stream = z_stream()
        // windowBits 15 + 32: the largest window, with gzip/zlib header auto-detection.
        var rc = inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            throw DataError.unreadable(path: path, reason: "zlib inflateInit2 failed with code \(rc)")
        }
        defer { inflateEnd(&stream) }

        let chunk = 1 << 18
        var buffer = [UInt8](repeating: 0, count: chunk)
        try data.withUnsafeBufferPointer { input in
            try buffer.withUnsafeMutableBufferPointer { output in
                // zlib never writes through next_in; the type is only mutable because z_const is unset.
                let base = UnsafeMutablePointer(mutating: input.baseAddress!)
                var fed = 0   // bytes of input handed to zlib so far (avail_in is 32-bit: feed in pieces)
                while true {
                    if stream.avail_in == 0 && fed < input.count {
                        let piece = Swift.min(input.count - fed, Int(UInt32.max))
                        stream.next_in = base + fed
                        stream.avail_in = UInt32(piece)
                        fed += piece
                    }
                    stream.next_out = output.baseAddress
                    stream.avail_out = UInt32(chunk)
                    rc = inflate(&stream, Z_NO_FLUSH)
                    let produced = chunk - Int(stream.avail_out)
                    if produced > limit - out.count { throw DataError.tooLarge(path: path, limit: limit) }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: output[0..<produced]))
                    switch rc {
                    case Z_OK:
                        continue
                    case Z_STREAM_END:
                        let consumed = fed - Int(stream.avail_in)
                        let rest = input[consumed...]
                        if rest.isEmpty || rest.allSatisfy({ $0 == 0 }) { return }
                        guard isGzip(rest) else {
                            throw DataError.corruptGzip(path: path, reason:
                                "\(rest.count) bytes after the gzip member ending at byte \(consumed) are not another gzip member")
                        }
                        inflateReset(&stream)   // next member: next_in/avail_in already point at it
                    case Z_BUF_ERROR:
                        // No progress possible with output space free: the input ran out mid-stream.
                        if stream.avail_in == 0 && fed == input.count {
                            throw DataError.truncatedGzip(path: path, decompressedBytes: out.count)
                        }
                        throw DataError.corruptGzip(path: path, reason: "zlib made no progress (Z_BUF_ERROR)")
                    case Z_DATA_ERROR:
                        let consumed = fed - Int(stream.avail_in)
                        let msg = stream.msg.map { String(cString: $0) } ?? "invalid deflate data"
                        throw DataError.corruptGzip(path: path, reason: "\(msg), near compressed byte \(consumed)")
                    case Z_MEM_ERROR:
                        throw DataError.unreadable(path: path, reason: "out of memory while decompressing")
                    case Z_NEED_DICT:
                        throw DataError.corruptGzip(path: path, reason: "the stream needs a preset dictionary")
                    default:
                        throw DataError.corruptGzip(path: path, reason: "zlib inflate returned code \(rc)")
                    }
                }
            }
        }
        return out
    }

    // ---- raw file reading (POSIX, so errors carry errno's text and nothing is copied twice) ----

    /// Whether the first two bytes of the file are the gzip magic (false if unreadable: the
    /// full read that follows reports why).
    private static func isGzipFile(_ path: String) -> Bool {
        guard let f = fopen(path, "rb") else { return false }
        defer { fclose(f) }
        var head: [UInt8] = [0, 0]
        return fread(&head, 1, 2, f) == 2 && isGzip(head)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    /// The bytes of the file at `path`, exactly as stored.
    static func readRaw(path: String, maxBytes: Int?) throws -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DataError.fileNotFound(path: path)
        }
        if isDir.boolValue { throw DataError.unreadable(path: path, reason: "it is a directory") }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DataError.unreadable(path: path, reason: errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DataError.unreadable(path: path, reason: errnoText()) }
        let size = Int(st.st_size)
        if let maxBytes, size > maxBytes { throw DataError.tooLarge(path: path, limit: maxBytes) }
        var readError: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, initialized in
            var done = 0
            while done < size {
                let r = read(fd, buf.baseAddress! + done, size - done)
                if r > 0 { done += r; continue }
                if r < 0 && errno == EINTR { continue }
                if r < 0 { readError = errnoText() }
                break   // r == 0: the file shrank while we read it; keep what is there
            }
            initialized = done
        }
        if let readError { throw DataError.unreadable(path: path, reason: readError) }
        return bytes
    }
}
