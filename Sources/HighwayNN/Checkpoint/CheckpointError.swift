// CheckpointError: everything that can be wrong with a checkpoint file or with matching it to a model.
//
// Checkpoints come from disk, so every defect is a user-causable error (DESIGN.md conventions): each
// case names the file, the tensor or byte offset, what was found and what was expected, e.g.
//   run/checkpoint.safetensors: tensor "layers.0.weight": data_offsets [0, 20] span 20 bytes
//   (expected 24 = 6 elements × 4 bytes of F32)

/// A difference between the tensors a model (or optimiser) expects and those a checkpoint holds.
public enum StateDictDifference: Equatable, Sendable, CustomStringConvertible {
    /// The model has this tensor; the checkpoint does not.
    case missing(name: String, shape: [Int])
    /// The checkpoint has this tensor; the model does not.
    case unexpected(name: String, shape: [Int])
    /// Both have it, with different shapes.
    case shapeMismatch(name: String, checkpoint: [Int], model: [Int])
    /// The model itself uses one name for several parameters (a bug in the model's naming).
    case duplicateParameter(name: String, count: Int)
    /// The tensor is present with the right shape but holds a value that cannot be used.
    case invalidValue(name: String, found: String, expected: String)

    public var description: String {
        switch self {
        case let .missing(name, shape):
            return "missing \"\(name)\" (the model expects shape \(shape))"
        case let .unexpected(name, shape):
            return "unexpected \"\(name)\" (shape \(shape)) that the model does not have"
        case let .shapeMismatch(name, checkpoint, model):
            return "\"\(name)\": checkpoint has shape \(checkpoint), the model expects \(model)"
        case let .duplicateParameter(name, count):
            return "the model has \(count) parameters named \"\(name)\" (expected unique names)"
        case let .invalidValue(name, found, expected):
            return "\"\(name)\": found \(found), expected \(expected)"
        }
    }
}

/// Why a checkpoint could not be read, written or loaded into a model.
public enum CheckpointError: Error, Sendable, CustomStringConvertible {
    /// The operating system refused an operation (open, read, write, fsync, rename) on `path`.
    case fileAccess(path: String, operation: String, reason: String)
    /// Fewer than the 8 bytes of the header length.
    case fileTooShort(path: String, size: Int)
    /// The 8-byte header length is larger than the file or than the reader's limit.
    case headerLength(path: String, declared: UInt64, fileSize: Int, limit: Int)
    /// The header is not valid UTF-8 JSON of the expected structure; `offset` is a byte offset in the file.
    case malformedHeader(path: String, offset: Int, found: String, expected: String)
    /// The header names a tensor (or a key inside an entry) twice; `offset` is the second occurrence.
    case duplicateName(path: String, name: String, offset: Int)
    /// A tensor entry (or `__metadata__`) lacks a field or holds a value of the wrong kind.
    case invalidEntry(path: String, tensor: String, field: String, found: String, expected: String)
    /// A dtype this reader does not convert to Float32.
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// A tensor's `data_offsets` overlap, leave a gap or disagree with its shape.
    case dataOffsets(path: String, tensor: String, begin: Int, end: Int, expected: String)
    /// The data section is not exactly as long as the header says (trailing or missing bytes).
    case dataSize(path: String, fileSize: Int, expected: String)
    /// The writer was given a tensor set it cannot write (duplicate or reserved name, header too large).
    case invalidTensorSet(path: String, name: String, reason: String)
    /// The checkpoint does not match the model or optimiser it is loaded into; lists every difference.
    case stateMismatch(path: String?, subject: String, differences: [StateDictDifference])

    /// The file the error is about, when there is one.
    public var path: String? {
        switch self {
        case let .fileAccess(path, _, _), let .fileTooShort(path, _), let .headerLength(path, _, _, _),
             let .malformedHeader(path, _, _, _), let .duplicateName(path, _, _),
             let .invalidEntry(path, _, _, _, _), let .unsupportedDType(path, _, _),
             let .dataOffsets(path, _, _, _, _), let .dataSize(path, _, _), let .invalidTensorSet(path, _, _):
            return path
        case let .stateMismatch(path, _, _):
            return path
        }
    }

    /// The same error about another file (used when a check made without a path learns it later).
    func withPath(_ newPath: String) -> CheckpointError {
        if case let .stateMismatch(_, subject, differences) = self {
            return .stateMismatch(path: newPath, subject: subject, differences: differences)
        }
        return self
    }

    public var description: String {
        switch self {
        case let .fileAccess(path, operation, reason):
            return "\(path): cannot \(operation): \(reason)"
        case let .fileTooShort(path, size):
            return "\(path): file has \(size) bytes (expected at least 8: the safetensors header length)"
        case let .headerLength(path, declared, fileSize, limit):
            return "\(path): header length \(declared) at byte 0 is too large "
                + "(expected at most \(Swift.max(fileSize - 8, 0)) = file size \(fileSize) − 8, and at most \(limit))"
        case let .malformedHeader(path, offset, found, expected):
            return "\(path): header byte \(offset): found \(found), expected \(expected)"
        case let .duplicateName(path, name, offset):
            return "\(path): header byte \(offset): \"\(name)\" appears twice (expected unique names)"
        case let .invalidEntry(path, tensor, field, found, expected):
            return "\(path): tensor \"\(tensor)\": \(field) is \(found) (expected \(expected))"
        case let .unsupportedDType(path, tensor, dtype):
            return "\(path): unsupported dtype \(dtype) for tensor \"\(tensor)\" "
                + "(expected one of \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .dataOffsets(path, tensor, begin, end, expected):
            return "\(path): tensor \"\(tensor)\": data_offsets [\(begin), \(end)] (expected \(expected))"
        case let .dataSize(path, fileSize, expected):
            return "\(path): file has \(fileSize) bytes (expected \(expected))"
        case let .invalidTensorSet(path, name, reason):
            return "\(path): cannot write tensor \"\(name)\": \(reason)"
        case let .stateMismatch(path, subject, differences):
            let head = "\(path ?? "checkpoint"): \(subject) does not match (\(differences.count) "
                + (differences.count == 1 ? "difference" : "differences") + "):"
            return ([head] + differences.map { "  - \($0)" }).joined(separator: "\n")
        }
    }
}
