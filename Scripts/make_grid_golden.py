#!/usr/bin/env python3
"""Write Tests/HighwayNNTests/Resources/grid_golden.json: Grid LSTM blocks computed by an independent
PyTorch implementation of the paper's equations, for GridLSTMTests' golden comparison.

The reference is written from the equations in GridLSTM.swift's documentation (Kalchbrenner et
al. 2016), not from HighwayKit's code: each block concatenates its incoming hidden vectors
H = [h_1; ...; h_N]; every non-priority dimension i computes [i; f; g; o] = W_i H + b_i (LSTM:
m' = f m + i g, h' = o tanh(m')) or h' = act(W_i H + b_i) (plain, no memory); priority dimensions
then do the same from H with the non-priority h replaced by their new values. The input is projected
once per position, [h; m] = W_in x + b_in, into the depth dimension of the bottom block; the output
is the top block's depth h. Grids here: 1-LSTM (depth only), 2-LSTM (time x depth, tied and untied,
and one with a plain tanh depth dimension), 3-LSTM (rows x columns x depth).

Each case's tensors are stored under `<case>.`: the parameters under HighwayKit's names
(`grid.input.weight`, `grid.dims.<i>.weight` tied or `grid.dims.<i>.<level>.weight` untied,
PyTorch's [out, in] layout), `input` (batch, positions, in), `loss_weights` R, `output` (batch,
outputs, hidden), and the gradients of loss = sum(output * R) under `grad.input` and
`grad.<parameter name>`. Weights (all drawn U(-0.6, 0.6), biases too), inputs and R are float32;
the forward and backward run in float64; values are written as in make_rnn_golden.py.

Usage: /usr/bin/python3 Scripts/make_grid_golden.py   (Debian's python3-torch)
"""
import os

import torch

from make_rnn_golden import write_json

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "Tests", "HighwayNNTests", "Resources", "grid_golden.json")

# name: dims [(transform, tied, priority)], input, hidden, depth, layout, batch
CASES = {
    "one_tied": dict(dims=[("lstm", True, False)], inp=6, hid=4, depth=3, layout=("depth",), batch=2),
    "two_untied": dict(dims=[("lstm", False, False), ("lstm", False, True)], inp=5, hid=4, depth=3,
                       layout=("time", 4, 2), batch=2),
    "two_tied_plain": dict(dims=[("lstm", True, False), ("tanh", True, True)], inp=5, hid=4, depth=3,
                           layout=("time", 4, 4), batch=2),
    "three_tied": dict(dims=[("lstm", True, False), ("lstm", True, False), ("lstm", True, True)], inp=3, hid=3,
                       depth=2, layout=("plane", 2, 3), batch=2),
}


def make_params(c):
    """Parameters by HighwayKit's names, float32 U(-0.6, 0.6)."""
    H, N = c["hid"], len(c["dims"])
    p = {"grid.input.weight": (2 * H, c["inp"]), "grid.input.bias": (2 * H,)}
    for i, (kind, tied, _) in enumerate(c["dims"]):
        rows = (4 if kind == "lstm" else 1) * H
        for level in ([None] if tied else range(c["depth"])):
            stem = f"grid.dims.{i}" if tied else f"grid.dims.{i}.{level}"
            p[stem + ".weight"], p[stem + ".bias"] = (rows, N * H), (rows,)
    return {name: torch.rand(shape) * 1.2 - 0.6 for name, shape in p.items()}


def block(c, P, hs, ms, level):
    """One block: incoming (h, m) per dimension -> outgoing (h, m) per dimension."""
    H = c["hid"]

    def transform(i, Hcat):
        kind, tied, _ = c["dims"][i]
        stem = f"grid.dims.{i}" if tied else f"grid.dims.{i}.{level}"
        z = Hcat @ P[stem + ".weight"].T + P[stem + ".bias"]
        if kind != "lstm":
            return torch.tanh(z), torch.zeros_like(z)
        gi, gf, gg, go = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        m = torch.sigmoid(gf) * ms[i] + torch.sigmoid(gi) * torch.tanh(gg)
        return torch.sigmoid(go) * torch.tanh(m), m

    out = [None] * len(hs)
    first = torch.cat(hs, 1)
    for i, (_, _, prio) in enumerate(c["dims"]):
        if not prio:
            out[i] = transform(i, first)
    second = torch.cat([out[i][0] if not c["dims"][i][2] else hs[i] for i in range(len(hs))], 1)
    for i, (_, _, prio) in enumerate(c["dims"]):
        if prio:
            out[i] = transform(i, second)
    return out


def grid(c, P, x):
    """x (B, positions, in) -> (B, outputs, hidden)."""
    B, H, D, N = x.shape[0], c["hid"], c["depth"], len(c["dims"])
    zero = x.new_zeros(B, H)
    proj = x @ P["grid.input.weight"].T + P["grid.input.bias"]         # (B, positions, 2H)

    def column(pos, lateral):
        """The depth column at `pos`; lateral(d) gives the incoming (h, m) of the non-depth
        dimensions at level d; returns their outgoing (h, m) per level and the top h."""
        hd, md = proj[:, pos, :H], proj[:, pos, H:]
        outs = []
        for d in range(D):
            hs, ms = lateral(d)
            new = block(c, P, hs + [hd], ms + [md], d)
            hd, md = new[N - 1]
            outs.append(new[:N - 1])
        return outs, hd

    kind = c["layout"][0]
    if kind == "depth":
        _, top = column(0, lambda d: ([], []))
        return top[:, None, :]
    if kind == "time":
        steps, out_steps = c["layout"][1], c["layout"][2]
        state = [(zero, zero)] * D
        tops = []
        for t in range(steps):
            outs, top = column(t, lambda d: ([state[d][0]], [state[d][1]]))
            state = [o[0] for o in outs]
            if t >= steps - out_steps:
                tops.append(top)
        return torch.stack(tops, 1)
    rows, cols = c["layout"][1], c["layout"][2]
    down = {}   # (i, j, d) -> dimension 0's outgoing (h, m); right: dimension 1's
    right = {}
    tops = []
    for i in range(rows):
        for j in range(cols):
            def lateral(d, i=i, j=j):
                up, left = down.get((i - 1, j, d), (zero, zero)), right.get((i, j - 1, d), (zero, zero))
                return [up[0], left[0]], [up[1], left[1]]
            outs, top = column(i * cols + j, lateral)
            for d, o in enumerate(outs):
                down[(i, j, d)], right[(i, j, d)] = o[0], o[1]
            tops.append(top)
    return torch.stack(tops, 1)


def main():
    torch.manual_seed(0)
    out = {}
    for name, c in CASES.items():
        P = make_params(c)
        layout = c["layout"]
        positions = 1 if layout[0] == "depth" else layout[1] if layout[0] == "time" else layout[1] * layout[2]
        x = torch.rand(c["batch"], positions, c["inp"]) * 2 - 1
        P64 = {k: v.double().requires_grad_() for k, v in P.items()}
        x64 = x.double().requires_grad_()
        y = grid(c, P64, x64)
        r = torch.randn(y.shape)
        (y * r.double()).sum().backward()
        for k, v in P.items():
            out[f"{name}.{k}"] = v
            out[f"{name}.grad.{k}"] = P64[k].grad
        out[f"{name}.input"], out[f"{name}.loss_weights"], out[f"{name}.output"] = x, r, y
        out[f"{name}.grad.input"] = x64.grad
    write_json(OUT, out, source="Scripts/make_grid_golden.py")
    print(f"wrote {OUT}: {len(out)} tensors, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
