// Fashion-MNIST, where Debian's dataset-fashion-mnist put it (or $HIGHWAY_FASHION_MNIST): skipped
// on machines without it, since ../shared/data does not carry it.
import Foundation
import Testing
@testable import HighwayData

private func fashionDirectory() -> URL? {
    if let env = ProcessInfo.processInfo.environment["HIGHWAY_FASHION_MNIST"] { return URL(fileURLWithPath: env) }
    guard let dir = DatasetKind.fashionMNIST.systemDirectory,
          FileManager.default.fileExists(atPath: dir.path) else { return nil }
    return dir
}

@Suite struct FashionMNISTTests {
    @Test(.enabled(if: fashionDirectory() != nil, "Fashion-MNIST is not installed"))
    func loadsTheDebianPackage() throws {
        let (train, test) = try MNISTFamily.load(.fashionMNIST, directory: #require(fashionDirectory()))
        #expect(train.count == 60_000 && test.count == 10_000 && train.imageShape == [28, 28])
        #expect(train.classCounts == [Int](repeating: 6000, count: 10))
        #expect(test.classCounts == [Int](repeating: 1000, count: 10))
        #expect(train.labels.first == 9)   // an ankle boot
    }
}
