"""Time series: synthesize a rare class with ``fit_resample``, and new windows of one long series.

What it shows
-------------
Part 1 - a rare class (bundled GunPoint, ``ganaug.datasets.load_gunpoint``:
univariate series of length 150, two classes). Class "2" is made rare in the
training set (5 series against 24). ``TimeSeriesAugmenter.fit_resample`` adds
synthetic class-"2" series until the classes are balanced; the same small
series classifier (``ganaug.SeriesClassifier``, an FCN) is trained on

* the real imbalanced series,
* random oversampling (duplicates),
* jitter + scaling copies (the classic series augmentation, Um et al. 2017),
* real + ganaug,

and scored on GunPoint's own held-out test set (150 series): balanced
accuracy and F1 of the rare class.

Part 2 - windows of one long series (bundled daily stock prices,
``ganaug.datasets.load_stocks``: 3685 days x 6 columns). ``from_series``
cuts sliding windows of 24 days and fits the GAN on them without labels;
``sample(n)`` returns ``(n, 6, 24)`` new windows. The script compares simple
statistics of real and synthetic windows and saves a plot.

Run
---
    python examples/timeseries_rare_class_and_windows.py           # realistic: 300 + 60 GAN epochs
    python examples/timeseries_rare_class_and_windows.py --fast    # a few epochs, fewer days

Writes ``rare_class.csv``, ``windows_stats.csv`` and ``windows.png`` to ``--out``.
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
from sklearn.metrics import balanced_accuracy_score, f1_score

from ganaug import SeriesClassifier, TimeSeriesAugmenter
from ganaug.datasets import load_gunpoint, load_stocks
from ganaug.timeseries import JitterScalingOverSampler, SeriesRandomOverSampler

SEED = 0
RARE, KEEP_RARE = "2", 5


def rare_class(args, out: Path) -> pd.DataFrame:
    X, y, X_test, y_test = load_gunpoint()                       # (50, 1, 150) float32, labels "1"/"2"
    rng = np.random.default_rng(SEED)
    rare_idx = rng.choice(np.flatnonzero(y == RARE), KEEP_RARE, replace=False)
    keep = np.sort(np.concatenate([np.flatnonzero(y != RARE), rare_idx]))
    X, y = X[keep], y[keep]
    print(f"GunPoint training series per class: {dict(zip(*np.unique(y, return_counts=True)))}, test: {len(y_test)}")

    gan_epochs, clf_epochs = (4, 20) if args.fast else (300, 150)
    samplers = {
        "real only": None,
        "random oversampling": SeriesRandomOverSampler(random_state=SEED),
        "jitter + scaling": JitterScalingOverSampler(random_state=SEED),
        "ganaug": TimeSeriesAugmenter(epochs=gan_epochs, random_state=SEED),
    }
    rows = []
    for name, sampler in samplers.items():
        t0 = time.perf_counter()
        # fit_resample: the original series first, then the new ones (same layout and dtype).
        X_res, y_res = (X, y) if sampler is None else sampler.fit_resample(X, y)
        sample_seconds = time.perf_counter() - t0
        clf = SeriesClassifier(epochs=clf_epochs, random_state=SEED).fit(X_res, y_res)
        pred = clf.predict(X_test)
        rows.append({
            "arm": name,
            "train_series": len(y_res),
            "balanced_accuracy": balanced_accuracy_score(y_test, pred),
            "rare_f1": f1_score(y_test, pred, pos_label=RARE),
            "sampler_seconds": sample_seconds,
        })
        print(f"{name:>20}: {len(y_res)} training series, balanced accuracy {rows[-1]['balanced_accuracy']:.3f}, "
              f"F1 of class {RARE} {rows[-1]['rare_f1']:.3f}  (sampler {sample_seconds:.0f} s)")
    table = pd.DataFrame(rows)
    table.to_csv(out / "rare_class.csv", index=False)
    return table


def windows(args, out: Path) -> pd.DataFrame:
    stocks = load_stocks(window=None)                            # DataFrame, oldest day first
    window, stride, epochs = (24, 2, 2) if args.fast else (24, 2, 60)
    if args.fast:
        stocks = stocks.iloc[-600:]                              # the last 600 days only
    t0 = time.perf_counter()
    aug = TimeSeriesAugmenter(epochs=epochs, random_state=SEED).from_series(stocks, window=window, stride=stride)
    print(f"\nstocks: fitted on {len(stocks)} days, windows of {window} (stride {stride}), "
          f"in {time.perf_counter() - t0:.0f} s")
    synthetic = aug.sample(1000, random_state=SEED)              # (1000, 6, 24)
    real = load_stocks(window=window, stride=1)                  # the real windows, same layout
    if args.fast:
        real = real[-(len(stocks) - window + 1):]
    print(f"synthetic windows {synthetic.shape}, real windows {real.shape}")

    # Simple per-column checks: level, spread, and roughness (day-to-day changes).
    stats = []
    for c, column in enumerate(stocks.columns):
        r, s = real[:, c, :], synthetic[:, c, :]
        stats.append({
            "column": column,
            "real_mean": r.mean(), "synthetic_mean": s.mean(),
            "real_std": r.std(), "synthetic_std": s.std(),
            "real_step_std": np.diff(r, axis=1).std(), "synthetic_step_std": np.diff(s, axis=1).std(),
        })
    stats = pd.DataFrame(stats)
    stats.to_csv(out / "windows_stats.csv", index=False)
    print(stats.to_string(index=False, float_format="%.4g"))

    # Plot: 20 real and 20 synthetic windows of the closing price.
    close = list(stocks.columns).index("Close")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    pick = np.random.default_rng(SEED).choice(len(real), 20, replace=False)
    axes[0].plot(real[pick, close, :].T, lw=0.8)
    axes[0].set_title("real 24-day windows (Close)")
    axes[1].plot(synthetic[:20, close, :].T, lw=0.8)
    axes[1].set_title("synthetic windows (Close)")
    for ax in axes:
        ax.set_xlabel("day in window")
    fig.tight_layout()
    fig.savefig(out / "windows.png", dpi=80)
    plt.close(fig)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="a few epochs and fewer days, under a minute")
    parser.add_argument("--out", default="results/examples/timeseries_rare_class_and_windows", help="output folder")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    table = rare_class(args, out)
    windows(args, out)
    print()
    print(table.to_string(index=False, float_format="%.3f"))
    print(f"\nwrote {out / 'rare_class.csv'}, {out / 'windows_stats.csv'}, {out / 'windows.png'}")


if __name__ == "__main__":
    main()
