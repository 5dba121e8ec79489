// What `highway forecast` and the Grid LSTM tasks share to stop a run and continue it bit-exactly
// (`highway train` keeps its own checkpoint layout, Trainer.swift, whose files already exist):
// the SIGINT handler that asks a loop to stop at its next step boundary, a generator's state as
// JSON-safe text, and a resumable checkpoint: weights, optimiser state and extra tensors in one
// safetensors file written atomically, with the run's position (any Codable) as JSON in its metadata.
import Foundation
import HighwayNN
import HighwayTensor

/// Runs `body` with a SIGINT handler that sets `interruptRequested` (the loop checks it between
/// steps, saves, and throws), then puts the previous handler back. Nested calls keep the outer
/// handler and its request: a task of several models holds it across them, so a Ctrl-C between
/// two models' loops (during a final measurement) stops the next one instead of killing the process.
/// (Models trained side by side nest theirs from several threads at once: the depth is locked.)
func withInterruptHandler<T>(_ body: () throws -> T) rethrows -> T {
    interruptHandlerLock.lock()
    let outer = interruptHandlerDepth == 0
    interruptHandlerDepth += 1
    let previous = outer ? signal(SIGINT) { _ in interruptRequested = 1 } : nil
    if outer { interruptRequested = 0 }
    interruptHandlerLock.unlock()
    defer {
        interruptHandlerLock.lock()
        interruptHandlerDepth -= 1
        if outer { signal(SIGINT, previous) }
        interruptHandlerLock.unlock()
    }
    return try body()
}

/// How many `withInterruptHandler` calls are running.
nonisolated(unsafe) private var interruptHandlerDepth = 0
private let interruptHandlerLock = NSLock()

extension SeededGenerator {
    /// ``state`` as hexadecimal words joined by commas: JSON numbers lose the bits above 2⁵³.
    var stateText: String { state.map { String($0, radix: 16) }.joined(separator: ",") }

    /// The generator saved as ``stateText``; nil for text that is not one.
    init?(stateText: String) {
        let words = stateText.split(separator: ",").compactMap { UInt64($0, radix: 16) }
        guard words.count == stateText.split(separator: ",").count else { return nil }
        self.init(state: words)
    }
}

/// A checkpoint a run continues from: the parameters under their own names, the optimiser's state
/// under `optimizer.*`, any extra tensors (e.g. `best.*`), and in the metadata `format`,
/// `position` (the loop's position as JSON) and `config` (the settings, to refuse another run's file).
enum ResumeCheckpoint {
    /// JSON that round-trips every Double bit for bit (shortest round-trip text) and keeps NaN.
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return d
    }()

    static func save<Position: Encodable>(to url: URL, format: String, parameters: [Parameter], optimizer: any Optimizer,
                                          extra: [(name: String, tensor: Tensor)] = [], position: Position, config: String) throws {
        let positionJSON = String(decoding: try encoder.encode(position), as: UTF8.self)
        try StateDict.save(parameters: parameters, extra: optimizer.state(for: parameters) + extra,
                           metadata: ["format": format, "position": positionJSON, "config": config], to: url)
    }

    /// Reads the checkpoint at `url`, checks its format and settings, loads the parameters and the
    /// optimiser's state (all or nothing each) and returns the file and the position. The file's
    /// settings must equal `config`, or satisfy `sameSettings` where one is given.
    /// - Throws: ``CheckpointError`` for a broken file, ``ResumeError`` for another run's file; both name `url`.
    static func load<Position: Decodable>(from url: URL, format: String, config: String, sameSettings: ((String) -> Bool)? = nil,
                                          parameters: [Parameter], optimizer: any Optimizer, extraPrefixes: [String] = [],
                                          as: Position.Type) throws -> (file: SafeTensorsFile, position: Position) {
        let file = try SafeTensors.read(url)
        guard file.metadata["format"] == format else {
            throw ResumeError(path: url.path, reason: "its format is \(file.metadata["format"].map { "'\($0)'" } ?? "not given"), expected '\(format)' (a checkpoint of another command?)")
        }
        guard let saved = file.metadata["config"], sameSettings?(saved) ?? (saved == config) else {
            throw ResumeError(path: url.path, reason: "it was written with other settings than this run's config.json")
        }
        guard let text = file.metadata["position"],
              let position = try? decoder.decode(Position.self, from: Data(text.utf8)) else {
            throw ResumeError(path: url.path, reason: "its metadata has no readable run position")
        }
        try file.load(into: parameters, ignoringPrefixes: [StateDict.optimizerPrefix] + extraPrefixes)
        try optimizer.loadState(from: file, for: parameters)
        return (file, position)
    }
}

/// A checkpoint or run directory that cannot be continued, with the reason.
public struct ResumeError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public var description: String { "cannot resume from \(path): \(reason)" }
}
