// SeededGenerator: the one source of randomness in HighwayKit (DESIGN.md decision 7).
//
// Every draw is defined here, bit for bit, rather than borrowed from the standard library:
// Swift's `shuffle`, `Int.random(in:)` and `Float.random(in:)` do not promise their algorithm, so a
// new Swift release (or another platform) could change every initial weight and every batch order.
// Ours are: xoshiro256** for the raw bits, Lemire's multiply-and-reject for bounded integers,
// Fisher–Yates for permutations, 24 random bits for a Float in [0, 1), Box–Muller for normals.
// The only platform dependence left is libm's log/cos/sin in Double inside Box–Muller, whose
// results are rounded to Float afterwards.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded, reproducible random number generator: **xoshiro256\*\*** (Blackman & Vigna, 2018,
/// <https://prng.di.unimi.it/xoshiro256starstar.c>), its 256-bit state filled from the 64-bit seed
/// by **SplitMix64** as the authors recommend.
///
/// The same seed gives the same sequence on every platform and Swift version.
///
/// ```swift
/// var rng = SeededGenerator(seed: 42)
/// let w = Tensor.glorotUniform(shape: [50, 784], fanIn: 784, fanOut: 50, rng: &rng)
/// let order = rng.permutation(60_000)            // a seeded shuffle of the training set
/// var dropoutRNG = rng.fork(stream: 1)           // an independent stream, same every run
/// ```
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64
    /// The second normal of the last Box–Muller pair, handed out by the next ``normal(mean:std:)``.
    private var spareNormal: Double?

    /// A generator whose state is four successive SplitMix64 outputs from `seed`.
    public init(seed: UInt64) {
        var sm = seed
        s0 = Self.splitMix64(&sm); s1 = Self.splitMix64(&sm)
        s2 = Self.splitMix64(&sm); s3 = Self.splitMix64(&sm)
        spareNormal = nil
    }

    /// SplitMix64 (Steele, Lea & Flood 2014): advances `state` by the golden gamma and mixes it.
    @inlinable
    public static func splitMix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits (xoshiro256\*\*).
    public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (`bound` > 0), by Lemire's multiply-and-reject: unbiased,
    /// and the same draws on every platform (unlike `Int.random(in:)`, whose method may change).
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "SeededGenerator.next(below:): bound must be positive")
        var m = bound.multipliedFullWidth(by: next())
        if m.low < bound {
            let threshold = (0 &- bound) % bound   // 2^64 mod bound
            while m.low < threshold { m = bound.multipliedFullWidth(by: next()) }
        }
        return m.high
    }

    /// A uniform Float in [0, 1): the top 24 bits of one draw, times 2⁻²⁴ (every value exact).
    @inlinable
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A uniform Float in `range` (lower + width · u, kept below the upper bound despite rounding).
    public mutating func uniform(_ range: Range<Float>) -> Float {
        let x = range.lowerBound + (range.upperBound - range.lowerBound) * nextUnitFloat()
        return Swift.min(x, range.upperBound.nextDown)
    }

    /// A normal draw by the Box–Muller transform. Draws come in pairs from two uniforms
    /// (u₁ ∈ (0, 1], u₂ ∈ [0, 1), 53 bits each): the first call returns r·cos(2πu₂), the next
    /// r·sin(2πu₂), with r = √(−2 ln u₁); computed in Double and rounded to Float at the end.
    public mutating func normal(mean: Float = 0, std: Float = 1) -> Float {
        let z: Double
        if let spare = spareNormal {
            z = spare
            spareNormal = nil
        } else {
            let u1 = Double((next() >> 11) + 1) * 0x1p-53   // (0, 1]: log never sees 0
            let u2 = Double(next() >> 11) * 0x1p-53         // [0, 1)
            let r = (-2 * log(u1)).squareRoot(), theta = 2 * Double.pi * u2
            z = r * cos(theta)
            spareNormal = r * sin(theta)
        }
        return Float(Double(mean) + Double(std) * z)
    }

    /// A seeded permutation of `0..<n` by Fisher–Yates (Durstenfeld), drawing each swap partner
    /// with ``next(below:)``: from the last position down, swap with a uniform earlier-or-same one.
    public mutating func permutation(_ n: Int) -> [Int] {
        precondition(n >= 0, "permutation: n must be ≥ 0, got \(n)")
        var p = Array(0..<n)
        var i = n - 1
        while i > 0 {
            let j = Int(next(below: UInt64(i + 1)))
            p.swapAt(i, j)
            i -= 1
        }
        return p
    }

    /// The whole state, for a checkpoint: the four xoshiro256\*\* words, then, while a Box–Muller
    /// pair is half used, the spare normal's bit pattern. ``init(state:)`` restores it exactly, so a
    /// resumed run draws what the uninterrupted one would have.
    public var state: [UInt64] { [s0, s1, s2, s3] + (spareNormal.map { [$0.bitPattern] } ?? []) }

    /// The generator whose ``state`` is `state`; nil unless it has 4 or 5 words and the first four
    /// are not all zero (xoshiro's one invalid state).
    public init?(state: [UInt64]) {
        guard state.count == 4 || state.count == 5, state[0..<4].contains(where: { $0 != 0 }) else { return nil }
        s0 = state[0]; s1 = state[1]; s2 = state[2]; s3 = state[3]
        spareNormal = state.count == 5 ? Double(bitPattern: state[4]) : nil
    }

    /// A new generator seeded from this one's next output (advances this one by one draw).
    /// Use it to hand a sub-task its own generator in a fixed order.
    public mutating func split() -> SeededGenerator { SeededGenerator(seed: next()) }

    /// An independent generator for stream number `stream`, derived from the current state without
    /// advancing it: the same state and stream always give the same generator, different streams
    /// give unrelated ones (the state and stream are mixed through SplitMix64 into a fresh seed).
    public func fork(stream: UInt64) -> SeededGenerator {
        var h = stream
        var seed = Self.splitMix64(&h)
        for word in [s0, s1, s2, s3] {
            var x = seed ^ word
            seed = Self.splitMix64(&x)
        }
        return SeededGenerator(seed: seed)
    }
}
