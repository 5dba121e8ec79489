// StateDict: a model's parameters ⇄ a checkpoint, by name, PyTorch `state_dict` style.
//
// Names are the parameters' own (`layers.3.transform.weight`, weight shape [out, in]), so a file
// written here loads in PyTorch with `model.load_state_dict(...)` after dropping the `optimizer.`
// entries. Loading is all-or-nothing: every difference (missing, unexpected, wrong shape) is
// collected and thrown in one error before any parameter is changed, so a failed load never
// leaves a half-loaded model behind.
import Foundation
import HighwayTensor

/// Saving and loading a model's ``Parameter``s by name.
///
/// ```swift
/// try StateDict.save(parameters: model.parameters, extra: optimizer.state(for: model.parameters),
///                    metadata: ["epoch": "3"], to: runDir.appendingPathComponent("checkpoint.safetensors"))
/// let file = try StateDict.load(from: url, into: model.parameters)   // throws listing every difference
/// try optimizer.loadState(from: file, for: model.parameters)
/// ```
public enum StateDict {
    /// The prefix of optimiser-state entries, which a model load skips by default.
    public static let optimizerPrefix = "optimizer."

    /// Writes `parameters` (in order, by name), then `extra` (e.g. optimiser state), atomically.
    /// - Throws: ``CheckpointError`` for a duplicate name or a file that cannot be written.
    public static func save(parameters: [Parameter], extra: [(name: String, tensor: Tensor)] = [],
                            metadata: [String: String] = [:], to url: URL) throws {
        try SafeTensors.write(parameters.map { ($0.name, $0.value) } + extra, metadata: metadata, to: url)
    }

    /// Reads the checkpoint at `url` and loads it into `parameters` (see
    /// ``SafeTensorsFile/load(into:ignoringPrefixes:)``); returns the file for its optimiser state
    /// and metadata.
    @discardableResult
    public static func load(from url: URL, into parameters: [Parameter],
                            ignoringPrefixes: [String] = [optimizerPrefix]) throws -> SafeTensorsFile {
        let file = try SafeTensors.read(url)
        try file.load(into: parameters, ignoringPrefixes: ignoringPrefixes)
        return file
    }

    /// Every difference between what `parameters` need and what `tensors` hold, in a stable order:
    /// the model's names first (in parameter order), then unexpected names (sorted).
    /// Names starting with one of `ignoringPrefixes` are not reported as unexpected.
    public static func differences(between parameters: [Parameter], and tensors: [String: Tensor],
                                   ignoringPrefixes: [String] = [optimizerPrefix]) -> [StateDictDifference] {
        var result: [StateDictDifference] = []
        var counts: [String: Int] = [:]
        for p in parameters { counts[p.name, default: 0] += 1 }
        var reported = Set<String>()
        for p in parameters {
            if let n = counts[p.name], n > 1 {
                if reported.insert(p.name).inserted { result.append(.duplicateParameter(name: p.name, count: n)) }
                continue
            }
            guard let t = tensors[p.name] else {
                result.append(.missing(name: p.name, shape: p.shape))
                continue
            }
            if t.shape != p.shape {
                result.append(.shapeMismatch(name: p.name, checkpoint: t.shape, model: p.shape))
            }
        }
        for name in tensors.keys.sorted() where counts[name] == nil {
            if ignoringPrefixes.contains(where: { name.hasPrefix($0) }) { continue }
            result.append(.unexpected(name: name, shape: tensors[name]!.shape))
        }
        return result
    }
}

extension SafeTensorsFile {
    /// Copies each tensor into the parameter of the same name (into its existing buffer, so
    /// anything holding the parameter keeps working), after checking that the names and shapes
    /// match exactly. Entries whose names start with one of `ignoringPrefixes` (by default the
    /// optimiser's) may be present without a matching parameter.
    /// - Throws: ``CheckpointError/stateMismatch(path:subject:differences:)`` listing every
    ///   difference; no parameter is changed when it throws.
    public func load(into parameters: [Parameter], ignoringPrefixes: [String] = [StateDict.optimizerPrefix]) throws {
        let differences = StateDict.differences(between: parameters, and: tensors, ignoringPrefixes: ignoringPrefixes)
        guard differences.isEmpty else {
            throw CheckpointError.stateMismatch(path: path, subject: "the model's parameters", differences: differences)
        }
        for p in parameters {
            copyValues(tensors[p.name]!, into: &p.value)
        }
    }
}

/// Copies `source` into `destination`'s buffer (same shape, checked by the caller).
func copyValues(_ source: Tensor, into destination: inout Tensor) {
    precondition(source.shape == destination.shape, "copyValues: shape \(source.shape) into \(destination.shape)")
    guard source.count > 0 else { return }
    source.withUnsafeBufferPointer { src in
        destination.withUnsafeMutableBufferPointer { dst in
            dst.baseAddress!.update(from: src.baseAddress!, count: src.count)
        }
    }
}
