// Gzip: raw pass-through, inflation, concatenated members, and every way a gzip file can be broken.
import Foundation
import Testing
@testable import HighwayData

@Suite struct GzipTests {
    let payload: [UInt8] = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }

    @Test func rawFilesPassThrough() throws {
        try withTempDirectory { dir in
            let url = dir.appendingPathComponent("raw.bin")
            try write(payload, to: url)
            #expect(try Gzip.readFile(url) == payload)
            try write([], to: url)
            #expect(try Gzip.readFile(url) == [])
        }
    }

    @Test func inflatesStoredAndConcatenatedMembers() throws {
        try withTempDirectory { dir in
            let url = dir.appendingPathComponent("x.gz")
            try write(gzipStored(payload), to: url)
            #expect(try Gzip.readFile(url) == payload)
            try write(gzipStored(payload) + gzipStored([1, 2, 3]) + gzipStored([]), to: url)
            #expect(try Gzip.readFile(url) == payload + [1, 2, 3])
            try write(gzipStored([9, 8]) + [0, 0, 0, 0], to: url)   // zero padding is tolerated
            #expect(try Gzip.readFile(url) == [9, 8])
        }
    }

    @Test func trailingGarbageIsAnError() throws {
        try withTempDirectory { dir in
            let url = dir.appendingPathComponent("garbage.gz")
            try write(gzipStored([1, 2, 3]) + [0x41, 0x42], to: url)
            expectDataError(["garbage.gz", "not another gzip member"]) { _ = try Gzip.readFile(url) }
        }
    }

    @Test func truncatedAtEvery97thByte() throws {
        let gz = gzipStored(payload)
        try withTempDirectory { dir in
            let url = dir.appendingPathComponent("cut.gz")
            for cut in stride(from: 2, to: gz.count, by: 97) {
                try write(Array(gz[..<cut]), to: url)
                expectDataError(["cut.gz", "truncated gzip"]) { _ = try Gzip.readFile(url) }
            }
        }
    }

    @Test func corruptStreams() throws {
        let gz = gzipStored(Array(payload.prefix(1000)))
        try withTempDirectory { dir in
            let url = dir.appendingPathComponent("bad.gz")
            var crc = gz; crc[crc.count - 6] ^= 0xFF                // CRC-32 of the data
            var len = gz; len[11] ^= 0x01                            // LEN no longer matches NLEN
            var method = gz; method[2] = 0x07                        // compression method 7
            var data = gz; data[100] ^= 0x55                         // a data byte (caught by the CRC)
            var size = gz; size[size.count - 1] ^= 0x01              // ISIZE
            for broken in [crc, len, method, data, size] {
                try write(broken, to: url)
                expectDataError(["bad.gz", "corrupt gzip"]) { _ = try Gzip.readFile(url) }
            }
        }
    }

    @Test func decompressionBombLimit() throws {
        try withTempDirectory { dir in
            let url = dir.appendingPathComponent("bomb.gz")
            try write(gzipStored(payload), to: url)
            expectDataError(["bomb.gz", "limit of 4096 bytes"]) { _ = try Gzip.readFile(url, maxBytes: 4096) }
            #expect(try Gzip.readFile(url, maxBytes: payload.count) == payload)   // exactly at the limit
            let raw = dir.appendingPathComponent("big.bin")
            try write(payload, to: raw)
            expectDataError(["big.bin", "limit"]) { _ = try Gzip.readFile(raw, maxBytes: 100) }
        }
    }

    @Test func missingAndUnreadable() throws {
        try withTempDirectory { dir in
            let missing = dir.appendingPathComponent("nope.gz")
            expectDataError([missing.path, "not found"]) { _ = try Gzip.readFile(missing) }
            expectDataError([dir.path, "directory"]) { _ = try Gzip.readFile(dir) }
        }
    }
}
