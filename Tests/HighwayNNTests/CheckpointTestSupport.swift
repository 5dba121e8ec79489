// Helpers shared by the checkpoint and optimiser tests: temporary directories, hand-built
// safetensors bytes, and "this must be a CheckpointError, not a crash or another error".
import Foundation
import Testing
import HighwayTensor
@testable import HighwayNN

/// A fresh empty directory, removed after `body`.
func withTemporaryDirectory<R>(_ body: (URL) throws -> R) throws -> R {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("HighwayNNTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir)
}

/// A safetensors file: the 8-byte length (of `header`, or `declaredLength` to lie), the header
/// text padded with spaces to a multiple of 8 (unless `pad` is false), then `data`.
func safetensorsBytes(header: String, data: [UInt8], declaredLength: UInt64? = nil, pad: Bool = true) -> [UInt8] {
    var h = Array(header.utf8)
    if pad { h += [UInt8](repeating: 0x20, count: (8 - h.count % 8) % 8) }
    let n = declaredLength ?? UInt64(h.count)
    return withUnsafeBytes(of: n.littleEndian) { Array($0) } + h + data
}

/// Little-endian Float32 bytes.
func f32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

/// Decodes `bytes` and returns the CheckpointError it must throw; records an issue if it is
/// accepted or throws anything else.
@discardableResult
func expectRejected(_ bytes: [UInt8], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) -> CheckpointError? {
    do {
        let file = try SafeTensors.decode(bytes, path: "broken.safetensors")
        Issue.record("\(what): accepted, with tensors \(file.names)", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        #expect(error.path == "broken.safetensors", "\(what): \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("\(what): threw \(type(of: error)), not CheckpointError: \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Exact equality of floats by bit pattern (NaN payloads and −0 included).
func bitsEqual(_ a: Tensor, _ b: Tensor) -> Bool {
    a.shape == b.shape && a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern)
}
