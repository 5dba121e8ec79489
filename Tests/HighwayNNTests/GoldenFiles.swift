import Foundation
import HighwayTensor
import Testing

/// Reading the golden files in Resources/ (written by Scripts/make_rnn_golden.py and
/// Scripts/make_grid_golden.py from PyTorch) and comparing against them.
enum Golden {
    /// The tensors of Resources/`file` by name ({"tensors": {name: {"shape", "values"}}}).
    static func tensors(_ file: String) throws -> [String: Tensor] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/" + file)
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let entries = try #require(doc?["tensors"] as? [String: [String: Any]], "\(url.path): no \"tensors\" object")
        return try entries.mapValues { e in
            let shape = try #require(e["shape"] as? [Int]), values = try #require(e["values"] as? [Double])
            return try Tensor(shape: shape, values: values.map { Float($0) })
        }
    }

    /// |ours − torch| ≤ 1e-5·max(|ours|, |torch|) + 1e-6 for every element.
    static func close(_ a: Tensor, _ b: Tensor?, _ what: String) {
        guard let b else { Issue.record("\(what): missing from the golden file"); return }
        #expect(a.shape == b.shape, "\(what): shape \(a.shape) vs \(b.shape)")
        guard a.shape == b.shape else { return }
        var worst = 0.0, at = 0
        for i in 0..<a.count {
            let x = Double(a[flat: i]), y = Double(b[flat: i])
            let err = abs(x - y) / (1e-5 * max(abs(x), abs(y)) + 1e-6)
            if !(err <= worst) { worst = err; at = i }
        }
        #expect(worst <= 1, "\(what): element \(at): ours \(a[flat: at]), PyTorch \(b[flat: at])")
    }
}
