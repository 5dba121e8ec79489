// CIFAR: CIFAR-10 and CIFAR-100 from the official binary files (Krizhevsky 2009,
// https://www.cs.toronto.edu/~kriz/cifar.html), into a train and a test ImageDataset.
//
//   CIFAR-10   cifar-10-batches-bin/data_batch_1.bin … data_batch_5.bin, test_batch.bin
//              each record: 1 label byte (0..<10), then 3072 pixel bytes
//   CIFAR-100  cifar-100-binary/train.bin, test.bin
//              each record: 1 coarse label byte (0..<20), 1 fine label byte (0..<100), 3072 pixels
//   pixels: 1024 red, then 1024 green, then 1024 blue, each 32×32 row-major
//
// The fully connected networks take the 3072 bytes as they stand (features = 3072, scaled to
// [0, 1]); `imageShape` is [3, 32, 32]. CIFAR-100 uses the fine labels (the paper's 100 classes).
//
// A file has no header, so what can be checked is checked: its length a whole number of records
// (a truncated download is named with the length it should have had), at least one record, every
// label in range (the first bad one named by record and byte offset). Files may also be gzip'd
// (`.bin.gz`).
import Foundation

/// Loading CIFAR-10 and CIFAR-100 from a directory of the official binary files.
public enum CIFAR {
    /// Pixels per record: 3 channels × 32 × 32.
    public static let pixelBytes = 3072
    /// The shape of one image: channels, rows, columns.
    public static let imageShape = [3, 32, 32]
    /// The default limit on one file: 1 GiB (CIFAR-100's train.bin is 154 MB).
    public static let defaultMaxFileBytes = 1 << 30

    /// The folder the official archive extracts to, e.g. `cifar-10-batches-bin`.
    static func archiveFolder(_ kind: DatasetKind) -> String {
        kind == .cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin"
    }

    /// The file names of each split.
    static func files(_ kind: DatasetKind) -> (train: [String], test: [String]) {
        kind == .cifar100
            ? (["train.bin"], ["test.bin"])
            : ((1...5).map { "data_batch_\($0).bin" }, ["test_batch.bin"])
    }

    /// The train and test sets of `kind` (`.cifar10` or `.cifar100`) from `directory`, which holds
    /// the `.bin` files or the folder the official archive extracts to (`cifar-10-batches-bin`,
    /// `cifar-100-binary`).
    ///
    /// - Throws: ``DataError`` naming the directory or file: missing, truncated, a label out of range.
    public static func load(_ kind: DatasetKind, directory: URL,
                            maxFileBytes: Int = defaultMaxFileBytes) throws -> (train: ImageDataset, test: ImageDataset) {
        guard kind == .cifar10 || kind == .cifar100 else {
            throw DataError.invalidArgument(name: "CIFAR.load kind", value: kind.rawValue, expected: "cifar10 or cifar100")
        }
        let (trainURLs, testURLs) = try files(of: kind, in: directory)
        func split(_ urls: [URL], _ name: String) throws -> ImageDataset {
            var pixels: [Float] = []
            var labels: [Int32] = []
            for url in urls {
                let part = try parse(Gzip.readFile(atPath: url.path, maxBytes: maxFileBytes), kind: kind, path: url.path)
                pixels += part.pixels
                labels += part.labels
            }
            return ImageDataset(unchecked: "\(kind.rawValue)-\(name)", imageShape: imageShape,
                                classes: kind.classes, pixels: pixels, labels: labels)
        }
        return try (split(trainURLs, "train"), split(testURLs, "test"))
    }

    /// The files of each split of `kind` in `directory` (or in the archive folder inside it), each
    /// `NAME` or `NAME.gz`, without reading them: what a command line checks before a run starts.
    /// - Throws: ``DataError/directoryNotFound(path:expected:hint:)`` or
    ///   ``DataError/missingFile(directory:tried:hint:)``, with how to get the files.
    public static func files(of kind: DatasetKind, in directory: URL) throws -> (train: [URL], test: [URL]) {
        guard kind == .cifar10 || kind == .cifar100 else {
            throw DataError.invalidArgument(name: "CIFAR kind", value: kind.rawValue, expected: "cifar10 or cifar100")
        }
        let (trainNames, testNames) = files(kind)
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw DataError.directoryNotFound(path: directory.path, expected: trainNames + testNames, hint: kind.installHint)
        }
        // Accept the parent of the extracted archive folder too.
        let nested = directory.appendingPathComponent(archiveFolder(kind))
        let root = fm.fileExists(atPath: nested.path, isDirectory: &isDir) && isDir.boolValue ? nested : directory
        func locate(_ base: String) throws -> URL {
            let tried = [base, base + ".gz"]
            for name in tried where fm.fileExists(atPath: root.appendingPathComponent(name).path) {
                return root.appendingPathComponent(name)
            }
            throw DataError.missingFile(directory: root.path, tried: tried, hint: kind.installHint)
        }
        return (try trainNames.map(locate), try testNames.map(locate))
    }

    /// Parses the bytes of one CIFAR binary file; `path` names it in errors.
    /// - Throws: ``DataError/sizeMismatch(path:expected:actual:detail:)`` when the length is not a
    ///   positive whole number of records, ``DataError/labelOutOfRange(path:index:label:classes:)``
    ///   for a label byte outside the classes (CIFAR-100: the coarse label is checked too).
    public static func parse(_ file: [UInt8], kind: DatasetKind, path: String) throws -> (pixels: [Float], labels: [Int32]) {
        let labelBytes = kind == .cifar100 ? 2 : 1
        let record = labelBytes + pixelBytes
        let count = file.count / record
        guard count > 0, file.count % record == 0 else {
            let whole = max(1, (file.count + record - 1) / record)
            throw DataError.sizeMismatch(path: path, expected: whole * record, actual: file.count,
                                         detail: "\(kind.displayName) records of \(labelBytes) label byte\(labelBytes == 1 ? "" : "s") + \(pixelBytes) pixels = \(record) bytes each")
        }
        var labels = [Int32](repeating: 0, count: count)
        var pixels = [Float](repeating: 0, count: count * pixelBytes)
        try file.withUnsafeBufferPointer { src in
            try pixels.withUnsafeMutableBufferPointer { dst in
                for r in 0..<count {
                    let o = r * record
                    if kind == .cifar100, src[o] >= 20 {
                        throw DataError.invalidFormat(path: path, offset: o,
                            message: "record \(r): coarse label \(src[o]) is outside 0..<20")
                    }
                    let label = Int(src[o + labelBytes - 1])
                    guard label < kind.classes else {
                        throw DataError.invalidFormat(path: path, offset: o + labelBytes - 1,
                            message: "record \(r): label \(label) is outside 0..<\(kind.classes)")
                    }
                    labels[r] = Int32(label)
                    let p = o + labelBytes
                    // byte / 255 exactly as written, as for MNIST.
                    for i in 0..<pixelBytes { dst[r * pixelBytes + i] = Float(src[p + i]) / 255 }
                }
            }
        }
        return (pixels, labels)
    }
}
