#!/usr/bin/env python3
"""Compare HighwayKit's GEMM kernels with numpy's matmul (OpenBLAS) on this machine.

Runs the release `highway bench gemm` for every shape x thread count x supported kernel variant,
and numpy's `matmul` on the same shapes with OPENBLAS_NUM_THREADS set to the same thread count,
then prints GFLOP/s, each variant's ratio to numpy, and the speed-up from 1 to 2 threads.

numpy runs in a subprocess per thread count, because OpenBLAS reads its thread count when it is
imported. In that subprocess only, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset together:
some machines set them to work around old OpenBLAS builds, and they slow a current numpy down.

Usage:
    swift build -c release            # builds .build/release/highway
    python3 Scripts/compare_gemm.py [--threads 1,2] [--json results.json]

Needs python3 with numpy (`pip install numpy` or Debian's python3-numpy).
"""

import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# M x N x K: C (MxN) = A (MxK) . B (KxN). 128xNxK are a batch-128 layer's forward products,
# 50x50x128 a weight gradient; then squares.
SHAPES = [
    (128, 50, 50), (128, 100, 50), (128, 784, 50), (128, 142, 71), (50, 50, 128),
    (256, 256, 256), (512, 512, 512), (1024, 1024, 1024),
]
VARIANTS = ["generic", "avx2", "avx512"]

# Runs in the numpy subprocess: times np.matmul the way `highway bench gemm` times Kernels.gemm
# (batches of >= 2 ms, at least `repeats` samples and `min_time` seconds, median per call).
NUMPY_BENCH = r"""
import json, sys, time
import numpy as np
cfg = json.loads(sys.argv[1])
def bench(m, n, k, trans_a, trans_b):
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if trans_b else (k, n)).astype(np.float32)
    a = a.T if trans_a else a
    b = b.T if trans_b else b
    c = np.empty((m, n), dtype=np.float32)
    clock = time.perf_counter
    def run(calls):
        t = clock()
        for _ in range(calls):
            np.matmul(a, b, out=c)
        return clock() - t
    batch = 1
    while True:
        t = run(batch)
        if t >= 0.002 or batch >= 1 << 24:
            break
        batch = min(max(int(batch * 0.0025 / t) + 1 if t > 0 else batch * 100, batch * 2), batch * 100)
    w = clock()
    while clock() - w < 0.05:
        run(batch)
    samples = []
    start = clock()
    while len(samples) < cfg["repeats"] or clock() - start < cfg["min_time"]:
        samples.append(run(batch) / batch)
    samples.sort()
    h = len(samples) // 2
    med = samples[h] if len(samples) % 2 else (samples[h - 1] + samples[h]) / 2
    return {"median_us": med * 1e6, "min_us": samples[0] * 1e6,
            "gflops": 2.0 * m * n * k / med / 1e9, "samples": len(samples)}
info = {"numpy": np.__version__}
try:
    from threadpoolctl import threadpool_info
    info["blas"] = [{key: p.get(key) for key in ("internal_api", "version", "architecture", "num_threads")}
                    for p in threadpool_info() if p.get("user_api") == "blas"]
except Exception:  # threadpoolctl is optional: fall back to what numpy was built with
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = {"name": blas.get("name"), "version": blas.get("version"),
                        "note": "build config; pip install threadpoolctl to see the kernel in use"}
    except Exception:
        info["blas"] = "unknown"
results = [dict(m=m, n=n, k=k, **bench(m, n, k, cfg["trans_a"], cfg["trans_b"])) for m, n, k in cfg["shapes"]]
print(json.dumps({"info": info, "results": results}))
"""


def fail(message):
    print(f"compare_gemm.py: {message}", file=sys.stderr)
    sys.exit(1)


def parse_shapes(text):
    shapes = []
    for item in text.split(","):
        parts = item.lower().split("x")
        if len(parts) == 1:
            parts = parts * 3
        if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise argparse.ArgumentTypeError(f"bad shape {item!r}: expected MxNxK or a square size, e.g. 128x50x50,512")
        shapes.append(tuple(int(p) for p in parts))
    return shapes


def parse_threads(text):
    try:
        threads = [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad thread list {text!r}: expected e.g. 1,2")
    if not threads or min(threads) < 1:
        raise argparse.ArgumentTypeError("thread counts must be at least 1")
    return threads


def run_highway(binary, m, n, k, threads, variant, args):
    cmd = [binary, "bench", "gemm", "--m", str(m), "--n", str(n), "--k", str(k),
           "--threads", str(threads), "--kernels", variant,
           "--repeats", str(args.repeats), "--min-time", str(args.min_time)]
    if args.trans_a:
        cmd.append("--trans-a")
    if args.trans_b:
        cmd.append("--trans-b")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        fail(f"{' '.join(cmd)} did not finish in {args.timeout} s")
    if proc.returncode != 0:
        fail(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr.strip()}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def supported_variants(binary):
    found = []
    for v in VARIANTS:
        proc = subprocess.run([binary, "bench", "gemm", "--m", "1", "--n", "1", "--k", "1", "--kernels", v,
                               "--threads", "1", "--repeats", "1", "--min-time", "0"],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode == 0:
            found.append(v)
    if not found:
        fail(f"{binary} ran no kernel variant; is it a working `highway` build?")
    return found


def run_numpy(shapes, threads, args):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    cfg = {"shapes": shapes, "repeats": args.repeats, "min_time": args.min_time,
           "trans_a": args.trans_a, "trans_b": args.trans_b}
    try:
        proc = subprocess.run([sys.executable, "-c", NUMPY_BENCH, json.dumps(cfg)],
                              capture_output=True, text=True, env=env, timeout=args.timeout * len(shapes))
    except subprocess.TimeoutExpired:
        fail(f"the numpy benchmark with {threads} thread(s) did not finish in time")
    if proc.returncode != 0:
        fail(f"numpy benchmark with {threads} thread(s) failed (is numpy installed? `pip install numpy`):\n"
             f"{proc.stderr.strip()}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--highway", default=os.path.join(REPO, ".build", "release", "highway"),
                        help="the highway binary (default: .build/release/highway)")
    parser.add_argument("--shapes", type=parse_shapes, default=SHAPES,
                        help="comma-separated MxNxK or square sizes (default: the layer shapes and 256,512,1024)")
    parser.add_argument("--threads", type=parse_threads, default=[1, 2], help="thread counts (default: 1,2)")
    parser.add_argument("--variants", default=None,
                        help="comma-separated kernel variants (default: every one this CPU supports)")
    parser.add_argument("--repeats", type=int, default=15, help="at least this many samples per measurement")
    parser.add_argument("--min-time", type=float, default=0.25, help="at least this many seconds per measurement")
    parser.add_argument("--trans-a", action="store_true", help="use A transposed (both libraries)")
    parser.add_argument("--trans-b", action="store_true", help="use B transposed (both libraries)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds allowed per measurement (default: 300)")
    parser.add_argument("--json", metavar="OUT", help="also write every measurement to OUT as JSON")
    args = parser.parse_args()

    binary = os.path.abspath(args.highway)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        fail(f"no highway binary at {binary}.\nBuild it first: swift build -c release"
             " (or pass --highway PATH)")
    variants = args.variants.split(",") if args.variants else supported_variants(binary)

    numpy = {}
    numpy_info = {}
    for t in args.threads:
        print(f"numpy, {t} thread(s)...", file=sys.stderr, flush=True)
        out = run_numpy(args.shapes, t, args)
        numpy_info[t] = out["info"]
        for r in out["results"]:
            numpy[(r["m"], r["n"], r["k"], t)] = r

    highway = {}
    for (m, n, k) in args.shapes:
        for t in args.threads:
            for v in variants:
                print(f"highway {m}x{n}x{k} threads={t} {v}...", file=sys.stderr, flush=True)
                highway[(m, n, k, t, v)] = run_highway(binary, m, n, k, t, v, args)

    # GFLOP/s table with ratios to numpy.
    header = ["shape (MxNxK)", "thr", "numpy"] + [f"{v} (x np)" for v in variants]
    rows = []
    for (m, n, k) in args.shapes:
        for t in args.threads:
            np_g = numpy[(m, n, k, t)]["gflops"]
            row = [f"{m}x{n}x{k}", str(t), f"{np_g:.1f}"]
            for v in variants:
                g = highway[(m, n, k, t, v)]["gflops"]
                row.append(f"{g:.1f} ({g / np_g:.2f})")
            rows.append(row)
    trans = " A^T" * args.trans_a + " B^T" * args.trans_b
    print(f"GEMM GFLOP/s{trans}: median of >= {args.repeats} samples; (x np) = ratio to numpy matmul")
    print_table(header, rows)

    # Thread scaling: last thread count over the first.
    if len(args.threads) > 1:
        t0, t1 = args.threads[0], args.threads[-1]
        print(f"\nSpeed-up, {t1} threads over {t0}:")
        header = ["shape (MxNxK)", "numpy"] + variants
        rows = []
        for (m, n, k) in args.shapes:
            row = [f"{m}x{n}x{k}",
                   f"{numpy[(m, n, k, t1)]['gflops'] / numpy[(m, n, k, t0)]['gflops']:.2f}"]
            for v in variants:
                row.append(f"{highway[(m, n, k, t1, v)]['gflops'] / highway[(m, n, k, t0, v)]['gflops']:.2f}")
            rows.append(row)
        print_table(header, rows)

    blas = numpy_info[args.threads[0]]
    print(f"\nnumpy {blas['numpy']}, BLAS: {json.dumps(blas['blas'])}")

    if args.json:
        doc = {
            "trans_a": args.trans_a, "trans_b": args.trans_b, "numpy_info": numpy_info,
            "numpy": [dict(threads=t, **r) for (m, n, k, t), r in numpy.items()],
            "highway": list(highway.values()),
        }
        with open(args.json + ".tmp", "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(args.json + ".tmp", args.json)
        print(f"wrote {args.json}", file=sys.stderr)


def print_table(header, rows):
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    main()
