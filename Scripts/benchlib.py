"""What the comparison scripts share: finding a Python that has a framework, running a framework's
workload in its own subprocess pinned to a thread count, and running a `highway bench` command.
Each result is the last line of the subprocess's standard output, one JSON object."""

import json
import os
import shutil
import subprocess
import sys


def find_python(module):
    """A Python that can import `module`: Debian's (python3-torch) or the one on PATH."""
    for py in [sys.executable, "/usr/bin/python3", shutil.which("python3")]:
        if py and os.path.exists(py) and subprocess.run([py, "-c", f"import {module}"],
                                                        capture_output=True).returncode == 0:
            return py
    return None


def run_py(py, code, cfg, threads):
    """Runs `code` with the JSON of `cfg` as argv[1] and every BLAS/OpenMP/XLA pool at `threads`;
    {"error": …} when it fails."""
    t = str(threads)
    env = dict(os.environ, OMP_NUM_THREADS=t, OPENBLAS_NUM_THREADS=t, MKL_NUM_THREADS=t,
               XLA_FLAGS=f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} "
                         f"intra_op_parallelism_threads={threads}")
    r = subprocess.run([py, "-c", code, json.dumps(cfg)], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"}
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_highway(cmd):
    """Runs a `highway bench …` command line; exits with its error output when it fails."""
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def find_peers():
    """The Pythons with PyTorch and with JAX: exits without PyTorch, warns without JAX (None)."""
    torch_py, jax_py = find_python("torch"), find_python("jax")
    if not torch_py:
        sys.exit("PyTorch not found (apt-get install python3-torch libopenblas0-pthread)")
    if not jax_py:
        print("JAX not found (pip install jax): skipped", file=sys.stderr)
    return torch_py, jax_py


def time_rounds(label, rounds, highway_cmd, peers, peer_cfg, threads):
    """Runs `highway_cmd` and each peer (name, python or None, code) `rounds` times, interleaved.
    peer_cfg(h) is the peers' config given HighwayKit's result h; a peer that builds another
    parameter count than HighwayKit stops the script (not the same model)."""
    runs = {"highway": [], **{name: [] for name, _, _ in peers}}
    for rnd in range(rounds):
        h = run_highway(highway_cmd)
        runs["highway"].append(h)
        for name, py, code in peers:
            r = run_py(py, code, peer_cfg(h), threads) if py else {"error": "not installed"}
            if "parameters" in r and r["parameters"] != h["parameters"]:
                sys.exit(f"{name} built {r['parameters']} parameters for {label}, HighwayKit {h['parameters']}: not the same model")
            runs[name].append(r)
        print(f"{label}, round {rnd + 1}/{rounds}: "
              + ", ".join(f"{k} {r[-1].get('median_ms', float('nan')):.2f} ms" for k, r in runs.items()), file=sys.stderr)
    return runs


def report(title, rows, json_path=None):
    """Prints a table of rows (name, threads, runs from time_rounds with peers torch and jax): the
    median of each framework's medians and HighwayKit's time over each peer's; writes json_path."""
    def med(rs):
        ok = [r["median_ms"] for r in rs if "median_ms" in r]
        return median(ok) if ok else None

    def cell(v):
        return f"{v:>8.2f}" if v else f"{'-':>8}"

    print(f"\n{title}")
    print(f"{'workload':<30} {'params':>7} {'thr':>3} {'HighwayKit':>10} {'PyTorch':>9} {'ratio':>6} {'JAX':>8} {'ratio':>6}")
    out = []
    for name, threads, runs in rows:
        h0 = runs["highway"][0]
        hm, tm, jm = med(runs["highway"]), med(runs["torch"]), med(runs["jax"])
        def ratio(v): return f"{hm / v:>6.2f}" if v else f"{'-':>6}"
        print(f"{name:<30} {h0['parameters']:>7} {threads:>3} {hm:>10.2f} {cell(tm):>9} {ratio(tm)} {cell(jm)} {ratio(jm)}")
        out.append(dict(workload=name, threads=threads, parameters=h0["parameters"], highway_ms=[r["median_ms"] for r in runs["highway"]],
                        torch_ms=[r.get("median_ms") for r in runs["torch"]], jax_ms=[r.get("median_ms") for r in runs["jax"]]))
    versions = {k: next((r.get("version") for _, _, runs in rows for r in runs[k] if r.get("version")), None) for k in ("torch", "jax")}
    print(f"\nHighwayKit ({rows[0][2]['highway'][0]['kernels']}), PyTorch {versions['torch']}, JAX {versions['jax']}; "
          "ratio = HighwayKit's time over the peer's")
    for e in sorted({f"{k}: {r['error']}" for _, _, runs in rows for k in ("torch", "jax") for r in runs[k] if "error" in r}):
        print(f"failed: {e}", file=sys.stderr)
    if json_path:
        with open(json_path, "w") as f:
            json.dump(dict(rows=out, torch=versions["torch"], jax=versions["jax"]), f, indent=2)


def add_run_options(ap, iterations):
    """The options every peer comparison takes: --threads (a list), --iterations, --rounds, --binary, --json."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--threads", default="1", help="thread counts, comma-separated (each workload at each)")
    ap.add_argument("--iterations", type=int, default=iterations, help="timed training steps per round")
    ap.add_argument("--rounds", type=int, default=5,
                    help="measure all this many times, interleaved, and keep the median (the machine is noisy)")
    ap.add_argument("--binary", default=os.path.join(repo, ".build", "release", "highway"))
    ap.add_argument("--json", help="also write the rounds' times here")


def parse_run_options(ap):
    """Parses `ap`'s arguments, checks the binary exists, and returns them with the thread counts as a list."""
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `swift build -c release --product highway` first")
    args.threads = [int(t) for t in args.threads.split(",")]
    return args


# Code the peers' programs share (each program is one string run by run_py, with cfg its config):
# the timing loop and its JSON line. Programs define the model, then call these.
TORCH_TIMING = r"""
def time_torch(net, step):
    import json, time, torch
    for _ in range(cfg["warmup"]): step()
    ts = []
    for _ in range(cfg["iterations"]):
        t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
    ts.sort()
    print(json.dumps({"median_ms": ts[len(ts) // 2] * 1e3, "version": torch.__version__,
                      "parameters": sum(p.numel() for p in net.parameters())}))
"""

JAX_TRAINING = r"""
def time_jax(loss, p, lr, clip, batch):
    # Adam (PyTorch's defaults) on loss(p, *batch(i)) with the gradient's global norm clipped at
    # `clip`, the whole step jitted; times cfg["iterations"] steps after cfg["warmup"].
    import json, time, jax, jax.numpy as jnp
    tree = jax.tree_util
    @jax.jit
    def step(p, m, v, t, *args):
        g = jax.grad(loss)(p, *args)
        norm = jnp.sqrt(sum(jnp.sum(a * a) for a in tree.tree_leaves(g)))
        g = tree.tree_map(lambda a: a * jnp.minimum(1.0, clip / (norm + 1e-6)), g)
        t = t + 1
        m = tree.tree_map(lambda a, b: 0.9 * a + 0.1 * b, m, g)
        v = tree.tree_map(lambda a, b: 0.999 * a + 0.001 * b * b, v, g)
        rate = lr * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        return tree.tree_map(lambda a, b, c: a - rate * b / (jnp.sqrt(c) + 1e-8), p, m, v), m, v, t
    m = tree.tree_map(jnp.zeros_like, p); v = tree.tree_map(jnp.zeros_like, p); t = jnp.array(0.0)
    for i in range(cfg["warmup"]):
        p, m, v, t = step(p, m, v, t, *batch(i))
    jax.block_until_ready(p); ts = []
    for i in range(cfg["iterations"]):
        args = batch(cfg["warmup"] + i)
        s = time.perf_counter(); p, m, v, t = step(p, m, v, t, *args); jax.block_until_ready(p); ts.append(time.perf_counter() - s)
    ts.sort()
    print(json.dumps({"median_ms": ts[len(ts) // 2] * 1e3, "version": jax.__version__,
                      "parameters": int(sum(a.size for a in tree.tree_leaves(p)))}))
"""
