"""Anomaly detection: ``GANAnomalyDetector`` on a table and on a series, with score plots.

What it shows
-------------
``GANAnomalyDetector`` follows pyod: ``fit(X)`` on (mostly) normal data,
``decision_function(X)`` (higher = more abnormal), ``threshold_`` from
``contamination``, ``predict`` (0/1). The same class handles tables (2-D),
images (3-/4-D) and one long series (1-D: scored per time step through
sliding windows). Each part is scored on held-out data with known anomalies,
next to a simple standard detector trained the same way.

Part 1 - table: the bundled credit-card default data
(``ganaug.datasets.load_default``: balance, income, student; 3.3% defaults).
The detector is fitted on the training split without labels; defaults in the
held-out split are the anomalies to find. Baseline: scikit-learn's
``IsolationForest``.

Part 2 - series: UCR anomaly archive InternalBleeding16
(``ganaug.datasets.load_internal_bleeding``): a normal training series and a
test series with one labelled anomaly (its first 1200 steps repeat the
training series; only the steps after them are judged). Baseline: the distance of each
window to its nearest training window (a strong classic for this archive).
The UCR convention counts a detection when the highest score lies within 100
steps of the labelled anomaly.

Run
---
    python examples/anomaly_table_and_series.py           # realistic: default training length
    python examples/anomaly_table_and_series.py --fast    # 3 epochs each

Writes ``results.csv``, ``table_scores.png`` and ``series_scores.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors

from ganaug import GANAnomalyDetector
from ganaug.datasets import load_default, load_internal_bleeding

SEED = 0


def table(args, out: Path) -> list[dict]:
    X, y = load_default()                                       # DataFrame: balance, income, student (category)
    is_default = (y == "Yes").astype(int).to_numpy()
    X_train, X_test, _, y_test = train_test_split(X, is_default, test_size=0.3, stratify=is_default,
                                                  random_state=SEED)
    contamination = float(is_default.mean())                     # what we expect: about 3.3%

    # Unsupervised: fit on the training rows without their labels, like any pyod detector.
    fast = dict(epochs=3, encoder_epochs=3) if args.fast else {}
    t0 = time.perf_counter()
    det = GANAnomalyDetector(contamination=contamination, random_state=SEED, **fast).fit(X_train)
    seconds = time.perf_counter() - t0
    scores = det.decision_function(X_test)
    flagged = det.predict(X_test)                                # 1 = above threshold_

    # Baseline: IsolationForest on the same rows (one-hot for the category).
    forest = IsolationForest(contamination=contamination, random_state=SEED).fit(pd.get_dummies(X_train))
    forest_scores = -forest.score_samples(pd.get_dummies(X_test))

    rows = []
    for name, s, pred, sec in [
        ("GANAnomalyDetector", scores, flagged, seconds),
        ("IsolationForest", forest_scores, (forest.predict(pd.get_dummies(X_test)) == -1).astype(int), None),
    ]:
        rows.append({"data": "table (default)", "detector": name, "roc_auc": roc_auc_score(y_test, s),
                     "pr_auc": average_precision_score(y_test, s), "precision": precision_score(y_test, pred),
                     "recall": recall_score(y_test, pred), "fit_seconds": sec})
        print(f"table  {name:>19}: ROC-AUC {rows[-1]['roc_auc']:.3f}, PR-AUC {rows[-1]['pr_auc']:.3f} "
              f"(share of anomalies {y_test.mean():.3f}), precision {rows[-1]['precision']:.3f}, "
              f"recall {rows[-1]['recall']:.3f} at the threshold")

    # Plot: score distributions of normal rows and defaults, and the fitted threshold.
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = np.linspace(scores.min(), scores.max(), 60)
    ax.hist(scores[y_test == 0], bins=bins, alpha=0.6, density=True, label="normal")
    ax.hist(scores[y_test == 1], bins=bins, alpha=0.6, density=True, label="default (anomaly)")
    ax.axvline(det.threshold_, color="k", ls="--", label="threshold_")
    ax.set_xlabel("GANAnomalyDetector score (held-out rows)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "table_scores.png", dpi=80)
    plt.close(fig)
    return rows


def nearest_window_distance(train: np.ndarray, test: np.ndarray, window: int) -> np.ndarray:
    """Baseline: distance of each test window to its nearest training window, averaged per time step."""
    windows_train = np.lib.stride_tricks.sliding_window_view(train, window)
    windows_test = np.lib.stride_tricks.sliding_window_view(test, window)
    dist = NearestNeighbors(n_neighbors=1).fit(windows_train).kneighbors(windows_test)[0][:, 0]
    covering = np.convolve(np.ones(len(dist)), np.ones(window))     # windows covering each step
    return np.convolve(dist, np.ones(window)) / covering


def series(args, out: Path) -> list[dict]:
    train, test, labels = load_internal_bleeding()               # 1-D arrays; labels: 1 inside the anomaly
    start, end = np.flatnonzero(labels)[[0, -1]]
    window = 32
    fast = dict(epochs=3, encoder_epochs=3) if args.fast else {}
    t0 = time.perf_counter()
    det = GANAnomalyDetector(contamination=0.01, window=window, random_state=SEED, **fast).fit(train)
    seconds = time.perf_counter() - t0
    scores = det.decision_function(test)                         # one score per time step
    baseline = nearest_window_distance(train, test, window)

    # The test file repeats the training series as its first len(train) steps: score the
    # whole series (windows need the context) but judge only the steps after it.
    held = np.arange(len(test)) >= len(train)
    rows = []
    for name, s, sec in [("GANAnomalyDetector", scores, seconds), ("nearest window", baseline, None)]:
        peak = int(np.argmax(np.where(held, s, -np.inf)))
        rows.append({"data": "series (InternalBleeding16)", "detector": name,
                     "roc_auc": roc_auc_score(labels[held], s[held]),
                     "pr_auc": average_precision_score(labels[held], s[held]), "peak_step": peak,
                     "peak_in_anomaly": bool(start - 100 <= peak <= end + 100), "fit_seconds": sec})
        print(f"series {name:>19}: per-step ROC-AUC {rows[-1]['roc_auc']:.3f}, highest score at step {peak} "
              f"(anomaly at {start}-{end}: {'hit' if rows[-1]['peak_in_anomaly'] else 'miss'})")

    # Plot: the series with the labelled anomaly, then both scores.
    fig, axes = plt.subplots(3, 1, figsize=(10, 6), sharex=True)
    axes[0].plot(test, lw=0.6)
    axes[0].set_title("test series (red: labelled anomaly; grey: the training part, not judged)")
    axes[1].plot(scores, lw=0.6, color="C1")
    axes[1].axhline(det.threshold_, color="k", ls="--", lw=0.8, label="threshold_ (from training scores)")
    axes[1].set_title("GANAnomalyDetector score per step")
    axes[1].legend(loc="upper left", fontsize=8)
    axes[2].plot(baseline, lw=0.6, color="C2")
    axes[2].set_title("baseline: distance to the nearest training window")
    for ax in axes:
        ax.axvspan(0, len(train), color="grey", alpha=0.15)     # = the training series, not judged
        ax.axvspan(start, end, color="red", alpha=0.3)
    axes[2].set_xlabel("time step")
    fig.tight_layout()
    fig.savefig(out / "series_scores.png", dpi=80)
    plt.close(fig)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="3 epochs each, under a minute")
    parser.add_argument("--out", default="results/examples/anomaly_table_and_series", help="output folder")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    rows = table(args, out) + series(args, out)
    results = pd.DataFrame(rows)
    results.to_csv(out / "results.csv", index=False)
    print()
    print(results[["data", "detector", "roc_auc", "pr_auc"]].to_string(index=False, float_format="%.3f"))
    print(f"\nwrote {out / 'results.csv'}, {out / 'table_scores.png'}, {out / 'series_scores.png'}")


if __name__ == "__main__":
    main()
