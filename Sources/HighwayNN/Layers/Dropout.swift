import HighwayTensor

/// Inverted dropout, as `torch.nn.Dropout(p)`: in training each element is zeroed with
/// probability `p` and the survivors are scaled by 1/(1 − p), so evaluation (no dropout) needs no
/// rescaling. The mask comes from the generator the caller passes (DESIGN.md decision 7), one
/// uniform draw per element in row-major order, so the same seed gives the same masks.
///
/// ```
/// y = x · mask,   mask[i] = [u_i ≥ p] / (1 − p)     dx += dy · mask
/// ```
public struct Dropout: Sendable {
    public let probability: Float

    public init(probability: Float) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability \(probability) outside [0, 1)")
        self.probability = probability
    }

    /// `x` unchanged when not `training` or p = 0 (nothing recorded); otherwise one op on the tape.
    public func callAsFunction(_ x: Variable, training: Bool, rng: inout SeededGenerator) -> Variable {
        guard training, probability > 0 else { return x }
        let p = probability, keep = 1 / (1 - p)
        var mask = Tensor.zeros(x.shape)
        var y = x.value
        mask.withUnsafeMutableBufferPointer { m in
            for i in m.indices { m[i] = rng.nextUnitFloat() >= p ? keep : 0 }
        }
        y.withUnsafeMutableBufferPointer { yp in
            mask.withUnsafeBufferPointer { m in for i in yp.indices { yp[i] *= m[i] } }
        }
        return x.tape.record(inputs: [x], output: y) { ctx in
            guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
            let dy = ctx.outputGradientPointer
            mask.withUnsafeBufferPointer { m in for i in m.indices { dx[i] += dy[i] * m[i] } }
        }
    }
}
