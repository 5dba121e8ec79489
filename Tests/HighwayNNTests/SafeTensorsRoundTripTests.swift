// Safetensors files that are valid: our own round trip, and files as the Python library writes them.
import Foundation
import Testing
import HighwayTensor
@testable import HighwayNN

@Suite struct SafeTensorsRoundTripTests {
    /// Tensors with every awkward case: a scalar, an empty tensor, NaN payloads, ±0, ±inf,
    /// subnormals, names needing JSON escapes.
    static func awkwardTensors() throws -> [(name: String, tensor: Tensor)] {
        let special: [Float] = [0, -0.0, .infinity, -.infinity, Float(bitPattern: 0x7FC0_1234),
                                Float(bitPattern: 0xFFA0_0001), .leastNonzeroMagnitude, -.greatestFiniteMagnitude,
                                1.0 / 3.0, 123_456.789, -1e-30, 7]
        return [
            ("layers.3.transform.weight", try Tensor(shape: [3, 4], values: special)),
            ("layers.3.transform.bias", try Tensor(shape: [3], values: [0.5, -2, 1e10])),
            ("scalar", Tensor(42.5)),
            ("empty", Tensor.zeros([0, 3])),
            ("quote\"back\\slash\ttab\u{1}ünïcødé ✓", try Tensor(shape: [1, 1, 2], values: [1, 2])),
        ]
    }

    @Test func roundTripKeepsNamesOrderShapesBitsAndMetadata() throws {
        let tensors = try Self.awkwardTensors()
        let metadata = ["format": "pt", "epoch": "7", "note": "line\nbreak \"quoted\" ✓", "": "empty key"]
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("model.safetensors")
            try SafeTensors.write(tensors, metadata: metadata, to: url)
            let file = try SafeTensors.read(url)
            #expect(file.names == tensors.map(\.name))
            #expect(file.metadata == metadata)
            #expect(file.path == url.path)
            for (name, tensor) in tensors {
                let read = try #require(file[name])
                #expect(bitsEqual(read, tensor), "\(name): \(read) vs \(tensor)")
                #expect(file.storedDTypes[name] == .f32)
            }
            // The file on disk is what encode() gives, and decoding that gives the same again.
            let onDisk = try [UInt8](Data(contentsOf: url))
            #expect(onDisk == (try SafeTensors.encode(tensors, metadata: metadata)))
            let header = UInt64(littleEndian: onDisk.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            #expect(header % 8 == 0, "data section must start 8-byte aligned")
            let again = try SafeTensors.decode(onDisk)
            #expect(again.entries.map(\.name) == tensors.map(\.name))
        }
    }

    @Test func emptyTensorSetRoundTrips() throws {
        let bytes = try SafeTensors.encode([])
        #expect(bytes == safetensorsBytes(header: "{}", data: []))
        let file = try SafeTensors.decode(bytes)
        #expect(file.names.isEmpty && file.metadata.isEmpty)
    }

    /// What `safetensors.torch.save_file({"weight": w, "bias": b}, path, metadata={"format": "pt"})`
    /// writes for w = [[1, -2], [0.5, 3]], b = [0.25, -1.5]: the Rust serializer orders tensors by
    /// name, puts `__metadata__` first, compact JSON padded with spaces. Built by hand from the spec.
    static let pythonHeader =
        #"{"__metadata__":{"format":"pt"},"bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
        + #""weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}}"#
    static let pythonData: [UInt8] = [
        0x00, 0x00, 0x80, 0x3E, 0x00, 0x00, 0xC0, 0xBF,  // bias: 0.25, -1.5
        0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0,  // weight row 0: 1, -2
        0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x40, 0x40,  // weight row 1: 0.5, 3
    ]

    @Test func readsAFileAsThePythonLibraryWritesIt() throws {
        let bytes = safetensorsBytes(header: Self.pythonHeader, data: Self.pythonData)
        #expect(Self.pythonHeader.utf8.count == 149 && bytes.count == 8 + 152 + 24)  // 3 spaces of padding
        let file = try SafeTensors.decode(bytes, path: "python.safetensors")
        #expect(file.names == ["bias", "weight"])
        #expect(file.metadata == ["format": "pt"])
        #expect(file["bias"] == (try Tensor(shape: [2], values: [0.25, -1.5])))
        #expect(file["weight"] == (try Tensor(shape: [2, 2], values: [1, -2, 0.5, 3])))
        // And our writer produces exactly those bytes for the same tensors.
        let ours = try SafeTensors.encode([("bias", file["bias"]!), ("weight", file["weight"]!)],
                                          metadata: ["format": "pt"])
        #expect(ours == bytes)
    }

    /// Another valid writer's style: pretty-printed JSON, keys not in data order, escapes, and the
    /// dtypes converted on reading (F64, F16, BF16), a scalar and an empty tensor.
    @Test func readsOtherDTypesAnyKeyOrderAndWhitespace() throws {
        let header = """
        {
          "w\\u00e9ight\\ud83d\\ude00" : {"shape": [2], "dtype": "F64", "data_offsets": [8, 24], "extra": [1, {"x": null}]},
          "half": {"dtype": "F16", "shape": [4], "data_offsets": [24, 32]},
          "brain": {"dtype": "BF16", "shape": [], "data_offsets": [32, 34]},
          "none": {"dtype": "F16", "shape": [3, 0], "data_offsets": [34, 34]},
          "first": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
          "__metadata__": {"a": "\\"b\\"\\n"}
        }\t\r\n
        """
        var data = f32Bytes([1.5, -3])
        for d in [2.5, -1e-3] as [Double] { withUnsafeBytes(of: d.bitPattern.littleEndian) { data += $0 } }
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, smallest subnormal 2⁻²⁴ = 0x0001, +inf = 0x7C00.
        data += [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C]
        data += [0x40, 0xC0]  // BF16 0xC040 = -3.0
        let file = try SafeTensors.decode(safetensorsBytes(header: header, data: data))
        #expect(file.names == ["first", "wéight😀", "half", "brain", "none"])
        #expect(file["first"]?.scalars == [1.5, -3])
        #expect(file["wéight😀"]?.scalars == [2.5, Float(-1e-3 as Double)])
        #expect(file["half"]?.scalars == [1, -2, 0x1p-24, .infinity])
        #expect(file["brain"]?.shape == [] && file["brain"]?.scalars == [-3])
        #expect(file["none"]?.shape == [3, 0])
        #expect(file.storedDTypes["wéight😀"] == .f64 && file.storedDTypes["half"] == .f16)
        #expect(file.metadata == ["a": "\"b\"\n"])
    }

    @Test func halfPrecisionConversionIsExactForEveryPattern() {
        // Compare with the rule value = (−1)^s · 2^(e−15) · (1 + m/1024), subnormals 2^−14 · m/1024.
        for bits in UInt16.min...UInt16.max {
            let s: Float = bits >> 15 == 1 ? -1 : 1
            let e = Int((bits >> 10) & 0x1F), m = Float(bits & 0x3FF)
            let got = SafeTensors.floatFromHalf(bits)
            if e == 31 {
                #expect(m == 0 ? got == s * .infinity : got.isNaN)
            } else if e == 0 {
                #expect(got == s * Float(sign: .plus, exponent: -14, significand: m / 1024))
            } else {
                #expect(got == s * Float(sign: .plus, exponent: e - 15, significand: 1 + m / 1024))
            }
        }
    }
}
