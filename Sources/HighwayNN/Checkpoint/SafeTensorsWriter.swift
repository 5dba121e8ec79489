// SafeTensorsWriter: tensors → a `.safetensors` file, atomically.
//
// Output is what Python's `safetensors.torch.save_file` produces for float32 tensors: compact JSON
// (`__metadata__` first, then the tensors in the caller's order with contiguous data_offsets),
// padded with spaces so the data starts at a multiple of 8, then little-endian Float32 data.
// Metadata keys are sorted so the same input always gives the same bytes.
import Foundation
import HighwayTensor

extension SafeTensors {
    /// Writes `tensors` (in this order) and `metadata` to `url` as F32, atomically: the file at
    /// `url` is replaced only once the whole new file is on disk (see ``AtomicFile``).
    /// - Throws: ``CheckpointError/invalidTensorSet(path:name:reason:)`` for a duplicate or
    ///   reserved name or an oversized header; ``CheckpointError/fileAccess(path:operation:reason:)``
    ///   when the file cannot be written. Either way any existing file at `url` is untouched.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                             to url: URL) throws {
        try write(tensors, metadata: metadata, to: url, beforeCommit: nil)
    }

    /// As ``write(_:metadata:to:)``, with a hook called just before the rename (for tests).
    static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String],
                      to url: URL, beforeCommit: ((URL) throws -> Void)?) throws {
        let header = try makeHeader(tensors, metadata: metadata, path: url.path)
        try AtomicFile.write(to: url, beforeCommit: beforeCommit) { sink in
            try sink.write(littleEndianBytes(UInt64(header.count)))
            try sink.write(header)
            for (_, tensor) in tensors {
                try tensor.withUnsafeBufferPointer { try writeLittleEndian($0, to: sink) }
            }
        }
    }

    /// The bytes ``write(_:metadata:to:)`` would write (for tests, fuzzing seeds and in-memory use).
    /// - Throws: ``CheckpointError/invalidTensorSet(path:name:reason:)`` as the writer does.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)],
                              metadata: [String: String] = [:]) throws -> [UInt8] {
        let header = try makeHeader(tensors, metadata: metadata, path: "<memory>")
        var out = littleEndianBytes(UInt64(header.count)) + header
        out.reserveCapacity(out.count + tensors.reduce(0) { $0 + $1.tensor.count * 4 })
        for (_, tensor) in tensors {
            tensor.withUnsafeBufferPointer { p in
                for x in p { out += littleEndianBytes(x.bitPattern) }
            }
        }
        return out
    }

    /// The padded JSON header, after checking names are unique and not reserved.
    static func makeHeader(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String],
                           path: String) throws -> [UInt8] {
        var json: [UInt8] = Array("{".utf8)
        var first = true
        func separator() {
            if !first { json.append(UInt8(ascii: ",")) }
            first = false
        }
        if !metadata.isEmpty {
            separator()
            appendJSONString(metadataKey, to: &json)
            json += Array(":{".utf8)
            for (k, key) in metadata.keys.sorted().enumerated() {
                if k > 0 { json.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &json)
                json.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key]!, to: &json)
            }
            json.append(UInt8(ascii: "}"))
        }
        var seen = Set<String>()
        var offset = 0
        for (name, tensor) in tensors {
            guard name != metadataKey else {
                throw CheckpointError.invalidTensorSet(path: path, name: name,
                                                       reason: "the name is reserved for metadata")
            }
            guard seen.insert(name).inserted else {
                throw CheckpointError.invalidTensorSet(path: path, name: name,
                                                       reason: "the name appears twice (expected unique names)")
            }
            let end = offset + tensor.count * 4
            separator()
            appendJSONString(name, to: &json)
            json += Array(":{\"dtype\":\"F32\",\"shape\":[".utf8)
            json += Array(tensor.shape.map(String.init).joined(separator: ",").utf8)
            json += Array("],\"data_offsets\":[\(offset),\(end)]}".utf8)
            offset = end
        }
        json.append(UInt8(ascii: "}"))
        // Pad so the data section starts 8-byte aligned, as the Python writer does.
        json += [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8)
        guard json.count <= maxHeaderLength else {
            throw CheckpointError.invalidTensorSet(
                path: path, name: tensors.last?.name ?? metadataKey,
                reason: "the header would be \(json.count) bytes (expected at most \(maxHeaderLength), "
                    + "the most a reader accepts)")
        }
        return json
    }

    /// Appends `s` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// everything else as UTF-8.
    static func appendJSONString(_ s: String, to json: inout [UInt8]) {
        json.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): json += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): json += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                json += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: json.append(b)
            }
        }
        json.append(UInt8(ascii: "\""))
    }

    private static func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// Writes floats as little-endian bytes: straight from memory on little-endian hosts,
    /// byte-swapped through a small buffer elsewhere.
    private static func writeLittleEndian(_ values: UnsafeBufferPointer<Float>, to sink: AtomicFile.Sink) throws {
        #if _endian(little)
        try sink.write(UnsafeRawBufferPointer(values))
        #else
        var chunk = [UInt32](repeating: 0, count: 16_384)
        var start = 0
        while start < values.count {
            let n = min(chunk.count, values.count - start)
            for i in 0..<n { chunk[i] = values[start + i].bitPattern.littleEndian }
            try chunk.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0.prefix(n * 4))) }
            start += n
        }
        #endif
    }
}
