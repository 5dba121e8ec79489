// SGD and Adam against PyTorch's update rules, and save → load → identical next step.
import Foundation
import Testing
import HighwayTensor
@testable import HighwayNN

/// Expected parameter values after each of 4 steps, from a numpy float32 reimplementation of
/// torch.optim.SGD / torch.optim.Adam (torch 2.x single-tensor CPU path: lerp for exp_avg,
/// addcmul for exp_avg_sq, bias corrections in double), with the float32 hyperparameters widened
/// to double as Swift passes them. Generated once with numpy 2.4 by the script in the comment at
/// the end of this file; torch itself was not installed.
enum OptimizerGoldens {
    static let start: [Float] = [0.5, -1.25, 2.0, 0.0, 3.5, -0.75]
    static let grads: [[Float]] = [
        [0.1, -0.2, 0.3, -0.4, 0.5, 0.0],
        [-0.05, 0.25, 0.125, 1.5, -0.3, 0.2],
        [0.2, 0.2, -0.6, 0.01, 0.0, -1.0],
        [1.0, -0.5, 0.05, 0.3, -0.25, 0.7],
    ]
    // sgdPlain: SGD(0.1, 0, False, 0)
    static let sgdPlain: [[Float]] = [
        [0.49, -1.23, 1.97, 0.040000003, 3.45, -0.75],
        [0.495, -1.255, 1.9575, -0.11, 3.48, -0.77],
        [0.475, -1.275, 2.0175, -0.111, 3.48, -0.66999996],
        [0.375, -1.225, 2.0124998, -0.141, 3.505, -0.73999995],
    ]
    // sgdMomentum: SGD(0.1, 0.9, False, 0.01)
    static let sgdMomentum: [[Float]] = [
        [0.4895, -1.22875, 1.968, 0.040000003, 3.4465, -0.74925],
        [0.4845605, -1.2333963, 1.9247321, -0.074039996, 3.4249036, -0.7678257],
        [0.45963037, -1.2563446, 1.9438661, -0.17760195, 3.402042, -0.6837761],
        [0.33673364, -1.2257416, 1.9541429, -0.3006301, 3.4030643, -0.6774476],
    ]
    // sgdNesterov: SGD(0.05, 0.9, True, 0.001)
    static let sgdNesterov: [[Float]] = [
        [0.4904525, -1.2308812, 1.97131, 0.038, 3.4521675, -0.7499288],
        [0.49108565, -1.2463636, 1.9470167, -0.08830361, 3.4599478, -0.76882714],
        [0.4703809, -1.2679849, 1.9876815, -0.13541676, 3.4532766, -0.6817964],
        [0.36572403, -1.2308795, 1.9924287, -0.20585969, 3.4708502, -0.7149385],
    ]
    // adamDefault: Adam(lr, beta1, beta2, eps, wd) = (0.01, 0.9, 0.999, 1e-08, 0)
    static let adamDefault: [[Float]] = [
        [0.49, -1.24, 1.99, 0.01, 3.49, -0.75],
        [0.48733664, -1.2416273, 1.980952, 0.004535335, 3.488085, -0.75744134],
        [0.4807555, -1.2460802, 1.9832414, 0.00027005048, 3.4866047, -0.7523047],
        [0.47388762, -1.243637, 1.9846869, -0.004263911, 3.4877832, -0.7521261],
    ]
    // adamDecay: Adam(lr, beta1, beta2, eps, wd) = (0.02, 0.3, 0.99, 1e-06, 0.1)
    static let adamDecay: [[Float]] = [
        [0.48000014, -1.23, 1.98, 0.01999995, 3.48, -0.73000026],
        [0.47374797, -1.2318429, 1.9626936, 0.0006973464, 3.472237, -0.7453966],
        [0.45137948, -1.2378417, 1.9717734, -0.006113793, 3.460319, -0.7215439],
        [0.42234427, -1.2144518, 1.9655007, -0.013743734, 3.4533315, -0.72861075],
    ]
}

@Suite struct OptimizerTests {
    /// Runs `optimizer` for the 4 golden gradients and returns the values after each step.
    func run(_ optimizer: any Optimizer) throws -> [[Float]] {
        let p = Parameter(name: "layers.0.weight", value: try Tensor(shape: [2, 3], values: OptimizerGoldens.start))
        var out: [[Float]] = []
        for g in OptimizerGoldens.grads {
            p.grad = try Tensor(shape: [2, 3], values: g)
            optimizer.step([p])
            out.append(p.value.scalars)
        }
        return out
    }

    /// Distance in units in the last place (0 = identical).
    func ulps(_ a: Float, _ b: Float) -> Int {
        func key(_ x: Float) -> Int { let b = Int(Int32(bitPattern: x.bitPattern)); return b < 0 ? Int(Int32.min) - b : b }
        return abs(key(a) - key(b))
    }

    func expectClose(_ got: [[Float]], _ want: [[Float]], maxULPs: Int, _ what: String) {
        for (step, (g, w)) in zip(got, want).enumerated() {
            for (i, (x, y)) in zip(g, w).enumerated() {
                #expect(ulps(x, y) <= maxULPs, "\(what) step \(step + 1) element \(i): \(x) vs \(y)")
            }
        }
    }

    // The same float32 operations in the same order as the reference, so results agree to the
    // bit (0 ulps when written); 2 ulps are allowed in case a compiler contracts a multiply-add.
    @Test func sgdMatchesTorch() throws {
        expectClose(try run(SGD(learningRate: 0.1)), OptimizerGoldens.sgdPlain, maxULPs: 2, "plain")
        expectClose(try run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)),
                    OptimizerGoldens.sgdMomentum, maxULPs: 2, "momentum")
        expectClose(try run(SGD(learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.001)),
                    OptimizerGoldens.sgdNesterov, maxULPs: 2, "nesterov")
    }

    @Test func adamMatchesTorch() throws {
        expectClose(try run(Adam(learningRate: 0.01)), OptimizerGoldens.adamDefault, maxULPs: 2, "default")
        expectClose(try run(Adam(learningRate: 0.02, beta1: 0.3, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1)),
                    OptimizerGoldens.adamDecay, maxULPs: 2, "decay, beta1 < 0.5")
    }

    @Test func adamFirstStepMovesEachWeightByTheLearningRate() throws {
        // With ε → 0, step 1 is p − lr·sign(g): a hand check independent of the goldens.
        let p = Parameter(name: "w", value: try Tensor(shape: [3], values: [1, 1, 1]))
        p.grad = try Tensor(shape: [3], values: [0.5, -3, 1e-3])
        try Adam(learningRate: 0.1, epsilon: 0).step([p])
        #expect(zip(p.value.scalars, [0.9, 1.1, 0.9] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    func makeParameters(seed: UInt64) -> [Parameter] {
        var rng = SeededGenerator(seed: seed)
        return [
            Parameter(name: "input.weight", value: Tensor.normal(shape: [4, 3], std: 1, rng: &rng)),
            Parameter(name: "input.bias", value: Tensor.normal(shape: [4], std: 1, rng: &rng)),
            Parameter(name: "layers.3.transform.weight", value: Tensor.normal(shape: [4, 4], std: 1, rng: &rng)),
        ]
    }

    func setGradients(_ params: [Parameter], step: Int) {
        var rng = SeededGenerator(seed: 1000 + UInt64(step))
        for p in params { p.grad = Tensor.normal(shape: p.shape, std: 1, rng: &rng) }
    }

    /// Steps `a` 3 times, saves model + optimiser state to a file, loads both into fresh objects,
    /// then steps both twice more: the weights and states must agree to the bit.
    func checkResume(_ make: () throws -> any Optimizer, expectedKinds: [String]) throws {
        let params = makeParameters(seed: 3)
        let a = try make()
        for s in 0..<3 { setGradients(params, step: s); a.step(params) }
        let state = a.state(for: params)
        #expect(Set(state.map { String($0.name.split(separator: ".")[1]) }) == Set(expectedKinds))
        #expect(state.allSatisfy { entry in entry.name.hasPrefix("optimizer.") && params.contains { entry.name.hasSuffix("." + $0.name) } })

        try withTemporaryDirectory { dir in
            let url = dir.appendingPathComponent("checkpoint.safetensors")
            try StateDict.save(parameters: params, extra: state, to: url)
            let resumed = makeParameters(seed: 99)
            let file = try StateDict.load(from: url, into: resumed)
            let b = try make()
            try b.loadState(from: file, for: resumed)
            for s in 3..<5 {
                setGradients(params, step: s); a.step(params)
                setGradients(resumed, step: s); b.step(resumed)
            }
            for (p, q) in zip(params, resumed) { #expect(bitsEqual(p.value, q.value), "\(p.name)") }
            let sa = a.state(for: params), sb = b.state(for: resumed)
            #expect(sa.map(\.name) == sb.map(\.name))
            for (x, y) in zip(sa, sb) { #expect(bitsEqual(x.tensor, y.tensor), "\(x.name)") }
        }
    }

    @Test func sgdMomentumResumesBitExactly() throws {
        try checkResume({ try SGD(learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4) },
                        expectedKinds: ["momentum"])
        try checkResume({ try SGD(learningRate: 0.05) }, expectedKinds: [])
    }

    @Test func adamResumesBitExactly() throws {
        try checkResume({ try Adam(learningRate: 0.01, weightDecay: 1e-3) }, expectedKinds: ["exp_avg", "exp_avg_sq", "step"])
    }

    @Test func stateIsACopyNotALiveBuffer() throws {
        let params = makeParameters(seed: 5)
        let sgd = try SGD(learningRate: 0.1, momentum: 0.9)
        setGradients(params, step: 0); sgd.step(params)
        let saved = sgd.state(for: params)
        let snapshot = saved.map { $0.tensor.scalars }
        setGradients(params, step: 1); sgd.step(params)
        #expect(saved.map { $0.tensor.scalars } == snapshot)
    }

    @Test func mismatchedStateListsEveryDifferenceAndChangesNothing() throws {
        let params = makeParameters(seed: 6)
        let adam = try Adam()
        setGradients(params, step: 0); adam.step(params)
        var state = Dictionary(uniqueKeysWithValues: adam.state(for: params).map { ($0.name, $0.tensor) })
        state["optimizer.exp_avg_sq.input.bias"] = nil                              // partial
        state["optimizer.exp_avg.layers.3.transform.weight"] = Tensor.zeros([4])    // wrong shape
        state["optimizer.step.input.weight"] = Tensor(2.5)                          // not a whole step
        state["optimizer.momentum.input.weight"] = Tensor.zeros([4, 3])             // an SGD entry
        state["input.weight"] = Tensor.zeros([4, 3])                                // model weights: ignored
        let fresh = try Adam()
        do {
            try fresh.loadState(state, for: params)
            Issue.record("mismatched state loaded")
        } catch let error as CheckpointError {
            guard case let .stateMismatch(_, _, differences) = error else { Issue.record("\(error)"); return }
            #expect(differences == [
                .invalidValue(name: "optimizer.step.input.weight", found: "2.5", expected: "a whole number of steps in 1...16777216"),
                .missing(name: "optimizer.exp_avg_sq.input.bias", shape: [4]),
                .shapeMismatch(name: "optimizer.exp_avg.layers.3.transform.weight", checkpoint: [4], model: [4, 4]),
                .unexpected(name: "optimizer.momentum.input.weight", shape: [4, 3]),
            ])
        }
        #expect(fresh.state(for: params).isEmpty)
        // SGD state into Adam and the reverse are refused too.
        let sgd = try SGD(learningRate: 0.1, momentum: 0.5)
        sgd.step(params)
        #expect(throws: CheckpointError.self) {
            try Adam().loadState(Dictionary(uniqueKeysWithValues: sgd.state(for: params).map { ($0.name, $0.tensor) }), for: params)
        }
        #expect(throws: CheckpointError.self) {
            try SGD(learningRate: 0.1).loadState(Dictionary(uniqueKeysWithValues: sgd.state(for: params).map { ($0.name, $0.tensor) }), for: params)
        }
    }

    @Test func invalidHyperparametersThrow() {
        #expect(throws: OptimizerError.self) { try SGD(learningRate: -1) }
        #expect(throws: OptimizerError.self) { try SGD(learningRate: .nan) }
        #expect(throws: OptimizerError.self) { try SGD(learningRate: 0.1, nesterov: true) }
        #expect(throws: OptimizerError.self) { try SGD(learningRate: 0.1, weightDecay: -0.1) }
        #expect(throws: OptimizerError.self) { try Adam(beta1: 1) }
        #expect(throws: OptimizerError.self) { try Adam(beta2: -0.1) }
        #expect(throws: OptimizerError.self) { try Adam(epsilon: .infinity) }
        #expect(throws: Never.self) { try SGD(learningRate: 0, momentum: 0.9, nesterov: true) }
    }

    @Test func learningRateIsSettable() throws {
        let p = Parameter(name: "w", value: Tensor(1))
        p.grad = Tensor(1)
        let opt: any Optimizer = try SGD(learningRate: 0.1)
        opt.learningRate = 0.5
        opt.step([p])
        #expect(p.value.scalars == [0.5])
    }
}

// The golden generator (numpy, float32):
// # Reimplements torch.optim.SGD / torch.optim.Adam (single-tensor CPU path, torch 2.x source) in numpy
// # float32; hyperparameters are float32 values widened to double, as Swift passes them.
// import numpy as np
// f32 = np.float32
// def d(x): return float(f32(x))
// p0 = np.array([0.5, -1.25, 2.0, 0.0, 3.5, -0.75], dtype=f32)
// grads = np.array([
//   [0.1, -0.2, 0.3, -0.4, 0.5, 0.0],
//   [-0.05, 0.25, 0.125, 1.5, -0.3, 0.2],
//   [0.2, 0.2, -0.6, 0.01, 0.0, -1.0],
//   [1.0, -0.5, 0.05, 0.3, -0.25, 0.7]], dtype=f32)
// def fmt(a): return "[" + ", ".join(np.format_float_positional(f32(x), unique=True) for x in a) + "]"
// 
// def sgd(lr, mu, nesterov, wd):
//     p = p0.copy(); buf = None; out = []
//     for g in grads:
//         dp = g.copy()
//         if wd != 0: dp = dp + f32(d(wd)) * p
//         if mu != 0:
//             if buf is None: buf = dp.copy()
//             else: buf = buf * f32(d(mu)) + dp
//             dp = dp + f32(d(mu)) * buf if nesterov else buf
//         p = p + f32(-d(lr)) * dp
//         out.append(p.copy())
//     return out
// 
// def adam(lr, b1, b2, eps, wd):
//     lr, b1, b2, eps, wd = map(d, (lr, b1, b2, eps, wd))
//     p = p0.copy(); m = np.zeros_like(p); v = np.zeros_like(p); out = []
//     for t, g in enumerate(grads, 1):
//         if wd != 0: g = g + f32(wd) * p
//         w = f32(1 - b1)
//         m = m + w * (g - m) if abs(w) < 0.5 else g - (g - m) * (f32(1) - w)
//         v = v * f32(b2) + f32(1 - b2) * g * g
//         bc1 = 1 - b1 ** t; bc2 = 1 - b2 ** t
//         step_size = lr / bc1; bc2s = bc2 ** 0.5
//         denom = np.sqrt(v) / f32(bc2s) + f32(eps)
//         p = p + f32(-step_size) * (m / denom)
//         out.append(p.copy())
//     return out
// 
// for name, args in [("sgdPlain", (0.1, 0, False, 0)), ("sgdMomentum", (0.1, 0.9, False, 0.01)), ("sgdNesterov", (0.05, 0.9, True, 0.001))]:
//     print(f"    // {name}: SGD{args}")
//     print(f"    static let {name}: [[Float]] = [")
//     for r in sgd(*args): print("        " + fmt(r) + ",")
//     print("    ]")
// for name, args in [("adamDefault", (0.01, 0.9, 0.999, 1e-8, 0)), ("adamDecay", (0.02, 0.3, 0.99, 1e-6, 0.1))]:
//     print(f"    // {name}: Adam(lr, beta1, beta2, eps, wd) = {args}")
//     print(f"    static let {name}: [[Float]] = [")
//     for r in adam(*args): print("        " + fmt(r) + ",")
//     print("    ]")
