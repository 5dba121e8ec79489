// swift-tools-version: 6.0
// HighwayKit: gated deep networks (highway nets, GRU/LSTM, Grid LSTM, LSTNet) trained fast on a CPU.
//
// Imports point downward only (see DESIGN.md):
//   highway (CLI) → HighwayKit → HighwayNN, HighwayData → HighwayTensor → HighwayKernels (C).
// No target carries unsafe build flags, so the package can be used as a versioned dependency;
// per-instruction-set code lives in HighwayKernels behind `__attribute__((target(...)))`.
import PackageDescription

let package = Package(
    name: "HighwayKit",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "HighwayKit", targets: ["HighwayKit"]),
        .executable(name: "highway", targets: ["highway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "HighwayKernels"),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .target(name: "HighwayTensor", dependencies: ["HighwayKernels"]),
        .target(name: "HighwayData", dependencies: ["HighwayTensor", "CZlib"]),
        .target(name: "HighwayNN", dependencies: ["HighwayTensor"]),
        .target(name: "HighwayKit", dependencies: ["HighwayTensor", "HighwayData", "HighwayNN", "CZlib"]),
        .executableTarget(
            name: "highway",
            dependencies: [
                "HighwayKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "HighwayKernelsTests", dependencies: ["HighwayTensor", "HighwayKernels"]),
        .testTarget(name: "HighwayTensorTests", dependencies: ["HighwayTensor"]),
        .testTarget(name: "HighwayDataTests", dependencies: ["HighwayData"]),
        // Resources/ holds the golden files (rnn_golden.json, grid_golden.json), read through #filePath (no bundle needed)
        .testTarget(name: "HighwayNNTests", dependencies: ["HighwayNN"], exclude: ["Resources"]),
        .testTarget(name: "HighwayKitTests", dependencies: ["HighwayKit"]),
    ],
    swiftLanguageModes: [.v5]
)
