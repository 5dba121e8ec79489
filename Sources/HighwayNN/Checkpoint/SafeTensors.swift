// SafeTensors: the checkpoint file format, shared with PyTorch/Hugging Face `safetensors`.
//
// Layout (REFERENCE.md §5):
//   bytes 0..<8      N, the header length, UInt64 little-endian
//   bytes 8..<8+N    UTF-8 JSON: {"__metadata__": {str: str}, "name": {"dtype": "F32",
//                    "shape": [..], "data_offsets": [begin, end]}, ...}, padded with spaces
//   bytes 8+N...     the tensors' raw little-endian data; offsets are relative to 8+N
// This file holds the types both directions share; SafeTensorsReader.swift and
// SafeTensorsWriter.swift hold the two directions.
//
// What it deliberately does not do: memory-map files (checkpoints here are megabytes, and a
// copy into our own aligned Tensor storage is what the kernels want anyway), write dtypes other than
// F32 (HighwayKit trains in Float32), or read integer/bool dtypes (nothing here stores them).
import HighwayTensor

/// Reading and writing `.safetensors` files.
///
/// ```swift
/// try SafeTensors.write([("layers.0.weight", w), ("layers.0.bias", b)],
///                       metadata: ["format": "pt"], to: url)
/// let file = try SafeTensors.read(url)
/// let w2 = file["layers.0.weight"]          // bit-identical to w
/// ```
///
/// The reader checks every rule of the format and throws a ``CheckpointError`` naming the file,
/// the tensor or byte offset, what it found and what it expected; it never traps on a broken file
/// and never allocates from a size it has not checked against the file's length.
public enum SafeTensors {
    /// The largest header the reader accepts (the Rust reference's limit), so a corrupt length
    /// cannot make it allocate gigabytes.
    public static let maxHeaderLength = 100_000_000
    /// The key of the string→string metadata object in the header.
    public static let metadataKey = "__metadata__"
}

/// The element types the reader converts to Float32. The writer always writes F32.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    case f32 = "F32"
    case f64 = "F64"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32: return 4
        case .f64: return 8
        case .f16, .bf16: return 2
        }
    }
}

/// The contents of a safetensors file: tensors in file order, their stored dtypes, and metadata.
public struct SafeTensorsFile: Sendable {
    /// The file it came from (or the name given to an in-memory buffer), for error messages.
    public let path: String
    /// Tensor names in the order of their data in the file (the writer's order).
    public let names: [String]
    /// Every tensor, converted to Float32.
    public let tensors: [String: Tensor]
    /// The dtype each tensor was stored as before conversion.
    public let storedDTypes: [String: SafeTensorsDType]
    /// The header's `__metadata__` (empty when absent).
    public let metadata: [String: String]

    /// The tensor called `name`, if the file has one.
    public subscript(name: String) -> Tensor? { tensors[name] }

    /// The shape of the tensor called `name`, if the file has one.
    public func shape(of name: String) -> [Int]? { tensors[name]?.shape }

    /// `(name, tensor)` pairs in file order (what ``SafeTensors/write(_:metadata:to:)`` takes).
    public var entries: [(name: String, tensor: Tensor)] { names.map { ($0, tensors[$0]!) } }
}
