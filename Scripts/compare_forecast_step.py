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
import sys

from benchlib import JAX_TRAINING, TORCH_TIMING, add_run_options, find_peers, parse_run_options, report, time_rounds


TORCH = TORCH_TIMING + r"""
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
time_torch(net, step)
"""

JAX = JAX_TRAINING + r"""
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

kd = jax.random.split(jax.random.PRNGKey(2), 4)
x = jax.random.uniform(kd[0], (B, P, m)); y = jax.random.uniform(kd[1], (B, m))
scale = jax.random.uniform(kd[2], (m,)) * 1.5 + 0.5
time_jax(loss, p, 0.001, 10.0, lambda i: (x, y, scale, jax.random.fold_in(kd[3], i)))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hidden", default="50,100",
                    help="hidCNN = hidRNN of each workload, comma-separated (50: the exchange-rate script's; 100: the code's default)")
    ap.add_argument("--series", type=int, default=8)
    ap.add_argument("--window", type=int, default=168)
    ap.add_argument("--batch-size", type=int, default=128)
    add_run_options(ap, iterations=20)
    args = parse_run_options(ap)
    torch_py, jax_py = find_peers()
    rows = []
    for threads in args.threads:
        for hidden in [int(h) for h in args.hidden.split(",")]:
            cfg = dict(batch=args.batch_size, window=args.window, series=args.series, hid_cnn=hidden, hid_rnn=hidden, hid_skip=5,
                       cnn_kernel=6, skip=24, highway_window=24, threads=threads, iterations=args.iterations, warmup=3)
            cmd = [args.binary, "bench", "forecast-step", "--model", "lstnet-skip", "--series", args.series, "--window", args.window,
                   "--hid-cnn", hidden, "--hid-rnn", hidden, "--batch-size", args.batch_size, "--threads", threads,
                   "--iterations", args.iterations]
            runs = time_rounds(f"hidden {hidden}, {threads} thread(s)", args.rounds, cmd,
                               [("torch", torch_py, TORCH), ("jax", jax_py, JAX)], lambda h, cfg=cfg: cfg, threads)
            rows.append((f"LSTNet-skip, hidden {hidden}", threads, runs))
    report(f"LSTNet-skip, {args.series} series, window {args.window}, batch {args.batch_size}: median ms of {args.iterations} "
           f"steps (forward with dropout, L1 loss, backward, clip, Adam), median of {args.rounds} interleaved rounds", rows, args.json)


if __name__ == "__main__":
    main()
