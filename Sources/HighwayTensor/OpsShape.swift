// Tape ops that move elements without arithmetic: reshape, and concat / split along the last axis.
//
// Concat and split are each other's backward: the gradient of a concatenation is split back into
// the parts' column ranges, the gradient of a split part lands in its column range of the input.
// Column offsets are recomputed from the recorded shapes, so the closures capture nothing.

extension Tape {
    /// The same elements under `shape` (one size may be `-1`); no copy.
    /// - Throws: ``TensorError`` when the element counts differ.
    public func reshape(_ x: Variable, to shape: [Int]) throws -> Variable {
        let y = try x.value.reshaped(shape)
        return record(inputs: [x], output: y) { ctx in
            // y is x with another shape  ⇒  dx += dy, element for element
            guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
            Tape.accumulate(ctx.outputGradientPointer, ctx.output.count, into: dx, ctx.output.count)
        }
    }

    /// Joins `parts` along their last axis: `[..., a]`, `[..., b]` → `[..., a + b]`.
    /// - Throws: ``TensorError/shapeMismatch(op:lhs:rhs:expected:)`` when the leading shapes differ.
    public func concat(_ parts: [Variable]) throws -> Variable {
        let y = try Tensor.concatenated(alongLastAxis: parts.map(\.value))
        return record(inputs: parts, output: y) { ctx in
            // y is (rows, total); part p is (rows, w_p) at column offset c_p:  dx_p[r, j] += dy[r, c_p + j]
            let total = ctx.output.shape.last!, rows = total == 0 ? 0 : ctx.output.count / total
            let dy = ctx.outputGradientPointer
            var col = 0
            for p in 0..<ctx.inputCount {
                let w = ctx.input(p).shape.last!
                if let dx = ctx.gradientBuffer(ofInput: p) {
                    for r in 0..<rows { for j in 0..<w { dx[r * w + j] += dy[r * total + col + j] } }
                }
                col += w
            }
        }
    }

    /// Splits the last axis of `x` into consecutive parts of `sizes` (the inverse of ``concat(_:)``).
    /// - Throws: ``TensorError`` when the sizes do not add up to the last axis.
    public func split(_ x: Variable, lastAxisSizes sizes: [Int]) throws -> [Variable] {
        let parts = try x.value.split(lastAxisSizes: sizes)
        var start = 0
        return zip(parts, sizes).map { part, w in
            defer { start += w }
            return record(inputs: [x], output: part, tag: start, backward: Tape.splitPartBackward)
        }
    }

    static func splitPartBackward(_ ctx: BackwardContext) {
        // x is (rows, width); this part is (rows, w) taken from column `tag`:  dx[r, tag + j] += dy[r, j]
        guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
        let width = ctx.input(0).shape.last!, w = ctx.output.shape.last!, start = ctx.tag
        let rows = width == 0 ? 0 : ctx.input(0).count / width
        let dy = ctx.outputGradientPointer
        for r in 0..<rows { for j in 0..<w { dx[r * width + start + j] += dy[r * w + j] } }
    }
}
