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
