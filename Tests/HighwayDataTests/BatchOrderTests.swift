// BatchOrder: seeded, complete, resumable orders, and fill() copying rows into a reused Tensor.
import Testing
import HighwayTensor
@testable import HighwayData

@Suite struct BatchOrderTests {
    @Test func sameSeedSameOrderDifferentSeedDifferent() throws {
        var a = SeededGenerator(seed: 1), b = SeededGenerator(seed: 1), c = SeededGenerator(seed: 2)
        let oa = try BatchOrder(count: 1000, batchSize: 32, rng: &a)
        let ob = try BatchOrder(count: 1000, batchSize: 32, rng: &b)
        let oc = try BatchOrder(count: 1000, batchSize: 32, rng: &c)
        #expect(oa.order == ob.order)
        #expect(oa.order != oc.order)
        #expect(oa.order != Array(0..<1000))
    }

    @Test(arguments: [(1000, 32, false), (1000, 32, true), (7, 10, false), (64, 8, true), (0, 4, false), (1, 1, false)])
    func everyIndexExactlyOnce(count: Int, batchSize: Int, dropLast: Bool) throws {
        for epoch in 0..<3 {
            let o = try BatchOrder(count: count, batchSize: batchSize, seed: 99, epoch: epoch, dropLast: dropLast)
            #expect(o.order.sorted() == Array(0..<count))
            let visited = (0..<o.batchCount).flatMap { o.indices(ofBatch: $0) }
            let expected = dropLast ? count / batchSize * batchSize : count
            #expect(visited.count == expected && Set(visited).count == expected)
            #expect(o.batches.allSatisfy { $0.count == batchSize } || (!dropLast && o.batches.dropLast().allSatisfy { $0.count == batchSize }))
            #expect(o.batchCount == (dropLast ? count / batchSize : (count + batchSize - 1) / batchSize))
        }
    }

    @Test func epochOrderIsAPureFunctionOfSeedAndEpoch() throws {
        let e3 = try BatchOrder(count: 500, batchSize: 50, seed: 7, epoch: 3)
        // computed again later, after other epochs: identical (a resumed run sees the same batches)
        for e in 0..<3 { _ = try BatchOrder(count: 500, batchSize: 50, seed: 7, epoch: e) }
        #expect(try BatchOrder(count: 500, batchSize: 50, seed: 7, epoch: 3).order == e3.order)
        #expect(try BatchOrder(count: 500, batchSize: 50, seed: 7, epoch: 4).order != e3.order)
        #expect(try BatchOrder(count: 500, batchSize: 50, seed: 8, epoch: 3).order != e3.order)
        // it is the documented derivation
        var rng = SeededGenerator(seed: 7).fork(stream: 3)
        #expect(e3.order == rng.permutation(500))
        // no shuffle: the identity
        #expect(try BatchOrder(count: 10, batchSize: 3, shuffle: false, seed: 7, epoch: 3).order == Array(0..<10))
    }

    @Test func invalidArguments() {
        var rng = SeededGenerator(seed: 0)
        expectDataError(["batch size", "≥ 1"]) { _ = try BatchOrder(count: 10, batchSize: 0, rng: &rng) }
        expectDataError(["example count"]) { _ = try BatchOrder(count: -1, batchSize: 2, rng: &rng) }
        expectDataError(["epoch"]) { _ = try BatchOrder(count: 10, batchSize: 2, seed: 0, epoch: -1) }
    }

    @Test func fillCopiesRowsIntoAReusedTensor() throws {
        let n = 10, f = 3
        let pixels = (0..<n * f).map { Float($0) }
        let data = try ImageDataset(name: "toy", imageShape: [f], classes: 10, pixels: pixels,
                                    labels: (0..<n).map { Int32(9 - $0) })
        let order = try BatchOrder(count: n, batchSize: 4, seed: 5, epoch: 0)
        var x = Tensor.zeros([4, f])
        var y32: [Int32] = []
        var y: [Int] = []
        y.reserveCapacity(4)
        let base0 = x.withUnsafeBufferPointer { $0.baseAddress }
        for b in 0..<order.batchCount {
            order.fill(batch: b, from: data, into: &x, labels: &y32)
            order.fill(batch: b, from: data, into: &x, labels: &y)
            let idx = Array(order.indices(ofBatch: b))
            #expect(x.shape == [idx.count, f])
            #expect(y32 == idx.map { Int32(9 - $0) } && y == idx.map { 9 - $0 })
            for (r, i) in idx.enumerated() {
                for c in 0..<f { #expect(x[r, c] == Float(i * f + c)) }
            }
            if idx.count == 4 {
                // full batches reuse the caller's buffer: no reallocation in steady state
                #expect(x.withUnsafeBufferPointer { $0.baseAddress } == base0 || b > 0)
            }
        }
        // batches 0 and 1 are full: the same storage both times
        var x2 = Tensor.zeros([4, f])
        let p = x2.withUnsafeBufferPointer { $0.baseAddress }
        order.fill(batch: 0, from: data, into: &x2, labels: &y)
        order.fill(batch: 1, from: data, into: &x2, labels: &y)
        #expect(x2.withUnsafeBufferPointer { $0.baseAddress } == p)
        // the last batch has 2 rows: x is resized
        order.fill(batch: 2, from: data, into: &x2, labels: &y)
        #expect(x2.shape == [2, f] && y.count == 2)
    }
}
