import Foundation
import HighwayKernels
import HighwayTensor
import Testing

@Suite("Vectorised exp, tanh, sigmoid")
struct ElementwiseTests {
    /// A grid over the whole useful range plus the awkward values; an odd count exercises the tail.
    static let inputs: [Float] = {
        var xs: [Float] = stride(from: -100, through: 100, by: 0.0137).map { Float($0) }
        xs += [0, -0.0, 1e-30, -1e-30, 1e-8, -1e-8, 1e-4, 0.6249, 0.6251, 88.3, 88.4, -87.3, -87.4, 89, -104,
               .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        return xs
    }()

    private func check(_ name: String, _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, KernelVariant) -> Void,
                       reference: (Double) -> Double, relTol: Double, absTol: Double) {
        let xs = Self.inputs
        for variant in KernelVariant.supported {
            var ys = [Float](repeating: 0, count: xs.count)
            xs.withUnsafeBufferPointer { px in
                ys.withUnsafeMutableBufferPointer { py in kernel(px.baseAddress!, py.baseAddress!, xs.count, variant) }
            }
            var worst = 0.0, worstAt: Float = 0
            for (x, y) in zip(xs, ys) {
                let want = reference(Double(x))
                if want.isNaN { #expect(y.isNaN, "\(name)(\(x)) = \(y) on \(variant), want NaN"); continue }
                if want.isInfinite || Double(y).isInfinite {
                    #expect(Double(y) == want, "\(name)(\(x)) = \(y) on \(variant), want \(want)"); continue
                }
                let err = abs(Double(y) - want) / (absTol + relTol * abs(want))
                if err > worst { worst = err; worstAt = x }
            }
            #expect(worst <= 1, "\(name) on \(variant): error \(worst)× tolerance at x = \(worstAt)")
        }
    }

    @Test func exp() {
        check("exp", { Kernels.exp($0, $1, count: $2, variant: $3) },
              reference: { x in x < -87.33654 ? 0 : x > 88.37626 ? .infinity : Foundation.exp(x) },
              relTol: 3e-7, absTol: 1.2e-38)
    }

    @Test func tanh() {
        check("tanh", { Kernels.tanh($0, $1, count: $2, variant: $3) },
              reference: { Foundation.tanh($0) }, relTol: 4e-7, absTol: 1e-38)
    }

    @Test func sigmoid() {
        check("sigmoid", { Kernels.sigmoid($0, $1, count: $2, variant: $3) },
              reference: { 1 / (1 + Foundation.exp(-$0)) }, relTol: 4e-7, absTol: 1.3e-38)
    }

    @Test("output may alias input")
    func inPlace() {
        for variant in KernelVariant.supported {
            var xs: [Float] = [0, 1, -2, 3.5, 0.25]
            xs.withUnsafeMutableBufferPointer { p in Kernels.tanh(p.baseAddress!, p.baseAddress!, count: 5, variant: variant) }
            #expect(zip(xs, [0, 1, -2, 3.5, 0.25].map { Foundation.tanh($0) }).allSatisfy { abs($0 - Float($1)) < 1e-6 })
        }
    }
}
