// Helpers for the HighwayData tests: where the real data live, a temp directory, file writers for
// IDX and gzip (stored deflate blocks, so no zlib is needed to write them), CRC-32 and MD5.
import Foundation
import Testing
@testable import HighwayData

/// `../shared/data/mnist` relative to the repository root, found by walking up from this file
/// (or `$HIGHWAY_DATA/mnist` when set).
func sharedMNISTDirectory() -> URL? {
    if let env = ProcessInfo.processInfo.environment["HIGHWAY_DATA"] {
        return URL(fileURLWithPath: env).appendingPathComponent("mnist")
    }
    var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while dir.path != "/" {
        let candidate = dir.appendingPathComponent("shared/data/mnist")
        if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

/// A fresh temporary directory, removed when the test's closure returns.
func withTempDirectory<R>(_ body: (URL) throws -> R) throws -> R {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("highwaydata-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir)
}

func write(_ bytes: [UInt8], to url: URL) throws {
    try Data(bytes).write(to: url)
}

/// An IDX file of unsigned bytes: magic 00 00 08 ndims, big-endian dims, data.
func idxFile(dims: [UInt32], data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
    for d in dims { out += [UInt8(d >> 24), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
    return out + data
}

/// A small MNIST-like split: `n` images of rows×cols with pixel (i, p) = (i·7 + p) mod 256 and
/// label i mod 10.
func tinyImages(_ n: Int, rows: Int = 28, cols: Int = 28) -> [UInt8] {
    idxFile(dims: [UInt32(n), UInt32(rows), UInt32(cols)],
            data: (0..<n * rows * cols).map { UInt8(truncatingIfNeeded: ($0 / (rows * cols)) * 7 + $0 % (rows * cols)) })
}

func tinyLabels(_ n: Int) -> [UInt8] {
    idxFile(dims: [UInt32(n)], data: (0..<n).map { UInt8($0 % 10) })
}

/// A gzip member holding `data` in stored (uncompressed) deflate blocks (RFC 1951 §3.2.4).
func gzipStored(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF]
    var start = 0
    repeat {
        let end = min(start + 65535, data.count)
        let len = UInt16(end - start)
        out.append(end == data.count ? 1 : 0)   // BFINAL, BTYPE = 00
        out += [UInt8(len & 0xFF), UInt8(len >> 8), UInt8(~len & 0xFF), UInt8(~len >> 8)]
        out += data[start..<end]
        start = end
    } while start < data.count
    let crc = crc32(data), size = UInt32(truncatingIfNeeded: data.count)
    for v in [crc, size] { out += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
    return out
}

func crc32(_ data: [UInt8]) -> UInt32 {
    let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    var c: UInt32 = 0xFFFF_FFFF
    for b in data { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
}

/// MD5 (RFC 1321) as a lowercase hex string. Written over raw pointers so a debug build hashes
/// MNIST's 47 MB in seconds.
func md5Hex(_ message: [UInt8]) -> String {
    let s: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                       5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                       4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                       6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21]
    let k: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0 + 1))) * 4_294_967_296)) }
    var a0: UInt32 = 0x6745_2301, b0: UInt32 = 0xEFCD_AB89, c0: UInt32 = 0x98BA_DCFE, d0: UInt32 = 0x1032_5476

    // the tail: the last partial block, 0x80, zeros, the bit length (little-endian)
    let full = message.count / 64 * 64
    var tail = Array(message[full...])
    tail.append(0x80)
    while tail.count % 64 != 56 { tail.append(0) }
    let bits = UInt64(message.count) &* 8
    for i in 0..<8 { tail.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }

    func blocks(_ p: UnsafePointer<UInt8>, _ count: Int) {
        s.withUnsafeBufferPointer { s in
            k.withUnsafeBufferPointer { k in
                var m = [UInt32](repeating: 0, count: 16)
                m.withUnsafeMutableBufferPointer { m in
                    for block in stride(from: 0, to: count, by: 64) {
                        for i in 0..<16 {
                            let q = p + block + 4 * i
                            m[i] = UInt32(q[0]) | UInt32(q[1]) << 8 | UInt32(q[2]) << 16 | UInt32(q[3]) << 24
                        }
                        var a = a0, b = b0, c = c0, d = d0
                        for i in 0..<64 {
                            var f: UInt32, g: Int
                            switch i {
                            case 0..<16: f = (b & c) | (~b & d); g = i
                            case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) & 15
                            case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) & 15
                            default: f = c ^ (b | ~d); g = (7 * i) & 15
                            }
                            f = f &+ a &+ k[i] &+ m[g]
                            a = d; d = c; c = b
                            b = b &+ (f << s[i] | f >> (32 - s[i]))
                        }
                        a0 = a0 &+ a; b0 = b0 &+ b; c0 = c0 &+ c; d0 = d0 &+ d
                    }
                }
            }
        }
    }
    message.withUnsafeBufferPointer { if full > 0 { blocks($0.baseAddress!, full) } }
    tail.withUnsafeBufferPointer { blocks($0.baseAddress!, $0.count) }
    return [a0, b0, c0, d0].map { v in
        (0..<4).map { String(format: "%02x", (v >> (8 * UInt32($0))) & 0xFF) }.joined()
    }.joined()
}

/// Runs `body`, which must throw a ``DataError`` whose message contains each of `fragments`;
/// returns the error for further checks.
@discardableResult
func expectDataError(_ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> Void) -> DataError? {
    do {
        try body()
        Issue.record("expected a DataError containing \(fragments), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as DataError {
        for f in fragments where !error.description.contains(f) {
            Issue.record("DataError message \"\(error.description)\" does not contain \"\(f)\"", sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected a DataError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
