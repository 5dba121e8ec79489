// The CIFAR-10/100 binary loader, on files in the official layout that the tests write.
import Foundation
import Testing
@testable import HighwayData

@Suite struct CIFARTests {
    /// `n` records of `kind`: label of record r = (r·7) mod classes (coarse label r mod 20 for
    /// CIFAR-100), pixel p of record r = (r + p) mod 256.
    func records(_ kind: DatasetKind, _ n: Int, first: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        for r in first..<first + n {
            if kind == .cifar100 { out.append(UInt8(r % 20)) }
            out.append(UInt8(r * 7 % kind.classes))
            out += (0..<CIFAR.pixelBytes).map { UInt8(truncatingIfNeeded: r + $0) }
        }
        return out
    }

    /// Writes a whole CIFAR directory of `kind` with `perFile` records in each file.
    func writeSet(_ kind: DatasetKind, in dir: URL, perFile: Int = 3, gzipLast: Bool = false) throws {
        let (train, test) = CIFAR.files(kind)
        var first = 0
        for (i, name) in (train + test).enumerated() {
            let bytes = records(kind, perFile, first: first)
            first += perFile
            if gzipLast && i == train.count + test.count - 1 {
                try write(gzipStored(bytes), to: dir.appendingPathComponent(name + ".gz"))
            } else {
                try write(bytes, to: dir.appendingPathComponent(name))
            }
        }
    }

    @Test(arguments: [DatasetKind.cifar10, .cifar100])
    func loadsOfficialLayout(kind: DatasetKind) throws {
        try withTempDirectory { dir in
            try writeSet(kind, in: dir, gzipLast: true)
            let (train, test) = try kind.load(directory: dir)
            let trainFiles = CIFAR.files(kind).train.count
            #expect(train.count == 3 * trainFiles && test.count == 3)
            #expect(train.features == 3072 && train.imageShape == [3, 32, 32])
            #expect(train.classes == kind.classes && test.classes == kind.classes)
            // record order kept across the five CIFAR-10 batches; the fine label for CIFAR-100
            #expect(train.labels == (0..<train.count).map { Int32($0 * 7 % kind.classes) })
            #expect(test.labels[0] == Int32(train.count * 7 % kind.classes))
            #expect(train.row(1)[train.row(1).startIndex + 10] == Float(11) / 255)
            #expect(test.row(0).first == Float(UInt8(truncatingIfNeeded: train.count)) / 255)
        }
    }

    /// `--data` may name the parent of the folder the archive extracts to.
    @Test func acceptsArchiveParent() throws {
        try withTempDirectory { dir in
            let nested = dir.appendingPathComponent("cifar-100-binary")
            try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
            try writeSet(.cifar100, in: nested)
            let (train, _) = try DatasetKind.cifar100.load(directory: dir)
            #expect(train.count == 3)
        }
    }

    @Test func missingDirectoryAndFile() throws {
        try withTempDirectory { dir in
            expectDataError(["no-such", "data directory not found", "data_batch_1.bin", "cifar-10-binary.tar.gz"]) {
                _ = try DatasetKind.cifar10.load(directory: dir.appendingPathComponent("no-such"))
            }
            try writeSet(.cifar10, in: dir)
            try FileManager.default.removeItem(at: dir.appendingPathComponent("data_batch_4.bin"))
            expectDataError(["missing data file", "data_batch_4.bin"]) { _ = try DatasetKind.cifar10.load(directory: dir) }
        }
    }

    /// Cut at every 97th byte: a thrown size error naming the file and the record size, never a crash.
    @Test(arguments: [DatasetKind.cifar10, .cifar100])
    func truncatedAtEvery97thByte(kind: DatasetKind) throws {
        let full = records(kind, 2)
        for cut in stride(from: 0, to: full.count, by: 97) {
            expectDataError(["batch.bin", "bytes each"]) {
                _ = try CIFAR.parse(Array(full[..<cut]), kind: kind, path: "batch.bin")
            }
        }
        // and one byte too many
        expectDataError(["batch.bin", "bytes each"]) { _ = try CIFAR.parse(full + [0], kind: kind, path: "batch.bin") }
    }

    @Test func labelsOutOfRange() throws {
        var ten = records(.cifar10, 3)
        ten[3073] = 10
        expectDataError(["b.bin", "at byte 3073", "record 1", "label 10", "0..<10"]) {
            _ = try CIFAR.parse(ten, kind: .cifar10, path: "b.bin")
        }
        var fine = records(.cifar100, 2)
        fine[3074 + 1] = 100
        expectDataError(["record 1", "label 100", "0..<100"]) { _ = try CIFAR.parse(fine, kind: .cifar100, path: "b.bin") }
        var coarse = records(.cifar100, 2)
        coarse[0] = 20
        expectDataError(["record 0", "coarse label 20"]) { _ = try CIFAR.parse(coarse, kind: .cifar100, path: "b.bin") }
        // a CIFAR-100 file read as CIFAR-10: its length is not a whole number of 3073-byte records
        expectDataError(["3073 bytes each"]) { _ = try CIFAR.parse(records(.cifar100, 2), kind: .cifar10, path: "b.bin") }
    }

    /// Every byte of a record's labels flipped to every bad value gives an error, never a crash.
    @Test func flippedLabelBytes() throws {
        let file = records(.cifar100, 1)
        for offset in 0..<2 {
            for value in [UInt8(20), 100, 255] where !(offset == 1 && value == 20) {
                var bad = file
                bad[offset] = value
                expectDataError(["b.bin", "record 0"]) { _ = try CIFAR.parse(bad, kind: .cifar100, path: "b.bin") }
            }
        }
    }
}
