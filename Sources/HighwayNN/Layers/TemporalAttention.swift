#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HighwayTensor

/// Temporal attention over a recurrent layer's hidden states: LSTNet's alternative to the skip-RNN
/// (Lai et al. 2018, §3.4, "LSTNet-Attn"). The paper defines `α_t = AttnScore(H_t, h_{t−1})`,
/// `c_t = H_t·α_t` and leaves the score open (dot product, cosine or an MLP); its code was never
/// released. This layer uses the "general" bilinear score (Luong et al. 2015), which the dot
/// product is the special case W = I of:
///
/// ```
/// H is (B, T, d): the hidden states h_1 … h_T of each example; h_T is the last one
/// q[b]    = W · h_T[b]                              (d)       the query, one Linear(d, d) without bias
/// e[b, t] = h_t[b] · q[b]                           (B, T)    scores of every state against the last
/// α[b, :] = softmax_t(e[b, :])                      (B, T)
/// c[b]    = Σ_t α[b, t] · h_t[b]                    (B, d)    the context: the layer's output
/// weight: [d, d]   checkpoint "<name>.weight" (PyTorch: nn.Linear(d, d, bias=False))
/// ```
/// LSTNet-Attn then combines `[c; h_T]` with a dense layer (as the paper's `h^D = W[c_t; h^R_{t−1}] + b`).
/// Initialisation: PyTorch's `Linear` default, U(−1/√d, 1/√d).
///
/// Backward, with `dc` given (the forward saves q and α):
/// ```
/// dα[b, t] = dc[b] · h_t[b]
/// de[b, t] = α[b, t]·(dα[b, t] − Σ_u α[b, u]·dα[b, u])          (softmax)
/// dh_t[b] += α[b, t]·dc[b] + de[b, t]·q[b]
/// dq[b]    = Σ_t de[b, t]·h_t[b]
/// dW      += Σ_b dq[b] ⊗ h_T[b]                                  (d, d)
/// dh_T[b] += Wᵀ·dq[b]
/// ```
public final class TemporalAttention {
    public let width: Int
    public let weight: Parameter

    public init(name: String, width: Int, rng: inout SeededGenerator) {
        precondition(width > 0, "TemporalAttention: width must be positive")
        self.width = width
        let bound = 1 / Float(width).squareRoot()
        weight = Parameter(name: name + ".weight", value: .uniform(shape: [width, width], in: -bound..<bound, rng: &rng))
    }

    public var summary: String { "TemporalAttention(\(width))" }

    // h is (B, T, d); c is (B, d); q (B, d) and alpha (B, T) are saved for the backward
    public func forward(_ h: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>,
                        alpha: UnsafeMutablePointer<Float>, batch: Int, steps t: Int) {
        let d = width
        // q (B, d) = h_T (B, d; rows T·d apart) · Wᵀ
        Kernels.gemm(transB: true, m: batch, n: d, k: d, a: h + (t - 1) * d, lda: t * d,
                     b: weight.value.unsafePointer, ldb: d, c: q, ldc: d, threads: 1)
        for b in 0..<batch {
            let hb = h + b * t * d, qb = q + b * d, ab = alpha + b * t, cb = c + b * d
            var mx = -Float.infinity
            for s in 0..<t {
                var e: Float = 0
                for i in 0..<d { e += hb[s * d + i] * qb[i] }
                ab[s] = e
                mx = max(mx, e)
            }
            var sum: Float = 0
            for s in 0..<t { ab[s] = expf(ab[s] - mx); sum += ab[s] }
            let inv = 1 / sum
            for i in 0..<d { cb[i] = 0 }
            for s in 0..<t {
                ab[s] *= inv
                let a = ab[s]
                for i in 0..<d { cb[i] += a * hb[s * d + i] }
            }
        }
    }

    /// Backward of ``forward(_:_:q:alpha:batch:steps:)``: `dh` (B, T, d) (when given) and
    /// `dweight` (d, d) are added into; `scratch` holds max(T, d) floats.
    public func backward(h: UnsafePointer<Float>, q: UnsafePointer<Float>, alpha: UnsafePointer<Float>,
                         dc: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>,
                         batch: Int, steps t: Int, scratch: UnsafeMutablePointer<Float>, dq: UnsafeMutablePointer<Float>) {
        let d = width, w = weight.value.unsafePointer
        for b in 0..<batch {
            let hb = h + b * t * d, qb = q + b * d, ab = alpha + b * t, dcb = dc + b * d, dqb = dq + b * d
            let de = scratch   // (T): dα first, then de
            var dot: Float = 0
            for s in 0..<t {
                var v: Float = 0
                for i in 0..<d { v += dcb[i] * hb[s * d + i] }
                de[s] = v
                dot += ab[s] * v
            }
            for s in 0..<t { de[s] = ab[s] * (de[s] - dot) }
            for i in 0..<d { dqb[i] = 0 }
            for s in 0..<t {
                for i in 0..<d { dqb[i] += de[s] * hb[s * d + i] }
            }
            if let dh {
                let dhb = dh + b * t * d
                for s in 0..<t {
                    let a = ab[s], e = de[s]
                    for i in 0..<d { dhb[s * d + i] += a * dcb[i] + e * qb[i] }
                }
                // dh_T += Wᵀ dq
                let last = dhb + (t - 1) * d
                for i in 0..<d {
                    let g = dqb[i]
                    for j in 0..<d { last[j] += w[i * d + j] * g }
                }
            }
        }
        // dW (d, d) += dqᵀ (d, B) · h_T (B, d)
        Kernels.gemm(transA: true, m: d, n: d, k: batch, a: dq, lda: d, b: h + (t - 1) * d, ldb: t * d,
                     beta: 1, c: dweight, ldc: d, threads: 1)
    }

    /// Records the layer as one op on `h`'s tape; `h` is (B, T, width), the result (B, width).
    public func callAsFunction(_ h: Variable) throws -> Variable {
        let shape = h.shape
        guard shape.count == 3, shape[2] == width, shape[1] >= 1, shape[0] >= 1 else {
            throw TensorError.invalidShape(op: summary, shape: shape, expected: "[B, T ≥ 1, \(width)]")
        }
        let b = shape[0], t = shape[1], d = width
        let q = FloatBuffer(count: b * d), alpha = FloatBuffer(count: b * t)
        var c = Tensor.zeros([b, d])
        forward(h.value.unsafePointer, c.unsafeMutablePointer(), q: q.base, alpha: alpha.base, batch: b, steps: t)
        let tape = h.tape
        return tape.record(inputs: [h, tape.parameter(weight)], output: c) { [self] ctx in
            let scratch = FloatBuffer(count: max(t, d)), dq = FloatBuffer(count: b * d)
            backward(h: ctx.inputPointer(0), q: q.base, alpha: alpha.base, dc: ctx.outputGradientPointer,
                     dh: ctx.gradientBuffer(ofInput: 0), dweight: ctx.gradientBuffer(ofInput: 1)!,
                     batch: b, steps: t, scratch: scratch.base, dq: dq.base)
        }
    }

    /// The attention weights α (B, T) of `h` (B, T, width), for plots of what the model looks at.
    public func weights(_ h: Tensor) -> Tensor {
        let b = h.shape[0], t = h.shape[1]
        let q = FloatBuffer(count: b * width), c = FloatBuffer(count: b * width)
        var alpha = Tensor.zeros([b, t])
        forward(h.unsafePointer, c.base, q: q.base, alpha: alpha.unsafeMutablePointer(), batch: b, steps: t)
        return alpha
    }
}
