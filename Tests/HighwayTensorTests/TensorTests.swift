// Tensor: construction, shape manipulation, arithmetic, matmul, shape errors and copy-on-write.
import Testing
import HighwayTensor

@Suite struct TensorTests {
    @Test func constructionAndAccess() throws {
        let t = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        #expect(t.shape == [2, 3] && t.count == 6 && t.rank == 2)
        #expect(t[1, 2] == 6 && t[0, 1] == 2 && t[flat: 4] == 5)
        #expect(Tensor.zeros([4]).scalars == [0, 0, 0, 0])
        #expect(Tensor(shape: [2], repeating: 3).scalars == [3, 3])
        #expect(Tensor(7).shape == [] && Tensor(7).count == 1)
        #expect(Tensor.zeros([3, 0]).count == 0)
    }

    @Test func countMismatchNamesTheShape() {
        #expect(throws: TensorError.countMismatch(op: "Tensor(shape:values:)", shape: [2, 3], count: 5)) {
            _ = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5])
        }
        let message = "\(TensorError.countMismatch(op: "Tensor(shape:values:)", shape: [2, 3], count: 5))"
        #expect(message.contains("[2, 3]") && message.contains("5 values") && message.contains("6"))
    }

    @Test func reshape() throws {
        let t = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let r = try t.reshaped([3, -1])
        #expect(r.shape == [3, 2] && r.scalars == t.scalars)
        #expect(try t.reshaped([-1]).shape == [6])
        #expect(throws: TensorError.self) { _ = try t.reshaped([4, 2]) }
        #expect(throws: TensorError.self) { _ = try t.reshaped([-1, -1]) }
        #expect(throws: TensorError.self) { _ = try t.reshaped([4, -1]) }
        do {
            _ = try t.reshaped([4, 2])
        } catch {
            #expect("\(error)".contains("[2, 3]") && "\(error)".contains("[4, 2]"))
        }
    }

    @Test func transposeLastTwo() throws {
        let t = try Tensor(shape: [2, 2, 3], values: (0..<12).map(Float.init))
        let tt = try t.transposedLastTwo()
        #expect(tt.shape == [2, 3, 2])
        for b in 0..<2 { for i in 0..<2 { for j in 0..<3 { #expect(tt[b, j, i] == t[b, i, j]) } } }
        #expect(try tt.transposedLastTwo() == t)
        #expect(throws: TensorError.self) { _ = try Tensor.zeros([5]).transposedLastTwo() }
    }

    @Test func sliceRows() throws {
        let t = try Tensor(shape: [4, 2], values: (0..<8).map(Float.init))
        let s = try t.slice(rows: 1..<3)
        #expect(s.shape == [2, 2] && s.scalars == [2, 3, 4, 5])
        #expect(try t.slice(rows: 4..<4).shape == [0, 2])
        #expect(throws: TensorError.outOfRange(op: "slice(rows:)", range: 3..<5, bound: 4)) {
            _ = try t.slice(rows: 3..<5)
        }
    }

    @Test func concatAndSplitAreInverse() throws {
        let a = randomTensor([2, 3, 1], seed: 1), b = randomTensor([2, 3, 4], seed: 2), c = randomTensor([2, 3, 2], seed: 3)
        let joined = try Tensor.concatenated(alongLastAxis: [a, b, c])
        #expect(joined.shape == [2, 3, 7])
        #expect(joined[1, 2, 0] == a[1, 2, 0] && joined[1, 2, 1] == b[1, 2, 0] && joined[0, 1, 6] == c[0, 1, 1])
        let parts = try joined.split(lastAxisSizes: [1, 4, 2])
        #expect(parts == [a, b, c])
        do {
            _ = try Tensor.concatenated(alongLastAxis: [a, randomTensor([3, 3, 1], seed: 4)])
            Issue.record("expected a shape error")
        } catch {
            #expect("\(error)".contains("[2, 3, 1]") && "\(error)".contains("[3, 3, 1]") && "\(error)".hasPrefix("concat"))
        }
        #expect(throws: TensorError.self) { _ = try joined.split(lastAxisSizes: [3, 3]) }
    }

    @Test func elementwiseWithBroadcasting() throws {
        let x = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3], values: [10, 20, 30])
        #expect((x + b).scalars == [11, 22, 33, 14, 25, 36])
        #expect((b - x).scalars == [9, 18, 27, 6, 15, 24])
        #expect((x * b).scalars == [10, 40, 90, 40, 100, 180])
        #expect((x * x).scalars == [1, 4, 9, 16, 25, 36])
        #expect((x + Tensor(1)).scalars == [2, 3, 4, 5, 6, 7])
        #expect((x * 2).scalars == [2, 4, 6, 8, 10, 12])
        var y = x
        y += b
        #expect(y == x + b)
        #expect(x.sum() == 21 && x.mean() == 3.5)
        #expect(throws: TensorError.shapeMismatch(op: "add", lhs: [2, 3], rhs: [2], expected: "equal shapes, or one shape a suffix of the other (bias broadcasting)")) {
            _ = try x.adding(Tensor.zeros([2]))
        }
        #expect(throws: TensorError.self) { _ = try x.multiplying(Tensor.zeros([3, 2])) }
        #expect(try x.subtracting(b) == x - b)
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulMatchesNaive(transA: Bool, transB: Bool) throws {
        for (m, k, n) in [(1, 1, 1), (3, 7, 5), (5, 1, 4), (13, 17, 33), (64, 50, 10)] {
            let a = randomTensor(transA ? [k, m] : [m, k], seed: 10), b = randomTensor(transB ? [n, k] : [k, n], seed: 11)
            let c = try a.matmul(b, transA: transA, transB: transB)
            #expect(c.shape == [m, n])
            #expect(maxDifference(c, naiveMatmul(a, b, transA: transA, transB: transB)) < 1e-4)
        }
    }

    @Test func matmulFlattensLeadingAxes() throws {
        let a = randomTensor([2, 3, 5], seed: 1), b = randomTensor([5, 4], seed: 2)
        let c = try a.matmul(b)
        #expect(c.shape == [2, 3, 4])
        let flat = try a.reshaped([6, 5]).matmul(b)
        #expect(c.scalars == flat.scalars)
    }

    @Test func matmulShapeErrorNamesShapes() throws {
        let a = Tensor.zeros([2, 3]), b = Tensor.zeros([4, 5])
        #expect(throws: TensorError.shapeMismatch(op: "matmul", lhs: [2, 3], rhs: [4, 5], expected: "lhs.shape[1] == rhs.shape[0]")) {
            _ = try a.matmul(b)
        }
        #expect("\(TensorError.shapeMismatch(op: "matmul", lhs: [2, 3], rhs: [4, 5], expected: "lhs.shape[1] == rhs.shape[0]"))"
            == "matmul: shapes [2, 3] and [4, 5] do not fit (expected lhs.shape[1] == rhs.shape[0])")
        #expect(throws: TensorError.self) { _ = try a.matmul(b, transB: true) }
        #expect(throws: TensorError.self) { _ = try a.matmul(Tensor.zeros([3])) }
        #expect(try a.matmul(Tensor.zeros([5, 3]), transB: true).shape == [2, 5])
    }

    @Test func emptyInnerDimensionGivesZeros() throws {
        let c = try Tensor.zeros([3, 0]).matmul(Tensor.zeros([0, 2]))
        #expect(c == Tensor.zeros([3, 2]))
    }

    @Test func copyOnWrite() throws {
        var a = try Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        let b = a
        a[0, 0] = 9
        #expect(b.scalars == [1, 2, 3, 4] && a.scalars == [9, 2, 3, 4])

        var c = a
        c.withUnsafeMutableBufferPointer { $0[3] = -1 }
        #expect(a[1, 1] == 4 && c[1, 1] == -1)

        // A reshape shares storage until one side is written.
        var r = try a.reshaped([4])
        r[flat: 1] = 7
        #expect(a[0, 1] == 2 && r[flat: 1] == 7)

        // A unique tensor is mutated in place: its storage (address) does not change.
        var u = Tensor.zeros([8])
        let before = u.withUnsafeBufferPointer { $0.baseAddress }
        u[flat: 0] = 1
        u.fill(with: 2)
        #expect(u.withUnsafeBufferPointer { $0.baseAddress } == before)
    }
}
