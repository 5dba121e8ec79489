// Tape: reverse-mode automatic differentiation over coarse, hand-differentiated ops.
//
// DESIGN.md decision 2: the tape only orders ops. Each op (a matmul, a whole fused highway layer)
// computes its forward output itself, then records its inputs, its output and one backward
// function. `backward(loss)` seeds d(loss) = 1 and walks the ops in reverse; each backward reads
// d(output) and ADDS (+=) into the gradients of its inputs, llm.c style, so a value used twice
// collects the sum of its uses.
//
// Buffers: the tape owns one gradient tensor per recorded value and keeps them across `reset()`,
// so a training loop that records the same graph every step reuses them (zeroed lazily, on the
// first write of each backward). A parameter's gradient is accumulated directly into
// `Parameter.grad`; the tape never copies a parameter's value, so an optimiser can update it in
// place without a copy-on-write.
//
// What it deliberately does not do: higher-order gradients, per-element closures, graph
// optimisation, or any use of the `_Differentiation` module.

/// A value recorded on a ``Tape``: a handle (an index), valid until the tape's next ``Tape/reset()``.
public struct Variable {
    /// The tape that recorded this value.
    public unowned let tape: Tape
    /// The index of this value on its tape.
    public let id: Int
    let generation: Int

    /// The recorded value.
    public var value: Tensor { tape.value(of: self) }
    /// The shape of the recorded value.
    public var shape: [Int] { value.shape }
}

/// A fused op whose backward pass is implemented by an object (typically the layer itself), for
/// code that records the same op every step and wants no closure allocated per step.
///
/// The object keeps whatever its forward saved; ``BackwardContext/tag`` tells apart several uses
/// of one object on the same tape (e.g. the time step of a recurrent cell).
public protocol TapeOperation: AnyObject {
    /// Adds d(loss)/d(input) into every input that needs it (see ``BackwardContext``).
    func backward(_ context: BackwardContext)
}

/// A recorder of ops for reverse-mode differentiation.
///
/// A training step:
/// ```swift
/// let tape = Tape()
/// for batch in batches {
///     tape.reset()                                   // keeps every buffer's capacity
///     let x = tape.constant(batch.inputs)            // [B, 784]
///     let w = tape.parameter(weight)                 // [50, 784]
///     let h = try tape.relu(tape.add(tape.matmul(x, w, transB: true), tape.parameter(bias)))
///     let loss = try tape.softmaxCrossEntropy(logits: h, labels: batch.labels)
///     try tape.backward(loss)                        // weight.grad, bias.grad += ...
///     optimizer.step()                               // then zeroGrad()
/// }
/// ```
///
/// A fused op is an ordinary function that computes its output and records one backward:
/// ```swift
/// /// y = a · tanh(x), as one op.
/// func scaledTanh(_ x: Variable, _ a: Float, on tape: Tape) -> Variable {
///     var y = x.value                                       // x, y are (N,)
///     y.withUnsafeMutableBufferPointer { p in
///         Kernels.tanh(p.baseAddress!, p.baseAddress!, count: p.count)
///         for i in p.indices { p[i] *= a }
///     }
///     return tape.record(inputs: [x], output: y) { ctx in
///         guard let dx = ctx.gradientBuffer(ofInput: 0) else { return }
///         let y = ctx.outputPointer, dy = ctx.outputGradientPointer
///         // y = a·tanh(x)  ⇒  dy/dx = a·(1 − tanh²) = a − y²/a
///         for i in 0..<ctx.output.count { dx[i] += dy[i] * (a - y[i] * y[i] / a) }
///     }
/// }
/// ```
public final class Tape {
    struct Node {
        var value: Tensor?          // nil for a parameter: read through `parameter` instead
        var parameter: Parameter?
        var needsGradient: Bool
        var hasGradient: Bool       // gradients[id] was zeroed in this backward pass
    }

    enum Backward {
        case closure((BackwardContext) -> Void)
        case operation(any TapeOperation)
    }

    struct Op {
        var inputStart: Int, inputCount: Int   // into `opInputs`
        var output: Int
        var tag: Int
        var backward: Backward
    }

    var nodes: [Node] = []
    var ops: [Op] = []
    var opInputs: [Int] = []
    /// One gradient buffer per node id, kept across `reset()` and reused when the shape repeats.
    var gradients: [Tensor] = []
    /// Bumped by `reset()`, so a stale `Variable` is caught instead of silently aliasing.
    public private(set) var generation = 0

    private static let emptyGradient = Tensor.zeros([0])

    public init() {}

    /// Forgets every recorded value and op, keeping array capacities and gradient buffers for the
    /// next step. Variables recorded before become invalid.
    public func reset() {
        nodes.removeAll(keepingCapacity: true)
        ops.removeAll(keepingCapacity: true)
        opInputs.removeAll(keepingCapacity: true)
        generation &+= 1
    }

    /// The number of ops recorded since the last reset (ops none of whose inputs need a gradient
    /// are not recorded).
    public var operationCount: Int { ops.count }

    // ---- leaves ----------------------------------------------------------------------------------

    private func addNode(_ node: Node) -> Variable {
        nodes.append(node)
        return Variable(tape: self, id: nodes.count - 1, generation: generation)
    }

    /// A value that needs no gradient (input data, targets).
    public func constant(_ value: Tensor) -> Variable {
        addNode(Node(value: value, parameter: nil, needsGradient: false, hasGradient: false))
    }

    /// A value whose gradient is wanted: after ``backward(_:)`` read it with ``gradient(of:)``.
    public func variable(_ value: Tensor) -> Variable {
        addNode(Node(value: value, parameter: nil, needsGradient: true, hasGradient: false))
    }

    /// A use of `parameter`: its gradient is added into `parameter.grad` by ``backward(_:)``.
    /// Registering the same parameter twice is fine; both uses add up.
    public func parameter(_ parameter: Parameter) -> Variable {
        addNode(Node(value: nil, parameter: parameter, needsGradient: true, hasGradient: false))
    }

    // ---- recording ops ---------------------------------------------------------------------------

    @inline(__always)
    func check(_ v: Variable) {
        precondition(v.tape === self && v.generation == generation,
                     "Tape: variable \(v.id) belongs to another tape or to a step before reset()")
    }

    func value(ofNode id: Int) -> Tensor {
        nodes[id].parameter?.value ?? nodes[id].value!
    }

    /// The value of `v`.
    public func value(of v: Variable) -> Tensor {
        check(v)
        return value(ofNode: v.id)
    }

    private func append(inputs: [Variable], output: Tensor, tag: Int, backward: Backward) -> Variable {
        var needs = false
        for v in inputs { check(v); needs = needs || nodes[v.id].needsGradient }
        let out = addNode(Node(value: output, parameter: nil, needsGradient: needs, hasGradient: false))
        // An op no gradient can flow through is not kept: its backward would have nothing to do.
        guard needs else { return out }
        ops.append(Op(inputStart: opInputs.count, inputCount: inputs.count, output: out.id, tag: tag, backward: backward))
        for v in inputs { opInputs.append(v.id) }
        return out
    }

    /// Records an op: its `inputs`, the `output` it already computed, and its backward function.
    ///
    /// `backward` is called once during ``backward(_:)`` when a gradient reached `output`; it must
    /// add (`+=`) d(loss)/d(input) into ``BackwardContext/gradientBuffer(ofInput:)`` for every
    /// input that needs one. Capture what the backward needs (saved activations) in the closure,
    /// or pass a small integer as `tag`; a closure capturing nothing allocates nothing.
    @discardableResult
    public func record(inputs: [Variable], output: Tensor, tag: Int = 0,
                       backward: @escaping (BackwardContext) -> Void) -> Variable {
        append(inputs: inputs, output: output, tag: tag, backward: .closure(backward))
    }

    /// Records an op whose backward is `operation.backward(_:)` (see ``TapeOperation``).
    @discardableResult
    public func record(_ operation: any TapeOperation, inputs: [Variable], output: Tensor, tag: Int = 0) -> Variable {
        append(inputs: inputs, output: output, tag: tag, backward: .operation(operation))
    }

    // ---- backward --------------------------------------------------------------------------------

    /// The gradient buffer of node `id`, zeroed on its first use in this backward pass.
    func gradientPointer(_ id: Int) -> UnsafeMutablePointer<Float> {
        if let p = nodes[id].parameter {
            if p.grad.shape != p.value.shape { p.grad = .zeros(p.value.shape) }
            p.grad.makeUnique()
            return p.grad.storage.base
        }
        if !nodes[id].hasGradient {
            let shape = value(ofNode: id).shape
            while gradients.count <= id { gradients.append(Tape.emptyGradient) }
            // Reuse last step's buffer when it has the same shape and nobody else holds it.
            if gradients[id].shape == shape && isKnownUniquelyReferenced(&gradients[id].storage) {
                gradients[id].storage.base.update(repeating: 0, count: gradients[id].count)
            } else {
                gradients[id] = .zeros(shape)
            }
            nodes[id].hasGradient = true
        }
        return gradients[id].storage.base
    }

    /// Back-propagates from a scalar `loss`: seeds d(loss) = 1, then runs every op's backward in
    /// reverse order. Parameter gradients add into `Parameter.grad`.
    /// - Throws: ``TensorError/invalidShape(op:shape:expected:)`` when `loss` has more than one element.
    public func backward(_ loss: Variable) throws {
        check(loss)
        let shape = value(ofNode: loss.id).shape
        guard shape.reduce(1, *) == 1 else {
            throw TensorError.invalidShape(op: "backward", shape: shape,
                                           expected: "a loss with one element; use backward(_:seed:) for others")
        }
        try backward(loss, seed: Tensor(shape: shape, repeating: 1))
    }

    /// Back-propagates from `output` with d(loss)/d(output) = `seed` (a vector–Jacobian product).
    /// - Throws: ``TensorError/shapeMismatch(op:lhs:rhs:expected:)`` when `seed` and `output` differ in shape.
    public func backward(_ output: Variable, seed: Tensor) throws {
        check(output)
        let shape = value(ofNode: output.id).shape
        guard seed.shape == shape else {
            throw TensorError.shapeMismatch(op: "backward", lhs: shape, rhs: seed.shape,
                                            expected: "a seed of the output's shape")
        }
        for i in nodes.indices { nodes[i].hasGradient = false }
        guard nodes[output.id].needsGradient else { return }
        let g = gradientPointer(output.id)
        for i in 0..<seed.count { g[i] += seed.storage.base[i] }
        var k = ops.count - 1
        while k >= 0 {
            let op = ops[k]
            k -= 1
            // No gradient reached this op's output (it does not feed `output`): nothing to do.
            guard op.output <= output.id, nodes[op.output].hasGradient else { continue }
            let ctx = BackwardContext(tape: self, tag: op.tag, inputStart: op.inputStart,
                                      inputCount: op.inputCount, outputID: op.output)
            switch op.backward {
            case .closure(let f): f(ctx)
            case .operation(let o): o.backward(ctx)
            }
        }
    }

    /// The gradient of `v` from the last ``backward(_:)``: `parameter.grad` for a parameter, nil
    /// when no gradient reached `v` (or it needs none).
    public func gradient(of v: Variable) -> Tensor? {
        check(v)
        if let p = nodes[v.id].parameter { return p.grad }
        return nodes[v.id].hasGradient ? gradients[v.id] : nil
    }
}

/// What an op's backward function sees: its inputs, its output, d(loss)/d(output), and the
/// gradient buffers of its inputs to add into.
///
/// Pointers are valid only during the backward call. Buffers are row-major with the shape of the
/// corresponding value.
public struct BackwardContext {
    unowned(unsafe) let tape: Tape
    /// The `tag` the op was recorded with.
    public let tag: Int
    let inputStart: Int
    /// The number of inputs the op was recorded with.
    public let inputCount: Int
    let outputID: Int

    @inline(__always)
    private func node(_ i: Int) -> Int {
        precondition(i >= 0 && i < inputCount, "BackwardContext: input \(i) of \(inputCount)")
        return tape.opInputs[inputStart + i]
    }

    /// The value of input `i`.
    public func input(_ i: Int) -> Tensor { tape.value(ofNode: node(i)) }
    /// The elements of input `i`.
    public func inputPointer(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(tape.value(ofNode: node(i)).storage.base) }
    /// The op's output, as recorded.
    public var output: Tensor { tape.value(ofNode: outputID) }
    /// The elements of the output.
    public var outputPointer: UnsafePointer<Float> { UnsafePointer(tape.nodes[outputID].value!.storage.base) }
    /// d(loss)/d(output), shaped like the output.
    public var outputGradient: Tensor { tape.gradients[outputID] }
    /// The elements of d(loss)/d(output).
    public var outputGradientPointer: UnsafePointer<Float> { UnsafePointer(tape.gradients[outputID].storage.base) }

    /// Whether input `i` wants a gradient (a constant does not).
    public func needsGradient(_ i: Int) -> Bool { tape.nodes[node(i)].needsGradient }

    /// The gradient buffer of input `i` to add (`+=`) into, or nil when input `i` needs none.
    /// It starts at zero in each backward pass; for a parameter it is `Parameter.grad` itself.
    public func gradientBuffer(ofInput i: Int) -> UnsafeMutablePointer<Float>? {
        let id = node(i)
        return tape.nodes[id].needsGradient ? tape.gradientPointer(id) : nil
    }
}
