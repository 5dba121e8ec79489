// MNISTFamily.load on directories the tests write: both file name styles, and every way the four
// files can disagree with each other or be missing.
import Foundation
import Testing
@testable import HighwayData

@Suite struct LoaderTests {
    /// Writes a tiny MNIST-like data set (`trainN` / `testN` examples) into `dir`.
    func writeSet(in dir: URL, trainN: Int = 30, testN: Int = 12, gzipped: Bool = true,
                  trainLabels: [UInt8]? = nil) throws {
        let ext = gzipped ? ".gz" : ""
        func put(_ name: String, _ bytes: [UInt8]) throws {
            try write(gzipped ? gzipStored(bytes) : bytes, to: dir.appendingPathComponent(name + ext))
        }
        try put(MNISTFamily.trainImagesFile, tinyImages(trainN))
        try put(MNISTFamily.trainLabelsFile, trainLabels.map { idxFile(dims: [UInt32($0.count)], data: $0) } ?? tinyLabels(trainN))
        try put(MNISTFamily.testImagesFile, tinyImages(testN))
        try put(MNISTFamily.testLabelsFile, tinyLabels(testN))
    }

    @Test(arguments: [true, false])
    func loadsGzipOrRaw(gzipped: Bool) throws {
        try withTempDirectory { dir in
            try writeSet(in: dir, gzipped: gzipped)
            let (train, test) = try MNISTFamily.load(.fashionMNIST, directory: dir)
            #expect(train.count == 30 && test.count == 12 && train.features == 784)
            #expect(train.name == "fashion-mnist-train")
            #expect(train.labels == (0..<30).map { Int32($0 % 10) })
            // pixel (image 2, position 5) was 2·7 + 5 = 19
            #expect(train.pixels[2 * 784 + 5] == Float(19) / 255)
            #expect(train.classCounts == [Int](repeating: 3, count: 10))
        }
    }

    @Test func subsetAndPrefix() throws {
        try withTempDirectory { dir in
            try writeSet(in: dir)
            let train = try MNISTFamily.load(.mnist, directory: dir).train
            let s = train.subset(10..<14)
            #expect(s.count == 4 && s.labels == [0, 1, 2, 3] && Array(s.row(1)) == Array(train.row(11)))
            #expect(train.prefix(5).count == 5 && train.prefix(1000).count == 30 && train.prefix(0).count == 0)
        }
    }

    @Test func labelOutOfRange() throws {
        try withTempDirectory { dir in
            var labels = (0..<30).map { UInt8($0 % 10) }
            labels[17] = 10
            labels[20] = 200
            try writeSet(in: dir, trainLabels: labels)
            expectDataError(["train-labels-idx1-ubyte.gz", "label 10 at index 17", "0..<10"]) {
                _ = try MNISTFamily.load(.mnist, directory: dir)
            }
        }
    }

    @Test func countMismatch() throws {
        try withTempDirectory { dir in
            try writeSet(in: dir, trainLabels: (0..<29).map { UInt8($0 % 10) })
            expectDataError(["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "30 images", "29 labels"]) {
                _ = try MNISTFamily.load(.mnist, directory: dir)
            }
        }
    }

    @Test func wrongRanks() throws {
        try withTempDirectory { dir in
            try writeSet(in: dir)
            // labels where images belong, and images where labels belong
            try write(gzipStored(tinyLabels(30)), to: dir.appendingPathComponent("train-images-idx3-ubyte.gz"))
            expectDataError(["train-images-idx3-ubyte.gz", "expected 3"]) { _ = try MNISTFamily.load(.mnist, directory: dir) }
            try writeSet(in: dir)
            try write(gzipStored(tinyImages(12)), to: dir.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
            expectDataError(["t10k-labels-idx1-ubyte.gz", "expected 1"]) { _ = try MNISTFamily.load(.mnist, directory: dir) }
            // test images of another size than the training images
            try writeSet(in: dir)
            try write(gzipStored(tinyImages(12, rows: 32, cols: 32)), to: dir.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
            expectDataError(["t10k-images-idx3-ubyte.gz", "32×32", "28×28"]) { _ = try MNISTFamily.load(.mnist, directory: dir) }
        }
    }

    @Test func missingDirectory() throws {
        let dir = URL(fileURLWithPath: "/nonexistent/highway-data-\(UInt32.random(in: 0...UInt32.max))")
        expectDataError([dir.path, "not found", "train-images-idx3-ubyte[.gz]", "t10k-labels-idx1-ubyte[.gz]"]) {
            _ = try MNISTFamily.load(.mnist, directory: dir)
        }
        expectDataError([dir.path, "apt-get install dataset-fashion-mnist", "/usr/share/datasets/fashion-mnist"]) {
            _ = try MNISTFamily.load(.fashionMNIST, directory: dir)
        }
    }

    @Test func missingFile() throws {
        try withTempDirectory { dir in
            try writeSet(in: dir)
            try FileManager.default.removeItem(at: dir.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
            expectDataError([dir.path, "t10k-labels-idx1-ubyte.gz or t10k-labels-idx1-ubyte"]) {
                _ = try MNISTFamily.load(.mnist, directory: dir)
            }
            // a file where the directory should be
            let file = dir.appendingPathComponent("train-images-idx3-ubyte.gz")
            expectDataError([file.path, "not found"]) { _ = try MNISTFamily.load(.mnist, directory: file) }
        }
    }

    /// Every file of a split, cut at every 97th byte, through the whole loader.
    @Test func truncatedFilesThroughLoader() throws {
        try withTempDirectory { dir in
            for name in [MNISTFamily.trainImagesFile, MNISTFamily.trainLabelsFile] {
                try writeSet(in: dir, trainN: 10, testN: 3)
                let url = dir.appendingPathComponent(name + ".gz")
                let full = [UInt8](try Data(contentsOf: url))
                for cut in stride(from: 0, to: full.count, by: 97) {
                    try write(Array(full[..<cut]), to: url)
                    expectDataError([name]) { _ = try MNISTFamily.load(.mnist, directory: dir) }
                }
            }
        }
    }

    @Test func datasetNames() throws {
        #expect(DatasetKind(name: "mnist") == .mnist)
        #expect(DatasetKind(name: "fashion-mnist") == .fashionMNIST)
        #expect(DatasetKind(name: "Fashion_MNIST") == .fashionMNIST)
        #expect(DatasetKind(name: "fashionmnist") == .fashionMNIST)
        #expect(DatasetKind(name: "cifar") == nil)
        #expect(DatasetKind(name: "CIFAR-100") == .cifar100)
        #expect(DatasetKind(name: "cifar10") == .cifar10)
        expectDataError(["'kmnist'", "mnist, fashion-mnist, cifar10, cifar100"]) { _ = try DatasetKind.named("kmnist") }
        for kind in DatasetKind.allCases {
            #expect(kind.classNames.count == kind.classes)
            #expect(Set(kind.classNames).count == kind.classes)
        }
        #expect(DatasetKind.cifar100.features == 3072 && DatasetKind.mnist.features == 784)
    }

    @Test func datasetInitValidates() throws {
        expectDataError(["toy", "label 3 at index 1"]) {
            _ = try ImageDataset(name: "toy", imageShape: [2], classes: 3, pixels: [0, 0, 1, 1], labels: [0, 3])
        }
        expectDataError(["toy: pixels"]) {
            _ = try ImageDataset(name: "toy", imageShape: [2], classes: 3, pixels: [0, 0, 1], labels: [0, 1])
        }
        let ok = try ImageDataset(name: "toy", imageShape: [2], classes: 3, pixels: [0, 0, 1, 1], labels: [0, 2])
        #expect(ok.count == 2 && ok.features == 2)
    }
}
