import HighwayKernels
import HighwayTensor

/// A stacked LSTM over batch-first sequences, PyTorch's `nn.LSTM(batch_first=True)`:
///
/// ```
/// i = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi)      f = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)
/// g = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)   o = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho)
/// c_t = f·c_{t−1} + i·g                              h_t = o·tanh(c_t)
///
/// weight_ih_l{k}: [4·hidden, in_k]    rows in gate order i, f, g, o (in_0 = inputSize, else hidden)
/// weight_hh_l{k}: [4·hidden, hidden]
/// bias_ih_l{k}, bias_hh_l{k}: [4·hidden]
/// ```
/// Checkpoint names are `"<name>.weight_ih_l0"` and so on, PyTorch's `state_dict` names and
/// layouts, so a state dict loads either way. Initialisation as PyTorch: every weight and bias
/// U(−1/√hidden, 1/√hidden), drawn from `rng` in `state_dict` order.
///
/// Layer k > 0 reads layer k − 1's hidden states. Inputs: x (batch, steps, inputSize), optional
/// h0 and c0 (layers, batch, hidden; zeros when absent). Outputs: the top layer's hidden state at
/// every step (batch, steps, hidden) and the final h_n, c_n (layers, batch, hidden).
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let lstm = LSTM(name: "lstm", inputSize: 5, hiddenSize: 7, layers: 2, rng: &rng)
/// let (y, hn, cn) = try lstm(tape.constant(x))       // x: [3, 4, 5] → y: [3, 4, 7], hn, cn: [2, 3, 7]
/// ```
///
/// The fused pair ``forward(x:h0:c0:output:hn:cn:workspace:)`` /
/// ``backward(dOutput:dhn:dcn:dx:dh0:dc0:workspace:)`` runs on raw buffers and a preallocated
/// ``RecurrentWorkspace`` and allocates nothing; ``callAsFunction(_:h0:c0:)`` records the same pair
/// as one op on a ``Tape``. How the work is laid out (one GEMM for every step's input projection,
/// one per step for the recurrence, fused gate passes in C) is in `Recurrent.swift`.
public final class LSTM: RecurrentLayer {
    /// `name` prefixes the checkpoint names (`"lstm"` → `"lstm.weight_ih_l0"`; empty: no prefix).
    public init(name: String, inputSize: Int, hiddenSize: Int, layers: Int = 1, rng: inout SeededGenerator) {
        super.init(core: RecurrentCore(cell: .lstm, name: name, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, rng: &rng))
    }

    // x is (B, T, in); h0, c0 are (L, B, H) or nil for zeros; output is (B, T, H); hn, cn are
    // (L, B, H) or nil when not wanted. B and T are the workspace's. The workspace keeps the gates,
    // cell states and hidden states of every step for the backward.
    public func forward(x: UnsafePointer<Float>, h0: UnsafePointer<Float>? = nil, c0: UnsafePointer<Float>? = nil,
                        output: UnsafeMutablePointer<Float>, hn: UnsafeMutablePointer<Float>? = nil,
                        cn: UnsafeMutablePointer<Float>? = nil, workspace: RecurrentWorkspace) {
        core.forward(x: x, h0: h0, c0: c0, output: output, hn: hn, cn: cn, workspace: workspace)
    }

    /// Backward through time of the last forward on `workspace`. dOutput (B, T, H), dhn, dcn
    /// (L, B, H) are d(loss) of the outputs, nil where none arrives; dx (B, T, in), dh0, dc0
    /// (L, B, H) are added into when given, and so is every parameter's `grad`.
    public func backward(dOutput: UnsafePointer<Float>?, dhn: UnsafePointer<Float>? = nil, dcn: UnsafePointer<Float>? = nil,
                         dx: UnsafeMutablePointer<Float>?, dh0: UnsafeMutablePointer<Float>? = nil,
                         dc0: UnsafeMutablePointer<Float>? = nil, workspace: RecurrentWorkspace) {
        core.backward(dOutput: dOutput, dhn: dhn, dcn: dcn, dx: dx, dh0: dh0, dc0: dc0, workspace: workspace)
    }

    /// Records the stack as one op on `x`'s tape: x is (batch, steps, inputSize), h0 and c0
    /// (layers, batch, hidden). Returns the output (batch, steps, hidden) and h_n, c_n.
    /// - Throws: ``TensorError`` when a shape does not fit.
    public func callAsFunction(_ x: Variable, h0: Variable? = nil, c0: Variable? = nil) throws
        -> (output: Variable, hidden: Variable, cell: Variable) {
        let r = try core.record(x, h0: h0, c0: c0)
        return (r.output, r.hidden, r.cell!)
    }
}
