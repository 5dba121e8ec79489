// Loading a checkpoint into a model: names and shapes must match exactly, every difference is
// reported at once, and a failed load changes nothing.
import Foundation
import Testing
import HighwayTensor
@testable import HighwayNN

@Suite struct StateDictTests {
    func model() throws -> [Parameter] {
        [
            Parameter(name: "input.weight", value: try Tensor(shape: [3, 2], values: [1, 2, 3, 4, 5, 6])),
            Parameter(name: "input.bias", value: try Tensor(shape: [3], values: [0.1, 0.2, 0.3])),
            Parameter(name: "layers.0.transform.weight", value: Tensor(shape: [3, 3], repeating: 0.5)),
            Parameter(name: "output.bias", value: Tensor(shape: [10], repeating: -1)),
        ]
    }

    @Test func saveThenLoadRestoresEveryParameterInPlace() throws {
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("checkpoint.safetensors")
            let source = try model()
            try StateDict.save(parameters: source, extra: [("optimizer.step.input.bias", Tensor(3))],
                               metadata: ["epoch": "4"], to: url)
            let target = try model()
            for p in target { p.value.fill(with: 9) }
            let before = target.map { $0.value }  // shares storage: an in-place load must leave `before` alone
            let file = try StateDict.load(from: url, into: target)
            #expect(file.metadata == ["epoch": "4"])
            #expect(file.names == source.map(\.name) + ["optimizer.step.input.bias"])
            for (s, t) in zip(source, target) { #expect(bitsEqual(s.value, t.value), "\(s.name)") }
            #expect(before.allSatisfy { $0.scalars.allSatisfy { $0 == 9 } })
        }
    }

    @Test func mismatchListsEveryDifferenceAndChangesNothing() throws {
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("checkpoint.safetensors")
            try SafeTensors.write([
                ("input.weight", Tensor(shape: [2, 3], repeating: 7)),       // transposed: [in, out]
                ("input.bias", Tensor(shape: [3], repeating: 7)),            // fine
                ("output.bias", Tensor(shape: [10], repeating: 7)),          // fine
                ("layers.1.transform.weight", Tensor(shape: [3, 3], repeating: 7)),  // model has layers.0
                ("extra.scale", Tensor(1)),
                ("optimizer.momentum.input.bias", Tensor(shape: [3], repeating: 0)),  // ignored by default
            ], to: url)
            let target = try model()
            let snapshot = target.map { $0.value.scalars }
            do {
                try StateDict.load(from: url, into: target)
                Issue.record("mismatched checkpoint loaded")
            } catch let error as CheckpointError {
                guard case let .stateMismatch(path, _, differences) = error else { Issue.record("\(error)"); return }
                #expect(path == url.path)
                #expect(differences == [
                    .shapeMismatch(name: "input.weight", checkpoint: [2, 3], model: [3, 2]),
                    .missing(name: "layers.0.transform.weight", shape: [3, 3]),
                    .unexpected(name: "extra.scale", shape: []),
                    .unexpected(name: "layers.1.transform.weight", shape: [3, 3]),
                ])
                let message = error.description
                for piece in ["4 differences", "input.weight", "[2, 3]", "[3, 2]", "missing \"layers.0.transform.weight\"",
                              "unexpected \"extra.scale\"", "unexpected \"layers.1.transform.weight\"", url.path] {
                    #expect(message.contains(piece), "\(piece) not in \(message)")
                }
            }
            // Nothing was loaded, not even the tensors that matched.
            #expect(target.map { $0.value.scalars } == snapshot)

            // Without ignoring the optimiser's entries, they are unexpected too.
            let file = try SafeTensors.read(url)
            let all = StateDict.differences(between: target, and: file.tensors, ignoringPrefixes: [])
            #expect(all.contains(.unexpected(name: "optimizer.momentum.input.bias", shape: [3])))
        }
    }

    @Test func duplicateParameterNamesAreReported() throws {
        let params = [Parameter(name: "w", value: Tensor(1)), Parameter(name: "w", value: Tensor(2))]
        let file = try SafeTensors.decode(try SafeTensors.encode([("w", Tensor(5))]))
        #expect(throws: CheckpointError.self) { try file.load(into: params) }
        #expect(StateDict.differences(between: params, and: file.tensors) == [.duplicateParameter(name: "w", count: 2)])
    }
}
