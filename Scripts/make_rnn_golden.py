#!/usr/bin/env python3
"""Write Tests/HighwayNNTests/Resources/rnn_golden.safetensors: PyTorch's nn.LSTM and nn.GRU on a
small fixed problem, for RecurrentTests' golden comparison.

For each of `lstm` and `gru` (batch_first=True, 2 layers, input 5, hidden 7, 4 steps, batch 3,
torch seed 0) the file holds, under `<kind>.`:
  the state_dict (`weight_ih_l0`, ...), `input`, `h0` (and `c0`), `loss_weights` R,
  `output`, `h_n` (and `c_n`), and the gradients of loss = sum(output * R) with respect to the
  input, h0 (c0) and every parameter, under `grad.<name>`.
The weights, inputs and R are drawn in float32; the forward and backward run in float64 so the
reference is exact to float32 rounding. The file is written by hand (struct + json, F32
little-endian) so that no safetensors package is needed.

Usage: /usr/bin/python3 Scripts/make_rnn_golden.py   (Debian's python3-torch)
"""
import json
import os
import struct

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "Tests", "HighwayNNTests", "Resources", "rnn_golden.safetensors")
BATCH, STEPS, INPUT, HIDDEN, LAYERS = 3, 4, 5, 7, 2


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"source": "Scripts/make_rnn_golden.py", "torch": torch.__version__}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
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
    write_safetensors(OUT, out)
    print(f"wrote {OUT}: {len(out)} tensors, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
