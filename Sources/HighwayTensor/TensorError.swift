// TensorError: what a caller did wrong with a tensor's shape, index or label, and where.
//
// Every user-caused error in HighwayTensor throws one of these; the message names the operation,
// the shapes that met there and what was expected, e.g.
//   matmul: shapes [2, 3] and [4, 5] do not fit (expected lhs.shape[1] == rhs.shape[0])
// `precondition` is kept for bugs inside the library.

/// An error a caller can cause by passing tensors of the wrong shape, a bad index or a bad label.
public enum TensorError: Error, Equatable, CustomStringConvertible {
    /// Two operands whose shapes do not fit each other in `op`.
    case shapeMismatch(op: String, lhs: [Int], rhs: [Int], expected: String)
    /// A shape that is not valid for `op` on its own (wrong rank, negative size, two `-1`s, ...).
    case invalidShape(op: String, shape: [Int], expected: String)
    /// A number of values that does not match the number of elements of `shape`.
    case countMismatch(op: String, shape: [Int], count: Int)
    /// A range or index outside `0..<bound` along an axis.
    case outOfRange(op: String, range: Range<Int>, bound: Int)
    /// A class label outside `0..<classes` in row `row`.
    case labelOutOfRange(op: String, row: Int, label: Int, classes: Int)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, lhs, rhs, expected):
            return "\(op): shapes \(lhs) and \(rhs) do not fit (expected \(expected))"
        case let .invalidShape(op, shape, expected):
            return "\(op): shape \(shape) is not valid here (expected \(expected))"
        case let .countMismatch(op, shape, count):
            let n = shape.reduce(1, *)
            return "\(op): \(count) values do not fill shape \(shape) (expected \(n) values)"
        case let .outOfRange(op, range, bound):
            return "\(op): range \(range.lowerBound)..<\(range.upperBound) is outside 0..<\(bound)"
        case let .labelOutOfRange(op, row, label, classes):
            return "\(op): label \(label) in row \(row) is outside 0..<\(classes) (the logits have \(classes) classes)"
        }
    }
}
