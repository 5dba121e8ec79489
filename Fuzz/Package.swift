// swift-tools-version: 6.0
// libFuzzer targets for HighwayKit's parsers, a package of their own: a fuzz target has no `main`
// (libFuzzer brings one), so it only links with `-sanitize=fuzzer`, which the main package's
// `swift build`, `swift test` and consumers must never need. Build and run them with
// Scripts/fuzz.sh, or by hand from the repository root:
//
//   swift build --package-path Fuzz --scratch-path .build-fuzz -c debug \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product FuzzIDX
//   .build-fuzz/debug/FuzzIDX -max_total_time=60 -timeout=10 -rss_limit_mb=2048 \
//       .build-fuzz/corpus/FuzzIDX Fuzz/Corpus/FuzzIDX
//
// Adding a parser: one entry in `fuzzTargets`, a file Sources/<Name>/<Name>.swift that calls
// `fuzzParser` (see FuzzIDX), seed files in Corpus/<Name>/ (Fuzz/make-seeds.py writes them).
import PackageDescription

// `.package(path: "..")` takes its identity from the name of the folder the repository was
// cloned into (`main`, `HighwayKit`, ...), so the product reference has to use that name.
let highwayKitPackage = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init)
    ?? "HighwayKit"

/// One executable per parser; each file defines `LLVMFuzzerTestOneInput`.
let fuzzTargets = ["FuzzIDX", "FuzzGzip", "FuzzSafeTensors", "FuzzCheckpoint", "FuzzCIFAR", "FuzzSeries"]

let package = Package(
    name: "HighwayKitFuzz",
    platforms: [.macOS(.v13)],
    products: fuzzTargets.map { .executable(name: $0, targets: [$0]) },
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["FuzzDriver", .product(name: "HighwayKit", package: highwayKitPackage)]),
    ] + fuzzTargets.map { name in
        .executableTarget(name: name, dependencies: [
            "FuzzSupport", .product(name: "HighwayKit", package: highwayKitPackage),
        ])
    },
    swiftLanguageModes: [.v5]
)
