// IDX: valid files parse; truncated, flipped and lying files throw an error naming the file.
import Foundation
import Testing
@testable import HighwayData

@Suite struct IDXTests {
    @Test func parsesImagesAndLabels() throws {
        let img = try IDX.parse(tinyImages(3, rows: 4, cols: 5), path: "img")
        #expect(img.dims == [3, 4, 5] && img.count == 60)
        #expect(img.bytes[img.bytes.startIndex + 21] == UInt8(1 * 7 + 1))
        let lab = try IDX.parse(tinyLabels(12), path: "lab")
        #expect(lab.dims == [12] && Array(lab.bytes) == (0..<12).map { UInt8($0 % 10) })
    }

    /// Images and labels, raw and gzip'd, cut at every 97th byte: each cut is a thrown DataError
    /// naming the file.
    @Test(arguments: ["images", "labels"], [false, true])
    func truncatedAtEvery97thByte(kind: String, gzipped: Bool) throws {
        let raw = kind == "images" ? tinyImages(20) : tinyLabels(700)
        let file = gzipped ? gzipStored(raw) : raw
        try withTempDirectory { dir in
            let url = dir.appendingPathComponent("\(kind).idx" + (gzipped ? ".gz" : ""))
            try write(file, to: url)
            _ = try IDX.read(url)   // the whole file is fine
            for cut in stride(from: 0, to: file.count, by: 97) {
                try write(Array(file[..<cut]), to: url)
                expectDataError([url.lastPathComponent]) { _ = try IDX.read(url) }
            }
        }
    }

    @Test func flippedHeaderBytes() throws {
        let good = tinyImages(2)
        for (offset, value, fragment) in [(0, UInt8(0x01), "magic"), (1, 0x08, "magic"), (2, 0x0D, "float32"),
                                          (2, 0x42, "unknown element type"), (3, 0, "0 dimensions"),
                                          (3, 5, "5 dimensions"), (3, 2, "expected"), (3, 4, "expected")] {
            var bad = good
            bad[offset] = value
            expectDataError(["flipped.idx", fragment]) { _ = try IDX.parse(bad, path: "flipped.idx") }
        }
    }

    @Test func lyingDimensions() throws {
        let data = [UInt8](repeating: 7, count: 20 * 28 * 28)
        // the header claims one image more / less than the file holds
        expectDataError(["more.idx", "truncated", "expected 16480 bytes", "21×28×28 = 16464 data bytes", "has 15696"]) {
            _ = try IDX.parse(idxFile(dims: [21, 28, 28], data: data), path: "more.idx")
        }
        expectDataError(["less.idx", "784 trailing bytes"]) {
            _ = try IDX.parse(idxFile(dims: [19, 28, 28], data: data), path: "less.idx")
        }
        expectDataError(["zero.idx", "size 0"]) {
            _ = try IDX.parse(idxFile(dims: [20, 0, 28], data: data), path: "zero.idx")
        }
        // 0xFFFFFFFF³ overflows Int: an error before any allocation
        expectDataError(["huge.idx", "multiply past"]) {
            _ = try IDX.parse(idxFile(dims: [.max, .max, .max], data: data), path: "huge.idx")
        }
        // 4 GiB declared, 10 bytes present: a size error, not a 4 GiB allocation
        expectDataError(["big.idx", "truncated", "expected 4294967303 bytes"]) {
            _ = try IDX.parse(idxFile(dims: [.max], data: Array(data.prefix(10))), path: "big.idx")
        }
        expectDataError(["four.idx", "multiply past"]) {   // (2^32 - 1)² > Int.max
            _ = try IDX.parse(idxFile(dims: [0xFFFF_FFFF, 0xFFFF_FFFF, 1, 1], data: data), path: "four.idx")
        }
        // a header cut inside its dimensions
        expectDataError(["short.idx", "IDX header with 3 dimensions"]) {
            _ = try IDX.parse(Array(idxFile(dims: [20, 28, 28], data: []).prefix(9)), path: "short.idx")
        }
    }
}
