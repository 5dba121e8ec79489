// IDX files (raw or gzip'd) as MNISTFamily reads them: parsed, then validated as an images or a
// labels file of a split (ranks, counts, labels in 0..<10).
import FuzzDriver
import FuzzSupport
import HighwayKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzParser(data, size, expecting: DataError.self) { bytes in
        let idx = try IDX.decode(bytes, path: fuzzInputName, maxBytes: 1 << 26)
        // pair it with a well-formed partner of the same count, as the loader would
        let n = idx.dims[0]
        if idx.dims.count == 1 {
            let images = try IDX.parse([0, 0, 8, 3] + be32(n) + be32(1) + be32(1) + [UInt8](repeating: 0, count: n), path: "images")
            let split = try MNISTFamily.split(images: images, imagesPath: "images", labels: idx, labelsPath: fuzzInputName, name: "fuzz")
            return "labels, \(split.count) examples"
        }
        let labels = try IDX.parse([0, 0, 8, 1] + be32(n) + [UInt8](repeating: 0, count: n), path: "labels")
        let split = try MNISTFamily.split(images: idx, imagesPath: fuzzInputName, labels: labels, labelsPath: "labels", name: "fuzz")
        return "images \(split.imageShape), \(split.count) examples"
    }
}

func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's callback.
@_cdecl("FuzzIDX_main")
public func fuzzIDXMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    hk_fuzz_main(argc, argv, fuzzIDX)
}
