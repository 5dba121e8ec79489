// SeededGenerator and the initialisers: known values, determinism, distributions.
import Testing
import HighwayTensor

@Suite struct RandomTests {
    /// Expected values computed independently with this Python 3 transcription of the reference C
    /// code (prng.di.unimi.it/xoshiro256starstar.c and splitmix64.c). SplitMix64's first output for
    /// seed 0, 0xE220A8397B1DCDAF, also matches the value published for splitmix64.
    ///
    /// ```python
    /// M = (1 << 64) - 1
    /// def splitmix(st):
    ///     st = (st + 0x9E3779B97F4A7C15) & M; z = st
    ///     z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    ///     z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    ///     return st, z ^ (z >> 31)
    /// rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M
    /// class X:
    ///     def __init__(self, seed):
    ///         self.s, st = [], seed
    ///         for _ in range(4): st, z = splitmix(st); self.s.append(z)
    ///     def next(self):
    ///         s = self.s; r = (rotl((s[1] * 5) & M, 7) * 9) & M; t = (s[1] << 17) & M
    ///         s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
    ///         return r
    ///     def below(self, b):                      # Lemire: high word of b·x, rejecting low < 2^64 mod b
    ///         m = b * self.next()
    ///         if m & M < b:
    ///             while m & M < ((1 << 64) - b) % b: m = b * self.next()
    ///         return m >> 64
    /// g = X(0); [hex(g.next()) for _ in range(4)]  # likewise X(42)
    /// g = X(0); [(g.next() >> 40) / 2**24 for _ in range(3)]
    /// g = X(7); p = list(range(10))
    /// for i in range(9, 0, -1): j = g.below(i + 1); p[i], p[j] = p[j], p[i]
    /// ```
    @Test func knownOutputs() {
        var sm: UInt64 = 0
        #expect(SeededGenerator.splitMix64(&sm) == 0xE220_A839_7B1D_CDAF)

        var g0 = SeededGenerator(seed: 0)
        #expect((0..<4).map { _ in g0.next() } == [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0, 0x6AA5_94F1_262D_2D2C])
        var g42 = SeededGenerator(seed: 42)
        #expect((0..<4).map { _ in g42.next() } == [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1, 0xECB8_AD47_03B3_60A1])

        var u = SeededGenerator(seed: 0)
        #expect((0..<3).map { _ in u.nextUnitFloat() } == [0.6012629866600037, 0.747774064540863, 0.10301995277404785])

        // Fisher–Yates with Lemire's bounded draw, from the same Python reference.
        var p = SeededGenerator(seed: 7)
        #expect(p.permutation(10) == [1, 8, 3, 0, 4, 5, 9, 6, 2, 7])
    }

    @Test func sameSeedGivesBitIdenticalTensors() {
        func draw(_ seed: UInt64) -> [UInt32] {
            var rng = SeededGenerator(seed: seed)
            let a = Tensor.normal(shape: [7, 13], rng: &rng)
            let b = Tensor.glorotUniform(shape: [5, 3], fanIn: 3, fanOut: 5, rng: &rng)
            let c = Tensor.heNormal(shape: [9], fanIn: 9, rng: &rng)
            return (a.scalars + b.scalars + c.scalars).map(\.bitPattern)
        }
        #expect(draw(123) == draw(123))
        #expect(draw(123) != draw(124))
        #expect(Set(draw(0)).count > 100)   // not a constant
    }

    @Test func permutationIsSeededPermutation() {
        for n in [0, 1, 2, 17, 1000] {
            var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5)
            let p = a.permutation(n)
            #expect(p.sorted() == Array(0..<n))
            #expect(p == b.permutation(n))
        }
        var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 6)
        #expect(a.permutation(50) != b.permutation(50))
    }

    @Test func boundedDrawsAreInRangeAndCoverIt() {
        var rng = SeededGenerator(seed: 9)
        var seen = [Int](repeating: 0, count: 7)
        for _ in 0..<7000 { seen[Int(rng.next(below: 7))] += 1 }
        #expect(seen.allSatisfy { $0 > 850 && $0 < 1150 })
    }

    @Test func normalMomentsOver100k() {
        var rng = SeededGenerator(seed: 2024)
        let n = 100_000
        var sum = 0.0, sumSq = 0.0
        for _ in 0..<n { let z = Double(rng.normal()); sum += z; sumSq += z * z }
        let mean = sum / Double(n), std = (sumSq / Double(n) - mean * mean).squareRoot()
        // Standard errors: 0.0032 for the mean, 0.0022 for the std; allow ~5 of them.
        #expect(abs(mean) < 0.016)
        #expect(abs(std - 1) < 0.012)
        let shifted = Tensor.normal(shape: [n], mean: 3, std: 0.5, rng: &rng)
        #expect(abs(shifted.mean() - 3) < 0.01)
    }

    @Test func uniformStaysInRange() {
        var rng = SeededGenerator(seed: 3)
        let t = Tensor.uniform(shape: [10_000], in: -2..<0.5, rng: &rng)
        #expect(t.scalars.allSatisfy { $0 >= -2 && $0 < 0.5 })
        #expect(abs(t.mean() - (-0.75)) < 0.03)
    }

    @Test func initialiserScales() {
        var rng = SeededGenerator(seed: 1)
        let fanIn = 200, fanOut = 100
        let gu = Tensor.glorotUniform(shape: [fanOut, fanIn], fanIn: fanIn, fanOut: fanOut, rng: &rng)
        let limit = (6 / Float(fanIn + fanOut)).squareRoot()
        #expect(gu.scalars.allSatisfy { abs($0) < limit })
        #expect(gu.scalars.map(abs).max()! > 0.95 * limit)
        func std(_ t: Tensor) -> Float { (t.scalars.map { $0 * $0 }.reduce(0, +) / Float(t.count)).squareRoot() }
        let gn = Tensor.glorotNormal(shape: [fanOut, fanIn], fanIn: fanIn, fanOut: fanOut, rng: &rng)
        #expect(abs(std(gn) / (2 / Float(fanIn + fanOut)).squareRoot() - 1) < 0.03)
        let hu = Tensor.heUniform(shape: [fanOut, fanIn], fanIn: fanIn, rng: &rng)
        #expect(hu.scalars.allSatisfy { abs($0) < (6 / Float(fanIn)).squareRoot() })
        let hn = Tensor.heNormal(shape: [fanOut, fanIn], fanIn: fanIn, rng: &rng)
        #expect(abs(std(hn) / (2 / Float(fanIn)).squareRoot() - 1) < 0.03)
    }

    @Test func splitAndForkAreDeterministicAndIndependent() {
        var a = SeededGenerator(seed: 11), b = SeededGenerator(seed: 11)
        var ca = a.split(), cb = b.split()
        #expect(ca.next() == cb.next())
        #expect(a.next() == b.next())         // the parents advanced alike
        // The child's stream is not the parent's stream.
        var parent = SeededGenerator(seed: 11)
        var child = parent.split()
        #expect((0..<4).map { _ in child.next() } != (0..<4).map { _ in parent.next() })

        let base = SeededGenerator(seed: 99)
        var f1 = base.fork(stream: 1), f1b = base.fork(stream: 1), f2 = base.fork(stream: 2)
        let s1 = (0..<4).map { _ in f1.next() }
        #expect(s1 == (0..<4).map { _ in f1b.next() })
        #expect(s1 != (0..<4).map { _ in f2.next() })
        var plain = base
        #expect(s1 != (0..<4).map { _ in plain.next() })
    }
}
