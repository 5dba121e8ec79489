import HighwayKernels
import HighwayTensor

/// The activation of a layer's fused pass.
public enum Activation: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    case identity, relu, tanh, sigmoid

    /// The kernels' code for this activation (`hk_act`).
    var code: Int32 {
        switch self {
        case .identity: Int32(HK_ACT_IDENTITY.rawValue)
        case .relu: Int32(HK_ACT_RELU.rawValue)
        case .tanh: Int32(HK_ACT_TANH.rawValue)
        case .sigmoid: Int32(HK_ACT_SIGMOID.rawValue)
        }
    }

    public var description: String { rawValue }

    /// A weight matrix `[out, in]` initialised for this activation: He-normal for ReLU (keeps the
    /// variance of a half-rectified signal), Glorot-uniform otherwise.
    func initialWeight(out: Int, in inputs: Int, rng: inout SeededGenerator) -> Tensor {
        self == .relu
            ? Tensor.heNormal(shape: [out, inputs], fanIn: inputs, rng: &rng)
            : Tensor.glorotUniform(shape: [out, inputs], fanIn: inputs, fanOut: out, rng: &rng)
    }
}
