import HighwayKernels
import HighwayTensor

/// LSTNet's convolutional component (Lai et al. 2018, §3.2): a convolution over time whose filters
/// span `kernel` steps of **all** series, i.e. PyTorch's `nn.Conv2d(1, channels, (kernel, series))`
/// on a (B, 1, T, series) input, followed by an activation (ReLU in LSTNet), no padding, no pooling:
///
/// ```
/// y[b, t, o] = act(bias[o] + Σ_{k < kernel} Σ_{s < series} W[o, 0, k, s] · x[b, t + k, s])
///     x is (B, T, series), y is (B, T − kernel + 1, channels) (batch-first, ready for a GRU)
/// weight: [channels, 1, kernel, series]   checkpoint "<name>.weight" (PyTorch Conv2d layout)
/// bias:   [channels]                      checkpoint "<name>.bias"
/// ```
/// Initialisation: PyTorch's default for `Conv2d`, U(−1/√fanIn, 1/√fanIn) for weight and bias,
/// fanIn = kernel·series.
///
/// **No im2col.** The batch is read as one long sequence of B·T rows of `series` values; then
/// `Z = Σ_k X[k : k + R] · W_kᵀ` (R = B·T − kernel + 1 rows, `W_k` the (channels, series) slice of
/// step k, read in place with leading dimension kernel·series) is `kernel` GEMMs with no copy of
/// the input. The rows whose window crosses from one example into the next ((kernel − 1) of every
/// T) are computed and dropped. Backward: the same GEMMs transposed, `dW_k += dZᵀ·X[k : k + R]`,
/// `dX[k : k + R] += dZ·W_k`, with dZ zero on the dropped rows.
///
/// ```swift
/// let conv = Conv1DAcrossSeries(name: "conv1", series: 8, kernel: 6, channels: 100, rng: &rng)
/// let c = try conv(x)          // x (B, 168, 8) → c (B, 163, 100)
/// ```
public final class Conv1DAcrossSeries {
    public let series: Int
    public let kernel: Int
    public let channels: Int
    public let activation: Activation
    public let weight: Parameter
    public let bias: Parameter

    public init(name: String, series: Int, kernel: Int, channels: Int, activation: Activation = .relu,
                rng: inout SeededGenerator) {
        precondition(series > 0 && kernel > 0 && channels > 0, "Conv1DAcrossSeries: sizes must be positive")
        self.series = series
        self.kernel = kernel
        self.channels = channels
        self.activation = activation
        let bound = 1 / Float(kernel * series).squareRoot()
        weight = Parameter(name: name + ".weight", value: .uniform(shape: [channels, 1, kernel, series], in: -bound..<bound, rng: &rng))
        bias = Parameter(name: name + ".bias", value: .uniform(shape: [channels], in: -bound..<bound, rng: &rng))
    }

    /// "Conv1DAcrossSeries(8 series × 6 steps → 100, relu)"
    public var summary: String { "Conv1DAcrossSeries(\(series) series × \(kernel) steps → \(channels), \(activation))" }

    /// The output length for an input of `steps` time steps.
    public func outputSteps(_ steps: Int) -> Int { steps - kernel + 1 }

    /// Rows of the scratch `z` that ``forward(_:_:z:batch:steps:)`` needs: B·T − kernel + 1.
    public func scratchRows(batch: Int, steps: Int) -> Int { batch * steps - kernel + 1 }

    // x is (B, T, series); y is (B, T − kernel + 1, channels); z is (B·T − kernel + 1, channels) and
    // keeps act(pre-activation) of every row (the backward reads it).
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>,
                        batch: Int, steps: Int) {
        let m = series, c = channels, ld = kernel * m, rows = scratchRows(batch: batch, steps: steps), t1 = outputSteps(steps)
        precondition(t1 >= 1, "Conv1DAcrossSeries: \(steps) steps are fewer than the kernel \(kernel)")
        let w = weight.value.unsafePointer
        for k in 0..<kernel {
            // Z (R, c) += X[k : k + R] (R, m) · W_kᵀ (m, c)
            Kernels.gemm(transB: true, m: rows, n: c, k: m, a: x + k * m, lda: m, b: w + k * m, ldb: ld,
                         beta: k == 0 ? 0 : 1, c: z, ldc: c)
        }
        hk_bias_act_forward(Kernels.variant.rawValue, activation.code, rows, c, z, bias.value.unsafePointer)
        for b in 0..<batch { (y + b * t1 * c).update(from: z + b * steps * c, count: t1 * c) }
    }

    /// Backward of ``forward(_:_:z:batch:steps:)``: `dz` (B·T − kernel + 1, channels) is scratch;
    /// `dx` (B, T, series), when given, `dweight` and `dbias` are added into.
    public func backward(x: UnsafePointer<Float>, z: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dz: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>?, batch: Int, steps: Int,
                         dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>) {
        let m = series, c = channels, ld = kernel * m, rows = scratchRows(batch: batch, steps: steps), t1 = outputSteps(steps)
        dz.update(repeating: 0, count: rows * c)
        for b in 0..<batch { (dz + b * steps * c).update(from: dy + b * t1 * c, count: t1 * c) }
        // dZ = dY · act'(Z) (zero on the dropped rows);  dbias += Σ_rows dZ
        hk_act_backward(Kernels.variant.rawValue, activation.code, rows, c, z, dz, dz, dbias)
        let w = weight.value.unsafePointer
        for k in 0..<kernel {
            // dW_k (c, m) += dZᵀ (c, R) · X[k : k + R] (R, m)
            Kernels.gemm(transA: true, m: c, n: m, k: rows, a: dz, lda: c, b: x + k * m, ldb: m,
                         beta: 1, c: dweight + k * m, ldc: ld)
            // dX[k : k + R] (R, m) += dZ (R, c) · W_k (c, m)
            if let dx {
                Kernels.gemm(m: rows, n: m, k: c, a: dz, lda: c, b: w + k * m, ldb: ld, beta: 1, c: dx + k * m, ldc: m)
            }
        }
    }

    /// Records the layer as one op on `x`'s tape; `x` is (B, T, series) with T ≥ kernel.
    public func callAsFunction(_ x: Variable) throws -> Variable {
        let shape = x.shape
        guard shape.count == 3, shape[2] == series, shape[1] >= kernel, shape[0] >= 1 else {
            throw TensorError.invalidShape(op: summary, shape: shape, expected: "[B, T ≥ \(kernel), \(series)]")
        }
        let b = shape[0], t = shape[1], t1 = outputSteps(t), rows = scratchRows(batch: b, steps: t)
        let z = FloatBuffer(count: rows * channels)
        var y = Tensor.zeros([b, t1, channels])
        forward(x.value.unsafePointer, y.unsafeMutablePointer(), z: z.base, batch: b, steps: t)
        let tape = x.tape
        return tape.record(inputs: [x, tape.parameter(weight), tape.parameter(bias)], output: y) { [self] ctx in
            let dz = FloatBuffer(count: rows * channels)
            backward(x: ctx.inputPointer(0), z: z.base, dy: ctx.outputGradientPointer, dz: dz.base,
                     dx: ctx.gradientBuffer(ofInput: 0), batch: b, steps: t,
                     dweight: ctx.gradientBuffer(ofInput: 1)!, dbias: ctx.gradientBuffer(ofInput: 2)!)
        }
    }
}
