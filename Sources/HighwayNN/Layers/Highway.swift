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
/// H and T share one matrix so the forward pass is one GEMM into `[H_pre | T_pre]` followed by one
/// fused elementwise pass; the backward is one fused pass, one GEMM for both weight gradients and
/// one for dx, with the carry term `dy·(1 − T)` written by the fused pass (DESIGN.md decision 1).
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

    // x, y are (rows, width); ht (rows, 2·width) receives [H | T] for the backward
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, ht: UnsafeMutablePointer<Float>, rows: Int) {
        if lesioned {
            y.update(from: x, count: rows * width)
            for r in 0..<rows { (ht + r * 2 * width + width).update(repeating: 0, count: width) }
            return
        }
        // [H_pre | T_pre] = x · [W_H; W_T]ᵀ    (rows, 2w) = (rows, w)·(w, 2w)
        Kernels.gemm(transB: true, m: rows, n: 2 * width, k: width, a: x, lda: width,
                     b: weight.value.unsafePointer, ldb: width, c: ht, ldc: 2 * width, threads: 1)
        hk_highway_forward(Kernels.variant.rawValue, activation.code, rows, width, ht, bias.value.unsafePointer, x, y)
    }

    /// Backward of ``forward(_:_:ht:rows:)``: `dx` (rows, w) is overwritten with d(loss)/dx;
    /// `dz` (rows, 2w) is scratch; `dweight` (2w, w) and `dbias` (2w) are added into.
    public func backward(x: UnsafePointer<Float>, ht: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>, dz: UnsafeMutablePointer<Float>, rows: Int,
                         dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>) {
        if lesioned {
            dx.update(from: dy, count: rows * width)
            return
        }
        // dz = [dy·T·act'(H) | dy·(H − x)·T(1 − T)],  dx = dy·(1 − T),  dbias += Σ dz
        hk_highway_backward(Kernels.variant.rawValue, activation.code, rows, width, dy, ht, x, dz, dx, dbias)
        // dW += dzᵀ · x   (2w, w) = (2w, rows)·(rows, w)
        Kernels.gemm(transA: true, m: 2 * width, n: width, k: rows, a: dz, lda: 2 * width,
                     b: x, ldb: width, beta: 1, c: dweight, ldc: width, threads: 1)
        // dx += dz · W   (rows, w) = (rows, 2w)·(2w, w)
        Kernels.gemm(m: rows, n: width, k: 2 * width, a: dz, lda: 2 * width,
                     b: weight.value.unsafePointer, ldb: width, beta: 1, c: dx, ldc: width, threads: 1)
    }

    /// Records the layer as one op on `x`'s tape; `x` is (rows, width).
    public func callAsFunction(_ x: Variable) throws -> Variable {
        let shape = x.shape
        guard shape.count == 2, shape[1] == width else {
            throw TensorError.invalidShape(op: summary, shape: shape, expected: "[rows, \(width)]")
        }
        let rows = shape[0], tape = x.tape
        let xv = x.value
        var y = Tensor.zeros([rows, width])
        let ht = FloatBuffer(count: rows * 2 * width)
        forward(xv.unsafePointer, y.unsafeMutablePointer(), ht: ht.base, rows: rows)
        return tape.record(inputs: [x, tape.parameter(weight), tape.parameter(bias)], output: y) { [self] ctx in
            let dx = FloatBuffer(count: rows * width), dz = FloatBuffer(count: rows * 2 * width)
            let dw = ctx.gradientBuffer(ofInput: 1)!, db = ctx.gradientBuffer(ofInput: 2)!
            backward(x: ctx.inputPointer(0), ht: ht.base, dy: ctx.outputGradientPointer, dx: dx.base, dz: dz.base,
                     rows: rows, dweight: dw, dbias: db)
            if let gx = ctx.gradientBuffer(ofInput: 0) {
                for i in 0..<(rows * width) { gx[i] += dx.base[i] }
            }
        }
    }
}
