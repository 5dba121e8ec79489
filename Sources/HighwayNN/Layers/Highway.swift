import HighwayKernels
import HighwayTensor

/// A highway layer (Srivastava, Greff & Schmidhuber 2015): `y = H(x)·T(x) + x·(1 − T(x))` with
/// `H(x) = act(W_H x + b_H)` and the transform gate `T(x) = sigmoid(W_T x + b_T)`.
///
/// ```
/// weight: [2·width, width]  rows 0..<width are W_H, rows width..<2·width are W_T
///                           checkpoint "<name>.linear.weight" (PyTorch: nn.Linear(width, 2·width))
/// bias:   [2·width]         b_H then b_T; b_T starts at `gateBias` (default −2), so each layer
///                           starts close to copying its input and a deep stack still trains
/// ```
/// H and T share one matrix so the forward pass is one GEMM into `[H_pre; T_pre]` followed by one
/// fused elementwise pass; the backward is one fused pass, one GEMM for both weight gradients and
/// one for dx, with the carry term `dy·(1 − T)` written by the fused pass (DESIGN.md decision 1).
/// The fused pair works feature-major (activations are `(width, batch)`); ``callAsFunction(_:)``
/// transposes the tape's batch-major values around it.
///
/// **The GRU turned vertical.** Read the layer index as time and drop a GRU's per-step input,
/// per-step output and reset gate: what remains is `a_l = z·a_{l−1} + (1 − z)·h'` with
/// `h' = act(W a_{l−1})` and the update gate `z = sigmoid(W' a_{l−1})` — this layer with
/// `T = 1 − z`. With `tied` weights (one layer applied depth times, see `FeedForwardNetwork`) the
/// stack *is* that recurrence, unrolled over depth instead of time.
///
/// **Lesioning.** With ``lesioned`` set, the gate is forced to 0 and the layer copies its input
/// (`y = x`), as in the paper's layer-removal study.
public final class Highway {
    public let width: Int
    public let activation: Activation
    public let weight: Parameter
    public let bias: Parameter
    /// Forces T = 0: the layer passes its input through unchanged.
    public var lesioned = false

    public init(name: String, width: Int, activation: Activation, gateBias: Float = -2, rng: inout SeededGenerator) {
        precondition(width > 0, "Highway: width must be positive")
        self.width = width
        self.activation = activation
        weight = Parameter(name: name + ".linear.weight", value: activation.initialWeight(out: 2 * width, in: width, rng: &rng))
        var b = Tensor.zeros([2 * width])
        let bp = b.unsafeMutablePointer()
        for j in width..<(2 * width) { bp[j] = gateBias }
        bias = Parameter(name: name + ".linear.bias", value: b)
    }

    /// Shares `other`'s parameters (tied layers).
    public init(tiedTo other: Highway) {
        width = other.width
        activation = other.activation
        weight = other.weight
        bias = other.bias
    }

    public var summary: String { "Highway(\(width), \(activation))" }

    // Feature-major (DESIGN.md decision 1, measured): x, y are (width, n) with the batch of n along
    // each row, ht (2·width, n) receives [H; T] for the backward. A row then ends mid-vector once
    // per feature instead of once per example, and both the forward GEMM [W_H; W_T]·x and the dx
    // GEMM [W_H; W_T]ᵀ·dz run with the batch (128 = 4 × 32) along the vector lanes.
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, ht: UnsafeMutablePointer<Float>, columns n: Int) {
        if lesioned {
            y.update(from: x, count: width * n)
            (ht + width * n).update(repeating: 0, count: width * n)
            return
        }
        // [H_pre; T_pre] = [W_H; W_T] · x    (2w, n) = (2w, w)·(w, n)
        Kernels.gemm(m: 2 * width, n: n, k: width, a: weight.value.unsafePointer, lda: width,
                     b: x, ldb: n, c: ht, ldc: n, threads: 1)
        hk_highway_forward(Kernels.variant.rawValue, activation.code, width, n, ht, bias.value.unsafePointer, x, y)
    }

    /// Backward of ``forward(_:_:ht:columns:)``: `dx` (w, n) is overwritten with d(loss)/dx;
    /// `dz` (2w, n) is scratch; `dweight` (2w, w) and `dbias` (2w) are added into.
    public func backward(x: UnsafePointer<Float>, ht: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>, dz: UnsafeMutablePointer<Float>, columns n: Int,
                         dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>) {
        if lesioned {
            dx.update(from: dy, count: width * n)
            return
        }
        // dz = [dy·T·act'(H); dy·(H − x)·T(1 − T)],  dx = dy·(1 − T),  dbias += Σ_batch dz
        hk_highway_backward(Kernels.variant.rawValue, activation.code, width, n, dy, ht, x, dz, dx, dbias)
        // dW += dz · xᵀ   (2w, w) = (2w, n)·(n, w)
        Kernels.gemm(transB: true, m: 2 * width, n: width, k: n, a: dz, lda: n,
                     b: x, ldb: n, beta: 1, c: dweight, ldc: width, threads: 1)
        // dx += [W_H; W_T]ᵀ · dz   (w, n) = (w, 2w)·(2w, n)
        Kernels.gemm(transA: true, m: width, n: n, k: 2 * width, a: weight.value.unsafePointer, lda: width,
                     b: dz, ldb: n, beta: 1, c: dx, ldc: n, threads: 1)
    }

    /// Records the layer as one op on `x`'s tape; `x` is (rows, width).
    public func callAsFunction(_ x: Variable) throws -> Variable {
        let rows = try x.rows(features: width, layer: summary)
        // the tape's values are batch-major (rows, w): transpose around the feature-major pair
        let tape = x.tape, w = width
        let xt = FloatBuffer(count: rows * w), yt = FloatBuffer(count: rows * w), ht = FloatBuffer(count: rows * 2 * w)
        hk_transpose(rows, w, x.value.unsafePointer, w, xt.base, rows)
        forward(xt.base, yt.base, ht: ht.base, columns: rows)
        var y = Tensor.zeros([rows, w])
        hk_transpose(w, rows, yt.base, rows, y.unsafeMutablePointer(), w)
        return tape.record(inputs: [x, tape.parameter(weight), tape.parameter(bias)], output: y) { [self] ctx in
            let dyt = FloatBuffer(count: rows * w), dxt = FloatBuffer(count: rows * w), dz = FloatBuffer(count: rows * 2 * w)
            hk_transpose(rows, w, ctx.outputGradientPointer, w, dyt.base, rows)
            backward(x: xt.base, ht: ht.base, dy: dyt.base, dx: dxt.base, dz: dz.base, columns: rows,
                     dweight: ctx.gradientBuffer(ofInput: 1)!, dbias: ctx.gradientBuffer(ofInput: 2)!)
            if let gx = ctx.gradientBuffer(ofInput: 0) {
                for i in 0..<rows { for j in 0..<w { gx[i * w + j] += dxt.base[j * rows + i] } }
            }
        }
    }
}
