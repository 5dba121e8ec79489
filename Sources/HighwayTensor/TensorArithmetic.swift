// Tensor arithmetic outside the tape: elementwise + - * with bias broadcasting, scaling,
// reductions, and the matrix product through Kernels.gemm.
//
// Broadcasting is deliberately narrow: one operand's shape must equal the other's or be a suffix
// of it ([B, N] + [N], [B, T, N] * [T, N], anything with a scalar []). That covers every bias and
// gate in the layers, keeps each loop a plain row walk, and keeps the backward (a sum over the
// leading axes) simple.

/// The three elementwise binary operations that broadcast.
@usableFromInline
enum BinaryKind: String { case add, sub, mul }

extension Tensor {
    /// The broadcast result shape of `lhs` and `rhs`, or a shape error naming `op`.
    static func broadcastShape(_ op: String, _ lhs: [Int], _ rhs: [Int]) throws -> [Int] {
        if lhs == rhs { return lhs }
        if lhs.count > rhs.count, Array(lhs.suffix(rhs.count)) == rhs { return lhs }
        if rhs.count > lhs.count, Array(rhs.suffix(lhs.count)) == lhs { return rhs }
        throw TensorError.shapeMismatch(op: op, lhs: lhs, rhs: rhs,
                                        expected: "equal shapes, or one shape a suffix of the other (bias broadcasting)")
    }

    /// out[i] = a[i mod na] ∘ b[i mod nb] for i < n, where na, nb each equal n or divide it as a
    /// trailing block (the smaller operand repeats once per leading index).
    @usableFromInline
    static func binaryKernel(_ kind: BinaryKind, _ a: UnsafePointer<Float>, _ na: Int,
                             _ b: UnsafePointer<Float>, _ nb: Int, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        if n == 0 { return }
        let block = Swift.min(na, nb)
        for o in stride(from: 0, to: n, by: block) {
            let pa = na == n ? a + o : a, pb = nb == n ? b + o : b, po = out + o
            switch kind {
            case .add: for j in 0..<block { po[j] = pa[j] + pb[j] }
            case .sub: for j in 0..<block { po[j] = pa[j] - pb[j] }
            case .mul: for j in 0..<block { po[j] = pa[j] * pb[j] }
            }
        }
    }

    static func binary(_ kind: BinaryKind, _ lhs: Tensor, _ rhs: Tensor) throws -> Tensor {
        let shape = try broadcastShape(kind.rawValue, lhs.shape, rhs.shape)
        let out = Tensor(uninitializedShape: shape)
        binaryKernel(kind, lhs.storage.base, lhs.count, rhs.storage.base, rhs.count, out.storage.base, out.count)
        return out
    }

    /// `self + other`, with `other` (or `self`) broadcast when its shape is a suffix of the other's.
    /// - Throws: ``TensorError/shapeMismatch(op:lhs:rhs:expected:)`` naming both shapes.
    public func adding(_ other: Tensor) throws -> Tensor { try Tensor.binary(.add, self, other) }
    /// `self - other`, broadcasting as in ``adding(_:)``.
    public func subtracting(_ other: Tensor) throws -> Tensor { try Tensor.binary(.sub, self, other) }
    /// `self * other` elementwise, broadcasting as in ``adding(_:)``.
    public func multiplying(_ other: Tensor) throws -> Tensor { try Tensor.binary(.mul, self, other) }

    private static func trapping(_ kind: BinaryKind, _ l: Tensor, _ r: Tensor) -> Tensor {
        do { return try binary(kind, l, r) } catch { preconditionFailure("\(error)") }
    }

    /// Elementwise sum with bias broadcasting; traps on a shape mismatch (see ``adding(_:)``).
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { trapping(.add, lhs, rhs) }
    /// Elementwise difference with bias broadcasting; traps on a shape mismatch.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { trapping(.sub, lhs, rhs) }
    /// Elementwise product with bias broadcasting; traps on a shape mismatch.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { trapping(.mul, lhs, rhs) }

    /// Every element multiplied by `scale`.
    public static func * (lhs: Tensor, scale: Float) -> Tensor {
        var out = lhs
        out.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] *= scale } }
        return out
    }
    /// Every element multiplied by `scale`.
    public static func * (scale: Float, rhs: Tensor) -> Tensor { rhs * scale }

    /// Adds `other` (same shape, or broadcast) in place.
    public static func += (lhs: inout Tensor, rhs: Tensor) {
        let fits = lhs.rank >= rhs.rank && Array(lhs.shape.suffix(rhs.rank)) == rhs.shape
        precondition(fits, "+=: shapes \(lhs.shape) and \(rhs.shape) do not fit (expected rhs equal to or a suffix of lhs)")
        lhs.makeUnique()
        binaryKernel(.add, lhs.storage.base, lhs.count, rhs.storage.base, rhs.count, lhs.storage.base, lhs.count)
    }

    /// The sum of all elements, accumulated in Double.
    public func sum() -> Float {
        withUnsafeBufferPointer { p in Float(p.reduce(0.0) { $0 + Double($1) }) }
    }

    /// The mean of all elements (NaN for an empty tensor).
    public func mean() -> Float {
        withUnsafeBufferPointer { p in Float(p.reduce(0.0) { $0 + Double($1) } / Double(p.count)) }
    }

    /// The sizes of `op(lhs) · op(rhs)`: `(m, n, k)`, or a shape error naming both shapes.
    ///
    /// `rhs` must be a matrix. `lhs` is a matrix, or (without `transA`) any rank ≥ 2 whose leading
    /// axes are flattened into rows: `[B, T, K] · [K, N] = [B, T, N]`.
    static func matmulSizes(_ lhs: [Int], _ rhs: [Int], transA: Bool, transB: Bool) throws -> (m: Int, n: Int, k: Int) {
        guard rhs.count == 2, lhs.count == 2 || (lhs.count > 2 && !transA) else {
            throw TensorError.shapeMismatch(op: "matmul", lhs: lhs, rhs: rhs,
                                            expected: "rhs of rank 2 and lhs of rank 2 (or rank ≥ 2 without transA)")
        }
        let k = transA ? lhs[0] : lhs[lhs.count - 1]
        let m = transA ? lhs[1] : lhs.dropLast().reduce(1, *)
        let kb = transB ? rhs[1] : rhs[0], n = transB ? rhs[0] : rhs[1]
        guard k == kb else {
            let l = transA ? "lhs.shape[0]" : "lhs.shape[\(lhs.count - 1)]", r = transB ? "rhs.shape[1]" : "rhs.shape[0]"
            throw TensorError.shapeMismatch(op: "matmul", lhs: lhs, rhs: rhs, expected: "\(l) == \(r)")
        }
        return (m, n, k)
    }

    /// The result shape of `op(lhs) · op(rhs)`, sizes already checked.
    static func matmulShape(_ lhs: [Int], _ n: Int, transA: Bool) -> [Int] {
        transA ? [lhs[1], n] : Array(lhs.dropLast()) + [n]
    }

    /// The matrix product `op(self) · op(other)`, where `op` transposes when asked (no copy: the
    /// GEMM reads the operand transposed).
    ///
    /// `self` is `[M, K]` (or `[K, M]` with `transA`; or `[..., K]` with leading axes flattened into
    /// rows), `other` is `[K, N]` (or `[N, K]` with `transB`); the result is `[M, N]`.
    /// - Throws: ``TensorError/shapeMismatch(op:lhs:rhs:expected:)`` when the inner sizes differ.
    public func matmul(_ other: Tensor, transA: Bool = false, transB: Bool = false) throws -> Tensor {
        let (m, n, k) = try Tensor.matmulSizes(shape, other.shape, transA: transA, transB: transB)
        let out = Tensor(uninitializedShape: Tensor.matmulShape(shape, n, transA: transA))
        Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                     a: storage.base, lda: Swift.max(1, transA ? m : k),
                     b: other.storage.base, ldb: Swift.max(1, transB ? k : n),
                     beta: 0, c: out.storage.base, ldc: Swift.max(1, n))
        return out
    }
}
