import HighwayKernels
import HighwayTensor

/// An ungated residual layer, `y = x + act(x·Wᵀ + b)`: the highway layer with T fixed at 1 on
/// the transform and the carry always open, for comparison.
///
/// ```
/// weight: [width, width]   checkpoint "<name>.weight"
/// bias:   [width]          checkpoint "<name>.bias"
/// ```
public final class Residual {
    public let width: Int
    public let activation: Activation
    public let weight: Parameter
    public let bias: Parameter

    public init(name: String, width: Int, activation: Activation, rng: inout SeededGenerator) {
        precondition(width > 0, "Residual: width must be positive")
        self.width = width
        self.activation = activation
        weight = Parameter(name: name + ".weight", value: activation.initialWeight(out: width, in: width, rng: &rng))
        bias = Parameter(name: name + ".bias", value: .zeros([width]))
    }

    public var summary: String { "Residual(\(width), \(activation))" }

    // x, y are (rows, w); a (rows, w) receives act(x·Wᵀ + b) for the backward
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, a: UnsafeMutablePointer<Float>, rows: Int) {
        Kernels.gemm(transB: true, m: rows, n: width, k: width, a: x, lda: width,
                     b: weight.value.unsafePointer, ldb: width, c: a, ldc: width, threads: 1)
        hk_bias_act_forward(Kernels.variant.rawValue, activation.code, rows, width, a, bias.value.unsafePointer)
        for i in 0..<(rows * width) { y[i] = x[i] + a[i] }
    }

    /// `dx` (rows, w) is overwritten; `dz` (rows, w) is scratch; `dweight`, `dbias` are added into.
    public func backward(x: UnsafePointer<Float>, a: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>, dz: UnsafeMutablePointer<Float>, rows: Int,
                         dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>) {
        hk_act_backward(Kernels.variant.rawValue, activation.code, rows, width, a, dy, dz, dbias)
        Kernels.gemm(transA: true, m: width, n: width, k: rows, a: dz, lda: width,
                     b: x, ldb: width, beta: 1, c: dweight, ldc: width, threads: 1)
        dx.update(from: dy, count: rows * width)  // the identity path
        Kernels.gemm(m: rows, n: width, k: width, a: dz, lda: width,
                     b: weight.value.unsafePointer, ldb: width, beta: 1, c: dx, ldc: width, threads: 1)
    }

    /// Records the layer as one op on `x`'s tape; `x` is (rows, width).
    public func callAsFunction(_ x: Variable) throws -> Variable {
        let rows = try x.rows(features: width, layer: summary)
        let tape = x.tape
        let xv = x.value
        var y = Tensor.zeros([rows, width])
        let a = FloatBuffer(count: rows * width)
        forward(xv.unsafePointer, y.unsafeMutablePointer(), a: a.base, rows: rows)
        return tape.record(inputs: [x, tape.parameter(weight), tape.parameter(bias)], output: y) { [self] ctx in
            let dx = FloatBuffer(count: rows * width), dz = FloatBuffer(count: rows * width)
            backward(x: ctx.inputPointer(0), a: a.base, dy: ctx.outputGradientPointer, dx: dx.base, dz: dz.base,
                     rows: rows, dweight: ctx.gradientBuffer(ofInput: 1)!, dbias: ctx.gradientBuffer(ofInput: 2)!)
            if let gx = ctx.gradientBuffer(ofInput: 0) {
                for i in 0..<(rows * width) { gx[i] += dx.base[i] }
            }
        }
    }
}
