import HighwayTensor

/// LSTNet's highway / autoregressive component (Lai et al. 2018, §3.5): a linear model over the
/// last `window` values of each series, with the **same** weights for every series, so the
/// network's nonlinear part need not learn the scale of each series. With `steps` > 1 (direct
/// multi-step forecasting) each step has its own row of weights:
///
/// ```
/// y[b, j, s] = bias[j] + Σ_{k < window} W[j, k] · x[b, T − window + k, s]     j < steps
///     x is (B, T, series) with T ≥ window, y is (B, steps, series)
/// weight: [steps, window]   checkpoint "<name>.weight"  (PyTorch: nn.Linear(window, steps),
/// bias:   [steps]           checkpoint "<name>.bias"     applied to x[:, -window:, :].permute(0, 2, 1))
/// ```
/// With `steps` = 1 this is the reference's `highway = nn.Linear(hw, 1)`. Initialisation:
/// PyTorch's `Linear` default, U(−1/√window, 1/√window). On its own it is the `ar` baseline.
///
/// The work is B·steps·window·series multiply-adds (24 K for the reference's sizes), so the pair
/// is plain loops; backward:
/// `dW[j, k] += Σ_{b,s} dy[b, j, s]·x[b, T − window + k, s]`, `dbias[j] += Σ_{b,s} dy[b, j, s]`,
/// `dx[b, T − window + k, s] += Σ_j W[j, k]·dy[b, j, s]`.
public final class Autoregressive {
    public let window: Int
    public let steps: Int
    public let weight: Parameter
    public let bias: Parameter

    public init(name: String, window: Int, steps: Int = 1, rng: inout SeededGenerator) {
        precondition(window > 0 && steps > 0, "Autoregressive: sizes must be positive")
        self.window = window
        self.steps = steps
        let bound = 1 / Float(window).squareRoot()
        weight = Parameter(name: name + ".weight", value: .uniform(shape: [steps, window], in: -bound..<bound, rng: &rng))
        bias = Parameter(name: name + ".bias", value: .uniform(shape: [steps], in: -bound..<bound, rng: &rng))
    }

    /// "Autoregressive(24 steps → 1)"
    public var summary: String { "Autoregressive(\(window) steps → \(steps))" }

    // x is (B, T, m), y is (B, steps, m)
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, inputSteps t: Int, series m: Int) {
        let w = weight.value.unsafePointer, bias = bias.value.unsafePointer, hw = window
        for b in 0..<batch {
            let xb = x + (b * t + t - hw) * m
            for j in 0..<steps {
                let yj = y + (b * steps + j) * m
                for s in 0..<m { yj[s] = bias[j] }
                for k in 0..<hw {
                    let wk = w[j * hw + k], xk = xb + k * m
                    for s in 0..<m { yj[s] += wk * xk[s] }
                }
            }
        }
    }

    /// Backward of ``forward(_:_:batch:inputSteps:series:)``; `dx` (when given), `dweight` and
    /// `dbias` are added into.
    public func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                         batch: Int, inputSteps t: Int, series m: Int,
                         dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>) {
        let w = weight.value.unsafePointer, hw = window
        for b in 0..<batch {
            let off = (b * t + t - hw) * m
            for j in 0..<steps {
                let dyj = dy + (b * steps + j) * m
                var sb: Float = 0
                for s in 0..<m { sb += dyj[s] }
                dbias[j] += sb
                for k in 0..<hw {
                    let xk = x + off + k * m
                    var sw: Float = 0
                    for s in 0..<m { sw += dyj[s] * xk[s] }
                    dweight[j * hw + k] += sw
                    if let dx {
                        let wk = w[j * hw + k], dxk = dx + off + k * m
                        for s in 0..<m { dxk[s] += wk * dyj[s] }
                    }
                }
            }
        }
    }

    /// Records the layer as one op on `x`'s tape; `x` is (B, T, series) with T ≥ window.
    public func callAsFunction(_ x: Variable) throws -> Variable {
        let shape = x.shape
        guard shape.count == 3, shape[1] >= window, shape[0] >= 1, shape[2] >= 1 else {
            throw TensorError.invalidShape(op: summary, shape: shape, expected: "[B, T ≥ \(window), series]")
        }
        let b = shape[0], t = shape[1], m = shape[2]
        var y = Tensor.zeros([b, steps, m])
        forward(x.value.unsafePointer, y.unsafeMutablePointer(), batch: b, inputSteps: t, series: m)
        let tape = x.tape
        return tape.record(inputs: [x, tape.parameter(weight), tape.parameter(bias)], output: y) { [self] ctx in
            backward(x: ctx.inputPointer(0), dy: ctx.outputGradientPointer, dx: ctx.gradientBuffer(ofInput: 0),
                     batch: b, inputSteps: t, series: m,
                     dweight: ctx.gradientBuffer(ofInput: 1)!, dbias: ctx.gradientBuffer(ofInput: 2)!)
        }
    }
}
