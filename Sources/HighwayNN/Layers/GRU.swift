import HighwayKernels
import HighwayTensor

/// A stacked GRU over batch-first sequences, PyTorch's `nn.GRU(batch_first=True)`:
///
/// ```
/// r = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)
/// z = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)
/// n = tanh(W_in x_t + b_in + r·(W_hn h_{t−1} + b_hn))      (r gates the recurrent part, as PyTorch)
/// h_t = (1 − z)·n + z·h_{t−1}
///
/// weight_ih_l{k}: [3·hidden, in_k]    rows in gate order r, z, n (in_0 = inputSize, else hidden)
/// weight_hh_l{k}: [3·hidden, hidden]
/// bias_ih_l{k}, bias_hh_l{k}: [3·hidden]
/// ```
/// Checkpoint names are `"<name>.weight_ih_l0"` and so on, PyTorch's `state_dict` names and
/// layouts. Initialisation as PyTorch: every weight and bias U(−1/√hidden, 1/√hidden), drawn from
/// `rng` in `state_dict` order.
///
/// Inputs: x (batch, steps, inputSize), optional h0 (layers, batch, hidden; zeros when absent).
/// Outputs: the top layer's hidden state at every step (batch, steps, hidden) and the final h_n
/// (layers, batch, hidden). Drop the input x_t, the output and the reset gate and read t as depth:
/// what remains is a highway layer (see `Highway`).
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let gru = GRU(name: "gru", inputSize: 5, hiddenSize: 7, rng: &rng)
/// let (y, hn) = try gru(tape.constant(x))            // x: [3, 4, 5] → y: [3, 4, 7], hn: [1, 3, 7]
/// ```
///
/// The fused pair ``forward(x:h0:output:hn:workspace:)`` / ``backward(dOutput:dhn:dx:dh0:workspace:)``
/// runs on raw buffers and a preallocated ``RecurrentWorkspace`` and allocates nothing;
/// ``callAsFunction(_:h0:)`` records the same pair as one op on a ``Tape``. The layout of the work
/// is in `Recurrent.swift`.
public final class GRU: RecurrentLayer {
    /// `name` prefixes the checkpoint names (`"gru"` → `"gru.weight_ih_l0"`; empty: no prefix).
    public init(name: String, inputSize: Int, hiddenSize: Int, layers: Int = 1, rng: inout SeededGenerator) {
        super.init(core: RecurrentCore(cell: .gru, name: name, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, rng: &rng))
    }

    // x is (B, T, in); h0 is (L, B, H) or nil for zeros; output is (B, T, H); hn is (L, B, H) or
    // nil. B and T are the workspace's, which keeps the gates r, z, n, the recurrent part of n and
    // the hidden states of every step for the backward.
    public func forward(x: UnsafePointer<Float>, h0: UnsafePointer<Float>? = nil, output: UnsafeMutablePointer<Float>,
                        hn: UnsafeMutablePointer<Float>? = nil, workspace: RecurrentWorkspace) {
        core.forward(x: x, h0: h0, c0: nil, output: output, hn: hn, cn: nil, workspace: workspace)
    }

    /// Backward through time of the last forward on `workspace`. dOutput (B, T, H), dhn (L, B, H)
    /// are d(loss) of the outputs, nil where none arrives; dx (B, T, in) and dh0 (L, B, H) are added
    /// into when given, and so is every parameter's `grad`.
    public func backward(dOutput: UnsafePointer<Float>?, dhn: UnsafePointer<Float>? = nil,
                         dx: UnsafeMutablePointer<Float>?, dh0: UnsafeMutablePointer<Float>? = nil,
                         workspace: RecurrentWorkspace) {
        core.backward(dOutput: dOutput, dhn: dhn, dcn: nil, dx: dx, dh0: dh0, dc0: nil, workspace: workspace)
    }

    /// Records the stack as one op on `x`'s tape: x is (batch, steps, inputSize), h0
    /// (layers, batch, hidden). Returns the output (batch, steps, hidden) and h_n.
    /// - Throws: ``TensorError`` when a shape does not fit.
    public func callAsFunction(_ x: Variable, h0: Variable? = nil) throws -> (output: Variable, hidden: Variable) {
        let r = try core.record(x, h0: h0, c0: nil)
        return (r.output, r.hidden)
    }
}
