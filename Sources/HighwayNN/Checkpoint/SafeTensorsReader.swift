// SafeTensorsReader: a `.safetensors` file → tensors, checking every rule of the format first.
//
// Order of the checks, so that nothing is allocated from a size the file has not vouched for:
//   1. the file has ≥ 8 bytes; the header length N ≤ maxHeaderLength and ≤ file size − 8
//      (only then are N bytes allocated);
//   2. the header is UTF-8 JSON: an object whose keys are unique; `__metadata__` maps strings to
//      strings; every other key has dtype (supported), shape (integers ≥ 0) and data_offsets
//      ([begin, end], 0 ≤ begin ≤ end);
//   3. product(shape) × dtype size is computed with overflow checks and equals end − begin;
//   4. sorted by offset, the tensors tile the data section from 0 with no gap or overlap, and
//      8 + N + last end == file size (so the total of all tensor sizes is bounded by the file);
//   5. only then are tensors allocated and read.
// Same checks as the Rust reference (safetensors `validate`), plus duplicate keys, which serde
// would reject but JSONSerialization would silently merge.
import Foundation
import HighwayTensor

extension SafeTensors {
    /// Reads and validates the safetensors file at `url`, converting every tensor to Float32.
    /// - Throws: ``CheckpointError`` naming the file and the broken rule; never traps on bad input.
    public static func read(_ url: URL) throws -> SafeTensorsFile {
        let source = try FileByteSource(path: url.path)
        defer { source.close() }
        return try decode(source, path: url.path)
    }

    /// Decodes a safetensors file held in memory; `path` names it in error messages.
    /// - Throws: ``CheckpointError`` naming `path` and the broken rule.
    public static func decode(_ bytes: [UInt8], path: String = "<memory>") throws -> SafeTensorsFile {
        try decode(MemoryByteSource(bytes: bytes, path: path), path: path)
    }

    /// One tensor's entry from the header, validated on its own.
    private struct Entry {
        let name: String
        let dtype: SafeTensorsDType
        let shape: [Int]
        let count: Int
        let begin: Int
        let end: Int
    }

    private static func decode(_ source: some ByteSource, path: String) throws -> SafeTensorsFile {
        let size = source.size
        guard size >= 8 else { throw CheckpointError.fileTooShort(path: path, size: size) }

        // 1. Header length, bounded before anything is allocated from it.
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        try lengthBytes.withUnsafeMutableBytes { try source.read(into: $0, at: 0) }
        let declared = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard declared <= UInt64(maxHeaderLength), declared <= UInt64(size - 8) else {
            throw CheckpointError.headerLength(path: path, declared: declared, fileSize: size, limit: maxHeaderLength)
        }
        let headerLength = Int(declared)
        var header = [UInt8](repeating: 0, count: headerLength)
        try header.withUnsafeMutableBytes { try source.read(into: $0, at: 8) }

        // 2–3. The JSON and each entry.
        let json: HeaderJSON
        do {
            json = try HeaderJSONParser.parse(header, fileOffset: 8)
        } catch let e as HeaderJSONSyntaxError {
            throw CheckpointError.malformedHeader(path: path, offset: e.offset, found: e.found, expected: e.expected)
        }
        guard case let .object(members) = json else {
            throw CheckpointError.malformedHeader(path: path, offset: 8, found: json.summary,
                                                  expected: "a JSON object mapping tensor names to entries")
        }
        var seen = Set<String>()
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for member in members {
            guard seen.insert(member.key).inserted else {
                throw CheckpointError.duplicateName(path: path, name: member.key, offset: member.keyOffset)
            }
            if member.key == metadataKey {
                metadata = try parseMetadata(member, path: path)
            } else {
                entries.append(try parseEntry(member, path: path))
            }
        }

        // 4. The tensors tile the data section exactly. Ties (empty tensors) keep header order.
        let order = entries.indices.sorted {
            (entries[$0].begin, entries[$0].end, $0) < (entries[$1].begin, entries[$1].end, $1)
        }
        var expectedBegin = 0
        var previous: Entry?
        for index in order {
            let e = entries[index]
            if e.begin > expectedBegin {
                throw CheckpointError.dataOffsets(
                    path: path, tensor: e.name, begin: e.begin, end: e.end,
                    expected: "begin \(expectedBegin): bytes \(expectedBegin)..<\(e.begin) of the data "
                        + "belong to no tensor")
            }
            if e.begin < expectedBegin, let p = previous {
                throw CheckpointError.dataOffsets(
                    path: path, tensor: e.name, begin: e.begin, end: e.end,
                    expected: "begin \(expectedBegin): it overlaps \"\(p.name)\" at [\(p.begin), \(p.end)]")
            }
            expectedBegin = e.end
            previous = e
        }
        let dataStart = 8 + headerLength
        let dataAvailable = size - dataStart  // ≥ 0: N ≤ size − 8 was checked
        guard expectedBegin == dataAvailable else {
            let what = expectedBegin < dataAvailable
                ? "\(dataStart + expectedBegin) = 8 + header \(headerLength) + data \(expectedBegin); "
                    + "\(dataAvailable - expectedBegin) bytes after the last tensor belong to none"
                : "\(dataStart) + \(expectedBegin) = 8 + header \(headerLength) + data \(expectedBegin): "
                    + "the file is truncated"
            throw CheckpointError.dataSize(path: path, fileSize: size, expected: what)
        }

        // 5. Every size is now bounded by the file: allocate and read.
        var tensors: [String: Tensor] = [:]
        var dtypes: [String: SafeTensorsDType] = [:]
        var scratch: [UInt8] = []
        for index in order {
            let e = entries[index]
            var tensor = Tensor(shape: e.shape, repeating: 0)
            if e.count > 0 {
                try readData(of: e, into: &tensor, from: source, at: dataStart + e.begin, scratch: &scratch)
            }
            tensors[e.name] = tensor
            dtypes[e.name] = e.dtype
        }
        return SafeTensorsFile(path: path, names: order.map { entries[$0].name }, tensors: tensors,
                               storedDTypes: dtypes, metadata: metadata)
    }

    private static func parseMetadata(_ member: HeaderJSONMember, path: String) throws -> [String: String] {
        guard case let .object(pairs) = member.value else {
            throw CheckpointError.invalidEntry(path: path, tensor: metadataKey, field: "the value",
                                               found: member.value.summary, expected: "an object of strings")
        }
        var metadata: [String: String] = [:]
        for pair in pairs {
            guard case let .string(value) = pair.value else {
                throw CheckpointError.invalidEntry(path: path, tensor: metadataKey, field: "\"\(pair.key)\"",
                                                   found: pair.value.summary, expected: "a string")
            }
            guard metadata.updateValue(value, forKey: pair.key) == nil else {
                throw CheckpointError.duplicateName(path: path, name: "\(metadataKey).\(pair.key)",
                                                    offset: pair.keyOffset)
            }
        }
        return metadata
    }

    private static func parseEntry(_ member: HeaderJSONMember, path: String) throws -> Entry {
        let name = member.key
        func invalid(_ field: String, _ found: String, _ expected: String) -> CheckpointError {
            .invalidEntry(path: path, tensor: name, field: field, found: found, expected: expected)
        }
        guard case let .object(fields) = member.value else {
            throw invalid("the entry", member.value.summary, "an object with dtype, shape and data_offsets")
        }
        var values: [String: HeaderJSON] = [:]
        for field in fields {
            // Unknown fields are ignored, as the reference reader does; repeated ones are ambiguous.
            guard values.updateValue(field.value, forKey: field.key) == nil else {
                throw CheckpointError.duplicateName(path: path, name: "\(name).\(field.key)", offset: field.keyOffset)
            }
        }

        guard let dtypeValue = values["dtype"] else { throw invalid("dtype", "missing", "a string such as \"F32\"") }
        guard case let .string(dtypeName) = dtypeValue else {
            throw invalid("dtype", dtypeValue.summary, "a string such as \"F32\"")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw CheckpointError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
        }

        guard let shapeValue = values["shape"] else { throw invalid("shape", "missing", "an array of integers ≥ 0") }
        guard case let .array(dims) = shapeValue else {
            throw invalid("shape", shapeValue.summary, "an array of integers ≥ 0")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        var count = 1
        for (k, dim) in dims.enumerated() {
            guard case let .integer(n) = dim, n >= 0 else {
                throw invalid("shape[\(k)]", dim.summary, "an integer ≥ 0")
            }
            shape.append(n)
            // Left to right, as Tensor multiplies them: any partial overflow is rejected.
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw invalid("shape", "\(shapeSummary(dims))", "a product of sizes ≤ \(Int.max)") }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw invalid("shape", shapeSummary(dims), "at most \(Int.max) bytes of \(dtype.rawValue) data")
        }

        guard let offsetsValue = values["data_offsets"] else {
            throw invalid("data_offsets", "missing", "an array [begin, end] of integers")
        }
        guard case let .array(offsets) = offsetsValue, offsets.count == 2,
              case let .integer(begin) = offsets[0], case let .integer(end) = offsets[1] else {
            throw invalid("data_offsets", offsetsValue.summary, "an array [begin, end] of two integers")
        }
        guard begin >= 0, end >= begin else {
            throw CheckpointError.dataOffsets(path: path, tensor: name, begin: begin, end: end,
                                              expected: "0 ≤ begin ≤ end")
        }
        guard end - begin == byteCount else {
            throw CheckpointError.dataOffsets(
                path: path, tensor: name, begin: begin, end: end,
                expected: "end − begin = \(byteCount) = \(count) elements × \(dtype.byteSize) bytes of "
                    + "\(dtype.rawValue) for shape \(shape), found \(end - begin)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end)
    }

    /// `[2, 3, …]` from the JSON values of a shape, for messages (at most 8 sizes shown).
    private static func shapeSummary(_ dims: [HeaderJSON]) -> String {
        let shown = dims.prefix(8).map { v -> String in
            switch v {
            case let .integer(n): return String(n)
            case let .number(t): return t
            default: return v.summary
            }
        }
        return "[" + shown.joined(separator: ", ") + (dims.count > 8 ? ", …]" : "]")
    }

    /// Reads `e`'s bytes at file offset `offset` into `tensor`, converting to Float32.
    private static func readData(of e: Entry, into tensor: inout Tensor, from source: some ByteSource,
                                 at offset: Int, scratch: inout [UInt8]) throws {
        #if _endian(little)
        if e.dtype == .f32 {
            // Same bytes in memory as on disk: read straight into the tensor.
            try tensor.withUnsafeMutableBufferPointer { try source.read(into: UnsafeMutableRawBufferPointer($0), at: offset) }
            return
        }
        #endif
        let byteCount = e.end - e.begin
        if scratch.count < byteCount { scratch = [UInt8](repeating: 0, count: byteCount) }
        try scratch.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0.prefix(byteCount)), at: offset) }
        scratch.withUnsafeBytes { raw in
            tensor.withUnsafeMutableBufferPointer { out in
                for i in 0..<e.count {
                    switch e.dtype {
                    case .f32:
                        out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    case .f64:
                        out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                    case .bf16:
                        // bfloat16 is the top half of a float32.
                        out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                    case .f16:
                        out[i] = floatFromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                    }
                }
            }
        }
    }

    /// IEEE binary16 → Float32, exactly (every half is a float). Written out because `Float16` is
    /// unavailable on macOS x86-64.
    static func floatFromHalf(_ h: UInt16) -> Float {
        let sign: UInt32 = UInt32(h >> 15) << 31
        let exponent = UInt32((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2⁻²⁴, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 31:
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))  // Inf or NaN
        default:
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))  // rebias 15 → 127
        }
    }
}

// ---- where the bytes come from --------------------------------------------------------------------

/// Random-access bytes of known size: a file (read with pread) or a buffer in memory.
protocol ByteSource {
    var size: Int { get }
    /// Fills `buffer` with the bytes at `offset` (the caller has checked the range against `size`).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws
}

private struct MemoryByteSource: ByteSource {
    let bytes: [UInt8]
    let path: String
    var size: Int { bytes.count }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        guard offset >= 0, offset <= bytes.count, buffer.count <= bytes.count - offset else {
            throw CheckpointError.dataSize(path: path, fileSize: bytes.count,
                                           expected: "at least \(offset + buffer.count) bytes")
        }
        bytes.withUnsafeBytes { src in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + buffer.count)]))
        }
    }
}

private final class FileByteSource: ByteSource {
    let fd: Int32
    let path: String
    let size: Int

    init(path: String) throws {
        self.path = path
        fd = posixOpen(path, O_RDONLY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw CheckpointError.fileAccess(path: path, operation: "open", reason: errnoMessage()) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = errnoMessage()
            _ = posixClose(fd)
            throw CheckpointError.fileAccess(path: path, operation: "read its size (fstat)", reason: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            _ = posixClose(fd)
            throw CheckpointError.fileAccess(path: path, operation: "read", reason: "it is not a regular file")
        }
        size = Int(info.st_size)
    }

    func close() { _ = posixClose(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        guard var p = buffer.baseAddress else { return }
        var left = buffer.count
        var position = offset
        while left > 0 {
            let n = posixPread(fd, p, left, position)
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.fileAccess(path: path, operation: "read at byte \(position)", reason: errnoMessage())
            }
            if n == 0 {
                // The file shrank after we measured it (another process is rewriting it in place).
                throw CheckpointError.dataSize(path: path, fileSize: position,
                                               expected: "\(size) bytes, as when it was opened")
            }
            p += n
            left -= n
            position += n
        }
    }
}
