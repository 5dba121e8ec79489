#!/usr/bin/env python3
"""Load a `highway train` checkpoint in PyTorch and check it gives the same test accuracy.

Usage (Debian's python3-torch lives in /usr/bin/python3):
    /usr/bin/python3 Scripts/pytorch_check.py RUN_DIR [--data ../shared/data/mnist]

Builds the PyTorch model of the README ("Checkpoints and PyTorch"), loads RUN_DIR/checkpoint.safetensors
into it with `load_state_dict(strict=True)` (the optimiser's `optimizer.*` entries dropped), evaluates
the MNIST-family test set, and compares with RUN_DIR/summary.json. Exits 1 on a difference of more than
one test example (float32 summation order may flip a near-tie).
"""
import argparse, gzip, json, os, struct, sys

import numpy as np
import torch

# ---- the README snippet: a PyTorch twin of HighwayKit's FeedForwardNetwork --------------------
import torch.nn as nn

ACT = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda x: x}

class Highway(nn.Module):                      # y = H·T + x·(1 − T), [H | T] from one Linear
    def __init__(self, width, act):
        super().__init__(); self.linear = nn.Linear(width, 2 * width); self.act = ACT[act]
    def forward(self, x):
        h, t = self.linear(x).chunk(2, dim=-1)
        t = torch.sigmoid(t)
        return self.act(h) * t + x * (1 - t)

class Plain(nn.Module):                        # y = act(W x + b); state_dict: layers.i.weight/bias
    def __init__(self, width, act):
        super().__init__(); self.weight = nn.Parameter(torch.empty(width, width)); self.bias = nn.Parameter(torch.empty(width)); self.act = ACT[act]
    def forward(self, x): return self.act(nn.functional.linear(x, self.weight, self.bias))

class Residual(Plain):                         # y = x + act(W x + b)
    def forward(self, x): return x + super().forward(x)

class Net(nn.Module):
    def __init__(self, cfg):                   # cfg = config.json["network"]
        super().__init__()
        w, act, self.act = cfg["width"], cfg["activation"], ACT[cfg["activation"]]
        self.input = nn.Linear(cfg["inputSize"], w)
        layer = {"highway": Highway, "plain": Plain, "residual": Residual}[cfg["kind"]]
        n = cfg["depth"] - 1
        self.tied = cfg.get("tied", False)
        self.layers = nn.ModuleList([layer(w, act) for _ in range(1 if self.tied else n)])
        self.repeats = n if self.tied else 1
        self.output = nn.Linear(w, cfg["classes"])
    def forward(self, x):
        x = self.act(self.input(x))
        for layer in self.layers:
            for _ in range(self.repeats): x = layer(x)
        return self.output(x)

def load_safetensors(path):
    """A minimal safetensors reader (the `safetensors` package does the same)."""
    with open(path, "rb") as f: data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n]); base = 8 + n; out = {}
    for name, e in header.items():
        if name == "__metadata__": continue
        b, end = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[base + b: base + end]), dtype=torch.float32).reshape(e["shape"])
    return out
# ---- end of the snippet ------------------------------------------------------------------------

def read_idx(path):
    raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    ndim = raw[3]; dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

def find(directory, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(directory, name)
        if os.path.exists(p): return p
    sys.exit(f"{stem}[.gz] not found in {directory}")

def main():
    ap = argparse.ArgumentParser(); ap.add_argument("run"); ap.add_argument("--data")
    a = ap.parse_args()
    config = json.load(open(os.path.join(a.run, "config.json")))
    summary = json.load(open(os.path.join(a.run, "summary.json")))
    net = Net(config["network"])
    state = {k: v for k, v in load_safetensors(os.path.join(a.run, "checkpoint.safetensors")).items()
             if not k.startswith("optimizer.")}
    net.load_state_dict(state, strict=True)
    data = a.data or config.get("dataDirectory")
    x = torch.tensor(read_idx(find(data, "t10k-images-idx3-ubyte")).reshape(-1, 784), dtype=torch.float32) / 255
    y = torch.tensor(read_idx(find(data, "t10k-labels-idx1-ubyte")).astype(np.int64))
    with torch.no_grad():
        logits = net(x)
        acc = (logits.argmax(1) == y).float().mean().item()
        loss = nn.functional.cross_entropy(logits, y).item()
    want = summary["test_accuracy"]
    print(f"PyTorch {torch.__version__}: test accuracy {acc * 100:.2f}% (loss {loss:.4f}); "
          f"HighwayKit summary.json: {want * 100:.2f}% (loss {summary['test_loss']:.4f})")
    if abs(acc - want) * len(y) > 1.0:
        sys.exit("MISMATCH: more than one test example differs")
    print("OK: same test accuracy")

if __name__ == "__main__":
    main()
