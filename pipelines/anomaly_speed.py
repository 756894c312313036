"""Cost of the default anomaly detectors against IsolationForest, in wall seconds, measured in the same run.

Issue 19's goal: a default table fit + scoring of 20 000 rows x 20 columns in
at most 5 s on 2 idle cores (the few-label detector included), and scoring
100 000 rows in at most 1 s. The rows are real: ADBench's CelebA attributes
(``8_celeba``, 202 599 rows), the first 20 of its 39 columns, standardised; a
random 20 000-row training sample and a 100 000-row scoring sample, with 5 %
of the training anomalies labelled for the few-label detector.

Each arm is timed ``--repeats`` times (the median is reported) in this one
process, after one warm-up fit of each (imports and first-call costs are
reported separately as "first fit").

Run (one benchmark at a time, idle machine)::

    flock /tmp/ganaug-bench.lock env OMP_NUM_THREADS=2 .venv/bin/python pipelines/anomaly_speed.py \\
        --out results/anomaly_speed
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import _bench
from _adbench import DATA, quiet

GOALS = {"fit + score 20k": 5.0, "score 100k": 1.0}


def load_rows(n_train: int, n_score: int, n_cols: int, seed: int = 0):
    d = np.load(DATA / "adbench" / "8_celeba.npz")
    X, y = d["X"][:, :n_cols].astype(np.float64), d["y"].astype(np.int64)
    rng = np.random.default_rng(seed)
    tr = rng.choice(len(X), n_train, replace=False)
    sc = rng.choice(len(X), n_score, replace=False)
    mu, sd = X[tr].mean(0), X[tr].std(0)
    sd[sd == 0] = 1.0
    return (X[tr] - mu) / sd, y[tr], (X[sc] - mu) / sd


def arms(seed: int):
    from pyod.models.iforest import IForest
    from sklearn.ensemble import IsolationForest

    from ganaug.anomaly import GANAnomalyDetector
    from ganaug.anomaly.fewlabel import FewLabelAnomalyDetector

    class SkIForest:
        def fit(self, X, y=None):
            self.m = IsolationForest(random_state=seed).fit(X)
            return self

        def decision_function(self, X):
            return -self.m.score_samples(X)

    return {
        "IsolationForest (scikit-learn)": (lambda: SkIForest(), False),
        "IForest (pyod)": (lambda: IForest(random_state=seed), False),
        "ganaug GANAnomalyDetector": (lambda: GANAnomalyDetector(random_state=seed), False),
        "ganaug FewLabelAnomalyDetector": (lambda: FewLabelAnomalyDetector(random_state=seed), True),
    }


def time_arm(make, labelled, Xtr, ylab, Xbig, repeats):
    fits, scores, fit_scores = [], [], []
    first = None
    for r in range(repeats + 1):
        t0 = time.perf_counter()
        with quiet():
            det = make().fit(Xtr, ylab) if labelled else make().fit(Xtr)
            det.decision_function(Xtr)
        t1 = time.perf_counter()
        with quiet():
            det.decision_function(Xbig)
        t2 = time.perf_counter()
        if r == 0:
            first = t1 - t0
            continue
        fit_scores.append(t1 - t0)
        scores.append(t2 - t1)
    return {"first fit + score 20k": first, "fit + score 20k": float(np.median(fit_scores)),
            "score 100k": float(np.median(scores))}


def _md(df: pd.DataFrame) -> str:
    cols = ["arm", *df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join([str(i), *(f"{v:.3f}" for v in r)]) + " |" for i, r in df.iterrows()]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/anomaly_speed")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--score-rows", type=int, default=100000)
    ap.add_argument("--cols", type=int, default=20)
    args = ap.parse_args(argv)
    os.environ.setdefault("GANAUG_PROGRESS", "0")
    info = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    from ganaug.anomaly.fewlabel import mask_labels

    Xtr, ytr, Xbig = load_rows(args.rows, args.score_rows, args.cols)
    ylab = mask_labels(ytr, 0.05, random_state=0)
    rows = []
    for name, (make, labelled) in arms(0).items():
        res = time_arm(make, labelled, Xtr, ylab, Xbig, args.repeats)
        rows.append({"arm": name, **res})
        print(name, {k: round(v, 2) for k, v in res.items()}, flush=True)
    info = _bench.finish(info)
    df = pd.DataFrame(rows).set_index("arm")
    base = df.loc["IsolationForest (scikit-learn)"]
    for col in ("fit + score 20k", "score 100k"):
        df[f"{col} × IForest"] = df[col] / base[col]
    goals = []
    for arm in ("ganaug GANAnomalyDetector", "ganaug FewLabelAnomalyDetector"):
        for col, limit in GOALS.items():
            v = df.loc[arm, col]
            goals.append(f"- {arm}, {col}: {v:.2f} s (goal ≤ {limit:g} s): {'met' if v <= limit else 'NOT met'}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.round(3).to_csv(out / "speed.csv")
    md = ["# Anomaly detectors: cost against IsolationForest (wall seconds, median of "
          f"{args.repeats} after a warm-up)", "", *_bench.markdown(info), "",
          f"Training rows: {args.rows} x {args.cols} (CelebA attributes); scoring: {args.score_rows} rows.", "",
          _md(df.round(3)), "", *goals, ""]
    (out / "results.md").write_text("\n".join(md), encoding="utf-8")
    print(df.round(3).to_string())
    print("\n".join(goals))
    print("\n".join(_bench.markdown(info)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
