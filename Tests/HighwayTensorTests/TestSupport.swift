// Helpers shared by the HighwayTensor tests.
import HighwayTensor

/// A tensor of normal draws from its own seed, so each test's data is fixed.
func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    var rng = SeededGenerator(seed: seed)
    return Tensor.normal(shape: shape, std: std, rng: &rng)
}

/// Random values pushed at least `gap` away from zero (for ops with a kink at 0, like relu).
func awayFromZero(_ shape: [Int], seed: UInt64, gap: Float = 0.1) -> Tensor {
    var t = randomTensor(shape, seed: seed)
    t.withUnsafeMutableBufferPointer { p in
        for i in p.indices { p[i] = p[i] < 0 ? p[i] - gap : p[i] + gap }
    }
    return t
}

/// C = op(A)·op(B) by the textbook triple loop in Double, from the stored (untransposed) layouts.
func naiveMatmul(_ a: Tensor, _ b: Tensor, transA: Bool, transB: Bool) -> Tensor {
    let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
    let n = transB ? b.shape[0] : b.shape[1]
    var c = Tensor.zeros([m, n])
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                s += Double(transA ? a[p, i] : a[i, p]) * Double(transB ? b[j, p] : b[p, j])
            }
            c[i, j] = Float(s)
        }
    }
    return c
}

/// The largest |a − b| over two tensors of the same shape.
func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "maxDifference: \(a.shape) vs \(b.shape)")
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}

/// The shapes every elementwise op is checked on: size 1, odd sizes, a column and rank 3.
let oddShapes: [[Int]] = [[1, 1], [3, 7], [5, 1], [2, 3, 5]]
