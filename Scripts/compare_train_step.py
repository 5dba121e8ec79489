#!/usr/bin/env python3
"""Compare one SGD training step of HighwayKit with PyTorch (eager) and JAX (jit, lax.scan).

Workloads (REFERENCE.md §6): batch 128, 784 inputs, a dense input layer, 49 hidden layers, a
10-way softmax; highway width 50 and 71 (tanh, gate bias -2) and plain ReLU width 71. Each
framework runs the same step (forward, mean cross-entropy, backward, SGD update with lr 0.01) on
the same random batch, in this run on this machine; medians of many steps are compared.

Usage:
    swift build -c release          # builds .build/release/highway
    python3 Scripts/compare_train_step.py [--threads 1,2] [--json out.json]

PyTorch comes from Debian's python3-torch (for /usr/bin/python3) — install libopenblas0-pthread
with it: without it Debian's torch runs the reference BLAS, about 15x slower (the script warns when
a 128x50x100 product takes over 50 us). JAX comes from `pip install jax`. A
framework that is missing is reported and skipped; HighwayKit is always measured.
Each framework runs in its own subprocess pinned to the thread count (torch.set_num_threads,
XLA's --xla_cpu_multi_thread_eigen/intra_op_parallelism_threads, HIGHWAY_THREADS).
"""

import argparse
import json
import os
import sys

from benchlib import find_python, run_highway, run_py

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = [("highway", 50, "tanh"), ("highway", 71, "tanh"), ("plain", 71, "relu")]
DEPTH, BATCH, STEPS, WARMUP = 50, 128, 200, 20

TORCH = r"""
import json, sys, time, torch
cfg = json.loads(sys.argv[1]); torch.set_num_threads(cfg["threads"]); torch.manual_seed(0)
kind, w, act, depth, B = cfg["kind"], cfg["width"], cfg["act"], cfg["depth"], cfg["batch"]
A = torch.tanh if act == "tanh" else torch.relu
class Highway(torch.nn.Module):
    def __init__(s, w):
        super().__init__(); s.linear = torch.nn.Linear(w, 2 * w)
        with torch.no_grad(): s.linear.bias[w:].fill_(-2.0)
    def forward(s, x):
        h, t = s.linear(x).chunk(2, -1); t = torch.sigmoid(t)
        return A(h) * t + x * (1 - t)
class Plain(torch.nn.Module):
    def __init__(s, w): super().__init__(); s.linear = torch.nn.Linear(w, w)
    def forward(s, x): return A(s.linear(x))
class Net(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.input = torch.nn.Linear(784, w)
        s.layers = torch.nn.ModuleList([(Highway if kind == "highway" else Plain)(w) for _ in range(depth - 1)])
        s.output = torch.nn.Linear(w, 10)
    def forward(s, x):
        x = A(s.input(x))
        for l in s.layers: x = l(x)
        return s.output(x)
net = Net(); opt = torch.optim.SGD(net.parameters(), lr=0.01)
x = torch.rand(B, 784); y = torch.randint(0, 10, (B,))
def step():
    opt.zero_grad(set_to_none=False)
    loss = torch.nn.functional.cross_entropy(net(x), y); loss.backward(); opt.step()
for _ in range(cfg["warmup"]): step()
ts = []
for _ in range(cfg["steps"]):
    t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
ts.sort()
a, b = torch.rand(128, 50), torch.rand(50, 100)
t = time.perf_counter()
for _ in range(200): a @ b
mm_us = (time.perf_counter() - t) / 200 * 1e6
print(json.dumps({"median_ms": ts[len(ts) // 2] * 1e3, "version": torch.__version__, "mm_128x100x50_us": mm_us}))
"""

JAX = r"""
import json, os, sys, time
cfg = json.loads(sys.argv[1])
import jax, jax.numpy as jnp
kind, w, act, depth, B = cfg["kind"], cfg["width"], cfg["act"], cfg["depth"], cfg["batch"]
A = jnp.tanh if act == "tanh" else jax.nn.relu
k = jax.random.split(jax.random.PRNGKey(0), 4)
L = depth - 1; out = 2 * w if kind == "highway" else w
params = {
  "wi": jax.random.normal(k[0], (784, w)) * 0.05, "bi": jnp.zeros(w),
  "wl": jax.random.normal(k[1], (L, w, out)) * (1 / w) ** 0.5,
  "bl": jnp.zeros((L, out)).at[:, w:].set(-2.0) if kind == "highway" else jnp.zeros((L, out)),
  "wo": jax.random.normal(k[2], (w, 10)) * 0.1, "bo": jnp.zeros(10)}
def layer(h, p):
    wl, bl = p; z = h @ wl + bl
    if kind == "highway":
        t = jax.nn.sigmoid(z[:, w:]); return A(z[:, :w]) * t + h * (1 - t), None
    return A(z), None
def loss(p, x, y):
    h = A(x @ p["wi"] + p["bi"]); h, _ = jax.lax.scan(layer, h, (p["wl"], p["bl"]))
    logits = h @ p["wo"] + p["bo"]
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], 1))
@jax.jit
def step(p, x, y):
    g = jax.grad(loss)(p, x, y); return jax.tree_util.tree_map(lambda a, b: a - 0.01 * b, p, g)
x = jax.random.uniform(k[3], (B, 784)); y = jnp.arange(B) % 10
for _ in range(cfg["warmup"]): params = step(params, x, y)
jax.block_until_ready(params); ts = []
for _ in range(cfg["steps"]):
    t = time.perf_counter(); params = step(params, x, y); jax.block_until_ready(params); ts.append(time.perf_counter() - t)
ts.sort(); print(json.dumps({"median_ms": ts[len(ts) // 2] * 1e3, "version": jax.__version__}))
"""


def run_highway_step(binary, kind, width, act, threads):
    return run_highway([binary, "bench", "train-step", "--model", kind, "--width", width, "--depth", DEPTH,
                        "--activation", act, "--batch-size", BATCH, "--threads", threads, "--steps", STEPS])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--json")
    ap.add_argument("--rounds", type=int, default=3,
                    help="measure every framework this many times, interleaved, and keep the median (the machine is noisy)")
    ap.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "highway"))
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `swift build -c release` first")
    torch_py, jax_py = find_python("torch"), find_python("jax")
    if not torch_py:
        print("PyTorch not found (apt-get install python3-torch): skipped", file=sys.stderr)
    if not jax_py:
        print("JAX not found (pip install jax): skipped", file=sys.stderr)
    def median_of(runs):
        ok = [r for r in runs if "median_ms" in r]
        if not ok:
            return runs[0]
        ok.sort(key=lambda r: r["median_ms"])
        best = dict(ok[len(ok) // 2])
        best["rounds_ms"] = [round(r["median_ms"], 3) for r in runs if "median_ms" in r]
        return best

    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for kind, width, act in WORKLOADS:
            cfg = dict(kind=kind, width=width, act=act, depth=DEPTH, batch=BATCH, steps=STEPS, warmup=WARMUP, threads=threads)
            runs = {"highway": [], "torch": [], "jax": []}
            for rnd in range(args.rounds):
                print(f"{kind} w{width} threads={threads} round {rnd + 1}/{args.rounds}...", file=sys.stderr)
                runs["highway"].append(run_highway_step(args.binary, kind, width, act, threads))
                runs["torch"].append(run_py(torch_py, TORCH, cfg, threads) if torch_py else {"error": "not installed"})
                runs["jax"].append(run_py(jax_py, JAX, cfg, threads) if jax_py else {"error": "not installed"})
            row = dict(workload=f"{kind} w{width} {act}", threads=threads)
            for k, v in runs.items():
                row[k] = median_of(v)
            rows.append(row)
    print(f"\nOne SGD step, batch 128, depth 50: median ms of {STEPS} steps, median of {args.rounds} rounds; ratio = HighwayKit time / peer time")
    print(f"{'workload':<22} {'thr':>3} {'HighwayKit':>10} {'PyTorch':>9} {'ratio':>6} {'JAX':>8} {'ratio':>6}")
    for r in rows:
        h = r["highway"]["median_ms"]
        def col(peer):
            m = r[peer].get("median_ms")
            return (f"{m:9.2f}", f"{h / m:6.2f}") if m else (f"{'-':>9}", f"{'-':>6}")
        t, tr = col("torch"); j, jr = col("jax")
        print(f"{r['workload']:<22} {r['threads']:>3} {h:10.2f} {t} {tr} {j[1:]} {jr}")
    vs = {p: next((r[p].get("version") for r in rows if r[p].get("version")), None) for p in ("torch", "jax")}
    slow = [r["torch"].get("mm_128x100x50_us") for r in rows if r["torch"].get("mm_128x100x50_us", 0) > 50]
    if slow:
        print(f"WARNING: PyTorch took {slow[0]:.0f} us for a 128x50x100 product: it runs the reference BLAS; "
              "apt-get install libopenblas0-pthread for a fair comparison")
    print(f"\nPyTorch {vs['torch']}, JAX {vs['jax']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
