// Tape ops: elementwise add / sub / mul with bias broadcasting, and scaling by a constant.
//
// Broadcasting (see TensorArithmetic.swift): the smaller operand's shape is a suffix of the
// larger's and repeats once per leading index. Its gradient is therefore the SUM over those
// leading indices:  y[o, j] = a[o, j] + b[j]   ⇒   db[j] += Σ_o dy[o, j].

extension Tape {
    /// `a + b`, either operand broadcast when its shape is a suffix of the other's (`[B, N] + [N]`).
    /// - Throws: ``TensorError/shapeMismatch(op:lhs:rhs:expected:)`` naming both shapes.
    public func add(_ a: Variable, _ b: Variable) throws -> Variable { try binary(.add, a, b) }
    /// `a - b`, broadcasting as in ``add(_:_:)``.
    public func sub(_ a: Variable, _ b: Variable) throws -> Variable { try binary(.sub, a, b) }
    /// `a * b` elementwise, broadcasting as in ``add(_:_:)``.
    public func mul(_ a: Variable, _ b: Variable) throws -> Variable { try binary(.mul, a, b) }

    private func binary(_ kind: BinaryKind, _ a: Variable, _ b: Variable) throws -> Variable {
        let y = try Tensor.binary(kind, a.value, b.value)
        let tag = kind == .add ? 0 : kind == .sub ? 1 : 2
        return record(inputs: [a, b], output: y, tag: tag, backward: Tape.binaryBackward)
    }

    static func binaryBackward(_ ctx: BackwardContext) {
        let n = ctx.output.count, na = ctx.input(0).count, nb = ctx.input(1).count
        let dy = ctx.outputGradientPointer
        switch ctx.tag {
        case 0, 1:   // y = a ± b:  da += dy,  db += ±dy
            if let da = ctx.gradientBuffer(ofInput: 0) { accumulate(dy, n, into: da, na) }
            if let db = ctx.gradientBuffer(ofInput: 1) { accumulate(dy, n, sign: ctx.tag == 0 ? 1 : -1, into: db, nb) }
        default:     // y = a * b:  da += dy * b,  db += dy * a
            let a = ctx.inputPointer(0), b = ctx.inputPointer(1)
            if let da = ctx.gradientBuffer(ofInput: 0) { accumulate(dy, n, times: b, nb, into: da, na) }
            if let db = ctx.gradientBuffer(ofInput: 1) { accumulate(dy, n, times: a, na, into: db, nb) }
        }
    }

    /// g[i mod ng] += sign · dy[i] for i < n: the gradient of an operand of `ng` elements that was
    /// broadcast (repeated) up to `n` elements.
    static func accumulate(_ dy: UnsafePointer<Float>, _ n: Int, sign: Float = 1,
                           into g: UnsafeMutablePointer<Float>, _ ng: Int) {
        if n == 0 { return }
        for o in stride(from: 0, to: n, by: ng) {
            let d = dy + o
            for j in 0..<ng { g[j] += sign * d[j] }
        }
    }

    /// g[i mod ng] += dy[i] · x[i mod nx] for i < n (the product rule through a broadcast).
    static func accumulate(_ dy: UnsafePointer<Float>, _ n: Int, times x: UnsafePointer<Float>, _ nx: Int,
                           into g: UnsafeMutablePointer<Float>, _ ng: Int) {
        if n == 0 { return }
        let block = min(ng, nx)
        for o in stride(from: 0, to: n, by: block) {
            let d = dy + o, px = nx == n ? x + o : x, pg = ng == n ? g + o : g
            for j in 0..<block { pg[j] += d[j] * px[j] }
        }
    }

    /// `x · s` for a constant `s`.
    public func scale(_ x: Variable, by s: Float) -> Variable {
        record(inputs: [x], output: x.value * s) { ctx in
            // y = s·x  ⇒  dx += s·dy
            guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
            let dy = ctx.outputGradientPointer
            for i in 0..<ctx.output.count { dx[i] += s * dy[i] }
        }
    }
}
