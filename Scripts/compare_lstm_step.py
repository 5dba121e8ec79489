#!/usr/bin/env python3
"""Compare one SGD training step of HighwayKit's LSTM with PyTorch's nn.LSTM (eager).

Workload (REFERENCE.md §6): nn.LSTM(input, hidden, batch_first=True), default 128 -> 128, 50 steps,
batch 32. One step = forward over the sequence, mean squared error of the output against a fixed
random target, backward through time, SGD update with lr 0.01; the input needs no gradient. Both
run the same step on the same machine, in interleaved rounds; medians of many steps are compared.

Usage:
    swift build -c release --product highway      # builds .build/release/highway
    /usr/bin/python3 Scripts/compare_lstm_step.py [--rounds 5] [--threads 1] [--binary PATH]

PyTorch comes from Debian's python3-torch (for /usr/bin/python3) with libopenblas0-pthread (the
script warns when a 128x50x100 product takes over 50 us, the sign of the reference BLAS). Each
framework runs in its own subprocess pinned to the thread count (torch.set_num_threads,
OMP/OPENBLAS_NUM_THREADS; `highway --threads`).
"""

import argparse
import json
import os
import sys

from benchlib import find_python, median, run_highway, run_py

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TORCH = r"""
import json, sys, time, torch
cfg = json.loads(sys.argv[1]); torch.set_num_threads(cfg["threads"]); torch.manual_seed(0)
B, T, I, H, L = cfg["batch"], cfg["steps"], cfg["input"], cfg["hidden"], cfg["layers"]
lstm = torch.nn.LSTM(I, H, num_layers=L, batch_first=True)
opt = torch.optim.SGD(lstm.parameters(), lr=0.01)
x = torch.rand(B, T, I) * 2 - 1; target = torch.rand(B, T, H) * 2 - 1
def step():
    opt.zero_grad(set_to_none=False)
    y, _ = lstm(x); loss = torch.nn.functional.mse_loss(y, target); loss.backward(); opt.step()
for _ in range(cfg["warmup"]): step()
ts = []
for _ in range(cfg["iterations"]):
    t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
ts.sort()
a, b = torch.rand(128, 50), torch.rand(50, 100)
t = time.perf_counter()
for _ in range(200): a @ b
mm_us = (time.perf_counter() - t) / 200 * 1e6
print(json.dumps({"median_ms": ts[len(ts) // 2] * 1e3, "version": torch.__version__, "mm_128x100x50_us": mm_us}))
"""


def highway_step(binary, cfg):
    return run_highway([binary, "bench", "lstm-step", "--input", cfg["input"], "--hidden", cfg["hidden"],
                        "--layers", cfg["layers"], "--steps", cfg["steps"], "--batch-size", cfg["batch"],
                        "--threads", cfg["threads"], "--iterations", cfg["iterations"]])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=100, help="timed training steps per round")
    ap.add_argument("--rounds", type=int, default=5,
                    help="measure both this many times, interleaved, and keep the median (the machine is noisy)")
    ap.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "highway"))
    ap.add_argument("--json")
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `swift build -c release --product highway` first")
    py = find_python("torch")
    if not py:
        sys.exit("PyTorch not found (apt-get install python3-torch libopenblas0-pthread)")
    cfg = dict(input=args.input, hidden=args.hidden, layers=args.layers, steps=args.steps, batch=args.batch_size,
               threads=args.threads, iterations=args.iterations, warmup=10)
    ours, theirs, version, mm = [], [], None, None
    for rnd in range(args.rounds):
        h = highway_step(args.binary, cfg)
        t = run_py(py, TORCH, cfg, cfg["threads"])
        if "error" in t:
            sys.exit(f"PyTorch failed: {t['error']}")
        ours.append(h["median_ms"]); theirs.append(t["median_ms"])
        version, mm, kernels = t["version"], t["mm_128x100x50_us"], h["kernels"]
        print(f"round {rnd + 1}/{args.rounds}: HighwayKit {h['median_ms']:.2f} ms, PyTorch {t['median_ms']:.2f} ms, "
              f"ratio {h['median_ms'] / t['median_ms']:.3f}", file=sys.stderr)
    mo, mt = median(ours), median(theirs)
    print(f"\nLSTM {args.input}->{args.hidden} x{args.layers}, {args.steps} steps, batch {args.batch_size}, "
          f"{args.threads} thread(s): median ms of {args.iterations} SGD steps, median of {args.rounds} interleaved rounds")
    print(f"HighwayKit ({kernels}) {mo:.2f} ms   PyTorch {version} {mt:.2f} ms   ratio {mo / mt:.3f}")
    print(f"rounds: HighwayKit {[round(v, 2) for v in ours]}  PyTorch {[round(v, 2) for v in theirs]}")
    if mm > 50:
        print(f"WARNING: PyTorch took {mm:.0f} us for a 128x50x100 product: it runs the reference BLAS; "
              "apt-get install libopenblas0-pthread for a fair comparison")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(config=cfg, highway_ms=ours, torch_ms=theirs, ratio=mo / mt, torch=version), f, indent=2)


if __name__ == "__main__":
    main()
