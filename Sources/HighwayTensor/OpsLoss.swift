// Tape op: fused, numerically stable softmax cross-entropy with integer labels, mean over the batch.
//
// Fused because the separate pieces are both slower and less stable: the forward is one
// max-shifted log-sum-exp pass (hk_softmax_xent, vectorised exp), it keeps the probabilities, and
// the backward is then a single pass with no exp or log at all:
//   loss = (1/B) Σ_r −log softmax(x_r)[y_r]        dx[r, j] += dloss · (p[r, j] − [j == y_r]) / B
// Rows labelled `ignoreIndex` are left out of both (B counts the others).

import HighwayKernels

extension Tape {
    /// The mean over rows of `−log softmax(logits[r])[labels[r]]`, as a scalar.
    ///
    /// `logits` is `[B, C]` (B ≥ 1 rows, C ≥ 1 classes); `labels` holds one class index in `0..<C`
    /// per row, or `ignoreIndex` for a row without a target: such a row adds nothing to the loss or
    /// the gradients, and the mean is over the other rows (0 when there are none), as PyTorch's
    /// `cross_entropy(ignore_index:)`.
    /// - Throws: ``TensorError/labelOutOfRange(op:row:label:classes:)`` for a label outside `0..<C`,
    ///   ``TensorError/shapeMismatch(op:lhs:rhs:expected:)`` when there is not one label per row.
    public func softmaxCrossEntropy(logits: Variable, labels: [Int], ignoreIndex: Int? = nil) throws -> Variable {
        let x = logits.value   // x is (B, C)
        let op = "softmaxCrossEntropy"
        guard x.rank == 2, x.shape[0] >= 1, x.shape[1] >= 1 else {
            throw TensorError.invalidShape(op: op, shape: x.shape, expected: "logits [B, C] with B ≥ 1 and C ≥ 1")
        }
        let rows = x.shape[0], classes = x.shape[1]
        guard labels.count == rows else {
            throw TensorError.shapeMismatch(op: op, lhs: x.shape, rhs: [labels.count],
                                            expected: "one label per row of the logits (\(rows))")
        }
        var y = [Int32](repeating: -1, count: rows)   // -1: a row without a target
        var n = 0   // rows with a target
        for (r, label) in labels.enumerated() where label != ignoreIndex {
            guard label >= 0 && label < classes else {
                throw TensorError.labelOutOfRange(op: op, row: r, label: label, classes: classes)
            }
            y[r] = Int32(label)
            n += 1
        }
        // the kernel over each run of rows with a target, in place (the usual case: one run, all
        // rows); the probabilities of rows without one are never read
        let probs = Tensor(uninitializedShape: [rows, classes])   // saved for the backward
        var total = 0.0, start = 0
        y.withUnsafeBufferPointer { yp in
            while start < rows {
                var end = start
                while end < rows && yp[end] >= 0 { end += 1 }
                if end > start {
                    total += hk_softmax_xent(Kernels.variant.rawValue, end - start, classes, x.storage.base + start * classes,
                                             yp.baseAddress! + start, probs.storage.base + start * classes)
                }
                start = end + 1
            }
        }
        let loss = Tensor(Float(total / Double(max(n, 1))))
        return record(inputs: [logits], output: loss) { ctx in
            guard n > 0, let dx = ctx.gradientBuffer(ofInput: 0) else { return }
            let p = probs.storage.base, scale = ctx.outputGradientPointer[0] / Float(n)
            for r in 0..<rows where y[r] >= 0 {
                let o = r * classes
                for j in 0..<classes { dx[o + j] += scale * p[o + j] }
                dx[o + Int(y[r])] -= scale
            }
        }
    }
}

// Tape ops: L1 and squared-error regression losses against a constant target, with an optional
// per-column scale (the LSTNet reference computes its loss on predictions and targets scaled back
// to the data's units: `criterion(output · scale, Y · scale)`), summed or averaged:
//   d = s·(p − y)                        s broadcast over the trailing axes (shape a suffix of p's)
//   L1:  L = R Σ |d|       dp += dL · R · s · sign(d)          (sign(0) = 0, as torch.sign)
//   MSE: L = R Σ d²        dp += dL · R · 2 · s · d
// with R = 1 (sum, PyTorch's size_average=False) or 1/N (mean over all N elements).

/// How a loss reduces its elements to one number.
public enum LossReduction: String, Sendable, Codable {
    /// Σ over all elements (PyTorch `reduction='sum'`, the LSTNet reference's criterion).
    case sum
    /// Σ / N.
    case mean
}

extension Tape {
    /// `Σ |scale·(prediction − target)|` (or its mean), a scalar.
    /// - Throws: ``TensorError/shapeMismatch(op:lhs:rhs:expected:)`` when `target` differs in shape
    ///   from `prediction` or `scale`'s shape is not a suffix of it.
    public func l1Loss(_ prediction: Variable, _ target: Tensor, scale: Tensor? = nil,
                       reduction: LossReduction = .mean) throws -> Variable {
        try regressionLoss(prediction, target, scale: scale, reduction: reduction, squared: false)
    }

    /// `Σ (scale·(prediction − target))²` (or its mean), a scalar.
    /// - Throws: as ``l1Loss(_:_:scale:reduction:)``.
    public func mseLoss(_ prediction: Variable, _ target: Tensor, scale: Tensor? = nil,
                        reduction: LossReduction = .mean) throws -> Variable {
        try regressionLoss(prediction, target, scale: scale, reduction: reduction, squared: true)
    }

    private func regressionLoss(_ prediction: Variable, _ target: Tensor, scale: Tensor?, reduction: LossReduction,
                                squared: Bool) throws -> Variable {
        let p = prediction.value, op = squared ? "mseLoss" : "l1Loss"
        guard p.shape == target.shape else {
            throw TensorError.shapeMismatch(op: op, lhs: p.shape, rhs: target.shape, expected: "a target of the prediction's shape")
        }
        let s = scale ?? Tensor(shape: [], repeating: 1)
        guard s.rank <= p.rank, Array(p.shape.suffix(s.rank)) == s.shape else {
            throw TensorError.shapeMismatch(op: op, lhs: p.shape, rhs: s.shape,
                                            expected: "a scale whose shape is a suffix of the prediction's")
        }
        let n = p.count, ns = s.count
        let r = reduction == .sum ? 1.0 : 1.0 / Double(Swift.max(n, 1))
        var total = 0.0
        let pp = p.storage.base, yp = target.storage.base, sp = s.storage.base
        for i in 0..<n {
            let d = Double(sp[i % ns]) * (Double(pp[i]) - Double(yp[i]))
            total += squared ? d * d : abs(d)
        }
        let loss = Tensor(Float(total * r))
        let factor = Float(r)
        return record(inputs: [prediction], output: loss) { ctx in
            guard let dp = ctx.gradientBuffer(ofInput: 0) else { return }
            // the tensors themselves are captured (keeping their storage alive), not raw pointers
            let pp = p.storage.base, yp = target.storage.base, sp = s.storage.base
            let g = ctx.outputGradientPointer[0] * factor
            for i in 0..<n {
                let si = sp[i % ns], d = si * (pp[i] - yp[i])
                if squared {
                    dp[i] += g * 2 * si * d
                } else if d != 0 {
                    dp[i] += d > 0 ? g * si : -g * si
                }
            }
        }
    }
}
