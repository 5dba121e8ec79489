// Parameter: a trainable tensor with a name and a gradient that accumulates across uses.

/// A trainable tensor: its value, the gradient accumulated into it, and a stable name.
///
/// The name becomes the checkpoint key (PyTorch `state_dict` style, e.g. `layers.3.transform.weight`).
/// Every use on a ``Tape`` (``Tape/parameter(_:)``) adds its share into ``grad`` during
/// ``Tape/backward(_:)``, so a parameter used twice gets the sum of both gradients. Gradients keep
/// accumulating across backward passes until ``zeroGrad()``, as in PyTorch.
public final class Parameter {
    /// The checkpoint key.
    public let name: String
    /// The current value; an optimiser updates it in place.
    public var value: Tensor
    /// d(loss)/d(value), summed over every use since the last ``zeroGrad()``; shape of ``value``.
    public var grad: Tensor

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        grad = .zeros(value.shape)
    }

    /// The shape of ``value``.
    public var shape: [Int] { value.shape }

    /// Sets the gradient to zero (reusing its buffer unless ``value`` changed shape).
    public func zeroGrad() {
        if grad.shape == value.shape { grad.fill(with: 0) } else { grad = .zeros(value.shape) }
    }
}

extension Parameter: CustomStringConvertible {
    public var description: String { "Parameter(\(name), \(shape))" }
}
