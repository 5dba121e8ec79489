// What the experiments on a trained run (lesion, gates, depth sweep) refuse, with the reason.
import Foundation
import HighwayNN

public enum ExperimentError: Error, CustomStringConvertible, Equatable {
    /// The study needs a highway network and the run holds another kind.
    case notHighway(study: String, detail: String)
    /// An argument that cannot work with this run or data set.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .notHighway(study, detail): "\(study) needs a highway network: \(detail)"
        case let .invalidArgument(m): m
        }
    }

    /// The highway layers of the trainer's network, or an error naming the run and its kind.
    static func highwayLayers(of trainer: Trainer, study: String) throws -> [Highway] {
        let layers = trainer.network.highwayLayers
        guard !layers.isEmpty else {
            throw ExperimentError.notHighway(study: study, detail: "\(trainer.runDirectory.path) holds a \(trainer.config.network.kind) network")
        }
        return layers
    }
}
