import HighwayKernels
import HighwayTensor

/// A fully connected layer: `y = act(x·Wᵀ + b)`.
///
/// ```
/// weight: [out, in]    checkpoint name "<name>.weight"  (PyTorch nn.Linear layout)
/// bias:   [out]        checkpoint name "<name>.bias"
/// ```
/// Initialisation: He-normal for ReLU, Glorot-uniform otherwise; bias 0. Used as the input
/// projection, the softmax output (identity), and the hidden layers of a plain network.
///
/// The fused pair ``forward(_:_:rows:)`` / ``backward(x:y:dy:dx:dxBeta:rows:dweight:dbias:)`` runs
/// on raw buffers (the training loop's path); ``callAsFunction(_:)`` records the same pair as one op
/// on a ``Tape``.
public final class Dense {
    public let inputSize: Int
    public let outputSize: Int
    public let activation: Activation
    public let weight: Parameter
    public let bias: Parameter

    public init(name: String, inputSize: Int, outputSize: Int, activation: Activation, rng: inout SeededGenerator) {
        precondition(inputSize > 0 && outputSize > 0, "Dense: sizes must be positive")
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.activation = activation
        weight = Parameter(name: name + ".weight", value: activation.initialWeight(out: outputSize, in: inputSize, rng: &rng))
        bias = Parameter(name: name + ".bias", value: .zeros([outputSize]))
    }

    /// "Dense(784 → 50, tanh)"
    public var summary: String { "Dense(\(inputSize) → \(outputSize), \(activation))" }

    // x is (rows, in), y is (rows, out)
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int) {
        Kernels.gemm(transB: true, m: rows, n: outputSize, k: inputSize, a: x, lda: inputSize,
                     b: weight.value.unsafePointer, ldb: inputSize, c: y, ldc: outputSize, threads: 1)
        hk_bias_act_forward(Kernels.variant.rawValue, activation.code, rows, outputSize, y, bias.value.unsafePointer)
    }

    /// Backward of ``forward(_:_:rows:)``. `dy` (rows, out) is overwritten with d(pre-activation);
    /// `dx` (rows, in) = dxBeta·dx + dz·W (skipped when nil); `dweight` (out, in) and `dbias` (out)
    /// are added into.
    public func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafeMutablePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dxBeta: Float = 0, rows: Int,
                         dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>) {
        let isa = Kernels.variant.rawValue
        // dz = dy · act'(y);  dbias += Σ_rows dz
        hk_act_backward(isa, activation.code, rows, outputSize, y, dy, dy, dbias)
        // dW += dzᵀ · x   (out, in) = (out, rows)·(rows, in)
        Kernels.gemm(transA: true, m: outputSize, n: inputSize, k: rows, a: dy, lda: outputSize,
                     b: x, ldb: inputSize, beta: 1, c: dweight, ldc: inputSize, threads: 1)
        // dx = dz · W   (rows, in) = (rows, out)·(out, in)
        if let dx {
            Kernels.gemm(m: rows, n: inputSize, k: outputSize, a: dy, lda: outputSize,
                         b: weight.value.unsafePointer, ldb: inputSize, beta: dxBeta, c: dx, ldc: inputSize, threads: 1)
        }
    }

    /// Records the layer as one op on `x`'s tape; `x` is (rows, in).
    public func callAsFunction(_ x: Variable) throws -> Variable {
        let rows = try x.rows(features: inputSize, layer: summary)
        let tape = x.tape
        let xv = x.value
        var y = Tensor.zeros([rows, outputSize])
        forward(xv.unsafePointer, y.unsafeMutablePointer(), rows: rows)
        return tape.record(inputs: [x, tape.parameter(weight), tape.parameter(bias)], output: y) { [self] ctx in
            var dz = ctx.outputGradient
            let dzp = dz.unsafeMutablePointer()  // a private copy: backward overwrites it
            backward(x: ctx.inputPointer(0), y: ctx.outputPointer, dy: dzp, dx: ctx.gradientBuffer(ofInput: 0),
                     dxBeta: 1, rows: rows, dweight: ctx.gradientBuffer(ofInput: 1)!, dbias: ctx.gradientBuffer(ofInput: 2)!)
        }
    }
}
