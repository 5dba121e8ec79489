// SyntheticTask: a classification task generated from a seed, for `highway demo` (no data on disk).
//
// The generator, in full:
//   teacher   W1 (H, D) ~ N(0, gain²/D),  b1 (H) ~ N(0, 0.5²),  W2 (C, H) ~ N(0, 1/H)
//   input     x (D) ~ N(0, I)                       -- the features, mean 0, std 1
//   logits    z = W2 · tanh(W1 · x + b1) + b2
//   label     y = argmax z
// b2 is calibrated on 2048 draws (20 rounds of b2 -= ½·log(C · frequency)·std) so that each class
// wins about 1/C of the time; then examples are drawn until each class has exactly its share
// (draws of a full class are skipped), and draws whose top two logits are closer than
// margin × std(z) are skipped too, so the boundaries are clean.
//
// Why this task: the labels are a smooth nonlinear function of the input, which a one-hidden-layer
// net learns to ~97% test accuracy (D = 64, H = 16, C = 10, 10k train, margin 0.5; measured with a
// numpy MLP of 128 tanh units, 15 epochs of Adam). The function is easy; what is hard is the depth:
// a 50-layer plain net barely moves from chance on it, while a 50-layer highway net learns it. That
// contrast is the point of the demo (Srivastava et al. 2015, Fig. 1).
//
// Train and test are drawn from separate streams, so the test set does not depend on the train count.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HighwayTensor

/// A seeded classification task: Gaussian inputs labelled by a random two-layer tanh teacher.
///
/// ```swift
/// let (train, test) = try SyntheticTask(seed: 7).generate()   // 10k / 2k examples, 64 features
/// ```
public struct SyntheticTask: Sendable, Equatable {
    /// The number of input features D.
    public var inputs: Int
    /// The number of classes C.
    public var classes: Int
    /// The teacher's hidden width H: how many directions of the input the labels depend on.
    public var teacherWidth: Int
    /// The scale of the teacher's first layer: larger is more nonlinear (tanh saturates more).
    public var gain: Float
    /// Draws whose two largest logits differ by less than `margin` × std(logits) are skipped.
    public var margin: Float
    /// The number of training examples.
    public var trainCount: Int
    /// The number of test examples.
    public var testCount: Int
    /// The seed of the teacher and of every example.
    public var seed: UInt64

    public init(inputs: Int = 64, classes: Int = 10, teacherWidth: Int = 16, gain: Float = 1,
                margin: Float = 0.5, trainCount: Int = 10_000, testCount: Int = 2_000, seed: UInt64 = 0) {
        self.inputs = inputs
        self.classes = classes
        self.teacherWidth = teacherWidth
        self.gain = gain
        self.margin = margin
        self.trainCount = trainCount
        self.testCount = testCount
        self.seed = seed
    }

    /// The train and test sets; the same settings give the same sets, bit for bit.
    /// - Throws: ``DataError/invalidArgument(name:value:expected:)`` for impossible settings, or
    ///   when the margin is so large that too few draws qualify.
    public func generate() throws -> (train: ImageDataset, test: ImageDataset) {
        func check(_ ok: Bool, _ name: String, _ value: Any, _ expected: String) throws {
            if !ok { throw DataError.invalidArgument(name: "synthetic task: \(name)", value: "\(value)", expected: expected) }
        }
        try check(inputs >= 1, "inputs", inputs, "≥ 1")
        try check(classes >= 2, "classes", classes, "≥ 2")
        try check(teacherWidth >= 1, "teacher width", teacherWidth, "≥ 1")
        try check(gain.isFinite && gain > 0, "gain", gain, "a finite number > 0")
        try check(margin.isFinite && margin >= 0, "margin", margin, "a finite number ≥ 0")
        try check(trainCount >= 0, "train count", trainCount, "≥ 0")
        try check(testCount >= 0, "test count", testCount, "≥ 0")

        let root = SeededGenerator(seed: seed)
        var teacherRNG = root.fork(stream: 0)
        var teacher = Teacher(inputs: inputs, hidden: teacherWidth, classes: classes, gain: gain, rng: &teacherRNG)
        var calibrationRNG = root.fork(stream: 1)
        let logitStd = teacher.calibrate(rng: &calibrationRNG)
        var trainRNG = root.fork(stream: 2), testRNG = root.fork(stream: 3)
        let train = try draw(trainCount, teacher: teacher, minGap: margin * logitStd, rng: &trainRNG, name: "synthetic-train")
        let test = try draw(testCount, teacher: teacher, minGap: margin * logitStd, rng: &testRNG, name: "synthetic-test")
        return (train, test)
    }

    /// `n` examples, exactly ⌊n/C⌋ or ⌈n/C⌉ per class (the first n mod C classes get one more).
    private func draw(_ n: Int, teacher: Teacher, minGap: Float, rng: inout SeededGenerator,
                      name: String) throws -> ImageDataset {
        var quota = (0..<classes).map { n / classes + ($0 < n % classes ? 1 : 0) }
        var pixels = [Float](); pixels.reserveCapacity(n * inputs)
        var labels = [Int32](); labels.reserveCapacity(n)
        var x = [Float](repeating: 0, count: inputs)
        var z = [Float](repeating: 0, count: classes)
        var h = [Float](repeating: 0, count: teacherWidth)
        // ~5 draws per example at the defaults; this many means the margin leaves too little.
        let maxDraws = 1000 * n + 10_000
        var draws = 0
        while labels.count < n {
            draws += 1
            if draws > maxDraws {
                throw DataError.invalidArgument(name: "synthetic task: margin", value: "\(margin)",
                    expected: "a smaller margin: only \(labels.count) of \(n) examples qualified in \(maxDraws) draws")
            }
            for i in 0..<inputs { x[i] = rng.normal() }
            teacher.logits(x, hidden: &h, into: &z)
            let (best, gap) = Teacher.argmaxAndGap(z)
            if gap < minGap || quota[best] == 0 { continue }
            quota[best] -= 1
            pixels.append(contentsOf: x)
            labels.append(Int32(best))
        }
        return ImageDataset(unchecked: name, imageShape: [inputs], classes: classes, pixels: pixels, labels: labels)
    }
}

/// The random two-layer tanh network whose argmax defines the labels.
private struct Teacher {
    let inputs, hidden, classes: Int
    var w1: [Float]   // (H, D)
    var b1: [Float]   // (H)
    var w2: [Float]   // (C, H)
    var b2: [Float]   // (C), set by calibrate

    init(inputs: Int, hidden: Int, classes: Int, gain: Float, rng: inout SeededGenerator) {
        self.inputs = inputs; self.hidden = hidden; self.classes = classes
        let s1 = gain / Float(inputs).squareRoot(), s2 = 1 / Float(hidden).squareRoot()
        w1 = (0..<hidden * inputs).map { _ in rng.normal(std: s1) }
        b1 = (0..<hidden).map { _ in rng.normal(std: 0.5) }
        w2 = (0..<classes * hidden).map { _ in rng.normal(std: s2) }
        b2 = [Float](repeating: 0, count: classes)
    }

    /// z = W2 · tanh(W1 · x + b1) + b2; `hidden` is scratch of H floats.
    func logits(_ x: [Float], hidden h: inout [Float], into z: inout [Float]) {
        for j in 0..<hidden {
            var s = b1[j]
            for i in 0..<inputs { s += w1[j * inputs + i] * x[i] }
            h[j] = tanhf(s)
        }
        for c in 0..<classes {
            var s = b2[c]
            for j in 0..<hidden { s += w2[c * hidden + j] * h[j] }
            z[c] = s
        }
    }

    /// The index of the largest logit (the first on ties) and its lead over the runner-up.
    static func argmaxAndGap(_ z: [Float]) -> (Int, Float) {
        var best = 0, top = z[0], second = -Float.infinity
        for c in 1..<z.count {
            if z[c] > top { second = top; top = z[c]; best = c } else if z[c] > second { second = z[c] }
        }
        return (best, top - second)
    }

    /// Sets b2 so each class wins about 1/C of 2048 draws; returns the std of the logits z then.
    mutating func calibrate(rng: inout SeededGenerator) -> Float {
        let n = 2048
        var zs = [Float](repeating: 0, count: n * classes)   // (n, C), without b2
        var x = [Float](repeating: 0, count: inputs), h = [Float](repeating: 0, count: hidden)
        var z = [Float](repeating: 0, count: classes)
        for r in 0..<n {
            for i in 0..<inputs { x[i] = rng.normal() }
            logits(x, hidden: &h, into: &z)
            for c in 0..<classes { zs[r * classes + c] = z[c] }
        }
        var mean: Float = 0, sq: Float = 0
        for v in zs { mean += v }
        mean /= Float(zs.count)
        for v in zs { sq += (v - mean) * (v - mean) }
        let std = Swift.max((sq / Float(zs.count)).squareRoot(), 1e-6)
        // start from centred columns, then push down the classes that win too often
        for c in 0..<classes {
            var s: Float = 0
            for r in 0..<n { s += zs[r * classes + c] }
            b2[c] = -s / Float(n)
        }
        var row = [Float](repeating: 0, count: classes)
        for _ in 0..<20 {
            var wins = [Int](repeating: 0, count: classes)
            for r in 0..<n {
                for c in 0..<classes { row[c] = zs[r * classes + c] + b2[c] }
                wins[Teacher.argmaxAndGap(row).0] += 1
            }
            for c in 0..<classes {
                let freq = (Float(wins[c]) + 1) / Float(n + classes)   // +1: log never sees 0
                b2[c] -= 0.5 * logf(freq * Float(classes)) * std
            }
        }
        // the margin's unit: the spread of the calibrated logits
        mean = 0; sq = 0
        for r in 0..<n { for c in 0..<classes { mean += zs[r * classes + c] + b2[c] } }
        mean /= Float(zs.count)
        for r in 0..<n { for c in 0..<classes { let d = zs[r * classes + c] + b2[c] - mean; sq += d * d } }
        return Swift.max((sq / Float(zs.count)).squareRoot(), 1e-6)
    }
}

