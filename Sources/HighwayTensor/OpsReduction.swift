// Tape ops: sum and mean of all elements, each giving a scalar (shape []).
//   s = Σ x       dx += ds
//   m = Σ x / N   dx += dm / N

extension Tape {
    /// The sum of all elements of `x`, as a scalar (accumulated in Double).
    public func sum(_ x: Variable) -> Variable {
        record(inputs: [x], output: Tensor(x.value.sum()), tag: 0, backward: Tape.reductionBackward)
    }

    /// The mean of all elements of `x`, as a scalar.
    public func mean(_ x: Variable) -> Variable {
        record(inputs: [x], output: Tensor(x.value.mean()), tag: 1, backward: Tape.reductionBackward)
    }

    static func reductionBackward(_ ctx: BackwardContext) {
        guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
        let n = ctx.input(0).count
        let d = ctx.outputGradientPointer[0] / (ctx.tag == 1 ? Float(n) : 1)
        for i in 0..<n { dx[i] += d }
    }
}
