// ImageDataset: a labelled classification set held in memory as one Float matrix plus labels.
//
// Every classification loader (MNIST family, CIFAR, the synthetic demo task) returns this one
// shape, so batching and training never care where the data came from:
//   pixels is (count, features), row-major, already scaled (images: byte / 255, in [0, 1])
//   labels is (count), each in 0..<classes
//
// What it deliberately does not do: augmentation, normalisation by data-set statistics, lazy
// loading. A full MNIST is 188 MB of Float, which every machine we target holds.

/// A classification data set in memory: `count` rows of `features` Floats and one label per row.
///
/// ```swift
/// let (train, test) = try MNISTFamily.load(.mnist, directory: URL(fileURLWithPath: "data/mnist"))
/// let quick = train.prefix(1000)         // the first 1000 examples, for a fast run
/// print(train.features, train.classes)   // 784 10
/// ```
public struct ImageDataset: Sendable {
    /// A short human name for reports, e.g. `"mnist-train"`.
    public let name: String
    /// The number of examples (rows).
    public let count: Int
    /// The number of Floats per example, the product of ``imageShape`` (784 for MNIST).
    public let features: Int
    /// The shape of one example, e.g. `[28, 28]`, or `[features]` for data that are not images.
    public let imageShape: [Int]
    /// The number of classes; every label is in `0..<classes`.
    public let classes: Int
    /// The examples, `(count, features)` row-major.
    public let pixels: [Float]
    /// The class of each example, `(count)`.
    public let labels: [Int32]

    /// A data set from already-scaled `pixels` and `labels`; `name` names it in errors.
    /// - Throws: ``DataError`` when the sizes disagree or a label is outside `0..<classes`.
    public init(name: String, imageShape: [Int], classes: Int, pixels: [Float], labels: [Int32]) throws {
        guard !imageShape.isEmpty, imageShape.allSatisfy({ $0 > 0 }) else {
            throw DataError.invalidArgument(name: "\(name): image shape", value: "\(imageShape)", expected: "sizes > 0")
        }
        guard classes > 0 else {
            throw DataError.invalidArgument(name: "\(name): classes", value: "\(classes)", expected: "> 0")
        }
        let features = imageShape.reduce(1, *)
        guard pixels.count == labels.count * features else {
            throw DataError.invalidArgument(name: "\(name): pixels", value: "\(pixels.count) values",
                                            expected: "\(labels.count) labels × \(features) features = \(labels.count * features)")
        }
        if let i = labels.firstIndex(where: { $0 < 0 || Int($0) >= classes }) {
            throw DataError.labelOutOfRange(path: name, index: i, label: Int(labels[i]), classes: classes)
        }
        self.init(unchecked: name, imageShape: imageShape, classes: classes, pixels: pixels, labels: labels)
    }

    /// For loaders that have validated everything already.
    init(unchecked name: String, imageShape: [Int], classes: Int, pixels: [Float], labels: [Int32]) {
        self.name = name
        self.imageShape = imageShape
        self.features = imageShape.reduce(1, *)
        self.classes = classes
        self.count = labels.count
        self.pixels = pixels
        self.labels = labels
    }

    /// The Floats of example `i`, `(features)`.
    public func row(_ i: Int) -> ArraySlice<Float> {
        precondition(i >= 0 && i < count, "ImageDataset.row: \(i) is outside 0..<\(count)")
        return pixels[i * features ..< (i + 1) * features]
    }

    /// How many examples each class has, `(classes)`.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for l in labels { counts[Int(l)] += 1 }
        return counts
    }

    /// The examples in `range` (a copy), keeping name, shape and classes. Traps when `range` is
    /// outside `0..<count`, like an Array subscript.
    public func subset(_ range: Range<Int>) -> ImageDataset {
        precondition(range.lowerBound >= 0 && range.upperBound <= count,
                     "ImageDataset.subset: \(range) is outside 0..<\(count)")
        return ImageDataset(unchecked: name, imageShape: imageShape, classes: classes,
                            pixels: Array(pixels[range.lowerBound * features ..< range.upperBound * features]),
                            labels: Array(labels[range]))
    }

    /// The first `n` examples, or all of them when there are fewer (like `Array.prefix`).
    public func prefix(_ n: Int) -> ImageDataset {
        subset(0 ..< Swift.max(0, Swift.min(n, count)))
    }
}
