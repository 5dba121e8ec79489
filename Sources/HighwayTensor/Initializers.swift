// Random tensors and the standard weight initialisers, all drawn from an explicit SeededGenerator.
//
// fanIn / fanOut are explicit arguments rather than guessed from the shape: a weight stored
// PyTorch-style as [out, in] and one stored [in, out] have the same fans but opposite axes, and a
// fused highway weight [2·H, in] has fanOut H per gate, not 2·H.
//
// Elements are drawn in row-major order, one draw (uniform) or half a Box–Muller pair (normal)
// each, so a tensor's values depend only on the seed, the position in the stream and its count.

extension Tensor {
    /// A tensor of independent uniform draws from `range`.
    public static func uniform(shape: [Int], in range: Range<Float> = 0..<1, rng: inout SeededGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = rng.uniform(range) } }
        return t
    }

    /// A tensor of independent normal draws N(mean, std²) (not truncated).
    public static func normal(shape: [Int], mean: Float = 0, std: Float = 1, rng: inout SeededGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = rng.normal(mean: mean, std: std) } }
        return t
    }

    /// Glorot / Xavier uniform (Glorot & Bengio 2010): U(−a, a) with a = √(6 / (fanIn + fanOut)),
    /// which keeps the activation and gradient variances equal across a tanh/sigmoid layer.
    public static func glorotUniform(shape: [Int], fanIn: Int, fanOut: Int, rng: inout SeededGenerator) -> Tensor {
        let a = (6 / Float(fanIn + fanOut)).squareRoot()
        return uniform(shape: shape, in: -a..<a, rng: &rng)
    }

    /// Glorot / Xavier normal: N(0, σ²) with σ = √(2 / (fanIn + fanOut)).
    public static func glorotNormal(shape: [Int], fanIn: Int, fanOut: Int, rng: inout SeededGenerator) -> Tensor {
        normal(shape: shape, std: (2 / Float(fanIn + fanOut)).squareRoot(), rng: &rng)
    }

    /// He / Kaiming uniform (He et al. 2015, for ReLU): U(−a, a) with a = √(6 / fanIn).
    public static func heUniform(shape: [Int], fanIn: Int, rng: inout SeededGenerator) -> Tensor {
        let a = (6 / Float(fanIn)).squareRoot()
        return uniform(shape: shape, in: -a..<a, rng: &rng)
    }

    /// He / Kaiming normal: N(0, σ²) with σ = √(2 / fanIn).
    public static func heNormal(shape: [Int], fanIn: Int, rng: inout SeededGenerator) -> Tensor {
        normal(shape: shape, std: (2 / Float(fanIn)).squareRoot(), rng: &rng)
    }
}
