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
import sys

from benchlib import JAX_TRAINING, TORCH_TIMING, add_run_options, find_peers, parse_run_options, report, time_rounds


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

TORCH = BATCH + TORCH_TIMING + r"""
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
time_torch(net, step)
"""

JAX = BATCH + JAX_TRAINING + r"""
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

time_jax(loss, p, 0.003, 1.0, lambda i: (x, y))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--digits", type=int, default=15)
    ap.add_argument("--configs", default="untied:32,tied:64",
                    help="2-LSTM weight sharing and width, comma-separated (each also times the stacked LSTM matched to it)")
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=32)
    add_run_options(ap, iterations=30)
    args = parse_run_options(ap)
    torch_py, jax_py = find_peers()
    rows = []
    for threads in args.threads:
        for c in args.configs.split(","):
            tie, width = c.split(":")
            if tie not in ("tied", "untied"):
                sys.exit(f"--configs: '{c}' is not tied:WIDTH or untied:WIDTH")
            for model in ("grid", "stacked"):
                cmd = [args.binary, "bench", "addition-step", "--model", model, "--digits", args.digits, "--width", width,
                       "--depth", args.depth, "--batch-size", args.batch_size, "--threads", threads,
                       "--iterations", args.iterations] + ([] if tie == "tied" else ["--untied"])
                # the peers build the model at the width HighwayKit ran (the stacked LSTM's matched width)
                def cfg(h, model=model, tied=tie == "tied", threads=threads):
                    return dict(model=model, tied=tied, width=h["width"], digits=args.digits, depth=args.depth,
                                batch=args.batch_size, threads=threads, iterations=args.iterations, warmup=5)
                runs = time_rounds(f"{model} ({tie} {width}, {threads} thread(s))", args.rounds, cmd,
                                   [("torch", torch_py, TORCH), ("jax", jax_py, JAX)], cfg, threads)
                h0 = runs["highway"][0]
                name = f"{tie} 2-LSTM, width {width}" if model == "grid" else f"stacked LSTM, width {h0['width']}"
                rows.append((name, threads, runs))
    report(f"{args.digits}-digit addition, depth {args.depth}, batch {args.batch_size}: median ms of {args.iterations} steps "
           f"(forward, cross-entropy, backward, clip, Adam), median of {args.rounds} interleaved rounds", rows, args.json)


if __name__ == "__main__":
    main()
