// CIFAR-10 and CIFAR-100 binary files (raw or gzip'd, as CIFAR.load reads them) through
// CIFAR.parse: whole records only, labels in range (CIFAR-100: the coarse label too).
import FuzzDriver
import FuzzSupport
import HighwayKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCIFAR(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzParser(data, size, expecting: DataError.self) { bytes in
        let raw = Gzip.isGzip(bytes) ? try Gzip.decompress(bytes, path: fuzzInputName, maxBytes: 1 << 26) : bytes
        // the first byte picks the variant, so both are fuzzed from one corpus
        let kind: DatasetKind = raw.first.map { $0 & 1 == 0 } ?? true ? .cifar10 : .cifar100
        let parsed = try CIFAR.parse(raw, kind: kind, path: fuzzInputName)
        return "\(kind.rawValue): \(parsed.labels.count) records"
    }
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's callback.
@_cdecl("FuzzCIFAR_main")
public func fuzzCIFARMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    hk_fuzz_main(argc, argv, fuzzCIFAR)
}
