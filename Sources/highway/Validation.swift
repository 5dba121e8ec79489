// Checks of command-line values that need the file system (data directories, run directories,
// output directories), run from each command's `validate()`: a value that cannot work is a
// one-line error with the fix and exit status 2, before any data is read or training starts.
import ArgumentParser
import Foundation
import HighwayKit

/// Runs `check`; any error it throws becomes a ValidationError with its message (plus `fix`).
func validating(fix: String? = nil, _ check: () throws -> Void) throws {
    do {
        try check()
    } catch let error as ValidationError {
        throw error
    } catch {
        throw ValidationError("\(error)" + (fix.map { "; \($0)" } ?? ""))
    }
}

/// The output directory `path` (of option `option`) exists or can be created, can be written, and
/// has `freeBytes` free.
func validateOutputDirectory(_ path: String, option: String, freeBytes: Int = 0) throws {
    try validating(fix: "choose another \(option)") {
        try checkWritableDirectory(URL(fileURLWithPath: path), create: true, freeBytes: freeBytes)
    }
}

/// `path` is the run directory of a `highway train` run.
func validateRunDirectory(_ path: String) throws {
    try validating { try Trainer.checkRunDirectory(URL(fileURLWithPath: path)) }
}

/// The data set of the run in `runDirectory` is found, in `data` when given, else where the run
/// was trained.
func validateRunData(_ runDirectory: String, data: String?) throws {
    try validating(fix: data == nil ? "give its directory with --data" : "or give the right directory with --data") {
        var config = try Trainer.configuration(of: URL(fileURLWithPath: runDirectory))
        if let data { config.dataDirectory = data }
        try config.checkDataFiles()
    }
}
