#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: small valid files of each format, Fuzz/Corpus/<Target>/.

Run from anywhere: python3 Fuzz/make-seeds.py. Deterministic (fixed data, gzip mtime 0), so the
committed seeds only change when this script does (the safetensors-shaped ones are not committed:
Scripts/fuzz.sh writes them before each run). Each file is well under 20 KB.
Adding a parser: a function writing its seeds, and a line in `main`.
"""
import gzip, json, os, struct, sys, zlib

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")


def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    assert len(data) < 20_000, (target, name, len(data))
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def gz(data, level=9):
    return gzip.compress(data, compresslevel=level, mtime=0)


def idx_seeds():
    images = idx([3, 4, 5], [(i * 7) % 256 for i in range(60)])
    labels = idx([12], [i % 10 for i in range(12)])
    mnist_like = idx([2, 28, 28], [(i * 13) % 256 for i in range(2 * 784)])
    for name, data in [("images-3x4x5.idx", images), ("labels-12.idx", labels), ("images-2x28x28.idx", mnist_like)]:
        put("FuzzIDX", name, data)
        put("FuzzIDX", name + ".gz", gz(data))


def gzip_seeds():
    text = b"".join(b"line %d of a gzip seed\n" % i for i in range(200))
    put("FuzzGzip", "text.gz", gz(text))
    put("FuzzGzip", "stored.gz", gz(bytes(range(256)) * 4, level=0))
    put("FuzzGzip", "two-members.gz", gz(b"first member\n") + gz(b"second member\n"))
    put("FuzzGzip", "empty.gz", gz(b""))
    put("FuzzGzip", "idx.gz", gz(idx([2, 28, 28], [(i * 13) % 256 for i in range(2 * 784)])))
    # a gzip header with FEXTRA, FNAME and FCOMMENT, around a raw deflate stream
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = b"header fields\n" * 20
    deflated = body.compress(raw) + body.flush()
    header = bytes([0x1F, 0x8B, 8, 0x04 | 0x08 | 0x10, 0, 0, 0, 0, 0, 3]) + struct.pack("<H", 4) + b"ab\x00\x01"
    header += b"name.idx\x00" + b"a comment\x00"
    put("FuzzGzip", "fields.gz", header + deflated + struct.pack("<II", zlib.crc32(raw), len(raw)))


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes). Writes them in order, header padded to 8."""
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(t[3] for t in tensors)


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def values(n, scale=0.1):
    return [((i * 37) % 17 - 8) * scale for i in range(n)]


def safetensors_seeds():
    put("FuzzSafeTensors", "small.safetensors", safetensors(
        [("w", "F32", [2, 3], f32(values(6))), ("b", "F32", [3], f32(values(3)))], {"format": "pt"}))
    put("FuzzSafeTensors", "dtypes.safetensors", safetensors([
        ("a", "F64", [2], struct.pack("<2d", 1.5, -2.25)),
        ("b", "F16", [3], struct.pack("<3H", 0x3C00, 0x7C00, 0x0001)),
        ("c", "BF16", [2], struct.pack("<2H", 0x3F80, 0xFF80)),
        ("d", "F32", [], f32([3.0])),
        ("e", "F32", [0, 4], b""),
    ]))
    put("FuzzSafeTensors", "escapes.safetensors", safetensors(
        [("la\u00e9yer\n\"x\"", "F32", [1], f32([1.0]))], {"k\u20ac": "v\\u", "epoch": "3"}))
    put("FuzzSafeTensors", "empty.safetensors", safetensors([]))
    put("FuzzSafeTensors", "checkpoint.safetensors", checkpoint("adam"))


# The model of FuzzCheckpoint: highway, 4 inputs → width 3, depth 3 (input + 2 highway layers), 2 classes.
def model_parameters():
    w = 3
    return [("input.weight", [w, 4]), ("input.bias", [w])] + [
        p for i in range(2) for p in [(f"layers.{i}.linear.weight", [2 * w, w]), (f"layers.{i}.linear.bias", [2 * w])]
    ] + [("output.weight", [2, w]), ("output.bias", [2])]


def count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def checkpoint(optimizer):
    params = model_parameters()
    tensors = [(n, "F32", s, f32(values(count(s)))) for n, s in params]
    if optimizer == "adam":
        for n, s in params:
            tensors.append((f"optimizer.exp_avg.{n}", "F32", s, f32(values(count(s), 0.01))))
            tensors.append((f"optimizer.exp_avg_sq.{n}", "F32", s, f32([abs(v) for v in values(count(s), 0.001)])))
            tensors.append((f"optimizer.step.{n}", "F32", [], f32([12.0])))
    elif optimizer == "sgd":
        for n, s in params:
            tensors.append((f"optimizer.momentum.{n}", "F32", s, f32(values(count(s), 0.01))))
    position = json.dumps({"batch": 3, "epoch": 1, "step": 12}, separators=(",", ":"))
    return safetensors(tensors, {"format": "highwaykit-checkpoint-1", "position": position})


def checkpoint_seeds():
    for opt in ["adam", "sgd", "none"]:
        put("FuzzCheckpoint", f"checkpoint-{opt}.safetensors", checkpoint(opt))
    # a mismatch: one weight of the wrong shape
    params = model_parameters()
    tensors = [(n, "F32", s if n != "output.bias" else [3], f32(values(count(s) if n != "output.bias" else 3)))
               for n, s in params]
    put("FuzzCheckpoint", "mismatch.safetensors", safetensors(tensors))


def cifar_seeds():
    # FuzzCIFAR parses inputs whose first byte is even as CIFAR-10 (1 label byte + 3072 pixels per
    # record), odd as CIFAR-100 (coarse label < 20, fine label < 100, 3072 pixels)
    pixels = bytes((i * 7 + i // 32) % 256 for i in range(3072))
    cifar10 = b"".join(bytes([label]) + pixels for label in [4, 1])             # 2 records, first label even
    cifar100 = b"".join(bytes([coarse, fine]) + pixels for coarse, fine in [(3, 41), (19, 99)])
    put("FuzzCIFAR", "cifar10-2.bin", cifar10)
    put("FuzzCIFAR", "cifar100-2.bin", cifar100)
    put("FuzzCIFAR", "cifar10-2.bin.gz", gz(cifar10))


def series_seeds():
    # FuzzSeries: comma-separated rows of numbers (MultivariateSeries.parse), raw or gzip'd; the
    # input's length picks window 1-4, horizon 1-3 and steps 1-2 for ForecastWindows, so a series
    # of 30+ rows reaches the windows and a short one their too-few-rows error
    def rows(n, m, fmt="%.6f"):
        return b"".join((",".join(fmt % (1 + 0.01 * t + 0.1 * s + 0.003 * ((t * 7 + s * 3) % 11))
                                  for s in range(m)) + "\n").encode() for t in range(n))
    put("FuzzSeries", "small-30x3.txt", rows(30, 3))
    put("FuzzSeries", "exchange-40x8.txt.gz", gz(rows(40, 8)))
    # header-like first line: the parser takes no header, but skips '#' comment lines
    put("FuzzSeries", "comment-header.txt", b"# t,usd,eur\n" + rows(24, 2))
    # CRLF line ends, blank lines, spaces and tabs around values, exponents and signs
    put("FuzzSeries", "crlf-spaces.txt",
        b"1.5, -2e-3 ,\t+4\r\n\r\n" + b"".join(b"%d,%de1, -.5E+2\r\n" % (t, -t) for t in range(25)))
    put("FuzzSeries", "one-column.txt", rows(40, 1, "%g"))
    put("FuzzSeries", "three-rows.txt", rows(3, 4))


def main():
    cifar_seeds()
    idx_seeds()
    gzip_seeds()
    safetensors_seeds()
    checkpoint_seeds()
    series_seeds()
    for target in sorted(os.listdir(root)):
        files = os.listdir(os.path.join(root, target))
        print(f"{target}: {len(files)} seeds")


if __name__ == "__main__":
    sys.exit(main())
