// GradientCheck: compares a tape's gradients with central finite differences.
//
// In the library (not the tests) so every later op and layer test reuses it. The scalar checked is
// L = Σ output · R for fixed random weights R, so every output element contributes with a
// different weight (a plain sum would hide, e.g., two swapped output columns). The tape computes
// dL/dx by back-propagating R as the seed; the numeric side perturbs each element by ±step and
// takes (L₊ − L₋) / (x₊ − x₋), with L accumulated in Double and the step measured after rounding
// to Float. Float32 forward passes limit the agreement to about 1e-3 absolute with step 1e-2;
// keep inputs of relu-like ops away from their kinks by more than the step.

/// Finite-difference verification of the gradients a ``Tape`` computes.
///
/// ```swift
/// let w = Parameter(name: "w", value: .normal(shape: [4, 3], rng: &rng))
/// let report = try GradientCheck.check(inputs: [x], parameters: [w]) { tape, v in
///     tape.tanh(try tape.matmul(v[0], tape.parameter(w), transB: true))
/// }
/// #expect(report.passed, "\(report)")
/// ```
public enum GradientCheck {
    /// The outcome of a check: the largest disagreement and where it was.
    public struct Report: CustomStringConvertible, Sendable {
        /// How many gradient elements were compared.
        public var checked = 0
        /// max |tape − numeric| over all elements.
        public var maxAbsoluteError = 0.0
        /// max |tape − numeric| / max(|tape|, |numeric|, absoluteTolerance) over all elements.
        public var maxRelativeError = 0.0
        /// The element furthest outside (or closest to) its tolerance, with both values.
        public var worst = "nothing checked"
        /// Whether every element met |tape − numeric| ≤ atol + rtol · max(|tape|, |numeric|).
        public var passed = true

        public var description: String {
            let verdict = passed ? "passed" : "FAILED"
            return "gradient check \(verdict): \(checked) elements, max abs error \(maxAbsoluteError), max rel error \(maxRelativeError); worst: \(worst)"
        }
    }

    /// Checks the gradients of `forward`'s output with respect to every element of `inputs` and of
    /// every parameter in `parameters`.
    ///
    /// `forward` receives a fresh tape and the inputs recorded on it, and must build the same graph
    /// every call (it is called twice per checked element); it registers the parameters itself with
    /// ``Tape/parameter(_:)``. The parameters' `grad` is zeroed and overwritten; their values are
    /// restored exactly.
    ///
    /// - Parameters:
    ///   - step: the finite-difference step; 1e-2 suits Float32 smooth ops (error ~ step²).
    ///   - absoluteTolerance, relativeTolerance: an element passes when
    ///     `|tape − numeric| ≤ absoluteTolerance + relativeTolerance · max(|tape|, |numeric|)`.
    ///   - seed: seeds the random output weights R.
    public static func check(
        inputs: [Tensor], parameters: [Parameter] = [], step: Float = 1e-2,
        absoluteTolerance: Double = 1e-3, relativeTolerance: Double = 1e-2, seed: UInt64 = 0x5EED,
        _ forward: (Tape, [Variable]) throws -> Variable
    ) throws -> Report {
        let tape = Tape()

        // Analytic: back-propagate R from the output.
        for p in parameters { p.zeroGrad() }
        let vars = inputs.map { tape.variable($0) }
        let out = try forward(tape, vars)
        var rng = SeededGenerator(seed: seed)
        let weights = Tensor.normal(shape: out.shape, rng: &rng)   // R, shaped like the output
        try tape.backward(out, seed: weights)
        let inputGrads = zip(vars, inputs).map { v, x in tape.gradient(of: v) ?? .zeros(x.shape) }
        let paramGrads = parameters.map(\.grad)
        tape.reset()

        // Numeric: L(x) = Σ output · R in Double, on a reset tape each time.
        func loss(_ xs: [Tensor]) throws -> Double {
            defer { tape.reset() }   // drop the tape's references, so perturbing in place does not copy
            let y = try forward(tape, xs.map { tape.constant($0) }).value
            precondition(y.shape == weights.shape, "GradientCheck: the output shape changed from \(weights.shape) to \(y.shape)")
            return y.withUnsafeBufferPointer { y in
                weights.withUnsafeBufferPointer { r in zip(y, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
            }
        }

        var report = Report()
        var worstRatio = -1.0
        func compare(_ analytic: Float, _ numeric: Double, _ what: @autoclosure () -> String) {
            let a = Double(analytic), err = abs(a - numeric), scale = max(abs(a), abs(numeric))
            let bound = absoluteTolerance + relativeTolerance * scale
            report.checked += 1
            report.maxAbsoluteError = max(report.maxAbsoluteError, err)
            report.maxRelativeError = max(report.maxRelativeError, err / max(scale, absoluteTolerance))
            if !(err <= bound) { report.passed = false }   // also fails on NaN
            let ratio = err.isNaN ? .infinity : err / bound
            if ratio > worstRatio {
                worstRatio = ratio
                report.worst = "\(what()): tape \(a), numeric \(numeric)"
            }
        }

        var xs = inputs
        for i in xs.indices {
            for e in 0..<xs[i].count {
                let x0 = xs[i][flat: e], xp = x0 + step, xm = x0 - step
                xs[i][flat: e] = xp; let lp = try loss(xs)
                xs[i][flat: e] = xm; let lm = try loss(xs)
                xs[i][flat: e] = x0
                compare(inputGrads[i][flat: e], (lp - lm) / (Double(xp) - Double(xm)),
                        "input \(i) \(xs[i].shape) element \(e)")
            }
        }
        for (pi, p) in parameters.enumerated() {
            for e in 0..<p.value.count {
                let x0 = p.value[flat: e], xp = x0 + step, xm = x0 - step
                p.value[flat: e] = xp; let lp = try loss(xs)
                p.value[flat: e] = xm; let lm = try loss(xs)
                p.value[flat: e] = x0
                compare(paramGrads[pi][flat: e], (lp - lm) / (Double(xp) - Double(xm)),
                        "parameter \(p.name) \(p.shape) element \(e)")
            }
        }
        return report
    }
}
