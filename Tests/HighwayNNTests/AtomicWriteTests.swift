// Atomic writes: the target holds either the old file or the whole new one; temporary files never
// outlive a write; failures name the path.
import Foundation
import Testing
import HighwayTensor
@testable import HighwayNN

@Suite struct AtomicWriteTests {
    let oldTensors: [(name: String, tensor: Tensor)] = [("w", Tensor(shape: [2, 2], repeating: 1))]
    let newTensors: [(name: String, tensor: Tensor)] = [("w", Tensor(shape: [64, 64], repeating: 2)), ("b", Tensor(3))]

    func contents(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    @Test func missingDirectoryThrowsNamingThePath() throws {
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("no/such/dir/model.safetensors")
            do {
                try SafeTensors.write(oldTensors, to: url)
                Issue.record("wrote into a missing directory")
            } catch let error as CheckpointError {
                guard case .fileAccess = error else { Issue.record("\(error)"); return }
                #expect(error.description.contains(url.path))
                #expect(error.description.contains("does not exist"))
            }
            #expect(try contents(dir) == ["no"] || (try contents(dir)).isEmpty)
        }
    }

    @Test func successLeavesOnlyTheFileAndReplacesTheOldOne() throws {
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("model.safetensors")
            try SafeTensors.write(oldTensors, to: url)
            #expect(try contents(dir) == ["model.safetensors"])
            try SafeTensors.write(newTensors, metadata: ["v": "2"], to: url)
            #expect(try contents(dir) == ["model.safetensors"])
            let file = try SafeTensors.read(url)
            #expect(file.names == ["w", "b"] && file.metadata == ["v": "2"])
        }
    }

    @Test func failureJustBeforeTheRenameLeavesTheOldFileIntact() throws {
        struct Simulated: Error {}
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("model.safetensors")
            try SafeTensors.write(oldTensors, to: url)
            let before = try Data(contentsOf: url)
            var sawTemp = false
            #expect(throws: Simulated.self) {
                try SafeTensors.write(newTensors, metadata: [:], to: url) { temp in
                    // The whole new file is written and synced beside the old one…
                    sawTemp = temp.deletingLastPathComponent().path == dir.path
                        && (try? SafeTensors.read(temp))?.names == ["w", "b"]
                    throw Simulated()  // …and then the process "dies" before the rename.
                }
            }
            #expect(sawTemp)
            #expect(try Data(contentsOf: url) == before)
            #expect(try contents(dir) == ["model.safetensors"])
        }
    }

    @Test func rejectedTensorSetsLeaveTheOldFileIntact() throws {
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("model.safetensors")
            try SafeTensors.write(oldTensors, to: url)
            let before = try Data(contentsOf: url)
            for bad: [(name: String, tensor: Tensor)] in [
                [("a", Tensor(1)), ("b", Tensor(2)), ("a", Tensor(3))],
                [("__metadata__", Tensor(1))],
            ] {
                do {
                    try SafeTensors.write(bad, to: url)
                    Issue.record("wrote \(bad.map(\.name))")
                } catch let error as CheckpointError {
                    guard case .invalidTensorSet = error else { Issue.record("\(error)"); continue }
                    #expect(error.description.contains(url.path))
                }
                #expect(try Data(contentsOf: url) == before)
                #expect(try contents(dir) == ["model.safetensors"])
            }
        }
    }

    @Test func failedRenameRemovesTheTemporaryFile() throws {
        try withTemporaryDirectory { dir in
            // A directory where the file should go: the data is written, the rename then fails.
            let url = dir.appendingPathComponent("model.safetensors")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
            #expect(throws: CheckpointError.self) { try SafeTensors.write(oldTensors, to: url) }
            #expect(try contents(dir) == ["model.safetensors"])
        }
    }

    @Test func plainBytes() throws {
        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("summary.json")
            try AtomicFile.write(Array("{\"a\": 1}\n".utf8), to: url)
            try AtomicFile.write(Array("{\"a\": 2}\n".utf8), to: url)
            #expect(try String(contentsOf: url, encoding: .utf8) == "{\"a\": 2}\n")
            #expect(try contents(dir) == ["summary.json"])
        }
    }
}
