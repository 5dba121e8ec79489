#!/usr/bin/env python3
"""Recomputes a `highway forecast` run's test RSE, RAE and CORR from its predictions.csv with the
LSTNet reference code's own formulas (main.py `evaluate`, utils.py `normal_std`, in numpy) and
compares them with its summary.json.

    python3 Scripts/forecast_check.py RUN_DIR
"""
import csv
import json
import sys

import numpy as np


def reference_scores(pred, truth):
    # utils.py: normal_std(x) = x.std() * sqrt((len(x) - 1) / len(x)), len = rows; torch's std is unbiased
    def normal_std(x):
        return x.std(ddof=1) * np.sqrt((len(x) - 1.0) / len(x))
    n_samples = truth.size
    rse = np.sqrt(((pred - truth) ** 2).sum() / n_samples) / normal_std(truth)
    rae = (np.abs(pred - truth).sum() / n_samples) / np.mean(np.abs(truth - truth.mean()))
    sigma_p, sigma_g = pred.std(axis=0), truth.std(axis=0)
    index = sigma_g != 0
    corr = ((pred - pred.mean(axis=0)) * (truth - truth.mean(axis=0))).mean(axis=0) / (sigma_p * sigma_g)
    return rse, rae, corr[index].mean()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    run = sys.argv[1]
    summary = json.load(open(f"{run}/summary.json"))
    rows = list(csv.reader(open(f"{run}/predictions.csv")))
    data = np.array(rows[1:], dtype=np.float64)
    steps = summary["steps"]
    truth, pred = data[:, 2::2], data[:, 3::2]
    # (examples·steps, series) → (examples, steps·series): the pooled scores of summary.json
    truth = truth.reshape(-1, steps * truth.shape[1])
    pred = pred.reshape(-1, steps * pred.shape[1])
    rse, rae, corr = reference_scores(pred, truth)
    got = summary["test"]
    print(f"reference formulas: RSE {rse:.6f}, RAE {rae:.6f}, CORR {corr:.6f}; "
          f"summary.json: RSE {got['rse']:.6f}, RAE {got['rae']:.6f}, CORR {got['corr']:.6f}")
    for name, mine in (("rse", rse), ("rae", rae), ("corr", corr)):
        if not abs(mine - got[name]) <= 1e-9 * max(1.0, abs(mine)):
            sys.exit(f"MISMATCH in {name}: {mine} vs {got[name]}")
    print("OK: the same test metrics")


if __name__ == "__main__":
    main()
