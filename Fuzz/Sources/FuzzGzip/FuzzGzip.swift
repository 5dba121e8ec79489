// Gzip streams (one or more members, truncated, corrupt, bombs) through Gzip.decompress.
import FuzzDriver
import FuzzSupport
import HighwayKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzParser(data, size, expecting: DataError.self) { bytes in
        let out = try Gzip.decompress(bytes, path: fuzzInputName, maxBytes: 1 << 24)
        return "\(out.count) bytes"
    }
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's callback.
@_cdecl("FuzzGzip_main")
public func fuzzGzipMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    hk_fuzz_main(argc, argv, fuzzGzip)
}
