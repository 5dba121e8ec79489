// What every layer file shares: workspace buffers and the input-shape check of the tape wrappers.
import HighwayTensor

/// Raw float buffers for a layer's workspace: 64-byte aligned, zeroed, freed with the owner.
public final class FloatBuffer {
    public let count: Int
    public let base: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { base.deallocate() }

    public func zero() { base.update(repeating: 0, count: count) }
}

extension Variable {
    /// The rows of a layer input that must be (rows, `features`); a shape error naming `layer` otherwise.
    func rows(features: Int, layer: String) throws -> Int {
        let shape = self.shape
        guard shape.count == 2, shape[1] == features else {
            throw TensorError.invalidShape(op: layer, shape: shape, expected: "[rows, \(features)]")
        }
        return shape[0]
    }
}

/// How the recurrent layers split a batch over threads: one block of rows per thread, at most one
/// per 8 rows, the first rows first; each block runs the whole layer and sums its own weight
/// gradients, added into the parameters' in block order, so results depend on the thread count only.
enum BatchBlocks {
    /// The blocks a pass over `batch` rows splits into at `threads` (nil: the pool's).
    static func count(threads: Int?, batch: Int) -> Int { max(1, min(threads ?? ThreadPool.threads, batch / 8)) }

    /// Each of the `count` blocks' first row and rows (⌊batch/count⌋, the first batch % count one more).
    static func layout(batch: Int, count: Int) -> [(start: Int, rows: Int)] {
        let base = batch / count, extra = batch % count
        return (0..<count).map { ($0 * base + min($0, extra), base + ($0 < extra ? 1 : 0)) }
    }

    /// Adds every later block's gradient sums (aligned with `parameters`) into `gradient(p)`, in block order.
    static func addSums<Blocks: Sequence>(_ sums: Blocks, of parameters: [Parameter],
                                          into gradient: (Parameter) -> UnsafeMutablePointer<Float>) where Blocks.Element == [FloatBuffer] {
        for block in sums {
            for (p, sum) in zip(parameters, block) {
                let g = gradient(p)
                for i in 0..<sum.count { g[i] += sum.base[i] }
            }
        }
    }
}
