// SyntheticTask: the same seed gives the same data; classes are balanced; features are sane.
import Testing
@testable import HighwayData

@Suite struct SyntheticTaskTests {
    @Test func deterministicForASeed() throws {
        let task = SyntheticTask(trainCount: 500, testCount: 100, seed: 11)
        let a = try task.generate(), b = try task.generate()
        #expect(a.train.pixels == b.train.pixels && a.train.labels == b.train.labels)
        #expect(a.test.pixels == b.test.pixels && a.test.labels == b.test.labels)
        var other = task
        other.seed = 12
        let c = try other.generate()
        #expect(c.train.pixels != a.train.pixels && c.train.labels != a.train.labels)
        // the test set does not depend on the number of training examples
        var more = task
        more.trainCount = 700
        let d = try more.generate()
        #expect(d.test.pixels == a.test.pixels && d.test.labels == a.test.labels)
        #expect(Array(d.train.labels.prefix(500)) != [] )
    }

    @Test func shapesBalanceAndScale() throws {
        let (train, test) = try SyntheticTask(trainCount: 2003, testCount: 400, seed: 3).generate()
        #expect(train.count == 2003 && test.count == 400)
        #expect(train.features == 64 && train.imageShape == [64] && train.classes == 10)
        #expect(train.name == "synthetic-train" && test.name == "synthetic-test")
        // exact shares: 2003 = 10·200 + 3
        #expect(train.classCounts == [201, 201, 201] + [Int](repeating: 200, count: 7))
        #expect(test.classCounts == [Int](repeating: 40, count: 10))
        // the labels are not in class order: the first 50 hold several classes
        #expect(Set(train.labels.prefix(50)).count >= 5)
        // the features are standard normals
        let n = Float(train.pixels.count)
        let mean = train.pixels.reduce(0, +) / n
        let std = (train.pixels.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
        #expect(abs(mean) < 0.05 && abs(std - 1) < 0.05)
        #expect(train.pixels.allSatisfy { $0.isFinite })
    }

    @Test func otherSizes() throws {
        let (train, _) = try SyntheticTask(inputs: 784, classes: 3, trainCount: 30, testCount: 3, seed: 1).generate()
        #expect(train.features == 784 && train.classCounts == [10, 10, 10])
    }

    @Test func labelsDependOnTheInputSmoothly() throws {
        // a nearest-class-mean classifier, fitted on train, beats chance by far on test: the labels
        // are a function of the inputs, not noise
        let (train, test) = try SyntheticTask(trainCount: 3000, testCount: 500, seed: 4).generate()
        let f = train.features
        var means = [[Float]](repeating: [Float](repeating: 0, count: f), count: 10)
        for i in 0..<train.count {
            let row = train.row(i)
            for j in 0..<f { means[Int(train.labels[i])][j] += row[row.startIndex + j] }
        }
        for c in 0..<10 { means[c] = means[c].map { $0 / Float(train.classCounts[c]) } }
        var correct = 0
        for i in 0..<test.count {
            let row = Array(test.row(i))
            let d = means.map { m in zip(m, row).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
            if d.firstIndex(of: d.min()!)! == Int(test.labels[i]) { correct += 1 }
        }
        #expect(Double(correct) / Double(test.count) > 0.3)
    }

    @Test func impossibleSettingsThrow() {
        expectDataError(["synthetic task: classes"]) { _ = try SyntheticTask(classes: 1).generate() }
        expectDataError(["synthetic task: inputs"]) { _ = try SyntheticTask(inputs: 0).generate() }
        expectDataError(["synthetic task: margin"]) { _ = try SyntheticTask(margin: -1).generate() }
        expectDataError(["synthetic task: margin", "smaller margin"]) {
            _ = try SyntheticTask(margin: 1000, trainCount: 5, testCount: 0).generate()
        }
    }
}
