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
