// Broken IDX, gzip, CIFAR and series-text files through the battery (BrokenFileBattery.swift), plus the lies a
// battery cannot generate: sizes that disagree with the file, huge declared dimensions, labels
// out of range, decompression bombs. Every one a thrown DataError naming the file.
import Foundation
import Testing
@testable import HighwayData

@Suite struct BrokenFileTests {
    /// IDX files, raw: every header flip changes the magic, the type, the rank or a size, so none
    /// of them may parse.
    @Test(arguments: ["images", "labels"])
    func idxBattery(kind: String) throws {
        let valid = kind == "images" ? tinyImages(4, rows: 9, cols: 7) : tinyLabels(300)
        let battery = BrokenFileBattery(name: "\(kind).idx", valid: valid, headerLength: kind == "images" ? 16 : 8) {
            _ = try IDX.decode($0, path: $1)
        }
        let (rejected, accepted) = battery.run()
        #expect(accepted.isEmpty && rejected > 0, "header flips accepted: \(accepted)")
    }

    /// The same files gzip'd, through the in-memory loader path (inflate, then parse): cuts and
    /// flips of the gzip header and trailer (CRC-32, ISIZE). A flip of the timestamp, the extra
    /// flags or the OS byte leaves a valid file; any other must be caught.
    @Test(arguments: ["images", "labels"])
    func gzippedIDXBattery(kind: String) throws {
        let valid = gzipStored(kind == "images" ? tinyImages(4, rows: 9, cols: 7) : tinyLabels(300))
        let battery = BrokenFileBattery(name: "\(kind).idx.gz", valid: valid, headerLength: 10 + 5 + 16,
                                        extraFlipRanges: [(valid.count - 8)..<valid.count]) {
            _ = try IDX.decode($0, path: $1)
        }
        let (_, accepted) = battery.run()
        // only fields gzip does not check may change: FLG's FTEXT bit (byte 3, mask 01, a hint),
        // MTIME (bytes 4–7), XFL (8) and OS (9), and the padding bits 3–7 of a stored block's
        // header byte (10)
        for (position, mask) in accepted {
            #expect((position == 3 && mask == 0x01) || (4...9).contains(position) || (position == 10 && mask & 0x07 == 0),
                    "flip \(mask) at \(position) accepted")
        }
    }

    /// A labels file (300 labels) as gzip(1) -9 writes it: real deflate data with Huffman codes,
    /// made by `gzip.compress(data, 9, mtime=0)` in Python. Every byte flipped, every cut.
    static let deflatedLabels: [UInt8] = [
        0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xBD, 0xCF, 0x01, 0x01, 0xC0, 0x00,
        0x08, 0x02, 0x30, 0x50, 0x50, 0xEC, 0xF2, 0xFE, 0xF9, 0xFE, 0x14, 0x6F, 0xB0, 0x01, 0x21, 0xC0,
        0x07, 0x9D, 0xF1, 0xA0, 0xEE, 0xD0, 0xD7, 0xA5, 0x2D, 0xDC, 0x72, 0xBA, 0x25, 0xEC, 0x84, 0x43,
        0xD0, 0x58, 0x39, 0x22, 0xAA, 0xD6, 0xF2, 0x31, 0xB9, 0x8A, 0xD9, 0xC3, 0xCB, 0xC0, 0x55, 0x3D,
        0x37, 0x5E, 0x18, 0x07, 0xDD, 0x8C, 0xB6, 0x71, 0xE4, 0xA8, 0x95, 0xDE, 0x0D, 0x57, 0x28, 0x23,
        0x9B, 0x13, 0x59, 0x8E, 0x35, 0xA7, 0xCA, 0x75, 0xEC, 0x9E, 0xBA, 0xA0, 0xDD, 0xD5, 0x5B, 0x33,
        0x8B, 0xE9, 0xA2, 0x6E, 0x67, 0xD3, 0x9F, 0x50, 0x50, 0x3B, 0xCD, 0x4D, 0xAD, 0x64, 0x33, 0x7B,
        0xA5, 0x62, 0x0D, 0xE3, 0x39, 0x17, 0x7F, 0x2B, 0xBC, 0x4F, 0x57, 0xCE, 0xF0, 0x34, 0x01, 0x00,
        0x00,
    ]

    @Test func deflatedBattery() throws {
        let valid = Self.deflatedLabels
        #expect(try IDX.decode(valid, path: "ok").dims == [300])
        let battery = BrokenFileBattery(name: "deflate.idx.gz", valid: valid, headerLength: valid.count) {
            _ = try IDX.decode($0, path: $1, maxBytes: 1 << 20)
        }
        let (_, accepted) = battery.run()
        for (position, mask) in accepted {
            #expect((position == 3 && mask == 0x01) || (4...9).contains(position), "flip \(mask) at \(position) accepted")
        }
    }

    /// CIFAR binary files (no header: every record's label bytes are flipped, and the file cut at
    /// every 97th byte, which leaves a partial record). A flipped label that stays in range is a
    /// valid file; one out of range must be refused, naming the record's byte offset.
    @Test(arguments: [DatasetKind.cifar10, .cifar100])
    func cifarBattery(kind: DatasetKind) throws {
        let labelBytes = kind == .cifar100 ? 2 : 1
        let record = labelBytes + CIFAR.pixelBytes
        let pixels = (0..<CIFAR.pixelBytes).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 5) }
        var valid: [UInt8] = []
        for r in 0..<3 { valid += (kind == .cifar100 ? [UInt8(r * 6), UInt8(r * 40)] : [UInt8(r * 4)]) + pixels }
        let battery = BrokenFileBattery(name: "\(kind.rawValue).bin", valid: valid, headerLength: labelBytes,
                                        extraFlipRanges: [record..<(record + labelBytes), (2 * record)..<(2 * record + labelBytes)]) {
            _ = try CIFAR.parse($0, kind: kind, path: $1)
        }
        let (rejected, accepted) = battery.run()
        #expect(rejected > 0)
        for (position, mask) in accepted {
            let value = Int(valid[position] ^ mask)
            let isFine = position % record == labelBytes - 1
            #expect(value < (isFine ? kind.classes : 20), "label byte \(position) flipped to \(value) accepted")
        }
        var bad = valid
        bad[2 * record + labelBytes - 1] = 200
        expectDataError(["bad.bin", "at byte \(2 * record + labelBytes - 1)", "record 2", "label 200"]) {
            _ = try CIFAR.parse(bad, kind: kind, path: "bad.bin")
        }
    }

    /// Series text (MultivariateSeries.parse): 30 rows of 3 values. Text has no sizes, so a cut at
    /// a line end, inside a row's last value, or anywhere in the first line (which alone fixes the
    /// width) but after a comma leaves a valid shorter file; any other cut (a row missing values,
    /// a trailing comma) must be refused. The "header" is the first line: a flip that turns a
    /// digit into a digit, a value's first or last digit into a space (trimmed), or the first
    /// byte into `#` (a comment line) leaves a valid file; any other must not.
    @Test func seriesTextBattery() throws {
        let width = 3
        let text = (0..<30).map { t in (0..<width).map { s in String(format: "%.3f", 1 + 0.01 * Double(t) + 0.1 * Double(s)) }
            .joined(separator: ",") + "\n" }.joined()
        let valid = Array(text.utf8)
        let firstLine = valid.firstIndex(of: 0x0A)! + 1
        let battery = BrokenFileBattery(name: "series.txt", valid: valid, headerLength: firstLine,
                                        mayParseWhenCut: { cut in
            // the cut's last, partial line: empty, or a whole row whose last value is cut short
            let lines = valid[..<cut].split(separator: 0x0A, omittingEmptySubsequences: false)
            let tail = lines.last!, commas = tail.filter { $0 == UInt8(ascii: ",") }.count
            return tail.isEmpty || ((lines.count == 1 || commas == width - 1) && tail.last != UInt8(ascii: ","))
        }) {
            _ = try MultivariateSeries.parse($0, source: $1)
        }
        let (rejected, accepted) = battery.run()
        #expect(rejected > 0)
        for (position, mask) in accepted {
            let old = valid[position], new = old ^ mask
            let fieldEdge = position == 0 || valid[position - 1] == UInt8(ascii: ",")
                || valid[position + 1] == UInt8(ascii: ",") || valid[position + 1] == 0x0A
            #expect((0x30...0x39).contains(new) || (new == 0x20 && fieldEdge) || (new == UInt8(ascii: "#") && position == 0),
                    "byte \(position) '\(UnicodeScalar(old))' flipped to \(new) accepted")
        }
        // and the same file gzip'd, through the loader's in-memory path (inflate, then parse)
        let gz = gzipStored(valid)
        #expect(try MultivariateSeries.parse(Gzip.decompress(gz, path: "series.txt.gz", maxBytes: 1 << 20), source: "series.txt.gz").rows == 30)
        for cut in [0, 5, 10, 11, 20, gz.count - 9, gz.count - 1] {
            expectDataError(["series.txt.gz"]) {
                _ = try MultivariateSeries.parse(Gzip.decompress(Array(gz[..<cut]), path: "series.txt.gz", maxBytes: 1 << 20),
                                                 source: "series.txt.gz")
            }
        }
    }

    /// Series text broken the ways a hand-edited or half-written file is: each a DataError naming
    /// the file and the line (and column, for a bad value).
    @Test func seriesTextLies() throws {
        func parse(_ text: String, _ name: String = "s.txt") throws -> MultivariateSeries {
            try MultivariateSeries.parse(Array(text.utf8), source: name)
        }
        // ragged rows, short or long, anywhere
        expectDataError(["s.txt", "line 3", "2 values", "line 1 has 3"]) { _ = try parse("1,2,3\n4,5,6\n7,8\n") }
        expectDataError(["s.txt", "line 2", "4 values"]) { _ = try parse("1,2,3\n4,5,6,7\n") }
        expectDataError(["s.txt", "line 2, column 3", "empty value"]) { _ = try parse("1,2\n4,5,\n") }
        // tokens that are not finite 32-bit numbers
        for (token, says) in [("abc", "is not a number"), ("1e", "is not a number"), ("1.2.3", "is not a number"),
                              ("--1", "is not a number"), ("1 2", "is not a number"), ("\u{FF}", "is not a number"),
                              ("0x1p3", "is not a number"), ("0X10", "is not a number"), ("-0x.8", "is not a number"),
                              ("nan", "not a finite"), ("NaN", "not a finite"), ("-nan", "not a finite"),
                              ("inf", "not a finite"), ("-Infinity", "not a finite"), ("1e39", "not a finite"),
                              ("-3.5e38", "not a finite"), ("1e400", "not a finite")] {
            expectDataError(["s.txt", "line 2, column 2", says]) { _ = try parse("1,2\n3,\(token)\n") }
        }
        // a NUL byte ends a C string, so Double("1\0abc") reads 1: the parser must not
        expectDataError(["s.txt", "line 1, column 1", "is not a number"]) { _ = try parse("1\u{0}abc,2\n") }
        expectDataError(["s.txt", "line 2, column 2", "is not a number"]) { _ = try parse("1,2\n3,4\u{0}\n") }
        // the largest finite floats are fine
        #expect(try parse("3.4028234e38,-3.4028234e38\n").values == [.greatestFiniteMagnitude, -.greatestFiniteMagnitude])
        // empty: no bytes, only blank lines or comments, only a BOM-less whitespace line
        for text in ["", "\n", "\r\n\r\n", "  \t \n", "# header\n# t,a,b\n"] {
            expectDataError(["s.txt", "no rows"]) { _ = try parse(text) }
        }
        // a single huge line: 200,000 values are one row (the windows then refuse it); one
        // 1 MB token is refused with a message that quotes only its start
        let wide = try parse(Array(repeating: "1.5", count: 200_000).joined(separator: ","))
        #expect(wide.rows == 1 && wide.series == 200_000)
        expectDataError(["s.txt", "1 rows"]) { _ = try ForecastWindows(wide, window: 2, horizon: 1) }
        for token in [String(repeating: "9", count: 1 << 20), String(repeating: "x", count: 1 << 20)] {
            let error = expectDataError(["s.txt", "line 1, column 1"]) { _ = try parse(token) }
            #expect((error?.description.count ?? 0) < 200)
        }
        // truncated gzip: refused by the inflater, naming the file
        let gz = gzipStored(Array(String(repeating: "1,2,3\n", count: 100).utf8))
        expectDataError(["cut.txt.gz", "truncated gzip"]) {
            _ = try MultivariateSeries.parse(Gzip.decompress(Array(gz.dropLast(30)), path: "cut.txt.gz", maxBytes: 1 << 20),
                                             source: "cut.txt.gz")
        }
        // CRLF line ends (Windows editors) are accepted and read as LF ones; a lone CR (classic
        // Mac) is not a line end, so the file is one line with a bad value, named
        let crlf = try parse("1,2\r\n3,4\r\n\r\n5,6\r\n")
        let lf = try parse("1,2\n3,4\n\n5,6\n")
        #expect(crlf.rows == 3 && crlf.values == lf.values)
        expectDataError(["s.txt", "line 1, column 2", "is not a number"]) { _ = try parse("1,2\r3,4\r") }
    }

    /// Through MNISTFamily.split: images and labels that disagree, wrong ranks, labels ≥ 10.
    @Test func splitRejectsLiesBetweenFiles() throws {
        let images = try IDX.parse(tinyImages(5, rows: 3, cols: 3), path: "img")
        let labels = try IDX.parse(tinyLabels(5), path: "lab")
        _ = try MNISTFamily.split(images: images, imagesPath: "img", labels: labels, labelsPath: "lab", name: "ok")
        for (index, value) in [(0, UInt8(10)), (4, 255), (2, 11)] {
            var bytes = idxFile(dims: [5], data: [0, 1, 2, 3, 4])
            bytes[8 + index] = value
            let bad = try IDX.parse(bytes, path: "lab")
            expectDataError(["lab", "label \(value) at index \(index)", "0..<10"]) {
                _ = try MNISTFamily.split(images: images, imagesPath: "img", labels: bad, labelsPath: "lab", name: "x")
            }
        }
        let six = try IDX.parse(tinyLabels(6), path: "six")
        expectDataError(["img", "six", "5 images", "6 labels"]) {
            _ = try MNISTFamily.split(images: images, imagesPath: "img", labels: six, labelsPath: "six", name: "x")
        }
        expectDataError(["lab", "expected 3"]) {
            _ = try MNISTFamily.split(images: labels, imagesPath: "lab", labels: labels, labelsPath: "lab", name: "x")
        }
        expectDataError(["img", "expected 1"]) {
            _ = try MNISTFamily.split(images: images, imagesPath: "img", labels: images, labelsPath: "img", name: "x")
        }
    }

    /// Declared sizes far beyond the file: refused from the header alone, before anything is
    /// allocated from them (a 16-byte file cannot make the parser ask for terabytes).
    @Test func hugeDeclaredSizesAreRefusedFromTheHeader() throws {
        for dims: [UInt32] in [[.max, .max, .max], [0x7FFF_FFFF, 0x7FFF_FFFF], [.max], [1 << 31, 28, 28], [60000, 28, 28]] {
            let file = idxFile(dims: dims, data: [1, 2, 3])
            let error = expectDataError(["huge.idx"]) { _ = try IDX.decode(file, path: "huge.idx") }
            switch error {
            case .sizeMismatch(_, let expected, let actual, _)?: #expect(expected > actual)
            case .invalidFormat?: break
            default: Issue.record("\(dims): \(String(describing: error))")
            }
        }
        // gzip: a lying ISIZE trailer (4 GiB) is only a capacity hint, capped by the input size
        var gz = gzipStored(tinyLabels(10))
        for i in 1...4 { gz[gz.count - i] = 0xFF }
        expectDataError(["isize.gz", "corrupt gzip"]) { _ = try IDX.decode(gz, path: "isize.gz") }
        // and the bomb limit holds in memory as on disk
        expectDataError(["bomb.gz", "limit of 100 bytes"]) {
            _ = try IDX.decode(gzipStored(tinyLabels(500)), path: "bomb.gz", maxBytes: 100)
        }
        expectDataError(["raw.idx", "limit of 100 bytes"]) {
            _ = try IDX.decode(tinyLabels(500), path: "raw.idx", maxBytes: 100)
        }
    }

    /// Every error message names the file and, for a format error, the byte offset.
    @Test func messagesNameFileAndOffset() throws {
        var bad = tinyImages(2)
        bad[3] = 9
        expectDataError(["names.idx", "at byte 3", "9 dimensions", "expected 1...4"]) { _ = try IDX.decode(bad, path: "names.idx") }
        expectDataError(["names.idx", "truncated", "expected 1584 bytes", "but the file has 1583"]) {
            _ = try IDX.decode(Array(tinyImages(2).dropLast()), path: "names.idx")
        }
        expectDataError(["names.gz", "truncated gzip"]) { _ = try IDX.decode(Array(gzipStored(tinyImages(2)).dropLast(9)), path: "names.gz") }
    }
}
