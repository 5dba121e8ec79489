// Tape op: the matrix product with either operand transposed, forward and backward side by side.
//
// Both gradients are GEMMs with beta = 1, so they accumulate straight into the gradient buffers
// (no temporary, no extra pass). With A, B as stored and op(X) = X or Xᵀ:
//   y = op(A)·op(B)                 A is (M,K) or (K,M), B is (K,N) or (N,K), y is (M,N)
//   dA += dy·Bᵀ     (no transposes) dB += Aᵀ·dy
//   dA += B·dyᵀ     (transA)        dB += A·dy
//   dA += dy·B      (transB)        dB += dyᵀ·A
//   dA += Bᵀ·dyᵀ    (both)          dB += dyᵀ·Aᵀ

extension Tape {
    /// `op(a) · op(b)`: `a` is `[M, K]` (`[K, M]` with `transA`, or `[..., K]` with leading axes as
    /// rows), `b` is `[K, N]` (`[N, K]` with `transB`); the result is `[M, N]` (or `[..., N]`).
    /// - Throws: ``TensorError/shapeMismatch(op:lhs:rhs:expected:)`` when the inner sizes differ.
    public func matmul(_ a: Variable, _ b: Variable, transA: Bool = false, transB: Bool = false) throws -> Variable {
        let y = try a.value.matmul(b.value, transA: transA, transB: transB)
        // The transposes travel in the tag, so the closure captures nothing (no allocation).
        return record(inputs: [a, b], output: y, tag: (transA ? 1 : 0) | (transB ? 2 : 0), backward: Tape.matmulBackward)
    }

    static func matmulBackward(_ ctx: BackwardContext) {
        let transA = ctx.tag & 1 != 0, transB = ctx.tag & 2 != 0
        let bShape = ctx.input(1).shape, aCount = ctx.input(0).count
        let k = transB ? bShape[1] : bShape[0], n = transB ? bShape[0] : bShape[1]
        if aCount == 0 { return }   // m or k is 0: both gradients are empty or receive nothing
        let m = aCount / k          // leading axes of A flattened into rows
        let a = ctx.inputPointer(0), b = ctx.inputPointer(1), dy = ctx.outputGradientPointer
        if let da = ctx.gradientBuffer(ofInput: 0) {
            if !transA {   // dA (M,K)
                Kernels.gemm(transA: false, transB: !transB, m: m, n: k, k: n, a: dy, lda: max(1, n),
                             b: b, ldb: max(1, transB ? k : n), beta: 1, c: da, ldc: max(1, k))
            } else {       // dA (K,M)
                Kernels.gemm(transA: transB, transB: true, m: k, n: m, k: n, a: b, lda: max(1, transB ? k : n),
                             b: dy, ldb: max(1, n), beta: 1, c: da, ldc: max(1, m))
            }
        }
        if let db = ctx.gradientBuffer(ofInput: 1) {
            if !transB {   // dB (K,N)
                Kernels.gemm(transA: !transA, transB: false, m: k, n: n, k: m, a: a, lda: max(1, transA ? m : k),
                             b: dy, ldb: max(1, n), beta: 1, c: db, ldc: max(1, n))
            } else {       // dB (N,K)
                Kernels.gemm(transA: true, transB: transA, m: n, n: k, k: m, a: dy, lda: max(1, n),
                             b: a, ldb: max(1, transA ? m : k), beta: 1, c: db, ldc: max(1, k))
            }
        }
    }
}
