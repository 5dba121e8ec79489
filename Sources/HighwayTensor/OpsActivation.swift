// Tape ops: the pointwise activations relu, tanh, sigmoid.
//
// Forward uses the vectorised kernels (DESIGN.md decision 5). Each backward needs only the
// saved OUTPUT y, which the tape already holds, so nothing extra is kept:
//   relu:    y = max(x, 0)       dx += dy · [y > 0]
//   tanh:    y = tanh(x)         dx += dy · (1 − y²)
//   sigmoid: y = 1/(1 + e^−x)    dx += dy · y · (1 − y)

extension Tape {
    /// `max(x, 0)` elementwise.
    public func relu(_ x: Variable) -> Variable {
        var y = x.value   // x, y have any shape, N elements
        y.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = max(p[i], 0) } }
        return record(inputs: [x], output: y, tag: 0, backward: Tape.activationBackward)
    }

    /// `tanh(x)` elementwise.
    public func tanh(_ x: Variable) -> Variable {
        var y = x.value
        y.withUnsafeMutableBufferPointer { p in Kernels.tanh(p.baseAddress!, p.baseAddress!, count: p.count) }
        return record(inputs: [x], output: y, tag: 1, backward: Tape.activationBackward)
    }

    /// `1 / (1 + exp(−x))` elementwise.
    public func sigmoid(_ x: Variable) -> Variable {
        var y = x.value
        y.withUnsafeMutableBufferPointer { p in Kernels.sigmoid(p.baseAddress!, p.baseAddress!, count: p.count) }
        return record(inputs: [x], output: y, tag: 2, backward: Tape.activationBackward)
    }

    static func activationBackward(_ ctx: BackwardContext) {
        guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
        let y = ctx.outputPointer, dy = ctx.outputGradientPointer, n = ctx.output.count
        switch ctx.tag {
        case 0: for i in 0..<n where y[i] > 0 { dx[i] += dy[i] }
        case 1: for i in 0..<n { dx[i] += dy[i] * (1 - y[i] * y[i]) }
        default: for i in 0..<n { dx[i] += dy[i] * y[i] * (1 - y[i]) }
        }
    }
}
