// The real MNIST in ../shared/data/mnist: sizes, labels, and the MD5 of every decompressed file.
import Foundation
import Testing
@testable import HighwayData

@Suite struct RealMNISTTests {
    func directory() throws -> URL {
        try #require(sharedMNISTDirectory(), "../shared/data/mnist not found above \(#filePath)")
    }

    @Test func loadsTrainAndTest() throws {
        let (train, test) = try MNISTFamily.load(.mnist, directory: directory())
        #expect(train.count == 60_000 && test.count == 10_000)
        #expect(train.imageShape == [28, 28] && test.imageShape == [28, 28])
        #expect(train.features == 784 && train.classes == 10)
        #expect(train.pixels.count == 60_000 * 784 && test.pixels.count == 10_000 * 784)
        #expect(train.labels.prefix(5) == [5, 0, 4, 1, 9])
        #expect(test.labels.prefix(3) == [7, 2, 1])
        // the published per-class counts of the MNIST training and test sets
        #expect(train.classCounts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        #expect(test.classCounts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        #expect(train.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(train.pixels.max() == 1 && train.pixels.min() == 0)
        // row 0 is a 5: its pixel at (row 14, col 14) is ink? just check the row is not blank
        #expect(train.row(0).reduce(0, +) > 50)
    }

    @Test(arguments: [
        ("train-images-idx3-ubyte.gz", "6bbc9ace898e44ae57da46a324031adb"),
        ("train-labels-idx1-ubyte.gz", "a25bea736e30d166cdddb491f175f624"),
        ("t10k-images-idx3-ubyte.gz", "2646ac647ad5339dbf082846283269ea"),
        ("t10k-labels-idx1-ubyte.gz", "27ae3e4e09519cfbb04c329615203637"),
    ])
    func decompressedMD5(file: String, md5: String) throws {
        let bytes = try Gzip.readFile(directory().appendingPathComponent(file))
        #expect(md5Hex(bytes) == md5, "\(file)")
    }

    @Test func md5KnownAnswers() {
        // RFC 1321 test suite
        #expect(md5Hex([]) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(md5Hex(Array("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(md5Hex(Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8))
                == "57edf4a22be3c955ac49da2e2107b67a")
    }

    @Test func decompressionLimitOnRealFile() throws {
        let url = try directory().appendingPathComponent("t10k-images-idx3-ubyte.gz")
        expectDataError(["t10k-images-idx3-ubyte.gz", "limit of 1000000 bytes"]) {
            _ = try Gzip.readFile(url, maxBytes: 1_000_000)
        }
    }

    /// The real compressed labels, cut at every 97th byte: always a thrown error, never a crash.
    @Test func truncatedRealGzip() throws {
        let original = try Data(contentsOf: directory().appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        let bytes = [UInt8](original)
        try withTempDirectory { dir in
            let url = dir.appendingPathComponent("t10k-labels-idx1-ubyte.gz")
            for cut in stride(from: 0, to: bytes.count, by: 97) {
                try write(Array(bytes[..<cut]), to: url)
                expectDataError(["t10k-labels-idx1-ubyte.gz"]) { _ = try IDX.read(url) }
            }
        }
    }

    /// The real compressed images, cut at 40 places spread over the file (every 97th byte would
    /// inflate megabytes 17,000 times).
    @Test func truncatedRealImagesGzip() throws {
        let bytes = try [UInt8](Data(contentsOf: directory().appendingPathComponent("t10k-images-idx3-ubyte.gz")))
        try withTempDirectory { dir in
            let url = dir.appendingPathComponent("t10k-images-idx3-ubyte.gz")
            for cut in stride(from: 0, to: bytes.count, by: bytes.count / 40 / 97 * 97) {
                try write(Array(bytes[..<cut]), to: url)
                expectDataError(["t10k-images-idx3-ubyte.gz"]) { _ = try IDX.read(url) }
            }
        }
    }
}
