#!/usr/bin/env python3
"""Load a Grid LSTM task's checkpoint in PyTorch and check it scores as HighwayKit measured.

Usage (Debian's python3-torch lives in /usr/bin/python3):
    /usr/bin/python3 Scripts/grid_check.py RUN_DIR [RUN_DIR ...] [--examples 10000] [--seed 0]

RUN_DIR is one model's directory of `highway parity`, `addition` or `memorize` (with several
models, `--out` holds one per model: pass them, or the `--out` directory itself, which stands for
all of them). The model is rebuilt in PyTorch from config.json — the 1-LSTM and 2-LSTM with the
independent implementation of the paper's equations in make_grid_golden.py, the stacked LSTM as
`nn.LSTM`, the feedforward baseline from `nn.Linear` — and checkpoint.safetensors is loaded by
name (every weight the model needs must be there with its shape; the optimiser's entries are
left). It then draws its own fresh problems of the task (numpy, so not the same problems as
HighwayKit's) and measures exact-match accuracy and, for addition and memorize, the accuracy at
each output position, and compares them with summary.json: they must agree within sampling error
(4 standard deviations of the difference of two independent estimates, plus one example). A model
whose weights were read in the wrong layout scores far from its summary and fails.
Exits 1 on a mismatch.
"""
import argparse, json, math, os, sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_grid_golden import grid as reference_grid      # noqa: E402
from pytorch_check import load_safetensors               # noqa: E402


def problems(config, n, rng):
    """x (n, steps, inputs) float32, labels (n, outputs) int64: the task's encoding (GridTasks.swift)."""
    if "bits" in config:                       # parity: ±1 per bit, the label the parity of the +1s
        bits = rng.integers(0, 2, size=(n, config["bits"]))
        return (2 * bits - 1).astype(np.float32)[:, None, :], (bits.sum(1) % 2)[:, None]
    L = config["length"]
    if config["task_kind"] == "addition":      # a, '+', b, '=', L + 1 blanks; least significant first
        a, b = rng.integers(0, 10, size=(n, L)), rng.integers(0, 10, size=(n, L))
        seq = np.concatenate([a, np.full((n, 1), 10), b, np.full((n, 1), 11), np.full((n, L + 1), 12)], 1)
        labels, carry = np.zeros((n, L + 1), np.int64), np.zeros(n, np.int64)
        for i in range(L + 1):
            s = (a[:, i] + b[:, i] if i < L else 0) + carry
            labels[:, i], carry = s % 10, s // 10
        vocab = 13
    else:                                      # memorize: the sequence, a delimiter, L blanks
        S = config["symbols"]
        seq_syms = rng.integers(0, S, size=(n, L))
        seq = np.concatenate([seq_syms, np.full((n, 1), S), np.full((n, L), S + 1)], 1)
        labels, vocab = seq_syms, S + 2
    return np.eye(vocab, dtype=np.float32)[seq], labels


def build(config, P):
    """The model as a function x -> logits (n, outputs, classes), from the checkpoint's tensors P."""
    kind, width, depth = config["model"], config["width"], config["depth"]
    out_w, out_b = P["output.weight"], P["output.bias"]
    if "bits" in config:
        if kind == "feedforward":
            act = {"tanh": torch.tanh, "relu": torch.relu}[config["activation"]]
            def net(x):
                h = x[:, 0, :]
                for l in range(max(depth, 1)):
                    h = act(h @ P[f"layers.{l}.weight"].T + P[f"layers.{l}.bias"])
                return (h @ out_w.T + out_b)[:, None, :]
            return net
        c = dict(dims=[("lstm", kind == "tied", False)], inp=config["bits"], hid=width, depth=depth, layout=("depth",))
        return lambda x: reference_grid(c, P, x) @ out_w.T + out_b
    L = config["length"]
    steps, outputs = (3 * L + 3, L + 1) if config["task_kind"] == "addition" else (2 * L + 1, L)
    outputs += leading_outputs(config)
    if kind == "stacked":
        lstm = nn.LSTM(P["lstm.weight_ih_l0"].shape[1], width, depth, batch_first=True)
        lstm.load_state_dict({k[len("lstm."):]: v for k, v in P.items() if k.startswith("lstm.")}, strict=True)
        return lambda x: lstm(x)[0][:, steps - outputs:, :] @ out_w.T + out_b
    tied = config["grid_tied"]
    c = dict(dims=[("lstm", tied, False), ("lstm", tied, True)], inp=P["grid.input.weight"].shape[1], hid=width,
             depth=depth, layout=("time", steps, outputs))
    return lambda x: reference_grid(c, P, x) @ out_w.T + out_b


def leading_outputs(config):
    """Outputs before the answer's, trained but not scored: with column or queue targets, b's digits and '='."""
    return config["length"] + 1 if config.get("column_targets") or config.get("queue_targets") else 0


def needed(config):
    """The parameter names the model reads (all must be in the checkpoint)."""
    kind, depth = config["model"], config["depth"]
    names = ["output.weight", "output.bias"]
    if kind == "feedforward":
        return names + [f"layers.{l}.{p}" for l in range(max(depth, 1)) for p in ("weight", "bias")]
    if kind == "stacked":
        return names + [f"lstm.{p}_l{l}" for l in range(depth) for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    dims = 1 if "bits" in config else 2
    tied = kind == "tied" if "bits" in config else config["grid_tied"]
    stems = [f"grid.dims.{i}" if tied else f"grid.dims.{i}.{l}" for i in range(dims) for l in ([0] if tied else range(depth))]
    return names + ["grid.input.weight", "grid.input.bias"] + [s + p for s in stems for p in (".weight", ".bias")]


def agree(ours, theirs, n_ours, n_theirs):
    p = (ours * n_ours + theirs * n_theirs) / (n_ours + n_theirs)
    return abs(ours - theirs) <= 4 * math.sqrt(p * (1 - p) * (1 / n_ours + 1 / n_theirs)) + 1 / n_ours


def check(run, examples, seed):
    config = json.load(open(os.path.join(run, "config.json")))
    if "bits" not in config and config.get("task_kind") not in ("addition", "memorize"):
        sys.exit(f"{run}: a run of '{config.get('task', '?')}'; grid_check.py knows parity, addition and memorize runs")
    if not os.path.exists(os.path.join(run, "summary.json")):
        sys.exit(f"{run}: no summary.json: the run has not finished (--resume finishes it)")
    summary = json.load(open(os.path.join(run, "summary.json")))
    tensors = load_safetensors(os.path.join(run, "checkpoint.safetensors"))
    names = needed(config)
    missing = [k for k in names if k not in tensors]
    if missing:
        sys.exit(f"{run}: checkpoint.safetensors lacks {', '.join(missing)}")
    P = {k: tensors[k] for k in names}
    net = build(config, P)
    x, labels = problems(config, examples, np.random.default_rng(seed))
    right = np.zeros(labels.shape, bool)
    # addition with operand echoes or column targets: several 10-way heads, the answer's first (the
    # count read from the weights, so a config without the echo key still checks); only the answer
    # is scored, at the outputs after the column targets' leading ones
    heads = P["output.weight"].shape[0] // 10 if config.get("task_kind") == "addition" else 1
    lead = leading_outputs(config) if "bits" not in config else 0
    with torch.no_grad():
        for s in range(0, examples, 500):
            z = net(torch.from_numpy(x[s:s + 500]))[:, lead:]
            if heads > 1:
                z = z[..., :10]
            right[s:s + 500] = z.argmax(-1).numpy() == labels[s:s + 500]
    exact, positions = right.all(1).mean(), right.mean(0)
    n_theirs = summary["eval_examples"]
    ok = agree(exact, summary["accuracy"], examples, n_theirs)
    line = f"{run}: {summary['model']}: PyTorch {exact * 100:.2f}% exact match on {examples} problems, HighwayKit {summary['accuracy'] * 100:.2f}% on {n_theirs}"
    if summary.get("position_accuracy"):
        theirs = summary["position_accuracy"]
        far = [i + 1 for i, (a, b) in enumerate(zip(positions, theirs)) if not agree(a, b, examples, n_theirs)]
        ok = ok and not far
        line += "\n  by position (PyTorch / HighwayKit, %): " + " ".join(f"{a * 100:.1f}/{b * 100:.1f}" for a, b in zip(positions, theirs))
        if far:
            line += f"\n  positions {far} differ beyond sampling error"
    print(line)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--examples", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    runs = []
    for r in a.runs:
        if not os.path.isdir(r):
            sys.exit(f"{r}: no such directory")
        if os.path.exists(os.path.join(r, "config.json")):
            runs.append(r)
        else:   # a --out of several models: its model directories
            subs = sorted(d for d in os.listdir(r) if os.path.exists(os.path.join(r, d, "config.json")))
            if not subs:
                sys.exit(f"{r}: neither a model's run directory (config.json) nor a run of several models")
            runs += [os.path.join(r, d) for d in subs]
    results = [check(r, a.examples, a.seed) for r in runs]
    if not all(results):
        sys.exit("MISMATCH: PyTorch and HighwayKit disagree beyond sampling error")
    print(f"OK: {len(runs)} model(s) score the same in PyTorch")


if __name__ == "__main__":
    main()
