// safetensors files through SafeTensors.decode: every rule of the format (REFERENCE.md §5).
import FuzzDriver
import FuzzSupport
import HighwayKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzParser(data, size, expecting: CheckpointError.self) { bytes in
        let file = try SafeTensors.decode(bytes, path: fuzzInputName)
        return "\(file.names.count) tensors, metadata \(file.metadata.keys.sorted())"
    }
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's callback.
@_cdecl("FuzzSafeTensors_main")
public func fuzzSafeTensorsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    hk_fuzz_main(argc, argv, fuzzSafeTensors)
}
