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
        if depth > Self.maxDepth { return "depth \(depth) is more than \(Self.maxDepth) layers; use a smaller --depth" }
        guard let n = parameterCount, n <= Self.maxParameters else {
            return "a \(kind) network of depth \(depth) and width \(width) would have "
                + (parameterCount.map { "\($0) parameters" } ?? "more parameters than an Int holds")
                + ", more than the \(Self.maxParameters) this CPU library trains; use a smaller --width or --depth"
        }
        return nil
    }

    /// The most hidden layers accepted (the papers go to 1,000).
    public static let maxDepth = 10_000
    /// The most parameters accepted: 2²⁸ (1 GiB of Float32 for the weights, as much again for the
    /// gradients and for each optimiser slot). A size beyond it is a typo, not a run.
    public static let maxParameters = 1 << 28

    /// The number of trainable scalars the network will have, or nil if it overflows `Int`.
    public var parameterCount: Int? {
        func dense(_ inputs: Int, _ outputs: Int) -> Int? {
            let (wc, o1) = inputs.multipliedReportingOverflow(by: outputs)
            let (total, o2) = wc.addingReportingOverflow(outputs)
            return o1 || o2 ? nil : total
        }
        let (doubleWidth, overflow) = width.multipliedReportingOverflow(by: 2)
        guard depth >= 1, width >= 1, inputSize >= 1, classes >= 1, !overflow,
              let first = dense(inputSize, width), let last = dense(width, classes),
              let layer = dense(width, kind == .highway ? doubleWidth : width) else { return nil }
        let layers = kind == .highway && tied ? min(depth - 1, 1) : depth - 1
        let (hidden, o1) = layer.multipliedReportingOverflow(by: layers)
        let (sum, o2) = first.addingReportingOverflow(last)
        let (total, o3) = sum.addingReportingOverflow(hidden)
        return o1 || o2 || o3 ? nil : total
    }
}
