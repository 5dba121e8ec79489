// Gradient-norm clipping, as the LSTNet reference's Optim.step (and torch.nn.utils.clip_grad_norm_
// up to its 1e-6): the L2 norm of all gradients together; when it exceeds `maxNorm`, every
// gradient is multiplied by maxNorm / norm.
import HighwayTensor

/// Scales the parameters' gradients down so that their joint L2 norm is at most `maxNorm`; returns
/// the norm before clipping (accumulated in Double). `maxNorm` ≤ 0 or infinite only measures.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Double {
    var sum = 0.0
    for p in parameters {
        p.grad.withUnsafeBufferPointer { g in for v in g { sum += Double(v) * Double(v) } }
    }
    let norm = sum.squareRoot()
    guard maxNorm > 0, maxNorm.isFinite, norm > Double(maxNorm) else { return norm }
    let shrink = Float(Double(maxNorm) / norm)
    for p in parameters {
        p.grad.withUnsafeMutableBufferPointer { g in for i in g.indices { g[i] *= shrink } }
    }
    return norm
}
