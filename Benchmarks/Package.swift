// swift-tools-version: 6.1
// HighwayKit's benchmarks, a package of their own so that the library never depends on
// package-benchmark. Run from this folder:
//
//   swift package benchmark                      # every benchmark (a minute or two)
//   swift package benchmark --filter '.*512x512.*'   # a regular expression matching whole names
//
// package-benchmark (ordo-one/benchmark) finds benchmark targets by their folder: Benchmarks/<Name>/<Name>.swift.
import PackageDescription

// `.package(path: "..")` takes its identity from the name of the folder the repository was
// cloned into (`main`, `HighwayKit`, ...), so the product reference has to use that name.
let highwayKitPackage = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init)
    ?? "HighwayKit"

let package = Package(
    name: "HighwayKitBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        // package-benchmark needs this trait here (and swift-tools-version 6.1).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1",
                 traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "GEMM",
            dependencies: [
                .product(name: "HighwayKit", package: highwayKitPackage),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "GEMM",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "TrainStep",
            dependencies: [
                .product(name: "HighwayKit", package: highwayKitPackage),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "TrainStep",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "LSTMStep",
            dependencies: [
                .product(name: "HighwayKit", package: highwayKitPackage),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "LSTMStep",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
