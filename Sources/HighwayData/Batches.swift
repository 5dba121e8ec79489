// Batches: the seeded order in which one epoch visits a data set, and copying a batch into a Tensor.
//
// An epoch's order is a pure function of (seed, epoch): the permutation is drawn from
// `SeededGenerator(seed: seed).fork(stream: epoch)`, never from a generator that earlier epochs
// advanced. So a run resumed from a checkpoint at epoch e, batch b sees exactly the examples the
// uninterrupted run would have (DESIGN.md decision 7), with nothing but (seed, e, b) saved.
//
// `fill` copies rows into a Tensor the caller keeps from step to step: it reallocates only when
// the batch size changes (the last, partial batch of an epoch), so the steady-state training step
// allocates nothing here (DESIGN.md decision 3).
import HighwayTensor

/// The batches of one epoch over `count` examples: an order (a seeded permutation, or `0..<count`)
/// cut into consecutive ranges of `batchSize`.
///
/// ```swift
/// var x = Tensor.zeros([128, train.features])    // reused every step
/// var y: [Int] = []
/// for epoch in start..<epochs {
///     let order = try BatchOrder(count: train.count, batchSize: 128, seed: seed, epoch: epoch)
///     for b in 0..<order.batchCount {
///         order.fill(batch: b, from: train, into: &x, labels: &y)   // x is (B, features)
///         // forward, backward, step ...
///     }
/// }
/// ```
public struct BatchOrder: Sendable {
    /// The number of examples in the data set.
    public let count: Int
    /// The size of every batch except perhaps the last.
    public let batchSize: Int
    /// The example indices in visiting order: a permutation of `0..<count`.
    public let order: [Int]
    /// Each batch as a range of positions in ``order``; consecutive, covering `order` (less the
    /// last partial batch when `dropLast`).
    public let batches: [Range<Int>]

    /// An order drawn from `rng` (advancing it), or `0..<count` when `shuffle` is false.
    ///
    /// - Parameter dropLast: leave out a last batch smaller than `batchSize`.
    /// - Throws: ``DataError/invalidArgument(name:value:expected:)`` for `count` < 0 or `batchSize` < 1.
    public init(count: Int, batchSize: Int, shuffle: Bool = true, rng: inout SeededGenerator,
                dropLast: Bool = false) throws {
        guard count >= 0 else {
            throw DataError.invalidArgument(name: "example count", value: "\(count)", expected: "≥ 0")
        }
        guard batchSize >= 1 else {
            throw DataError.invalidArgument(name: "batch size", value: "\(batchSize)", expected: "≥ 1")
        }
        self.count = count
        self.batchSize = batchSize
        order = shuffle ? rng.permutation(count) : Array(0..<count)
        let end = dropLast ? count - count % batchSize : count
        batches = stride(from: 0, to: end, by: batchSize).map { $0 ..< Swift.min($0 + batchSize, end) }
    }

    /// Epoch `epoch`'s order for a run seeded with `seed`: the same for the same (seed, epoch),
    /// whatever happened before, so a resumed run continues exactly.
    public init(count: Int, batchSize: Int, shuffle: Bool = true, seed: UInt64, epoch: Int,
                dropLast: Bool = false) throws {
        guard epoch >= 0 else {
            throw DataError.invalidArgument(name: "epoch", value: "\(epoch)", expected: "≥ 0")
        }
        var rng = SeededGenerator(seed: seed).fork(stream: UInt64(epoch))
        try self.init(count: count, batchSize: batchSize, shuffle: shuffle, rng: &rng, dropLast: dropLast)
    }

    /// The number of batches in the epoch.
    public var batchCount: Int { batches.count }

    /// The example indices of batch `b`.
    public func indices(ofBatch b: Int) -> ArraySlice<Int> {
        precondition(b >= 0 && b < batches.count, "BatchOrder: batch \(b) is outside 0..<\(batches.count)")
        return order[batches[b]]
    }

    /// Copies batch `b` of `dataset` into `x` `(B, features)` and its labels into `labels` `(B)`.
    ///
    /// `x` is reallocated only when its shape is not `[B, features]`, and `labels` keeps its
    /// capacity, so a caller that keeps both from step to step allocates nothing in steady state.
    /// (`x` is copied first if its storage is shared, e.g. still held by last step's tape.)
    public func fill(batch b: Int, from dataset: ImageDataset, into x: inout Tensor, labels: inout [Int32]) {
        let idx = copyRows(batch: b, from: dataset, into: &x)
        labels.removeAll(keepingCapacity: true)
        for i in idx { labels.append(dataset.labels[i]) }
    }

    /// The same as the `[Int32]` version, with `Int` labels as the losses take them.
    public func fill(batch b: Int, from dataset: ImageDataset, into x: inout Tensor, labels: inout [Int]) {
        let idx = copyRows(batch: b, from: dataset, into: &x)
        labels.removeAll(keepingCapacity: true)
        for i in idx { labels.append(Int(dataset.labels[i])) }
    }

    private func copyRows(batch b: Int, from dataset: ImageDataset, into x: inout Tensor) -> ArraySlice<Int> {
        precondition(dataset.count == count,
                     "BatchOrder: made for \(count) examples, given a data set of \(dataset.count)")
        let idx = indices(ofBatch: b)
        let f = dataset.features
        // compared field by field: an array literal here would allocate every step
        let shape = x.shape
        if shape.count != 2 || shape[0] != idx.count || shape[1] != f { x = Tensor.zeros([idx.count, f]) }
        dataset.pixels.withUnsafeBufferPointer { src in
            x.withUnsafeMutableBufferPointer { dst in
                // x is (B, features): row r ← dataset row idx[r]
                var r = 0
                for i in idx {
                    (dst.baseAddress! + r * f).update(from: src.baseAddress! + i * f, count: f)
                    r += 1
                }
            }
        }
        return idx
    }
}
