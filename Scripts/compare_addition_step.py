#!/usr/bin/env python3
"""Compare one training step of `highway addition`'s models with PyTorch (eager) and JAX (jit).

Workload: the step `highway addition` takes per batch, on one fixed batch of 15-digit problems
(48 steps of 13 one-hot symbols, 16 output digits): the 2-LSTM (time x depth, depth the priority
dimension, input projected into the bottom block of each column, output the top block's depth h at
the last 16 steps), or the stacked LSTM matched to it by parameter count; softmax cross-entropy on
the sum's digits; backward; global gradient-norm clip at 1; Adam at lr 0.003. PyTorch builds the
2-LSTM from nn.Linear cells in two Python loops (time, depth) and the stacked LSTM with nn.LSTM;
JAX scans over time with the depth loop unrolled inside, the whole step jitted. Each model's
parameter count must equal HighwayKit's (the script stops otherwise), so all three run the same
model.

Usage:
    swift build -c release --product highway      # builds .build/release/highway
    /usr/bin/python3 Scripts/compare_addition_step.py [--rounds 5] [--threads 1,2] [--binary PATH]

PyTorch comes from Debian's python3-torch (with libopenblas0-pthread), JAX from `pip install jax`;
each framework runs in its own subprocess pinned to the thread count.
"""

import argparse
import json
import os
import sys

from benchlib import find_python, median, run_highway, run_py

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The batch both peers train on: a's digits, '+', b's digits, '=', then n + 1 blanks (symbols
# 0-9, 10, 11, 12), least significant digit first; labels the sum's n + 1 digits.
BATCH = r"""
import random
def addition_batch(B, n):
    rnd = random.Random(2); xs, ys = [], []
    for _ in range(B):
        a = [rnd.randrange(10) for _ in range(n)]; b = [rnd.randrange(10) for _ in range(n)]
        seq = a + [10] + b + [11] + [12] * (n + 1); carry = 0
        for i in range(n + 1):
            s = (a[i] + b[i] if i < n else 0) + carry; ys.append(s % 10); carry = s // 10
        xs.append(seq)
    return xs, ys
"""

TORCH = BATCH + r"""
import json, sys, time, torch
cfg = json.loads(sys.argv[1]); torch.set_num_threads(cfg["threads"]); torch.manual_seed(0)
B, n, W, D, tied = cfg["batch"], cfg["digits"], cfg["width"], cfg["depth"], cfg["tied"]
T, K, V, C = 3 * n + 3, n + 1, 13, 10
seqs, labels = addition_batch(B, n)
x = torch.nn.functional.one_hot(torch.tensor(seqs), V).float(); y = torch.tensor(labels)

def cell(z, m):
    i, f, g, o = z.chunk(4, 1)
    m = torch.sigmoid(f) * m + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(m), m

class Grid2(torch.nn.Module):
    def __init__(self):
        super().__init__(); L = 1 if tied else D
        self.inp = torch.nn.Linear(V, 2 * W)
        self.time = torch.nn.ModuleList([torch.nn.Linear(2 * W, 4 * W) for _ in range(L)])
        self.depth = torch.nn.ModuleList([torch.nn.Linear(2 * W, 4 * W) for _ in range(L)])
        self.out = torch.nn.Linear(W, C)
    def forward(self, x):
        proj = self.inp(x); zero = x.new_zeros(x.shape[0], W)
        ht, mt, outs = [zero] * D, [zero] * D, []
        for t in range(T):
            hd, md = proj[:, t, :W], proj[:, t, W:]
            for d in range(D):
                k = 0 if tied else d
                ht[d], mt[d] = cell(self.time[k](torch.cat([ht[d], hd], 1)), mt[d])
                hd, md = cell(self.depth[k](torch.cat([ht[d], hd], 1)), md)   # depth is the priority dimension
            if t >= T - K: outs.append(hd)
        return self.out(torch.stack(outs, 1).reshape(-1, W))

class Stacked(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.lstm = torch.nn.LSTM(V, W, num_layers=D, batch_first=True); self.out = torch.nn.Linear(W, C)
    def forward(self, x):
        return self.out(self.lstm(x)[0][:, T - K:].reshape(-1, W))

net = Grid2() if cfg["model"] == "grid" else Stacked()
opt = torch.optim.Adam(net.parameters(), lr=0.003)
def step():
    opt.zero_grad(set_to_none=False)
    loss = torch.nn.functional.cross_entropy(net(x), y); loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0); opt.step()
for _ in range(cfg["warmup"]): step()
ts = []
for _ in range(cfg["iterations"]):
    t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
ts.sort()
print(json.dumps({"median_ms": ts[len(ts) // 2] * 1e3, "version": torch.__version__,
                  "parameters": sum(p.numel() for p in net.parameters())}))
"""

JAX = BATCH + r"""
import json, sys, time
import jax, jax.numpy as jnp
cfg = json.loads(sys.argv[1])
B, n, W, D, tied = cfg["batch"], cfg["digits"], cfg["width"], cfg["depth"], cfg["tied"]
T, K, V, C = 3 * n + 3, n + 1, 13, 10
seqs, labels = addition_batch(B, n)
x = jax.nn.one_hot(jnp.array(seqs), V); y = jnp.array(labels)
keys = iter(jax.random.split(jax.random.PRNGKey(0), 64))
def u(shape, fan_in): return jax.random.uniform(next(keys), shape, minval=-1, maxval=1) / fan_in ** 0.5
L = 1 if tied else D
if cfg["model"] == "grid":
    p = {"inp_w": u((V, 2 * W), V), "inp_b": jnp.zeros(2 * W),
         "time_w": u((L, 2 * W, 4 * W), 2 * W), "time_b": jnp.zeros((L, 4 * W)),
         "depth_w": u((L, 2 * W, 4 * W), 2 * W), "depth_b": jnp.zeros((L, 4 * W))}
else:
    p = {"w0": u((V + W, 4 * W), W), "b0": jnp.zeros((2, 4 * W)),
         "w": u((D - 1, 2 * W, 4 * W), W), "b": jnp.zeros((D - 1, 2, 4 * W))}
p["out_w"] = u((W, C), W); p["out_b"] = jnp.zeros(C)
count = sum(v.size for v in jax.tree_util.tree_leaves(p))

def cell(z, m):
    i, f, g, o = jnp.split(z, 4, axis=1)
    m = jax.nn.sigmoid(f) * m + jax.nn.sigmoid(i) * jnp.tanh(g)
    return jax.nn.sigmoid(o) * jnp.tanh(m), m

def logits(p, x):
    xs = jnp.swapaxes(x, 0, 1)                                    # (T, B, V)
    zero = jnp.zeros((D, x.shape[0], W))
    if cfg["model"] == "grid":
        proj = xs @ p["inp_w"] + p["inp_b"]
        def column(carry, pt):
            ht, mt = carry; hd, md = pt[:, :W], pt[:, W:]; nh, nm = [], []
            for d in range(D):
                k = 0 if tied else d
                h, m = cell(jnp.concatenate([ht[d], hd], 1) @ p["time_w"][k] + p["time_b"][k], mt[d])
                hd, md = cell(jnp.concatenate([h, hd], 1) @ p["depth_w"][k] + p["depth_b"][k], md)
                nh.append(h); nm.append(m)
            return (jnp.stack(nh), jnp.stack(nm)), hd
        _, top = jax.lax.scan(column, (zero, zero), proj)
    else:
        def column(carry, xt):
            hs, ms = carry; below, nh, nm = xt, [], []
            for d in range(D):
                w, b = (p["w0"], p["b0"]) if d == 0 else (p["w"][d - 1], p["b"][d - 1])
                h, m = cell(jnp.concatenate([below, hs[d]], 1) @ w + b[0] + b[1], ms[d])
                nh.append(h); nm.append(m); below = h
            return (jnp.stack(nh), jnp.stack(nm)), below
        _, top = jax.lax.scan(column, (zero, zero), xs)
    top = jnp.swapaxes(top[T - K:], 0, 1).reshape(-1, W)
    return top @ p["out_w"] + p["out_b"]

def loss(p, x, y):
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits(p, x)), y[:, None], 1))

@jax.jit
def step(p, m, v, t, x, y):
    g = jax.grad(loss)(p, x, y)
    norm = jnp.sqrt(sum(jnp.sum(a * a) for a in jax.tree_util.tree_leaves(g)))
    g = jax.tree_util.tree_map(lambda a: a * jnp.minimum(1.0, 1.0 / (norm + 1e-6)), g)
    t = t + 1
    m = jax.tree_util.tree_map(lambda a, b: 0.9 * a + 0.1 * b, m, g)
    v = jax.tree_util.tree_map(lambda a, b: 0.999 * a + 0.001 * b * b, v, g)
    lr = 0.003 * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
    p = jax.tree_util.tree_map(lambda a, b, c: a - lr * b / (jnp.sqrt(c) + 1e-8), p, m, v)
    return p, m, v, t

m = jax.tree_util.tree_map(jnp.zeros_like, p); v = jax.tree_util.tree_map(jnp.zeros_like, p); t = jnp.array(0.0)
for _ in range(cfg["warmup"]):
    p, m, v, t = step(p, m, v, t, x, y)
jax.block_until_ready(p); ts = []
for _ in range(cfg["iterations"]):
    s = time.perf_counter(); p, m, v, t = step(p, m, v, t, x, y); jax.block_until_ready(p); ts.append(time.perf_counter() - s)
ts.sort()
print(json.dumps({"median_ms": ts[len(ts) // 2] * 1e3, "version": jax.__version__, "parameters": int(count)}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--digits", type=int, default=15)
    ap.add_argument("--configs", default="untied:32,tied:64",
                    help="2-LSTM weight sharing and width, comma-separated (each also times the stacked LSTM matched to it)")
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", default="1", help="thread counts, comma-separated (each workload at each)")
    ap.add_argument("--iterations", type=int, default=30, help="timed training steps per round")
    ap.add_argument("--rounds", type=int, default=5,
                    help="measure all this many times, interleaved, and keep the median (the machine is noisy)")
    ap.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "highway"))
    ap.add_argument("--json")
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `swift build -c release --product highway` first")
    torch_py, jax_py = find_python("torch"), find_python("jax")
    if not torch_py:
        sys.exit("PyTorch not found (apt-get install python3-torch libopenblas0-pthread)")
    if not jax_py:
        print("JAX not found (pip install jax): skipped", file=sys.stderr)
    workloads = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for c in args.configs.split(","):
            tie, width = c.split(":")
            if tie not in ("tied", "untied"):
                sys.exit(f"--configs: '{c}' is not tied:WIDTH or untied:WIDTH")
            for model in ("grid", "stacked"):
                workloads.append(dict(model=model, tied=tie == "tied", width=int(width), threads=threads))
    rows = []
    for w in workloads:
        cmd = [args.binary, "bench", "addition-step", "--model", w["model"], "--digits", args.digits, "--width", w["width"],
               "--depth", args.depth, "--batch-size", args.batch_size, "--threads", w["threads"],
               "--iterations", args.iterations] + ([] if w["tied"] else ["--untied"])
        runs = {"highway": [], "torch": [], "jax": []}
        for rnd in range(args.rounds):
            h = run_highway(cmd)
            # the peers build the model at the width HighwayKit ran (the stacked LSTM's matched width)
            cfg = dict(model=w["model"], tied=w["tied"], width=h["width"], digits=args.digits, depth=args.depth,
                       batch=args.batch_size, threads=w["threads"], iterations=args.iterations, warmup=5)
            runs["highway"].append(h)
            for peer, py, code in (("torch", torch_py, TORCH), ("jax", jax_py, JAX)):
                r = run_py(py, code, cfg, w["threads"]) if py else {"error": "not installed"}
                if "parameters" in r and r["parameters"] != h["parameters"]:
                    sys.exit(f"{peer} built {r['parameters']} parameters for {w}, HighwayKit {h['parameters']}: not the same model")
                runs[peer].append(r)
            print(f"{w['model']} ({'tied' if w['tied'] else 'untied'} {w['width']}, {w['threads']} thread(s)) round {rnd + 1}/{args.rounds}: "
                  + ", ".join(f"{k} {r[-1].get('median_ms', float('nan')):.2f} ms" for k, r in runs.items()), file=sys.stderr)
        rows.append((w, runs))

    def med(rs):
        ok = [r["median_ms"] for r in rs if "median_ms" in r]
        return median(ok) if ok else None

    print(f"\n{args.digits}-digit addition, depth {args.depth}, batch {args.batch_size}: "
          f"median ms of {args.iterations} steps (forward, cross-entropy, backward, clip, Adam), median of {args.rounds} interleaved rounds")
    print(f"{'model':<28} {'params':>7} {'thr':>3} {'HighwayKit':>10} {'PyTorch':>9} {'ratio':>6} {'JAX':>8} {'ratio':>6}")
    out = []
    for w, runs in rows:
        h0 = runs["highway"][0]
        name = (f"{'tied' if w['tied'] else 'untied'} 2-LSTM, width {w['width']}" if w["model"] == "grid"
                else f"stacked LSTM, width {h0['width']}")
        hm, tm, jm = med(runs["highway"]), med(runs["torch"]), med(runs["jax"])
        def cell(v): return f"{v:>8.2f}" if v else f"{'-':>8}"
        def ratio(v): return f"{hm / v:>6.2f}" if v else f"{'-':>6}"
        print(f"{name:<28} {h0['parameters']:>7} {w['threads']:>3} {hm:>10.2f} {cell(tm):>9} {ratio(tm)} {cell(jm)} {ratio(jm)}")
        out.append(dict(workload=name, threads=w["threads"], parameters=h0["parameters"], highway_ms=[r["median_ms"] for r in runs["highway"]],
                        torch_ms=[r.get("median_ms") for r in runs["torch"]], jax_ms=[r.get("median_ms") for r in runs["jax"]]))
    versions = {k: next((r.get("version") for _, runs in rows for r in runs[k] if r.get("version")), None) for k in ("torch", "jax")}
    print(f"\nHighwayKit ({rows[0][1]['highway'][0]['kernels']}), PyTorch {versions['torch']}, JAX {versions['jax']}; "
          "ratio = HighwayKit's time over the peer's")
    errors = {f"{k}: {r['error']}" for _, runs in rows for k in ("torch", "jax") for r in runs[k] if "error" in r}
    for e in sorted(errors):
        print(f"failed: {e}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=out, torch=versions["torch"], jax=versions["jax"]), f, indent=2)


if __name__ == "__main__":
    main()
