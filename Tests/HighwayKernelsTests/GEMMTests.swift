import HighwayKernels
import HighwayTensor
import Testing

/// Reference product in Double: C = alpha·op(A)·op(B) + beta·C.
private func naiveGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                       a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
    var out = c
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                s += Double(av) * Double(bv)
            }
            let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            out[i * ldc + j] = Float(Double(alpha) * s + prior)
        }
    }
    return out
}

/// Deterministic fill without the tensor RNG: these tests exercise only the kernels.
private func fill(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Float(Int(state % 2001) - 1000) / 1000
    }
}

private struct GEMMCase: CustomTestStringConvertible, Sendable {
    var m: Int, n: Int, k: Int
    var testDescription: String { "\(m)×\(n)×\(k)" }
}

private let sizes: [Int] = [1, 7, 63, 64, 129]
/// Every combination of the sizes would be 125 shapes × 4 transposes × 3 variants; the
/// cube's diagonal and its mixed corners cover each size in each role.
private let cases: [GEMMCase] = {
    var out: [GEMMCase] = []
    for s in sizes { out.append(GEMMCase(m: s, n: s, k: s)) }
    for (m, n, k) in [(1, 129, 7), (129, 1, 63), (7, 64, 1), (63, 7, 129), (64, 129, 7), (129, 63, 64), (7, 1, 129)] {
        out.append(GEMMCase(m: m, n: n, k: k))
    }
    // the layer shapes of the highway networks (batch 128, widths 50 and 71, 784 inputs)
    for (m, n, k) in [(128, 50, 50), (128, 100, 50), (128, 784, 50), (128, 142, 71), (50, 50, 128), (128, 50, 784), (50, 784, 128)] {
        out.append(GEMMCase(m: m, n: n, k: k))
    }
    return out
}()

@Suite("GEMM against a naive reference")
struct GEMMTests {
    @Test("every variant, every transpose", arguments: cases)
    fileprivate func matchesReference(_ shape: GEMMCase) {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        for variant in KernelVariant.supported {
            for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
                // leading dimensions wider than the matrices, to catch stride mistakes
                let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 2
                let a = fill((transA ? k : m) * lda, seed: 1)
                let b = fill((transB ? n : k) * ldb, seed: 2)
                let c0 = fill(m * ldc, seed: 3)
                for (alpha, beta) in [(Float(1), Float(0)), (Float(0.5), Float(-2))] {
                    var c = c0
                    if beta == 0 { for i in c.indices where i % ldc < n { c[i] = .nan } } // must not be read
                    a.withUnsafeBufferPointer { pa in
                        b.withUnsafeBufferPointer { pb in
                            c.withUnsafeMutableBufferPointer { pc in
                                Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                             a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                             beta: beta, c: pc.baseAddress!, ldc: ldc, variant: variant, threads: 1)
                            }
                        }
                    }
                    let want = naiveGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                         a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c0, ldc: ldc)
                    var worst: Float = 0
                    for i in 0..<m {
                        for j in 0..<ldc {
                            let idx = i * ldc + j
                            if j >= n { // padding between rows stays untouched
                                #expect(c[idx].bitPattern == (beta == 0 ? c0[idx] : c0[idx]).bitPattern)
                                continue
                            }
                            worst = max(worst, abs(c[idx] - want[idx]) / (1 + abs(want[idx])))
                        }
                    }
                    // float32 accumulation over k terms of size ≤ 1: error grows like k·ε
                    #expect(worst <= Float(k + 4) * 1.2e-7,
                            "\(variant) transA=\(transA) transB=\(transB) α=\(alpha) β=\(beta): max rel. error \(worst)")
                }
            }
        }
    }

    @Test("k = 0 scales C by beta; empty m or n is a no-op")
    func degenerate() {
        for variant in KernelVariant.supported {
            var c: [Float] = [1, 2, 3, 4]
            let a: [Float] = [9], b: [Float] = [9]
            Kernels.gemm(m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, beta: 3, c: &c, ldc: 2, variant: variant)
            #expect(c == [3, 6, 9, 12])
            Kernels.gemm(m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, beta: 0, c: &c, ldc: 2, variant: variant)
            #expect(c == [0, 0, 0, 0])
            Kernels.gemm(m: 0, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, c: &c, ldc: 2, variant: variant)
            #expect(c == [0, 0, 0, 0])
        }
    }

    @Test("the threaded product is bit-identical to the single-threaded one")
    func threadedMatchesSerial() {
        let saved = ThreadPool.threads
        defer { ThreadPool.threads = saved }
        ThreadPool.threads = 3 // more threads than this machine's cores still splits correctly
        for (m, n, k) in [(257, 130, 200), (64, 700, 150), (500, 500, 31)] {
            for (transA, transB) in [(false, false), (true, true), (false, true)] {
                let a = fill(m * k, seed: 4), b = fill(k * n, seed: 5)
                var c1 = [Float](repeating: 0, count: m * n), c3 = c1
                let lda = transA ? m : k, ldb = transB ? k : n
                Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: &c1, ldc: n, threads: 1)
                Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: &c3, ldc: n, threads: 3)
                #expect(c1.map(\.bitPattern) == c3.map(\.bitPattern), "\(m)×\(n)×\(k) transA=\(transA) transB=\(transB)")
            }
        }
    }
}

@Suite("Thread pool")
struct ThreadPoolTests {
    @Test("every index runs exactly once, nested calls run serially")
    func coversEveryIndex() {
        let saved = ThreadPool.threads
        defer { ThreadPool.threads = saved }
        for threads in [1, 2, 4] {
            ThreadPool.threads = threads
            var hits = [Int](repeating: 0, count: 1000)
            hits.withUnsafeMutableBufferPointer { h in
                let base = h.baseAddress!
                ThreadPool.parallelFor(1000) { i in
                    base[i] += 1
                    ThreadPool.parallelFor(3) { _ in } // nested: must not deadlock
                }
            }
            #expect(hits.allSatisfy { $0 == 1 }, "threads=\(threads)")
        }
    }
}
