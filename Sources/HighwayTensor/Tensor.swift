// Tensor: an n-dimensional, contiguous, row-major array of Float32 with value semantics.
//
// Storage is a final class owning one 64-byte-aligned allocation (so the C kernels can use aligned
// vector loads at the start of a buffer, and a pointer handed out stays valid while the storage
// lives). Copies share the storage until one of them is mutated (copy-on-write via
// `isKnownUniquelyReferenced`), exactly like Swift's Array. A reshape shares the storage too.
//
// What it deliberately does not do: strides and views (every tensor is contiguous, so every kernel
// sees plain row-major memory), dtypes other than Float32, broadcasting beyond a trailing shape.

/// The heap buffer behind a ``Tensor``: `count` floats, 64-byte aligned, freed on deinit.
@usableFromInline
final class TensorStorage {
    @usableFromInline let base: UnsafeMutablePointer<Float>
    @usableFromInline let count: Int

    @usableFromInline
    init(count: Int) {
        self.count = count
        let capacity = Swift.max(count, 1)
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: capacity)
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    @usableFromInline
    func copy() -> TensorStorage {
        let s = TensorStorage(count: count)
        s.base.update(from: base, count: count)
        return s
    }
}

/// A Float32 tensor: n-dimensional, contiguous, row-major, with value semantics (copy-on-write).
///
/// ```swift
/// var x = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
/// let b = Tensor(shape: [3], repeating: 0.5)
/// let y = x + b                       // bias broadcast over the rows: shape [2, 3]
/// let w = Tensor(shape: [4, 3], repeating: 1)
/// let h = try x.matmul(w, transB: true)   // [2, 3] · [4, 3]ᵀ = [2, 4]
/// x[1, 2] = 0                         // mutates x only; y and h are unaffected
/// ```
///
/// Operations a caller can get wrong (shapes, ranges) throw ``TensorError``; the operators `+ - *`
/// trap instead, for code whose shapes are fixed by construction (use ``adding(_:)`` and friends
/// where the shapes come from outside).
public struct Tensor: @unchecked Sendable {
    // Sendable like Array: the storage is only mutated when uniquely referenced.

    /// The size of each axis, outermost first. `[]` is a scalar (one element).
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage

    /// A tensor of `shape` with every element set to `value`. Sizes must be ≥ 0.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative size in shape \(shape)")
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
        storage.base.initialize(repeating: value, count: storage.count)
    }

    /// A tensor of `shape` holding `values` in row-major order.
    /// - Throws: ``TensorError/countMismatch(op:shape:count:)`` when `values.count` is not the
    ///   product of `shape`, ``TensorError/invalidShape(op:shape:expected:)`` for a negative size.
    public init(shape: [Int], values: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape(op: "Tensor(shape:values:)", shape: shape, expected: "sizes ≥ 0")
        }
        guard shape.reduce(1, *) == values.count else {
            throw TensorError.countMismatch(op: "Tensor(shape:values:)", shape: shape, count: values.count)
        }
        self.shape = shape
        storage = TensorStorage(count: values.count)
        values.withUnsafeBufferPointer { storage.base.initialize(from: $0.baseAddress!, count: $0.count) }
    }

    /// A scalar (shape `[]`).
    public init(_ scalar: Float) { self.init(shape: [], repeating: scalar) }

    /// Shares `storage` under a new shape with the same element count (reshape without a copy).
    @usableFromInline
    init(shape: [Int], storage: TensorStorage) {
        precondition(shape.reduce(1, *) == storage.count, "Tensor: shape \(shape) does not match \(storage.count) elements")
        self.shape = shape
        self.storage = storage
    }

    /// An uninitialised tensor, for internal code that overwrites every element at once.
    @usableFromInline
    init(uninitializedShape shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }

    /// The number of elements (the product of ``shape``).
    @inlinable public var count: Int { storage.count }
    /// The number of axes.
    @inlinable public var rank: Int { shape.count }
    /// The elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.base, count: count)) }

    /// Gives this tensor its own storage if it shares it, before a mutation.
    @inlinable
    public mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    @inlinable
    func offset(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "Tensor: \(indices.count) indices for shape \(shape)")
        var flat = 0
        for (i, n) in zip(indices, shape) {
            precondition(i >= 0 && i < n, "Tensor: index \(indices) out of range for shape \(shape)")
            flat = flat * n + i
        }
        return flat
    }

    /// The element at `indices` (one per axis). Traps when out of range, like Array.
    @inlinable
    public subscript(_ indices: Int...) -> Float {
        get { storage.base[offset(indices)] }
        set { let o = offset(indices); makeUnique(); storage.base[o] = newValue }
    }

    /// The element at row-major position `i`.
    @inlinable
    public subscript(flat i: Int) -> Float {
        get { precondition(i >= 0 && i < count, "Tensor: flat index \(i) out of range 0..<\(count)"); return storage.base[i] }
        set {
            precondition(i >= 0 && i < count, "Tensor: flat index \(i) out of range 0..<\(count)")
            makeUnique(); storage.base[i] = newValue
        }
    }

    /// Calls `body` with the elements in row-major order.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: count))
    }

    /// Calls `body` with the elements for writing (copying the storage first if it is shared).
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: count))
    }

    /// The first element, for kernels that take raw pointers (the fused layer passes).
    ///
    /// Valid while this tensor's storage lives and is not replaced; do not write through it (use
    /// ``unsafeMutablePointer()``, which un-shares the storage first).
    public var unsafePointer: UnsafePointer<Float> { UnsafePointer(storage.base) }

    /// The first element for writing, after giving this tensor its own storage if it shared it.
    /// Valid while this tensor's storage lives and is not replaced.
    public mutating func unsafeMutablePointer() -> UnsafeMutablePointer<Float> {
        makeUnique()
        return storage.base
    }

    /// Sets every element to `value`.
    public mutating func fill(with value: Float) {
        makeUnique()
        storage.base.update(repeating: value, count: count)
    }

    // ---- shape manipulation ----------------------------------------------------------------------

    /// The same elements under `newShape`; one size may be `-1` and is then inferred. Shares storage.
    /// - Throws: ``TensorError`` when the element counts differ or the shape is malformed.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        let resolved = try Tensor.resolve(newShape, count: count, from: shape)
        return Tensor(shape: resolved, storage: storage)
    }

    static func resolve(_ newShape: [Int], count: Int, from shape: [Int]) throws -> [Int] {
        let holes = newShape.filter { $0 == -1 }.count
        guard holes <= 1, newShape.allSatisfy({ $0 >= -1 }) else {
            throw TensorError.invalidShape(op: "reshape", shape: newShape, expected: "sizes ≥ 0 and at most one -1")
        }
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        var resolved = newShape
        if let hole = newShape.firstIndex(of: -1) {
            guard known > 0, count % known == 0 else {
                throw TensorError.shapeMismatch(op: "reshape", lhs: shape, rhs: newShape, expected: "the same number of elements (\(count))")
            }
            resolved[hole] = count / known
        } else if known != count {
            throw TensorError.shapeMismatch(op: "reshape", lhs: shape, rhs: newShape, expected: "the same number of elements (\(count))")
        }
        return resolved
    }

    /// Swaps the last two axes: `[..., R, C]` becomes `[..., C, R]` (a copy).
    /// - Throws: ``TensorError/invalidShape(op:shape:expected:)`` for rank < 2.
    public func transposedLastTwo() throws -> Tensor {
        guard rank >= 2 else {
            throw TensorError.invalidShape(op: "transposedLastTwo", shape: shape, expected: "rank ≥ 2")
        }
        let r = shape[rank - 2], c = shape[rank - 1], plane = r * c
        var out = shape
        out.swapAt(rank - 2, rank - 1)
        let t = Tensor(uninitializedShape: out)
        let src = storage.base, dst = t.storage.base
        // in is (batch, R, C), out is (batch, C, R)
        for b in 0..<(plane == 0 ? 0 : count / plane) {
            let s = src + b * plane, d = dst + b * plane
            for i in 0..<r { for j in 0..<c { d[j * r + i] = s[i * c + j] } }
        }
        return t
    }

    /// Rows `rows` along the first axis: shape `[rows.count, ...]` (a copy).
    /// - Throws: ``TensorError`` for a scalar or a range outside `0..<shape[0]`.
    public func slice(rows: Range<Int>) throws -> Tensor {
        guard rank >= 1 else {
            throw TensorError.invalidShape(op: "slice(rows:)", shape: shape, expected: "rank ≥ 1")
        }
        guard rows.lowerBound >= 0, rows.upperBound <= shape[0] else {
            throw TensorError.outOfRange(op: "slice(rows:)", range: rows, bound: shape[0])
        }
        var out = shape
        out[0] = rows.count
        let t = Tensor(uninitializedShape: out)
        let inner = shape.dropFirst().reduce(1, *)
        t.storage.base.initialize(from: storage.base + rows.lowerBound * inner, count: rows.count * inner)
        return t
    }

    /// Joins `parts` along their last axis: `[..., a] ++ [..., b] = [..., a + b]`.
    /// - Throws: ``TensorError/shapeMismatch(op:lhs:rhs:expected:)`` when the leading shapes differ.
    public static func concatenated(alongLastAxis parts: [Tensor]) throws -> Tensor {
        guard let first = parts.first, first.rank >= 1 else {
            throw TensorError.invalidShape(op: "concat", shape: parts.first?.shape ?? [],
                                           expected: "at least one tensor of rank ≥ 1")
        }
        let lead = first.shape.dropLast()
        for p in parts where p.rank != first.rank || p.shape.dropLast() != lead {
            throw TensorError.shapeMismatch(op: "concat", lhs: first.shape, rhs: p.shape,
                                            expected: "equal sizes on every axis but the last")
        }
        let widths = parts.map { $0.shape[$0.rank - 1] }
        let total = widths.reduce(0, +)
        let out = Tensor(uninitializedShape: Array(lead) + [total])
        let rows = lead.reduce(1, *)
        // out is (rows, total); part p is (rows, widths[p]) landing at column offset Σ widths[<p]
        var col = 0
        for (p, w) in zip(parts, widths) {
            for r in 0..<rows {
                (out.storage.base + r * total + col).initialize(from: p.storage.base + r * w, count: w)
            }
            col += w
        }
        return out
    }

    /// Splits the last axis into consecutive pieces of `lastAxisSizes` (the inverse of
    /// ``concatenated(alongLastAxis:)``).
    /// - Throws: ``TensorError`` when the sizes do not add up to the last axis.
    public func split(lastAxisSizes sizes: [Int]) throws -> [Tensor] {
        guard rank >= 1, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == shape[rank - 1] else {
            throw TensorError.shapeMismatch(op: "split", lhs: shape, rhs: sizes,
                                            expected: "sizes ≥ 0 adding up to the last axis")
        }
        var start = 0
        return sizes.map { w in
            defer { start += w }
            return sliceLastAxis(start..<(start + w))
        }
    }

    /// Columns `range` of the last axis, as a new contiguous tensor (range already checked).
    func sliceLastAxis(_ range: Range<Int>) -> Tensor {
        let width = shape[rank - 1], w = range.count
        var outShape = shape
        outShape[rank - 1] = w
        let out = Tensor(uninitializedShape: outShape)
        let rows = width == 0 ? shape.dropLast().reduce(1, *) : count / width
        for r in 0..<rows {
            (out.storage.base + r * w).initialize(from: storage.base + r * width + range.lowerBound, count: w)
        }
        return out
    }
}

extension Tensor: Equatable {
    /// Equal shapes and equal elements (as floats: `-0 == 0`, `NaN != NaN`).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.shape == rhs.shape else { return false }
        if lhs.storage === rhs.storage { return !lhs.withUnsafeBufferPointer { $0.contains { $0.isNaN } } }
        return lhs.withUnsafeBufferPointer { a in rhs.withUnsafeBufferPointer { b in a.elementsEqual(b) } }
    }
}

extension Tensor: CustomStringConvertible {
    /// `Tensor[2, 3]([1.0, 2.0, ...])`, showing at most 8 elements.
    public var description: String {
        let head = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor\(shape)([\(head)\(count > 8 ? ", …" : "")])"
    }
}
