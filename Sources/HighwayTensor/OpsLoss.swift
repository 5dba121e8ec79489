// Tape op: fused, numerically stable softmax cross-entropy with integer labels, mean over the batch.
//
// Fused because the separate pieces are both slower and less stable: the forward is one
// max-shifted log-sum-exp pass (hk_softmax_xent, vectorised exp), it keeps the probabilities, and
// the backward is then a single pass with no exp or log at all:
//   loss = (1/B) Σ_r −log softmax(x_r)[y_r]        dx[r, j] += dloss · (p[r, j] − [j == y_r]) / B

import HighwayKernels

extension Tape {
    /// The mean over rows of `−log softmax(logits[r])[labels[r]]`, as a scalar.
    ///
    /// `logits` is `[B, C]` (B ≥ 1 rows, C ≥ 1 classes); `labels` holds one class index in `0..<C`
    /// per row.
    /// - Throws: ``TensorError/labelOutOfRange(op:row:label:classes:)`` for a label outside `0..<C`,
    ///   ``TensorError/shapeMismatch(op:lhs:rhs:expected:)`` when there is not one label per row.
    public func softmaxCrossEntropy(logits: Variable, labels: [Int]) throws -> Variable {
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
        var y = [Int32](repeating: 0, count: rows)   // y is (B,)
        for (r, label) in labels.enumerated() {
            guard label >= 0 && label < classes else {
                throw TensorError.labelOutOfRange(op: op, row: r, label: label, classes: classes)
            }
            y[r] = Int32(label)
        }
        let probs = Tensor(uninitializedShape: x.shape)   // probs is (B, C), saved for the backward
        let total = hk_softmax_xent(Kernels.variant.rawValue, rows, classes, x.storage.base, y, probs.storage.base)
        let loss = Tensor(Float(total / Double(rows)))
        return record(inputs: [logits], output: loss) { ctx in
            guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
            let p = probs.storage.base, scale = ctx.outputGradientPointer[0] / Float(rows)
            for r in 0..<rows {
                let o = r * classes
                for j in 0..<classes { dx[o + j] += scale * p[o + j] }
                dx[o + Int(y[r])] -= scale
            }
        }
    }
}
