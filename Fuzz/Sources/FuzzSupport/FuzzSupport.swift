// What every fuzz target checks: a parser given arbitrary bytes either accepts them or throws its
// own error type whose message names the input. Anything else — a trap, a sanitizer report, a
// hang (libFuzzer's -timeout), another error type, a message that does not name the file — is a
// finding: `fatalError` here makes libFuzzer save the input as a crash.
import Foundation

/// The name the fuzz targets give their input in place of a file path; every error must name it.
public let fuzzInputName = "fuzz-input.bin"

/// Set `FUZZ_VERBOSE=1` to print each input's outcome (to check that seeds reach the deep paths).
let verbose = ProcessInfo.processInfo.environment["FUZZ_VERBOSE"] == "1"

/// Runs `parse` on the `size` bytes at `data`; only errors of type `E` naming ``fuzzInputName``
/// are allowed. Returns 0, as `LLVMFuzzerTestOneInput` must.
@inline(never)
public func fuzzParser<E: Error & CustomStringConvertible>(
    _ data: UnsafePointer<UInt8>?, _ size: Int, expecting: E.Type, _ parse: ([UInt8]) throws -> String
) -> CInt {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let accepted = try parse(bytes)
        if verbose { print("accepted: \(accepted)") }
    } catch let error as E {
        let message = error.description
        if verbose { print("rejected: \(message)") }
        guard message.contains(fuzzInputName) else {
            fatalError("\(E.self) message does not name the input: \(message)")
        }
    } catch {
        fatalError("threw \(type(of: error)), expected \(E.self): \(error)")
    }
    return 0
}
