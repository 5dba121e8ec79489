#!/usr/bin/env bash
# Proves that HighwayKit can be used as a versioned dependency, i.e. that its library targets
# carry no unsafeFlags (SwiftPM refuses a versioned dependency that has them, DESIGN.md decision 4).
#
# 1. Copies this working tree (tracked and untracked, not ignored, files) into a fresh git
#    repository in a temporary folder and tags it 0.0.1.
# 2. Creates a tiny consumer package that depends on it with
#    `.package(url: "file://…/HighwayKit", from: "0.0.1")` and the product HighwayKit, whose
#    main multiplies two 2×2 matrices with every kernel variant this CPU supports.
# 3. Builds the consumer in release mode, runs it and checks the products.
#
# Usage: Scripts/check-consumer.sh   (exits non-zero, saying why, on any failure)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/highway-consumer.XXXXXX")
ok=0
cleanup() {
    if [[ $ok == 1 ]]; then rm -rf "$work"; else echo "check-consumer: FAILED; files kept in $work" >&2; fi
}
trap cleanup EXIT

say() { echo "check-consumer: $*"; }

# --- 1. A tagged snapshot of the working tree -------------------------------------------------
lib="$work/HighwayKit"
mkdir -p "$lib"
say "copying $repo into a fresh repository at $lib"
(
    cd "$repo"
    git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
        [[ -e $f || -L $f ]] || continue # tracked but deleted in the working tree
        mkdir -p "$lib/$(dirname "$f")"
        cp -P "$f" "$lib/$f"
    done
)
git -C "$lib" init -q
git -C "$lib" add -A
git -C "$lib" -c user.name=check-consumer -c user.email=check-consumer@localhost \
    commit -q -m "snapshot for check-consumer"
git -C "$lib" tag 0.0.1

# --- 2. The consumer package ------------------------------------------------------------------
consumer="$work/consumer"
mkdir -p "$consumer/Sources/Consumer"
cat > "$consumer/Package.swift" <<MANIFEST
// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(url: "file://$lib", from: "0.0.1"),
    ],
    targets: [
        .executableTarget(
            name: "Consumer",
            dependencies: [.product(name: "HighwayKit", package: "HighwayKit")]
        ),
    ]
)
MANIFEST
cat > "$consumer/Sources/Consumer/main.swift" <<'SWIFT'
import HighwayKit

// [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50], with every kernel variant this CPU runs.
let a: [Float] = [1, 2, 3, 4]
let b: [Float] = [5, 6, 7, 8]
print("HighwayKit \(highwayKitVersion)")
for variant in KernelVariant.supported {
    var c = [Float](repeating: 0, count: 4)
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                Kernels.gemm(m: 2, n: 2, k: 2, a: a.baseAddress!, lda: 2, b: b.baseAddress!, ldb: 2,
                             c: c.baseAddress!, ldc: 2, variant: variant)
            }
        }
    }
    print("gemm \(variant): " + c.map { String($0) }.joined(separator: " "))
}
SWIFT

# --- 3. Build, run, check ---------------------------------------------------------------------
say "building the consumer (swift build -c release)"
swift build -c release --package-path "$consumer" 2>&1 | tail -n 20
bin=$(swift build -c release --package-path "$consumer" --show-bin-path)/Consumer
output=$("$bin")
echo "$output"

gemm_lines=$(grep -c '^gemm ' <<<"$output" || true)
bad_lines=$(grep '^gemm ' <<<"$output" | grep -v ': 19.0 22.0 43.0 50.0$' || true)
if [[ $gemm_lines -lt 1 ]]; then
    echo "check-consumer: the consumer printed no GEMM result" >&2
    exit 1
fi
if [[ -n $bad_lines ]]; then
    echo "check-consumer: wrong GEMM result (expected 19.0 22.0 43.0 50.0):" >&2
    echo "$bad_lines" >&2
    exit 1
fi
ok=1
say "OK: HighwayKit 0.0.1 builds as a versioned dependency and computed the right product with $gemm_lines kernel variant(s)"
