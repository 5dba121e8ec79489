import Foundation
import HighwayData
import HighwayNN

/// Evaluates a run directory's checkpoint on a split and writes `evaluation.json` beside it.
public enum Evaluation {
    public struct Result: Codable, Sendable {
        public var split: String
        public var accuracy: Double
        public var loss: Double
        public var examples: Int
        public var checkpoint: String
        public var outputPath: String
    }

    public static func run(runDirectory: URL, dataDirectory: String?, split: String) throws -> Result {
        let trainer = try Trainer.reopening(runDirectory, dataDirectory: dataDirectory)
        let set = split == "train" ? trainer.data.train : trainer.data.test
        let (loss, accuracy) = trainer.evaluate(set)
        let out = runDirectory.appendingPathComponent("evaluation.json")
        let result = Result(split: split, accuracy: accuracy, loss: loss, examples: set.count,
                            checkpoint: trainer.checkpointURL.path, outputPath: out.path)
        try writeJSON(result, to: out)
        return result
    }
}
