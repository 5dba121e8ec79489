// The ops LSTNet adds to the tape: L1 and squared-error losses with a per-series scale, and the
// skip-RNN's interleaved sub-sequences. Gradient checks plus hand-computed values.
import Testing
import HighwayTensor

@Suite struct ForecastOpsTests {
    @Test func lossValuesByHand() throws {
        let tape = Tape()
        let p = tape.variable(try Tensor(shape: [2, 2], values: [1, 2, 3, 4]))
        let y = try Tensor(shape: [2, 2], values: [0, 4, 3, 1])
        let s = try Tensor(shape: [2], values: [2, 10])
        // d = s·(p − y) = [2, −20, 0, 30]
        #expect(try tape.l1Loss(p, y, scale: s, reduction: .sum).value[flat: 0] == 52)
        #expect(try tape.l1Loss(p, y, scale: s, reduction: .mean).value[flat: 0] == 13)
        #expect(try tape.mseLoss(p, y, scale: s, reduction: .sum).value[flat: 0] == 4 + 400 + 900)
        #expect(try tape.mseLoss(p, y, reduction: .mean).value[flat: 0] == (1 + 4 + 0 + 9) / 4)
        #expect(throws: TensorError.self) { _ = try tape.l1Loss(p, Tensor.zeros([4])) }
        #expect(throws: TensorError.self) { _ = try tape.l1Loss(p, y, scale: Tensor.zeros([3])) }
    }

    @Test(arguments: [LossReduction.sum, .mean])
    func lossGradients(reduction: LossReduction) throws {
        for shape in [[1, 1], [3, 7], [2, 3, 5]] {
            let p = randomTensor(shape, seed: 1)
            var y = p
            // keep |p − y| ≥ 0.1 so the finite difference never crosses L1's kink
            let noise = randomTensor(shape, seed: 2)
            y.withUnsafeMutableBufferPointer { yp in
                for i in yp.indices { yp[i] -= noise[flat: i] >= 0 ? noise[flat: i] + 0.1 : noise[flat: i] - 0.1 }
            }
            let scale = randomTensor([shape.last!], seed: 3)
            try expectGradients(inputs: [p]) { tape, v in try tape.l1Loss(v[0], y, scale: scale, reduction: reduction) }
            try expectGradients(inputs: [p]) { tape, v in try tape.mseLoss(v[0], y, scale: scale, reduction: reduction) }
            try expectGradients(inputs: [p]) { tape, v in try tape.mseLoss(v[0], y, reduction: reduction) }
        }
    }

    @Test func skipSequencesLayout() throws {
        // x (1, 7, 1) = 0…6; period 2, 3 steps: the last 6 steps 1…6 → j = 0: 1, 3, 5; j = 1: 2, 4, 6
        let tape = Tape()
        let x = tape.variable(try Tensor(shape: [1, 7, 1], values: (0..<7).map(Float.init)))
        let s = try tape.skipSequences(x, period: 2, steps: 3)
        #expect(s.shape == [2, 3, 1])
        #expect(s.value.scalars == [1, 3, 5, 2, 4, 6])
        #expect(throws: TensorError.self) { _ = try tape.skipSequences(x, period: 4, steps: 2) }
        #expect(throws: TensorError.self) { _ = try tape.skipSequences(x, period: 0, steps: 2) }
    }

    @Test func skipSequencesGradient() throws {
        for (b, t, c, period, steps) in [(1, 1, 1, 1, 1), (2, 9, 3, 4, 2), (3, 7, 2, 2, 3), (2, 6, 1, 6, 1)] {
            try expectGradients(inputs: [randomTensor([b, t, c], seed: 5)]) { tape, v in
                try tape.skipSequences(v[0], period: period, steps: steps)
            }
        }
    }

    @Test func timeStepValuesAndGradient() throws {
        let tape = Tape()
        let x = tape.variable(try Tensor(shape: [2, 3, 2], values: (0..<12).map(Float.init)))
        #expect(try tape.timeStep(x, -1).value.scalars == [4, 5, 10, 11])
        #expect(try tape.timeStep(x, 0).value.scalars == [0, 1, 6, 7])
        #expect(throws: TensorError.self) { _ = try tape.timeStep(x, 3) }
        for i in [0, 2, -1] {
            try expectGradients(inputs: [randomTensor([3, 4, 2], seed: 9)]) { tape, v in try tape.timeStep(v[0], i) }
        }
    }
}
