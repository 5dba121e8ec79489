// DatasetKind: the image classification data sets HighwayKit reads, by their command-line names,
// with what a model needs to know before loading (features, classes) and the one `load` that
// picks the right reader.
import Foundation

/// The classification data sets read from files, by their command-line names.
public enum DatasetKind: String, CaseIterable, Sendable {
    /// The handwritten digits (LeCun et al. 1998).
    case mnist = "mnist"
    /// Zalando's clothing images (Xiao et al. 2017): same format, harder.
    case fashionMNIST = "fashion-mnist"
    /// 32×32 colour images in 10 classes (Krizhevsky 2009), binary version.
    case cifar10 = "cifar10"
    /// 32×32 colour images in 100 fine classes, binary version.
    case cifar100 = "cifar100"

    /// The kind called `name`: its raw value, ignoring case, `_` for `-`, or with the dash left out
    /// (`fashionmnist`, `cifar-10`).
    public init?(name: String) {
        let key = name.lowercased().replacingOccurrences(of: "_", with: "-")
        if let k = DatasetKind(rawValue: key) { self = k; return }
        switch key.replacingOccurrences(of: "-", with: "") {
        case "fashionmnist": self = .fashionMNIST
        case "cifar10": self = .cifar10
        case "cifar100": self = .cifar100
        default: return nil
        }
    }

    /// The kind called `name`, or an error listing the valid names.
    /// - Throws: ``DataError/unknownDataset(name:valid:)``.
    public static func named(_ name: String) throws -> DatasetKind {
        guard let k = DatasetKind(name: name) else {
            throw DataError.unknownDataset(name: name, valid: allCases.map(\.rawValue))
        }
        return k
    }

    /// The name in prose, e.g. "CIFAR-100".
    public var displayName: String {
        switch self {
        case .mnist: "MNIST"
        case .fashionMNIST: "Fashion-MNIST"
        case .cifar10: "CIFAR-10"
        case .cifar100: "CIFAR-100"
        }
    }

    /// Inputs per example as the fully connected networks see them: 784 or 3072.
    public var features: Int {
        switch self {
        case .mnist, .fashionMNIST: 28 * 28
        case .cifar10, .cifar100: CIFAR.pixelBytes
        }
    }

    /// The number of classes (CIFAR-100: the fine labels).
    public var classes: Int { self == .cifar100 ? 100 : 10 }

    /// A system directory where a package manager puts the files, if there is one.
    public var systemDirectory: URL? {
        switch self {
        case .fashionMNIST: URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist", isDirectory: true)
        case .mnist, .cifar10, .cifar100: nil
        }
    }

    /// How a user gets the files, for error messages.
    public var installHint: String {
        switch self {
        case .mnist:
            "download the four MNIST files (.gz or raw) into it"
        case .fashionMNIST:
            "on Debian/Ubuntu, `apt-get install dataset-fashion-mnist` puts them in /usr/share/datasets/fashion-mnist/"
        case .cifar10:
            "download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and extract it (tar xzf) into it"
        case .cifar100:
            "download cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and extract it (tar xzf) into it"
        }
    }

    /// The name of each class, in label order (CIFAR-100: the fine labels).
    public var classNames: [String] {
        switch self {
        case .mnist: (0..<10).map(String.init)
        case .fashionMNIST:
            ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        case .cifar10:
            ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        case .cifar100: // the fine labels, as in fine_label_names.txt
            [
            "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
             "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
             "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup",
             "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house",
             "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man",
             "maple_tree", "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid",
             "otter", "palm_tree", "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy",
             "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal",
             "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar",
             "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
             "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman",
             "worm"]
        }
    }

    /// Checks, without reading them, that this data set's files are in `directory`.
    /// - Throws: ``DataError`` naming the directory or the missing file, and how to get the files.
    public func checkFiles(in directory: URL) throws {
        switch self {
        case .mnist, .fashionMNIST: _ = try MNISTFamily.files(of: self, in: directory)
        case .cifar10, .cifar100: _ = try CIFAR.files(of: self, in: directory)
        }
    }

    /// The train and test sets from `directory`, with the reader this kind needs.
    /// - Throws: ``DataError`` naming the directory or file.
    public func load(directory: URL) throws -> (train: ImageDataset, test: ImageDataset) {
        switch self {
        case .mnist, .fashionMNIST: try MNISTFamily.load(self, directory: directory)
        case .cifar10, .cifar100: try CIFAR.load(self, directory: directory)
        }
    }
}
