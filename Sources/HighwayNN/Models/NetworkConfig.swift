import HighwayTensor

/// Which hidden layers a ``FeedForwardNetwork`` stacks.
public enum ModelKind: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// Gated highway layers (the paper's model).
    case highway
    /// Plain fully connected layers.
    case plain
    /// Ungated residual layers, `y = x + act(Wx + b)`.
    case residual

    public var description: String { rawValue }
}

/// Everything that defines a network's shape and initialisation; saved in `config.json`.
public struct NetworkConfig: Codable, Equatable, Sendable {
    public var kind: ModelKind
    /// Input features (784 for MNIST).
    public var inputSize: Int
    /// Output classes.
    public var classes: Int
    /// Hidden layers in all: one plain input projection plus `depth − 1` layers of `kind`.
    public var depth: Int
    public var width: Int
    public var activation: Activation
    /// Initial transform-gate bias of highway layers.
    public var gateBias: Float
    /// Highway only: one set of weights applied `depth − 1` times.
    public var tied: Bool

    public init(kind: ModelKind, inputSize: Int, classes: Int, depth: Int, width: Int,
                activation: Activation = .tanh, gateBias: Float = -2, tied: Bool = false) {
        self.kind = kind
        self.inputSize = inputSize
        self.classes = classes
        self.depth = depth
        self.width = width
        self.activation = activation
        self.gateBias = gateBias
        self.tied = tied
    }

    /// A one-line error for a configuration that cannot be built, or nil.
    public func validationError() -> String? {
        if depth < 1 { return "depth must be at least 1 (the input projection), got \(depth)" }
        if width < 1 { return "width must be at least 1, got \(width)" }
        if inputSize < 1 { return "the input must have at least 1 feature, got \(inputSize)" }
        if classes < 2 { return "a classifier needs at least 2 classes, got \(classes)" }
        if tied && kind != .highway { return "--tied applies to highway layers only (model is \(kind))" }
        return nil
    }
}
