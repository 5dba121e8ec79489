// Broken safetensors files (issue 7): every one must give a thrown CheckpointError naming the
// file — never a crash, a hang, a huge allocation or a silently wrong tensor.
import Foundation
import Testing
import HighwayTensor
@testable import HighwayNN

@Suite struct SafeTensorsBrokenFileTests {
    /// A valid file of a few kilobytes: several tensors and metadata.
    static func validFile() throws -> [UInt8] {
        var rng = SeededGenerator(seed: 7)
        let tensors: [(name: String, tensor: Tensor)] = [
            ("input.weight", Tensor.normal(shape: [20, 16], std: 1, rng: &rng)),
            ("input.bias", Tensor.normal(shape: [20], std: 1, rng: &rng)),
            ("layers.0.transform.weight", Tensor.normal(shape: [2, 20], std: 1, rng: &rng)),
            ("scalar", Tensor(3)),
        ]
        return try SafeTensors.encode(tensors, metadata: ["format": "pt", "epoch": "12"])
    }

    static let entryA = #""a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}"#

    @Test func truncatedAtEvery97thByteOnDisk() throws {
        let valid = try Self.validFile()
        #expect(valid.count > 1500)
        try withTemporaryDirectory { dir in
            for cut in stride(from: 0, to: valid.count, by: 97) {
                let url = dir.appendingPathComponent("cut\(cut).safetensors")
                try Data(valid[..<cut]).write(to: url)
                do {
                    _ = try SafeTensors.read(url)
                    Issue.record("truncated at \(cut) of \(valid.count): accepted")
                } catch let error as CheckpointError {
                    #expect(error.path == url.path)
                    #expect(error.description.contains(url.path))
                }
            }
        }
    }

    @Test func truncatedAtEveryByteInMemory() throws {
        let valid = try Self.validFile()
        for cut in 0..<valid.count {
            expectRejected(Array(valid[..<cut]), "truncated at \(cut)")
        }
    }

    @Test func flippedHeaderBytesThrowOrDecodeNeverCrash() throws {
        let valid = try Self.validFile()
        let headerEnd = 8 + Int(UInt64(littleEndian: valid.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
        var rejected = 0, total = 0
        for position in 0..<headerEnd {
            for mask: UInt8 in [0x01, 0x02, 0x10, 0x20, 0x80, 0xFF] {
                var bytes = valid
                bytes[position] ^= mask
                total += 1
                do {
                    let file = try SafeTensors.decode(bytes, path: "flipped.safetensors")
                    // A flip inside a name or metadata string can leave a valid file; then the
                    // data must still tile the file exactly.
                    let elements = file.tensors.values.reduce(0) { $0 + $1.count }
                    #expect(elements * 4 == valid.count - headerEnd, "flip \(mask) at \(position)")
                } catch let error as CheckpointError {
                    rejected += 1
                    #expect(error.path == "flipped.safetensors")
                } catch {
                    Issue.record("flip \(mask) at \(position): \(type(of: error)) \(error)")
                }
            }
        }
        // Every flip of the length bytes and of the JSON structure must be caught.
        #expect(rejected > total / 2, "\(rejected) of \(total) flips rejected")
        for position in 0..<8 {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var bytes = valid
                bytes[position] ^= mask
                let error = expectRejected(bytes, "length byte \(position) ^ \(mask)")
                if case .headerLength? = error {} else if case .malformedHeader? = error {} else if case .dataSize? = error {} else {
                    Issue.record("length byte \(position) ^ \(mask): \(String(describing: error))")
                }
            }
        }
    }

    @Test func lyingHeaderLength() throws {
        let body = Array("{\(Self.entryA)}".utf8)
        let data = f32Bytes([1, 2, 3, 4])
        for declared: UInt64 in [UInt64(body.count + 16 + 1), UInt64(body.count + 100), 100_000_001, UInt64(Int.max), .max] {
            let bytes = safetensorsBytes(header: "{\(Self.entryA)}", data: data, declaredLength: declared, pad: false)
            guard case let .headerLength(_, d, size, _)? = expectRejected(bytes, "N = \(declared)") else {
                Issue.record("N = \(declared): expected headerLength"); continue
            }
            #expect(d == declared && size == bytes.count)
        }
        // Shorter than the real header: the JSON is cut off.
        let short = safetensorsBytes(header: "{\(Self.entryA)}", data: data, declaredLength: UInt64(body.count - 3), pad: false)
        if case .malformedHeader? = expectRejected(short, "N too small") {} else { Issue.record("N too small") }
        for n in 0..<8 { expectRejected([UInt8](repeating: 0, count: n), "\(n)-byte file") }
        expectRejected(safetensorsBytes(header: "", data: [], pad: false), "empty header")
    }

    @Test func sizesThatDisagreeWithTheShape() throws {
        let cases: [(String, [UInt8])] = [
            (#""a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}"#, f32Bytes([1, 2, 3, 4, 5])),
            (#""a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}"#, f32Bytes([1, 2, 3, 4])),
            (#""a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}"#, f32Bytes([1, 2])),
            (#""a":{"dtype":"F32","shape":[],"data_offsets":[0,0]}"#, []),
            (#""a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}"#, f32Bytes([1, 2])),
            (#""a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}"#, f32Bytes([1, 2])),
        ]
        for (entry, data) in cases {
            let error = expectRejected(safetensorsBytes(header: "{\(entry)}", data: data), entry)
            guard case let .dataOffsets(_, tensor, _, _, _)? = error else { Issue.record("\(entry): \(String(describing: error))"); continue }
            #expect(tensor == "a")
        }
    }

    @Test func hugeShapesOverflowOrExceedTheFileWithoutAllocating() throws {
        let cases = [
            #""a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,16]}"#,
            #""a":{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,16]}"#,     // 2⁶¹ × 4 overflows
            #""a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,16]}"#,    // not an Int
            #""a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}"#,  // consistent, but 4 TB
            #""a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,99999999999999999999]}"#,
            #""a":{"dtype":"F32","shape":[4611686018427387903],"data_offsets":[0,9223372036854775807]}"#,
            #""a":{"dtype":"F32","shape":[4],"data_offsets":[9223372036854775807,9223372036854775823]}"#,
        ]
        for entry in cases {
            expectRejected(safetensorsBytes(header: "{\(entry)}", data: f32Bytes([1, 2, 3, 4])), entry)
        }
        // Sizes that multiply to 0 are fine even when huge: no overflow before the 0.
        let zero = try SafeTensors.decode(safetensorsBytes(
            header: #"{"z":{"dtype":"F32","shape":[0,4611686018427387904,3],"data_offsets":[0,0]}}"#, data: []))
        #expect(zero["z"]?.count == 0)
    }

    @Test func overlapsGapsAndTrailingBytes() throws {
        func entry(_ name: String, _ begin: Int, _ end: Int) -> String {
            #""\#(name)":{"dtype":"F32","shape":[\#((end - begin) / 4)],"data_offsets":[\#(begin),\#(end)]}"#
        }
        let cases: [(String, String, Int)] = [
            ("overlap", entry("a", 0, 16) + "," + entry("b", 8, 24), 24),
            ("gap", entry("a", 0, 16) + "," + entry("b", 20, 36), 36),
            ("gap at start", entry("a", 4, 20), 20),
            ("same range twice", entry("a", 0, 16) + "," + entry("b", 0, 16), 16),
            ("nested", entry("a", 0, 32) + "," + entry("b", 8, 16), 32),
        ]
        for (what, entries, dataSize) in cases {
            let error = expectRejected(safetensorsBytes(header: "{\(entries)}", data: [UInt8](repeating: 0, count: dataSize)), what)
            guard case .dataOffsets? = error else { Issue.record("\(what): \(String(describing: error))"); continue }
        }
        let good = safetensorsBytes(header: "{\(Self.entryA)}", data: f32Bytes([1, 2, 3, 4]))
        _ = try SafeTensors.decode(good)
        for (what, bytes) in [("trailing byte", good + [0]), ("trailing tensor", good + f32Bytes([5])),
                              ("missing byte", Array(good.dropLast())), ("no data", Array(good.dropLast(16)))] {
            guard case .dataSize? = expectRejected(bytes, what) else { Issue.record("\(what)"); continue }
        }
    }

    @Test func duplicateNamesAreCaughtThoughJSONSerializationWouldMergeThem() throws {
        let twice = "{\(Self.entryA),\(Self.entryA.replacingOccurrences(of: "[0,16]", with: "[16,32]"))}"
        let error = expectRejected(safetensorsBytes(header: twice, data: f32Bytes(Array(repeating: 1, count: 8))), "duplicate")
        guard case let .duplicateName(_, name, offset)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(name == "a" && offset == 8 + 1 + Self.entryA.utf8.count + 1)
        // The same name spelled with an escape is still the same name.
        let escaped = twice.replacingOccurrences(of: #","a":"#, with: #","\u0061":"#)
        if case .duplicateName? = expectRejected(safetensorsBytes(header: escaped, data: f32Bytes(Array(repeating: 1, count: 8))), "escaped") {} else {
            Issue.record("escaped duplicate not caught")
        }
        for header in [
            #"{"__metadata__":{},"__metadata__":{}}"#,
            #"{"__metadata__":{"k":"1","k":"2"}}"#,
            #"{"a":{"dtype":"F32","dtype":"F64","shape":[],"data_offsets":[0,4]}}"#,
        ] {
            if case .duplicateName? = expectRejected(safetensorsBytes(header: header, data: f32Bytes([1])), header) {} else {
                Issue.record("\(header): duplicate not caught")
            }
        }
    }

    @Test func badEntriesAndMetadata() throws {
        let data = f32Bytes([1, 2, 3, 4])
        let headers = [
            #"{"__metadata__":{"k":1}}"#, #"{"__metadata__":{"k":null}}"#, #"{"__metadata__":{"k":["v"]}}"#,
            #"{"__metadata__":"v"}"#, #"{"__metadata__":[]}"#,
            #"{"a":5}"#, #"{"a":[]}"#, #"{"a":"F32"}"#,
            #"{"a":{"shape":[4],"data_offsets":[0,16]}}"#, #"{"a":{"dtype":"F32","data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"F32","shape":[4]}}"#, #"{"a":{"dtype":32,"shape":[4],"data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"F32","shape":4,"data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"F32","shape":[4e0],"data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"F32","shape":["4"],"data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"F32","shape":[[4]],"data_offsets":[0,16]}}"#,
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0]}}"#,
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16,32]}}"#,
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":{"begin":0,"end":16}}}"#,
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0.0,16]}}"#,
        ]
        for header in headers {
            guard case .invalidEntry? = expectRejected(safetensorsBytes(header: header, data: data), header) else {
                Issue.record("\(header): expected invalidEntry"); continue
            }
        }
        for dtype in ["I64", "U8", "BOOL", "F8_E4M3", "f32", "F32 ", ""] {
            let header = #"{"t":{"dtype":"\#(dtype)","shape":[4],"data_offsets":[0,16]}}"#
            let error = expectRejected(safetensorsBytes(header: header, data: data), dtype)
            guard case let .unsupportedDType(_, tensor, found)? = error else { Issue.record("\(dtype): \(String(describing: error))"); continue }
            #expect(tensor == "t" && found == dtype)
            #expect(error!.description.contains("unsupported dtype \(dtype) for tensor \"t\""))
        }
    }

    @Test func notJSON() throws {
        let headers: [[UInt8]] = [
            Array("hello world".utf8), Array("[]".utf8), Array("\"a\"".utf8), Array("42".utf8), Array("null".utf8),
            Array("{".utf8), Array("{\"a\"".utf8), Array("{\"a\":}".utf8), Array("{,}".utf8), Array("{\"a\":1,}".utf8),
            Array("{'a':1}".utf8), Array("{} {}".utf8), Array("{}x".utf8), Array("{\"a\":tru}".utf8),
            Array("{\"a\":01}".utf8), Array("{\"a\":-}".utf8), Array("{\"a\":1.}".utf8), Array("{\"a\":1e}".utf8),
            Array("{\"a\":NaN}".utf8), Array("{\"a\" 1}".utf8), Array("{\"a\":1 \"b\":2}".utf8),
            Array("{\"a\\q\":1}".utf8), Array("{\"\\u12\":1}".utf8), Array("{\"\\ud800\":1}".utf8),
            Array("{\"\\udc00\":1}".utf8), Array("{\"\\ud800\\u0041\":1}".utf8), Array("{\"a\tb\":1}".utf8),
            Array("{\"a\":\"unterminated}".utf8), Array("{\"a\":1}\u{0}".utf8),
            [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D],                  // {"\xFF":1}
            [0x7B, 0x22, 0xC0, 0x80, 0x22, 0x3A, 0x31, 0x7D],            // overlong NUL
            [0x7B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x3A, 0x31, 0x7D],      // UTF-8 surrogate
            [0x7B, 0x22, 0xE2, 0x82, 0x22, 0x3A, 0x31, 0x7D],            // cut-off sequence
            [0x7B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x3A, 0x31, 0x7D],  // above U+10FFFF
            [0xEF, 0xBB, 0xBF] + Array("{}".utf8),                        // a BOM is not JSON
        ]
        for header in headers {
            var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
            bytes += []  // no data
            let error = expectRejected(bytes, String(decoding: header, as: UTF8.self))
            guard case let .malformedHeader(_, offset, _, _)? = error else {
                Issue.record("\(header): \(String(describing: error))"); continue
            }
            #expect(offset >= 8 && offset <= 8 + header.count)
        }
        // Hostile nesting is refused at a fixed depth, not by running out of stack.
        let deep = Array(repeating: "[", count: 100_000).joined()
        expectRejected(safetensorsBytes(header: "{\"a\":\(deep)", data: []), "deep nesting")
        let deepObjects = Array(repeating: "{\"a\":", count: 100_000).joined()
        expectRejected(safetensorsBytes(header: deepObjects, data: []), "deep objects")
        // A long array (here a rank-2000 shape) is refused before it costs memory.
        let longShape = Array(repeating: "1", count: 2000).joined(separator: ",")
        let long = #"{"a":{"dtype":"F32","shape":[\#(longShape)],"data_offsets":[0,4]}}"#
        if case .malformedHeader? = expectRejected(safetensorsBytes(header: long, data: f32Bytes([1])), "rank 2000") {} else {
            Issue.record("rank 2000 accepted or wrong error")
        }
    }

    @Test func errorMessagesNameFileTensorAndExpectation() throws {
        let bytes = safetensorsBytes(header: #"{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#,
                                     data: f32Bytes([1, 2, 3, 4, 5]))
        let message = try #require(expectRejected(bytes, "size")).description
        #expect(message.contains("broken.safetensors"))
        #expect(message.contains("layers.0.weight"))
        #expect(message.contains("[0, 20]") && message.contains("24"))

        let json = try #require(expectRejected(safetensorsBytes(header: "{\"a\":}", data: []), "json")).description
        #expect(json.contains("header byte 13") && json.contains("'}'") && json.contains("a JSON value"))
    }

    @Test func readingMissingFilesAndDirectoriesThrows() throws {
        try withTemporaryDirectory { dir in
            let missing = dir.appendingPathComponent("nope.safetensors")
            #expect(throws: CheckpointError.self) { try SafeTensors.read(missing) }
            do { _ = try SafeTensors.read(missing) } catch let e as CheckpointError { #expect(e.description.contains(missing.path)) }
            #expect(throws: CheckpointError.self) { try SafeTensors.read(dir) }
        }
    }
}
