// Tape ops that rearrange batch-first sequences (B, T, C) without arithmetic.
//
// `skipSequences` is LSTNet's skip-RNN input (Lai et al. 2018, §3.3): the last `steps·period`
// time steps of each sequence are cut into `period` interleaved sub-sequences, each taking every
// `period`-th step, so a recurrent layer run over them connects h_t with h_{t−period} (yesterday's
// same hour). The reference does this with a view/permute chain; as one op:
//   out[b·period + j, i, :] = x[b, T − steps·period + i·period + j, :]   i < steps, j < period
// (the reference's `s.view(batch, hidC, pt, skip).permute(2, 0, 3, 1)`, made batch-first). Its
// backward scatters the same elements back:  dx[b, T − steps·period + i·period + j, :] += dout[...].
// The recurrent layer's final states (B·period, H) then reshape, with no copy, to
// (B, period·H) in the reference's order (`s.view(batch_size, skip·hidS)`).

extension Tape {
    /// The `period` interleaved sub-sequences of the last `steps·period` steps of `x` (B, T, C):
    /// shape (B·period, steps, C), see the file comment.
    /// - Throws: ``TensorError/invalidShape(op:shape:expected:)`` unless x is rank 3 with
    ///   `1 ≤ steps·period ≤ T`.
    public func skipSequences(_ x: Variable, period: Int, steps: Int) throws -> Variable {
        let v = x.value
        guard v.rank == 3, period >= 1, steps >= 1, steps * period <= v.shape[1] else {
            throw TensorError.invalidShape(op: "skipSequences(period: \(period), steps: \(steps))", shape: v.shape,
                                           expected: "(B, T, C) with 1 ≤ steps·period ≤ T")
        }
        let b = v.shape[0], t = v.shape[1], c = v.shape[2]
        let out = Tensor(uninitializedShape: [b * period, steps, c])
        Tape.skipGather(v.storage.base, out.storage.base, b: b, t: t, c: c, period: period, steps: steps, scatter: false)
        return record(inputs: [x], output: out, tag: period) { ctx in
            guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
            Tape.skipGather(dx, UnsafeMutablePointer(mutating: ctx.outputGradientPointer), b: b, t: t, c: c,
                            period: ctx.tag, steps: steps, scatter: true)
        }
    }

    /// Gathers x → out, or (scatter) adds out into x.
    static func skipGather(_ x: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, b: Int, t: Int, c: Int,
                           period: Int, steps: Int, scatter: Bool) {
        let start = t - steps * period
        for bi in 0..<b {
            for j in 0..<period {
                for i in 0..<steps {
                    let src = x + (bi * t + start + i * period + j) * c
                    let dst = out + ((bi * period + j) * steps + i) * c
                    if scatter {
                        for k in 0..<c { src[k] += dst[k] }
                    } else {
                        dst.update(from: src, count: c)
                    }
                }
            }
        }
    }
}

extension Tape {
    /// Time step `index` of `x` (B, T, C) as (B, C) — e.g. a recurrent layer's last hidden state
    /// from its output sequence. Backward: `dx[b, index, :] += dy[b, :]`.
    /// - Throws: ``TensorError`` unless x is rank 3 and `index` in `0..<T` (negative counts from the end).
    public func timeStep(_ x: Variable, _ index: Int) throws -> Variable {
        let v = x.value
        guard v.rank == 3 else {
            throw TensorError.invalidShape(op: "timeStep", shape: v.shape, expected: "(B, T, C)")
        }
        let b = v.shape[0], t = v.shape[1], c = v.shape[2], i = index < 0 ? t + index : index
        guard i >= 0, i < t else { throw TensorError.outOfRange(op: "timeStep", range: index..<(index + 1), bound: t) }
        let out = Tensor(uninitializedShape: [b, c])
        for r in 0..<b { (out.storage.base + r * c).initialize(from: v.storage.base + (r * t + i) * c, count: c) }
        return record(inputs: [x], output: out, tag: i) { ctx in
            guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
            let dy = ctx.outputGradientPointer, i = ctx.tag
            for r in 0..<b { for k in 0..<c { dx[(r * t + i) * c + k] += dy[r * c + k] } }
        }
    }
}
