// Checkpoints loaded into a model: SafeTensors.decode, then the weights into a small highway
// network (names and shapes must match) and the optimiser state into Adam and SGD.
//
// The model (Fuzz/make-seeds.py writes matching seeds): highway, 4 inputs → width 3, depth 3
// (input + 2 highway layers), 2 classes.
import FuzzDriver
import FuzzSupport
import HighwayKit

let network = FeedForwardNetwork(
    config: NetworkConfig(kind: .highway, inputSize: 4, classes: 2, depth: 3, width: 3), seed: 1)
let adam = try! Adam(learningRate: 0.001)
let sgd = try! SGD(learningRate: 0.1, momentum: 0.9)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzParser(data, size, expecting: CheckpointError.self) { bytes in
        let file = try SafeTensors.decode(bytes, path: fuzzInputName)
        try file.load(into: network.parameters)
        do {
            try adam.loadState(from: file, for: network.parameters)
            return "weights and Adam state"
        } catch let adamError as CheckpointError {
            // not Adam's state: SGD's, or none (both must say why, naming the file)
            guard adamError.description.contains(fuzzInputName) else { fatalError("Adam: \(adamError)") }
            try sgd.loadState(from: file, for: network.parameters)
            return "weights and SGD state (Adam: \(adamError.description.prefix(60))…)"
        }
    }
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver with this target's callback.
@_cdecl("FuzzCheckpoint_main")
public func fuzzCheckpointMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    hk_fuzz_main(argc, argv, fuzzCheckpoint)
}
