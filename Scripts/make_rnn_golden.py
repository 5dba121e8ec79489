#!/usr/bin/env python3
"""Write Tests/HighwayNNTests/Resources/rnn_golden.json: PyTorch's nn.LSTM and nn.GRU on a
small fixed problem, for RecurrentTests' golden comparison.

For each of `lstm` and `gru` (batch_first=True, 2 layers, input 5, hidden 7, 4 steps, batch 3,
torch seed 0) the file's "tensors" hold, under `<kind>.`, each as {"shape", "values"} (row-major):
  the state_dict (`weight_ih_l0`, ...), `input`, `h0` (and `c0`), `loss_weights` R,
  `output`, `h_n` (and `c_n`), and the gradients of loss = sum(output * R) with respect to the
  input, h0 (c0) and every parameter, under `grad.<name>`.
The weights, inputs and R are drawn in float32; the forward and backward run in float64 so the
reference is exact to float32 rounding; every value is written as the shortest decimal that reads
back as the same float32. JSON rather than safetensors: the golden values are data to compare
against, readable in a diff; the test itself puts the weights through safetensors under PyTorch's
names.

Usage: /usr/bin/python3 Scripts/make_rnn_golden.py   (Debian's python3-torch)
"""
import json
import os

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "Tests", "HighwayNNTests", "Resources", "rnn_golden.json")
BATCH, STEPS, INPUT, HIDDEN, LAYERS = 3, 4, 5, 7, 2


def write_json(path, tensors, source="Scripts/make_rnn_golden.py"):
    def shortest(v):  # the shortest decimal of the float32 value, as a Python float (json prints it so)
        return float(repr(v).removeprefix("np.float32(").removesuffix(")"))
    body = {}
    for name, t in tensors.items():
        a = t.detach().to(torch.float32).contiguous().numpy()
        body[name] = {"shape": list(a.shape), "values": [shortest(v) for v in a.reshape(-1)]}
    doc = {"source": source, "torch": torch.__version__, "tensors": body}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, path)


def main():
    torch.manual_seed(0)
    out = {}
    for kind, cls in (("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        rnn = cls(INPUT, HIDDEN, num_layers=LAYERS, batch_first=True)   # float32 init
        x = torch.rand(BATCH, STEPS, INPUT) * 2 - 1
        h0 = torch.rand(LAYERS, BATCH, HIDDEN) * 2 - 1
        c0 = torch.rand(LAYERS, BATCH, HIDDEN) * 2 - 1
        r = torch.randn(BATCH, STEPS, HIDDEN)
        for name, p in rnn.state_dict().items():
            out[f"{kind}.{name}"] = p.clone()
        out[f"{kind}.input"], out[f"{kind}.h0"] = x, h0
        if kind == "lstm":
            out["lstm.c0"] = c0
        out[f"{kind}.loss_weights"] = r

        rnn64 = rnn.double()
        xd = x.double().requires_grad_()
        h0d = h0.double().requires_grad_()
        c0d = c0.double().requires_grad_()
        if kind == "lstm":
            y, (hn, cn) = rnn64(xd, (h0d, c0d))
        else:
            y, hn = rnn64(xd, h0d)
        (y * r.double()).sum().backward()
        out[f"{kind}.output"], out[f"{kind}.h_n"] = y, hn
        out[f"{kind}.grad.input"], out[f"{kind}.grad.h0"] = xd.grad, h0d.grad
        if kind == "lstm":
            out["lstm.c_n"], out["lstm.grad.c0"] = cn, c0d.grad
        for name, p in rnn64.named_parameters():
            out[f"{kind}.grad.{name}"] = p.grad
    write_json(OUT, out)
    print(f"wrote {OUT}: {len(out)} tensors, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
