#!/usr/bin/env python3
"""Compare one training step of `highway forecast`'s LSTNet with the reference code (PyTorch) and JAX.

Workload: LSTNet-skip as laiguokun/LSTNet's models/LSTNet.py builds it (Conv2d(1, hidCNN,
(CNN_kernel, m)) + ReLU, GRU1, a skip-GRU over period `skip`, linear1, the highway/AR linear over
the last `highway_window` steps; dropout 0.2 after the convolution and on both GRU states), on one
fixed random batch of 128 windows of 168 steps of 8 series: forward in training mode, the L1 loss
summed over the batch on rescaled values, backward, joint gradient-norm clip at 10, Adam at lr
0.001. PyTorch runs that module as written there (eager; its GRUs are nn.GRU); JAX runs a port of
it, the whole step jitted, each GRU a `lax.scan`. Each model's parameter count must equal
HighwayKit's (the script stops otherwise).

Usage:
    swift build -c release --product highway      # builds .build/release/highway
    /usr/bin/python3 Scripts/compare_forecast_step.py [--rounds 5] [--threads 1,2] [--hidden 50,100]

PyTorch comes from Debian's python3-torch (with libopenblas0-pthread), JAX from `pip install jax`;
each framework runs in its own subprocess pinned to the thread count.
"""

import argparse
import json
import os
import sys

from benchlib import find_python, median, run_highway, run_py

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TORCH = r"""
import json, sys, time, torch
import torch.nn as nn, torch.nn.functional as F
cfg = json.loads(sys.argv[1]); torch.set_num_threads(cfg["threads"]); torch.manual_seed(0)
B, P, m, hidC, hidR, hidS, Ck, skip, hw = (cfg[k] for k in ("batch", "window", "series", "hid_cnn", "hid_rnn", "hid_skip",
                                                          "cnn_kernel", "skip", "highway_window"))

class Model(nn.Module):   # laiguokun/LSTNet models/LSTNet.py, output_fun None
    def __init__(self):
        super().__init__()
        self.pt = (P - Ck) // skip
        self.conv1 = nn.Conv2d(1, hidC, kernel_size=(Ck, m))
        self.GRU1 = nn.GRU(hidC, hidR)
        self.dropout = nn.Dropout(p=0.2)
        self.GRUskip = nn.GRU(hidC, hidS)
        self.linear1 = nn.Linear(hidR + skip * hidS, m)
        self.highway = nn.Linear(hw, 1)
    def forward(self, x):
        batch_size = x.size(0)
        c = x.view(-1, 1, P, m)
        c = F.relu(self.conv1(c))
        c = self.dropout(c)
        c = torch.squeeze(c, 3)
        r = c.permute(2, 0, 1).contiguous()
        _, r = self.GRU1(r)
        r = self.dropout(torch.squeeze(r, 0))
        s = c[:, :, int(-self.pt * skip):].contiguous()
        s = s.view(batch_size, hidC, self.pt, skip)
        s = s.permute(2, 0, 3, 1).contiguous()
        s = s.view(self.pt, batch_size * skip, hidC)
        _, s = self.GRUskip(s)
        s = s.view(batch_size, skip * hidS)
        s = self.dropout(s)
        r = torch.cat((r, s), 1)
        res = self.linear1(r)
        z = x[:, -hw:, :]
        z = z.permute(0, 2, 1).contiguous().view(-1, hw)
        z = self.highway(z)
        z = z.view(-1, m)
        return res + z

net = Model(); net.train()
opt = torch.optim.Adam(net.parameters(), lr=0.001)
g = torch.Generator().manual_seed(2)
x = torch.rand(B, P, m, generator=g); y = torch.rand(B, m, generator=g); scale = torch.rand(m, generator=g) * 1.5 + 0.5
def step():
    opt.zero_grad(set_to_none=False)
    loss = (torch.abs(net(x) * scale - y * scale)).sum(); loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0); opt.step()
for _ in range(cfg["warmup"]): step()
ts = []
for _ in range(cfg["iterations"]):
    t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
ts.sort()
print(json.dumps({"median_ms": ts[len(ts) // 2] * 1e3, "version": torch.__version__,
                  "parameters": sum(p.numel() for p in net.parameters())}))
"""

JAX = r"""
import json, sys, time
import jax, jax.numpy as jnp
cfg = json.loads(sys.argv[1])
B, P, m, hidC, hidR, hidS, Ck, skip, hw = (cfg[k] for k in ("batch", "window", "series", "hid_cnn", "hid_rnn", "hid_skip",
                                                          "cnn_kernel", "skip", "highway_window"))
Tc, pt = P - Ck + 1, (P - Ck) // skip
keys = iter(jax.random.split(jax.random.PRNGKey(0), 32))
def u(shape, fan): return jax.random.uniform(next(keys), shape, minval=-1, maxval=1) / fan ** 0.5
def gru(inp, H):
    return {"w_ih": u((inp, 3 * H), H), "w_hh": u((H, 3 * H), H), "b_ih": u((3 * H,), H), "b_hh": u((3 * H,), H)}
p = {"conv_w": u((Ck, m, hidC), Ck * m), "conv_b": u((hidC,), Ck * m), "gru1": gru(hidC, hidR), "gruskip": gru(hidC, hidS),
     "lin_w": u((hidR + skip * hidS, m), hidR + skip * hidS), "lin_b": u((m,), hidR + skip * hidS),
     "hw_w": u((hw, 1), hw), "hw_b": u((1,), hw)}
count = sum(v.size for v in jax.tree_util.tree_leaves(p))

def run_gru(q, xs, H):   # xs (T, N, C) -> last h (N, H), PyTorch's GRU equations
    gx = xs @ q["w_ih"] + q["b_ih"]
    def cell(h, g):
        gh = h @ q["w_hh"] + q["b_hh"]
        r = jax.nn.sigmoid(g[:, :H] + gh[:, :H]); z = jax.nn.sigmoid(g[:, H:2 * H] + gh[:, H:2 * H])
        n = jnp.tanh(g[:, 2 * H:] + r * gh[:, 2 * H:])
        return (1 - z) * n + z * h, None
    h, _ = jax.lax.scan(cell, jnp.zeros((xs.shape[1], H)), gx)
    return h

def dropout(a, key):
    return jnp.where(jax.random.bernoulli(key, 0.8, a.shape), a / 0.8, 0.0)

def forward(p, x, key):
    k1, k2, k3 = jax.random.split(key, 3)
    windows = jnp.stack([x[:, k:k + Tc, :] for k in range(Ck)], axis=2)          # (B, Tc, Ck, m)
    c = dropout(jax.nn.relu(jnp.einsum("btkm,kmc->btc", windows, p["conv_w"]) + p["conv_b"]), k1)
    r = dropout(run_gru(p["gru1"], jnp.swapaxes(c, 0, 1), hidR), k2)
    s = c[:, Tc - pt * skip:, :].reshape(B, pt, skip, hidC)
    s = jnp.transpose(s, (1, 0, 2, 3)).reshape(pt, B * skip, hidC)
    s = dropout(run_gru(p["gruskip"], s, hidS).reshape(B, skip * hidS), k3)
    res = jnp.concatenate([r, s], 1) @ p["lin_w"] + p["lin_b"]
    z = jnp.swapaxes(x[:, -hw:, :], 1, 2) @ p["hw_w"] + p["hw_b"]               # (B, m, 1)
    return res + z[:, :, 0]

def loss(p, x, y, scale, key):
    return jnp.sum(jnp.abs(forward(p, x, key) * scale - y * scale))

@jax.jit
def step(p, m1, v1, t, x, y, scale, key):
    g = jax.grad(loss)(p, x, y, scale, key)
    norm = jnp.sqrt(sum(jnp.sum(a * a) for a in jax.tree_util.tree_leaves(g)))
    g = jax.tree_util.tree_map(lambda a: a * jnp.minimum(1.0, 10.0 / (norm + 1e-6)), g)
    t = t + 1
    m1 = jax.tree_util.tree_map(lambda a, b: 0.9 * a + 0.1 * b, m1, g)
    v1 = jax.tree_util.tree_map(lambda a, b: 0.999 * a + 0.001 * b * b, v1, g)
    lr = 0.001 * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
    p = jax.tree_util.tree_map(lambda a, b, c: a - lr * b / (jnp.sqrt(c) + 1e-8), p, m1, v1)
    return p, m1, v1, t

kd = jax.random.split(jax.random.PRNGKey(2), 4)
x = jax.random.uniform(kd[0], (B, P, m)); y = jax.random.uniform(kd[1], (B, m))
scale = jax.random.uniform(kd[2], (m,)) * 1.5 + 0.5
m1 = jax.tree_util.tree_map(jnp.zeros_like, p); v1 = jax.tree_util.tree_map(jnp.zeros_like, p); t = jnp.array(0.0)
key = kd[3]
for i in range(cfg["warmup"]):
    p, m1, v1, t = step(p, m1, v1, t, x, y, scale, jax.random.fold_in(key, i))
jax.block_until_ready(p); ts = []
for i in range(cfg["iterations"]):
    s = time.perf_counter()
    p, m1, v1, t = step(p, m1, v1, t, x, y, scale, jax.random.fold_in(key, 1000 + i)); jax.block_until_ready(p)
    ts.append(time.perf_counter() - s)
ts.sort()
print(json.dumps({"median_ms": ts[len(ts) // 2] * 1e3, "version": jax.__version__, "parameters": int(count)}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hidden", default="50,100",
                    help="hidCNN = hidRNN of each workload, comma-separated (50: the exchange-rate script's; 100: the code's default)")
    ap.add_argument("--series", type=int, default=8)
    ap.add_argument("--window", type=int, default=168)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", default="1", help="thread counts, comma-separated (each workload at each)")
    ap.add_argument("--iterations", type=int, default=20, help="timed training steps per round")
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
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for hidden in [int(h) for h in args.hidden.split(",")]:
            cfg = dict(batch=args.batch_size, window=args.window, series=args.series, hid_cnn=hidden, hid_rnn=hidden, hid_skip=5,
                       cnn_kernel=6, skip=24, highway_window=24, threads=threads, iterations=args.iterations, warmup=3)
            cmd = [args.binary, "bench", "forecast-step", "--model", "lstnet-skip", "--series", args.series, "--window", args.window,
                   "--hid-cnn", hidden, "--hid-rnn", hidden, "--batch-size", args.batch_size, "--threads", threads,
                   "--iterations", args.iterations]
            runs = {"highway": [], "torch": [], "jax": []}
            for rnd in range(args.rounds):
                h = run_highway(cmd)
                runs["highway"].append(h)
                for peer, py, code in (("torch", torch_py, TORCH), ("jax", jax_py, JAX)):
                    r = run_py(py, code, cfg, threads) if py else {"error": "not installed"}
                    if "parameters" in r and r["parameters"] != h["parameters"]:
                        sys.exit(f"{peer} built {r['parameters']} parameters for hidden {hidden}, HighwayKit {h['parameters']}: not the same model")
                    runs[peer].append(r)
                print(f"hidden {hidden}, {threads} thread(s), round {rnd + 1}/{args.rounds}: "
                      + ", ".join(f"{k} {r[-1].get('median_ms', float('nan')):.2f} ms" for k, r in runs.items()), file=sys.stderr)
            rows.append((hidden, threads, runs))

    def med(rs):
        ok = [r["median_ms"] for r in rs if "median_ms" in r]
        return median(ok) if ok else None

    print(f"\nLSTNet-skip, {args.series} series, window {args.window}, batch {args.batch_size}: median ms of {args.iterations} "
          f"steps (forward with dropout, L1 loss, backward, clip, Adam), median of {args.rounds} interleaved rounds")
    print(f"{'workload':<28} {'params':>7} {'thr':>3} {'HighwayKit':>10} {'PyTorch':>9} {'ratio':>6} {'JAX':>8} {'ratio':>6}")
    out = []
    for hidden, threads, runs in rows:
        h0 = runs["highway"][0]
        hm, tm, jm = med(runs["highway"]), med(runs["torch"]), med(runs["jax"])
        def cell(v): return f"{v:>8.2f}" if v else f"{'-':>8}"
        def ratio(v): return f"{hm / v:>6.2f}" if v else f"{'-':>6}"
        name = f"LSTNet-skip, hidden {hidden}"
        print(f"{name:<28} {h0['parameters']:>7} {threads:>3} {hm:>10.2f} {cell(tm):>9} {ratio(tm)} {cell(jm)} {ratio(jm)}")
        out.append(dict(workload=name, threads=threads, parameters=h0["parameters"], highway_ms=[r["median_ms"] for r in runs["highway"]],
                        torch_ms=[r.get("median_ms") for r in runs["torch"]], jax_ms=[r.get("median_ms") for r in runs["jax"]]))
    versions = {k: next((r.get("version") for _, _, runs in rows for r in runs[k] if r.get("version")), None) for k in ("torch", "jax")}
    print(f"\nHighwayKit ({rows[0][2]['highway'][0]['kernels']}), PyTorch {versions['torch']}, JAX {versions['jax']}; "
          "ratio = HighwayKit's time over the peer's")
    for e in sorted({f"{k}: {r['error']}" for _, _, runs in rows for k in ("torch", "jax") for r in runs[k] if "error" in r}):
        print(f"failed: {e}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=out, torch=versions["torch"], jax=versions["jax"]), f, indent=2)


if __name__ == "__main__":
    main()
