// MNISTFamily: MNIST and Fashion-MNIST, four IDX files each, into a train and a test ImageDataset.
//
// Both data sets use the same file names and layout (Fashion-MNIST was made as a drop-in
// replacement), so one loader reads both; each file may be gzip'd (`.gz`, as distributed, and
// as Debian's dataset-fashion-mnist installs them) or raw. Everything a bad download can break is
// checked: images 3-D, labels 1-D, counts that agree, labels in 0..<10, the same image size in
// train and test.
import Foundation

/// Loading the MNIST family from a directory of IDX files.
public enum MNISTFamily {
    /// The base names of the four files; each may also carry `.gz`.
    public static let trainImagesFile = "train-images-idx3-ubyte"
    public static let trainLabelsFile = "train-labels-idx1-ubyte"
    public static let testImagesFile = "t10k-images-idx3-ubyte"
    public static let testLabelsFile = "t10k-labels-idx1-ubyte"
    /// The number of classes in every member of the family.
    public static let classes = 10
    /// The default limit on one decompressed file: 1 GiB (MNIST's largest is 47 MB).
    public static let defaultMaxFileBytes = 1 << 30

    /// The train and test sets of `kind` from the IDX files in `directory`, pixels scaled to [0, 1].
    ///
    /// - Parameter maxFileBytes: the most bytes one file may decompress to.
    /// - Throws: ``DataError`` naming the directory or file: missing, truncated, corrupt, sizes or
    ///   counts that disagree, a label outside 0..<10.
    public static func load(_ kind: DatasetKind, directory: URL,
                            maxFileBytes: Int = defaultMaxFileBytes) throws -> (train: ImageDataset, test: ImageDataset) {
        let files = try files(of: kind, in: directory)
        let train = try loadSplit(images: files.trainImages, labels: files.trainLabels,
                                  name: "\(kind.rawValue)-train", maxFileBytes: maxFileBytes)
        let testImages = files.testImages
        let test = try loadSplit(images: testImages, labels: files.testLabels,
                                 name: "\(kind.rawValue)-test", maxFileBytes: maxFileBytes)
        guard test.imageShape == train.imageShape else {
            throw DataError.invalidFormat(path: testImages.path, offset: 8,
                message: "images are \(test.imageShape.map(String.init).joined(separator: "×")), but the training images are \(train.imageShape.map(String.init).joined(separator: "×"))")
        }
        return (train, test)
    }

    /// The four files of `kind` in `directory` (each `NAME.gz` or `NAME`), without reading them:
    /// what a command line checks before it starts a run.
    /// - Throws: ``DataError/directoryNotFound(path:expected:hint:)`` or
    ///   ``DataError/missingFile(directory:tried:hint:)``, with how to get the files.
    public static func files(of kind: DatasetKind, in directory: URL) throws
        -> (trainImages: URL, trainLabels: URL, testImages: URL, testLabels: URL) {
        guard kind == .mnist || kind == .fashionMNIST else {
            throw DataError.invalidArgument(name: "MNISTFamily kind", value: kind.rawValue, expected: "mnist or fashion-mnist")
        }
        let names = [trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile]
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw DataError.directoryNotFound(path: directory.path, expected: names.map { "\($0)[.gz]" },
                                              hint: kind.installHint)
        }
        func locate(_ base: String) throws -> URL {
            let tried = [base + ".gz", base]
            for name in tried {
                let url = directory.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: url.path) { return url }
            }
            throw DataError.missingFile(directory: directory.path, tried: tried, hint: kind.installHint)
        }
        return (try locate(trainImagesFile), try locate(trainLabelsFile), try locate(testImagesFile),
                try locate(testLabelsFile))
    }

    /// One split from an images file `(count, rows, cols)` and a labels file `(count)`.
    /// - Throws: ``DataError`` naming the offending file.
    public static func loadSplit(images: URL, labels: URL, name: String,
                                 maxFileBytes: Int = defaultMaxFileBytes) throws -> ImageDataset {
        let img = try IDX.read(images, maxBytes: maxFileBytes)
        try checkImages(img, path: images.path)
        let lab = try IDX.read(labels, maxBytes: maxFileBytes)
        return try split(images: img, imagesPath: images.path, labels: lab, labelsPath: labels.path, name: name)
    }

    /// One split from parsed IDX arrays (e.g. from ``IDX/decode(_:path:maxBytes:)`` on bytes in
    /// memory): images `(count, rows, cols)`, labels `(count)` in `0..<10`. The paths name the
    /// sources in errors.
    /// - Throws: ``DataError`` naming the offending file: wrong rank, counts that disagree, a label
    ///   out of range.
    public static func split(images img: IDXArray, imagesPath: String, labels lab: IDXArray, labelsPath: String,
                             name: String) throws -> ImageDataset {
        try checkImages(img, path: imagesPath)
        guard lab.dims.count == 1 else {
            throw DataError.invalidFormat(path: labelsPath, offset: 3,
                message: "labels have \(lab.dims.count) dimensions \(lab.dims), expected 1 (count)")
        }
        guard img.dims[0] == lab.dims[0] else {
            throw DataError.countMismatch(imagesPath: imagesPath, images: img.dims[0],
                                          labelsPath: labelsPath, labels: lab.dims[0])
        }
        if let i = lab.bytes.firstIndex(where: { Int($0) >= classes }) {
            let index = i - lab.bytes.startIndex
            throw DataError.labelOutOfRange(path: labelsPath, index: index, label: Int(lab.bytes[i]), classes: classes)
        }
        let labelValues = lab.bytes.map { Int32($0) }
        // byte / 255 exactly as written (not × (1/255)), so every pixel is the nearest Float.
        let pixels = img.bytes.withUnsafeBufferPointer { src in
            [Float](unsafeUninitializedCapacity: src.count) { dst, n in
                for i in 0..<src.count { dst[i] = Float(src[i]) / 255 }
                n = src.count
            }
        }
        return ImageDataset(unchecked: name, imageShape: Array(img.dims[1...]), classes: classes,
                            pixels: pixels, labels: labelValues)
    }

    private static func checkImages(_ img: IDXArray, path: String) throws {
        guard img.dims.count == 3 else {
            throw DataError.invalidFormat(path: path, offset: 3,
                message: "images have \(img.dims.count) dimensions \(img.dims), expected 3 (count, rows, cols)")
        }
    }
}
