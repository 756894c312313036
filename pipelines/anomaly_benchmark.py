"""Benchmark: GANAnomalyDetector against the anomaly detectors people use (pyod), on real data.

Three parts, all scored on data the detectors never trained on:

1. ``adbench``: classical ADBench sets (``../shared/data/adbench``). Per seed, a
   stratified 70/30 split. *Unsupervised*: every detector is fitted on the
   training rows without labels (anomalies included, as they come), and
   scores the held-out 30 %. ROC-AUC and average precision (PR-AUC).
2. ``semi``: the same splits, but detectors are fitted on the *normal*
   training rows only (``fit(X, y)`` with ``y`` for ganaug).
3. ``series``: UCR InternalBleeding16 (fit on the normal train part, score the
   test part: is the labelled anomaly where the score peaks?) and the NAB
   ``realKnownCause`` streams (fit on the first 30 %, unlabelled; ROC-AUC of
   per-point scores against the labelled windows on the other 70 %;
   ``--series-fit whole``: fit on the whole stream and score all of it).
   ``GANAnomalyDetector(window=32)`` against three baselines fitted on the same
   part: IsolationForest on the same stride-1 windows, a nearest-window distance
   (mean distance to the 5 nearest fitting windows) on them, both folded to
   per-step scores like ganaug's (see ``_series_baselines.py``), and a rolling
   z-score. The report says which arm has the best mean per-point ROC-AUC and
   by how much ganaug is above or below the best baseline.

``--network`` adds ADBench's KDD Cup 99 network-connection sets (``16_http``,
``34_smtp``) to the ``adbench``/``semi`` parts, in their own section,
stratified-subsampled to ``--network-max-rows`` (20 000) rows each.

Every detector sees the same standardised features (a StandardScaler fitted on
its training rows). pyod is imported here only, as the comparison.

Run::

    flock /tmp/ganaug-bench.lock env OMP_NUM_THREADS=2 .venv/bin/python pipelines/anomaly_benchmark.py \\
        --out results/anomaly_benchmark

Series part only (all streams, its baselines included)::

    OMP_NUM_THREADS=1 .venv/bin/python pipelines/anomaly_benchmark.py --parts series \\
        --out results/anomaly_benchmark_series

(``--streams InternalBleeding16,rogue_agent_key_hold --seeds 1`` for a quick check.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _adbench import DATA, DEFAULT_SETS, DEV_SETS, load_set, quiet, split_scale
#: ADBench's KDD Cup 99 network-connection sets (--network): their own section, subsampled (16_http has 567k rows;
#: 34_smtp 95k rows with 30 anomalies, so a 20k stratified sample keeps ~6 of them, ~2 per held-out 30 %)
NETWORK_SETS = ["16_http", "34_smtp"]
#: pyod's GAN detectors are slow (AnoGAN optimises a latent per scored row): the largest training set each gets
GAN_ROW_LIMITS = {"ALAD": 1500, "MO_GAAL": 1500, "AnoGAN": 300}


# --------------------------------------------------------------- detectors
def make_detector(name: str, seed: int, contamination: float):
    c = float(min(max(contamination, 0.01), 0.5))
    if name == "ganaug":
        from ganaug.anomaly import GANAnomalyDetector

        return GANAnomalyDetector(contamination=c, random_state=seed)
    if name == "ganaug-1gan":
        # the previous table default: one GAN on every training row, residual + 0.1 feature matching
        from ganaug.anomaly import GANAnomalyDetector

        return GANAnomalyDetector(contamination=c, random_state=seed, n_estimators=1, max_samples=1.0, lambda_=0.1,
                                  discriminator_weight=0.0, neighbor_weight=0.0)
    from pyod.models import ecod, iforest, knn, lof

    if name == "IForest":
        return iforest.IForest(contamination=c, random_state=seed)
    if name == "ECOD":
        return ecod.ECOD(contamination=c)
    if name == "KNN":
        return knn.KNN(contamination=c)
    if name == "LOF":
        return lof.LOF(contamination=c)
    if name == "ALAD":
        from pyod.models.alad import ALAD

        return ALAD(contamination=c, epochs=50, batch_size=64, device="cpu")
    if name == "MO_GAAL":
        from pyod.models.mo_gaal import MO_GAAL

        return MO_GAAL(contamination=c, stop_epochs=20)
    if name == "AnoGAN":
        from pyod.models.anogan import AnoGAN

        return AnoGAN(contamination=c, epochs=100, epochs_query=20, batch_size=64, device="cpu")
    raise ValueError(f"unknown detector {name!r}")


def _seed_all(seed: int) -> None:
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_tabular(sets, detectors, seeds, semi: bool, gan_row_limit: float, log, runs_csv=None,
                max_rows: int | None = None) -> pd.DataFrame:
    from sklearn.metrics import average_precision_score, roc_auc_score

    rows = []
    for name in sets:
        X, y = load_set(name, max_rows=max_rows)
        for seed in seeds:
            Ztr, Zte, ytr, yte = split_scale(X, y, seed, normal_only=semi)
            contamination = max(float(y.mean()), 0.01) if not semi else 0.05
            for det_name in detectors:
                if len(Ztr) > GAN_ROW_LIMITS.get(det_name, np.inf) * gan_row_limit:
                    continue
                _seed_all(seed)
                det = make_detector(det_name, seed, contamination)
                t0, c0 = time.perf_counter(), time.process_time()
                try:
                    with quiet():
                        det.fit(Ztr)
                        s = np.asarray(det.decision_function(Zte), dtype=np.float64)
                except Exception as exc:  # a baseline that fails is reported, not hidden
                    log(f"  {name} seed {seed} {det_name}: failed ({type(exc).__name__}: {exc})")
                    continue
                secs, cpu = time.perf_counter() - t0, time.process_time() - c0
                if not np.isfinite(s).all():
                    log(f"  {name} seed {seed} {det_name}: non-finite scores, counted as failed")
                    continue
                rows.append({"set": name, "seed": seed, "detector": det_name, "roc_auc": roc_auc_score(yte, s),
                             "ap": average_precision_score(yte, s), "seconds": secs, "cpu_seconds": cpu,
                             "n_train": len(Ztr),
                             "n_test": len(Zte), "anomaly_share": float(yte.mean())})
                if det_name == "MO_GAAL":
                    # pyod 3.6.7's MO_GAAL.decision_function returns the discriminator's P(real), higher = *more
                    # normal*; its negation is the detector it was meant to be, reported next to it
                    rows.append({**rows[-1], "detector": "MO_GAAL-neg", "roc_auc": roc_auc_score(yte, -s),
                                 "ap": average_precision_score(yte, -s)})
                if det_name == "ganaug" and seed == seeds[0]:
                    rows[-1]["_scores"] = (s, yte)
            if runs_csv is not None:
                pd.DataFrame(rows).drop(columns=["_scores"], errors="ignore").to_csv(runs_csv, index=False)
            done = [r for r in rows if r["set"] == name and r["seed"] == seed]
            log(f"  {name} seed {seed}: " + ", ".join(f"{r['detector']} {r['roc_auc']:.3f}" for r in done))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ series
#: the series arms, ganaug first; the three baselines score the same stride-1 windows (see _series_baselines)
SERIES_BASELINES = ("IForest (windows)", "nearest window (k=5)", "rolling z-score")


def rolling_zscore(x: np.ndarray, window: int) -> np.ndarray:
    """|x_t - mean| / std of the previous ``window`` points (causal); the first points use what exists."""
    s = pd.Series(x)
    mean = s.shift(1).rolling(window, min_periods=2).mean()
    std = s.shift(1).rolling(window, min_periods=2).std()
    z = ((s - mean) / std.replace(0, np.nan)).abs()
    return z.fillna(0.0).to_numpy()


def _nab_streams():
    labels = json.loads((DATA / "nab" / "labels" / "combined_windows.json").read_text())
    folder = DATA / "nab" / "data" / "realKnownCause"
    for path in sorted(folder.glob("*.csv")):
        df = pd.read_csv(path, parse_dates=["timestamp"])
        y = np.zeros(len(df), dtype=np.int64)
        for lo, hi in labels.get(f"realKnownCause/{path.name}", []):
            y[(df["timestamp"] >= pd.Timestamp(lo)) & (df["timestamp"] <= pd.Timestamp(hi))] = 1
        yield path.stem, df["value"].to_numpy(dtype=np.float64), y


def series_baselines(x_score: np.ndarray, x_fit: np.ndarray | None, window: int, seed: int,
                     z: np.ndarray) -> dict[str, tuple[np.ndarray, float]]:
    """``{name: (per-step scores of x_score, seconds)}`` of the baselines; ``x_fit=None``: fitted on ``x_score``.

    ``z`` is the rolling z-score, computed by the caller (it is causal and sees the whole stream).
    """
    from _series_baselines import iforest_scores, nearest_window_scores

    out = {}
    for name, fn in (("IForest (windows)", iforest_scores), ("nearest window (k=5)", nearest_window_scores)):
        t0 = time.perf_counter()
        out[name] = (fn(x_score, window, seed=seed, fit=x_fit), time.perf_counter() - t0)
    out["rolling z-score"] = (z, 0.0)
    return out


def run_series(seeds, log, window: int = 32, nab_seeds: int = 1, streams=None,
               fit_mode: str = "prefix") -> tuple[pd.DataFrame, dict]:
    """Per-point ROC-AUC of ganaug and the window baselines on UCR InternalBleeding16 and NAB realKnownCause.

    ``streams``: names to run (``InternalBleeding16`` and/or NAB file stems); ``None`` = all.
    ``fit_mode``: NAB protocol. ``prefix``: every arm is fitted on the first 30 % and scored on
    the other 70 %; ``whole``: every arm is fitted on the whole stream (unlabelled) and scored on it.
    InternalBleeding16 always uses its UCR split (fit on the normal train part, score the test part).
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    from ganaug.anomaly import GANAnomalyDetector
    from ganaug.datasets import load_internal_bleeding

    known = ["InternalBleeding16", *sorted(p.stem for p in (DATA / "nab" / "data" / "realKnownCause").glob("*.csv"))]
    unknown = sorted(set(streams or ()) - set(known))
    if unknown:
        raise ValueError(f"unknown series {unknown}; known: {', '.join(known)}")

    def wanted(name):
        return streams is None or name in streams

    rows, traces = [], {}
    if wanted("InternalBleeding16"):
        train, test, lab = load_internal_bleeding()
        idx = np.flatnonzero(lab)
        lo, hi = int(idx.min()), int(idx.max())
        tol = 100  # the UCR archive's usual tolerance around the labelled region
        for seed in seeds:
            _seed_all(seed)
            t0 = time.perf_counter()
            det = GANAnomalyDetector(window=window, random_state=seed).fit(train)
            s = det.decision_function(test)
            arms = {"ganaug": (s, time.perf_counter() - t0),
                    **series_baselines(test, train, window, seed, rolling_zscore(test, 100))}
            for name, (score, secs) in arms.items():
                peak = int(np.argmax(score))
                rows.append({"series": "InternalBleeding16", "seed": seed, "detector": name,
                             "roc_auc": roc_auc_score(lab, score), "ap": average_precision_score(lab, score),
                             "peak_in_anomaly": bool(lo - tol <= peak <= hi + tol), "peak": peak, "seconds": secs})
            if seed == seeds[0]:
                traces["InternalBleeding16"] = (test, lab, {k: v[0] for k, v in arms.items()})
            done = rows[-len(arms):]
            log(f"  InternalBleeding16 seed {seed}: peak {done[0]['peak']} (anomaly {lo}..{hi}), ROC-AUC "
                + ", ".join(f"{r['detector']} {r['roc_auc']:.3f}" for r in done))
    for name, x, y in _nab_streams():
        if not wanted(name):
            continue
        cut = int(0.3 * len(x)) if fit_mode == "prefix" else 0
        x_fit, x_eval, y_eval = x[:cut], x[cut:], y[cut:]
        if y_eval.sum() == 0 or y_eval.sum() == len(y_eval):
            log(f"  {name}: no labelled window in the scored part, skipped")
            continue
        for seed in seeds[:nab_seeds]:
            _seed_all(seed)
            t0 = time.perf_counter()
            det = GANAnomalyDetector(window=window, stride=2, random_state=seed).fit(x_fit if cut else x)
            s = det.decision_function(x_eval)
            # the z-score sees the whole stream (causal), evaluated on the same points
            arms = {"ganaug": (s, time.perf_counter() - t0),
                    **series_baselines(x_eval, x_fit if cut else None, window, seed, rolling_zscore(x, 100)[cut:])}
            for det_name, (score, secs) in arms.items():
                rows.append({"series": name, "seed": seed, "detector": det_name,
                             "roc_auc": roc_auc_score(y_eval, score), "ap": average_precision_score(y_eval, score),
                             "seconds": secs, "nab_fit": fit_mode})
            if seed == seeds[0] and name.startswith("machine_temperature"):
                traces[name] = (x_eval, y_eval, {k: v[0] for k, v in arms.items()})
            log(f"  {name} seed {seed}: ROC-AUC "
                + ", ".join(f"{r['detector']} {r['roc_auc']:.3f}" for r in rows[-len(arms):]))
    return pd.DataFrame(rows), traces


def series_verdict(df: pd.DataFrame, ours: str = "ganaug") -> list[str]:
    """Mean per-point ROC-AUC over the series of every arm, and plainly: does ganaug beat the best baseline?"""
    means = df.groupby(["series", "detector"])["roc_auc"].mean().unstack()
    if ours not in means.columns or means.shape[1] < 2:
        return []
    means = means.dropna()  # series every arm finished
    overall = means.mean().sort_values(ascending=False)
    base = overall.drop(ours)
    best, gap = base.index[0], overall[ours] - base.iloc[0]
    lines = [f"Mean per-point ROC-AUC over the {len(means)} series: "
             + ", ".join(f"{k} {v:.3f}" for k, v in overall.items()) + ".", ""]
    wins = {b: int((means[ours] > means[b]).sum()) for b in base.index}
    lines += ["| baseline | baseline mean | ganaug mean | ganaug − baseline | ganaug better on |",
              "|---|---|---|---|---|"]
    lines += [f"| {b} | {base[b]:.3f} | {overall[ours]:.3f} | {overall[ours] - base[b]:+.3f} | "
              f"{wins[b]}/{len(means)} |" for b in base.index]
    lines.append("")
    if gap > 0:
        lines.append(f"**Best: ganaug** ({overall[ours]:.3f}), above the best baseline, {best} "
                     f"({base.iloc[0]:.3f}), by {gap:.3f}.")
    else:
        lines.append(f"**Best: {overall.index[0]}** ({overall.iloc[0]:.3f}). ganaug ({overall[ours]:.3f}) does "
                     f"**not** beat the best baseline, {best} ({base.iloc[0]:.3f}): it is {-gap:.3f} below it.")
    return lines


def series_section(sdf: pd.DataFrame, fit_mode: str) -> list[str]:
    if "nab_fit" in sdf.columns and sdf["nab_fit"].notna().any():  # the protocol the runs used
        fit_mode = str(sdf["nab_fit"].dropna().iloc[0])
    table, overall = summarise(sdf, key="series")
    nab = ("NAB: fitted on the first 30 % of each stream, scored on the other 70 %" if fit_mode == "prefix" else
           "NAB: fitted on the whole stream (unlabelled), scored on all of it")
    md = ["## Series", "",
          f"`GANAnomalyDetector(window=32)` against three baselines. InternalBleeding16: fitted on the normal "
          f"train part, scored on the test part; {nab}. Every arm is fitted on the same part. "
          "IForest (windows) and nearest window (k=5) score the same stride-1 windows of length 32 as ganaug "
          "(values and first differences, z-scored on the fitting part); a window's score is "
          "`-IsolationForest.score_samples` or its mean distance to the 5 nearest fitting windows (at most "
          "4096 sampled; windows overlapping it by more than half excluded when fitting and scored part are "
          "the same), and a step's score is the mean over the windows covering it, as ganaug's. The rolling "
          "z-score is causal, over the previous 100 points.", "",
          "Per-point ROC-AUC:", "", _md_table(table), "", _md_table(overall.round(3)), "",
          *series_verdict(sdf), ""]
    if "peak_in_anomaly" in sdf.columns and (sdf["series"] == "InternalBleeding16").any():
        peak = sdf[sdf["series"] == "InternalBleeding16"].groupby("detector")["peak_in_anomaly"].mean()
        md += ["InternalBleeding16, share of seeds whose highest score lies in the labelled anomaly (±100 steps): "
               + ", ".join(f"{k} {v:.2f}" for k, v in peak.items()), ""]
    return md


# ----------------------------------------------------------------- report
def _pm(values) -> str:
    v = np.asarray(values, dtype=np.float64)
    return f"{v.mean():.3f} ± {v.std():.3f}" if len(v) > 1 else f"{v.mean():.3f}"


def summarise(df: pd.DataFrame, key: str = "set") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-set table (mean ± std over seeds) and the overall mean per detector (over sets it finished)."""
    per = df.groupby([key, "detector"]).agg(roc=("roc_auc", list), ap=("ap", list)).reset_index()
    per["ROC-AUC"] = per["roc"].map(_pm)
    per["PR-AUC"] = per["ap"].map(_pm)
    table = per.pivot(index=key, columns="detector", values="ROC-AUC")
    timed = ["seconds"] + (["cpu_seconds"] if "cpu_seconds" in df.columns else [])
    set_means = df.groupby([key, "detector"])[["roc_auc", "ap", *timed]].mean().reset_index()
    overall = set_means.groupby("detector").agg(roc_auc=("roc_auc", "mean"), ap=("ap", "mean"),
                                                **{t: (t, "mean") for t in timed}, sets=(key, "nunique"))
    # spread over seeds of the mean over sets
    seed_means = df.groupby(["detector", "seed"])[["roc_auc", "ap"]].mean().groupby("detector").std()
    overall["roc_auc_std"] = seed_means["roc_auc"]
    overall["ap_std"] = seed_means["ap"]
    return table, overall.sort_values("roc_auc", ascending=False)


def head_to_head(df: pd.DataFrame, ours: str = "ganaug", key: str = "set") -> list[str]:
    means = df.groupby([key, "detector"])["roc_auc"].mean().unstack()
    lines = []
    if ours not in means.columns:  # a run of the baselines alone
        return lines
    for other in means.columns:
        if other == ours:
            continue
        both = means[[ours, other]].dropna()
        if both.empty:
            continue
        wins = int((both[ours] > both[other]).sum())
        ratio = both[ours].mean() / both[other].mean()
        lines.append(f"- vs {other}: mean ROC-AUC ratio {ratio:.3f} on the {len(both)} sets both finished; "
                     f"ganaug better on {wins}/{len(both)}; worse on: "
                     + (", ".join(f"{s} ({both.loc[s, ours]:.3f} vs {both.loc[s, other]:.3f})"
                                  for s in both.index[both[ours] < both[other]]) or "none"))
    return lines


def _md_table(frame: pd.DataFrame) -> str:
    frame = frame.reset_index()
    cols = [str(c) for c in frame.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in frame.iterrows():
        out.append("| " + " | ".join("" if (isinstance(v, float) and np.isnan(v)) else
                                     (f"{v:.3f}" if isinstance(v, float) else str(v)) for v in r.tolist()) + " |")
    return "\n".join(out)


def plot_histograms(df: pd.DataFrame, out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = [r for r in df.to_dict("records") if isinstance(r.get("_scores"), tuple)][:8]
    if not items:
        return
    cols = 4
    fig, axes = plt.subplots(int(np.ceil(len(items) / cols)), cols, figsize=(14, 3.2 * np.ceil(len(items) / cols)))
    for ax, r in zip(np.ravel(axes), items):
        s, y = r["_scores"]
        # a few huge scores would squeeze everything else into one bar: clip to the 1-99 % range
        low, high = np.quantile(s, [0.01, 0.99])
        s = np.clip(s, low, high) if high > low else s
        bins = np.histogram_bin_edges(s, bins=30)
        ax.hist(s[y == 0], bins=bins, alpha=0.6, density=True, label="normal")
        ax.hist(s[y == 1], bins=bins, alpha=0.6, density=True, label="anomaly")
        ax.set_title(f"{r['set']} (ROC-AUC {r['roc_auc']:.2f})", fontsize=9)
    for ax in np.ravel(axes)[len(items):]:
        ax.axis("off")
    np.ravel(axes)[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_series(traces: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2 * len(traces), 1, figsize=(13, 3.0 * len(traces)), sharex=False)
    axes = np.ravel(axes)
    for i, (name, (x, y, scores)) in enumerate(traces.items()):
        ax, bx = axes[2 * i], axes[2 * i + 1]
        t = np.arange(len(x))
        ax.plot(t, x, lw=0.6, color="k")
        ax.fill_between(t, x.min(), x.max(), where=y == 1, color="red", alpha=0.2, label="labelled anomaly")
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
        for j, (arm, s) in enumerate(scores.items()):  # each arm scaled to [0, 1]
            bx.plot(t, (s - s.min()) / (np.ptp(s) or 1), lw=0.7 if j == 0 else 0.5, alpha=1.0 if j == 0 else 0.6,
                    label=arm)
        bx.fill_between(t, 0, 1, where=y == 1, color="red", alpha=0.15)
        bx.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/anomaly_benchmark")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS),
                    help="comma-separated ADBench file stems; 'dev' = the development sets used for tuning "
                         "(_adbench.DEV_SETS, never the benchmark sets)")
    ap.add_argument("--max-rows", type=int, default=0,
                    help="stratified subsample of sets larger than this (seed 123); the dev study used 3000")
    ap.add_argument("--detectors", default="ganaug,IForest,ECOD,KNN,LOF,ALAD,MO_GAAL,AnoGAN")
    ap.add_argument("--gan-row-limit", type=float, default=1.0,
                    help="multiplier of the largest training set pyod's GAN detectors run on (see GAN_ROW_LIMITS)")
    ap.add_argument("--parts", default="adbench,semi,series")
    ap.add_argument("--from-runs", default="",
                    help="comma-separated {adbench,semi}_runs.csv files of earlier runs (e.g. sets split over "
                         "processes): write the report from them instead of running")
    ap.add_argument("--nab-seeds", type=int, default=1,
                    help="seeds for the NAB streams (InternalBleeding uses --seeds)")
    ap.add_argument("--streams", default="",
                    help="series part: comma-separated streams to run (InternalBleeding16 and/or NAB realKnownCause "
                         "file stems, e.g. rogue_agent_key_hold); default all")
    ap.add_argument("--series-fit", choices=("prefix", "whole"), default="prefix",
                    help="series part, NAB protocol: 'prefix' fits every arm on the first 30 %% and scores the "
                         "other 70 %%; 'whole' fits every arm on the whole unlabelled stream and scores all of it")
    ap.add_argument("--network", action="store_true",
                    help="also run ADBench's KDD Cup 99 network-connection sets (%s) in the adbench/semi parts, "
                         "in their own section (not in the means over --sets)" % ", ".join(NETWORK_SETS))
    ap.add_argument("--network-max-rows", type=int, default=20000,
                    help="stratified subsample (seed 123) of each network set to at most this many rows "
                         "(16_http has 567k); 0 = all rows")
    args = ap.parse_args(argv)
    import _bench

    bench = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GANAUG_PROGRESS", "0")
    seeds = list(range(args.seeds))
    sets = DEV_SETS if args.sets == "dev" else [s for s in args.sets.split(",") if s]
    detectors = [d for d in args.detectors.split(",") if d]
    parts = set(args.parts.split(","))
    lines: list[str] = []

    def log(msg: str) -> None:
        print(msg, flush=True)

    t_start = time.perf_counter()
    md = ["# Anomaly benchmark: GANAnomalyDetector vs pyod", "",
          f"Seeds: {seeds}. Held-out 30 % of every set, stratified, per seed. ROC-AUC mean ± std over seeds.", ""]
    groups = [("", sets, args.max_rows or None)] if sets else []
    if args.network or "_network_runs" in args.from_runs:
        groups.append(("_network", NETWORK_SETS, args.network_max_rows or None))
    for part, semi in (("adbench", False), ("semi", True)):
        if part not in parts:
            continue
        for suffix, group_sets, max_rows in groups:
            log(f"[{part}{suffix}] {'semi-supervised (normal training rows only)' if semi else 'unsupervised'}")
            stem = f"{part}{suffix}_runs.csv"
            if args.from_runs:
                frames = [pd.read_csv(f) for f in args.from_runs.split(",")
                          if Path(f).name.startswith(part + "_")
                          and Path(f).name.startswith(part + "_network") == bool(suffix)]
                if not frames:
                    continue
                # a set-seed run in two files (a rerun) counts once
                df = pd.concat(frames, ignore_index=True).drop_duplicates(["set", "seed", "detector"], keep="last")
            else:
                df = run_tabular(group_sets, detectors, seeds, semi, args.gan_row_limit, log, out / stem,
                                 max_rows=max_rows)
            if df.empty:
                continue
            df.drop(columns=["_scores"], errors="ignore").to_csv(out / stem, index=False)
            table, overall = summarise(df.drop(columns=["_scores"], errors="ignore"))
            h2h = head_to_head(df)
            title = "Unsupervised (fit on unlabelled training rows)" if not semi else \
                "Semi-supervised (fit on normal training rows only)"
            if suffix:
                title += ": network traffic (KDD Cup 99)"
                cap = f"at most {max_rows} rows each (stratified subsample, seed 123)" if max_rows else "all rows"
                md += [f"## {title}", "", f"ADBench's {', '.join(NETWORK_SETS)}, {cap}; not in the means above.",
                       ""]
            else:
                md += [f"## {title}", ""]
            md += ["Mean over sets (each detector over the sets it finished; std over seeds):", "",
                   _md_table(overall.round(3)), "", "Head to head (ROC-AUC):", "", *h2h, "",
                   "Per set, ROC-AUC:", "", _md_table(table), ""]
            if suffix:
                pr = df.groupby(["set", "detector"])["ap"].mean().unstack()
                md += ["Per set, PR-AUC (average precision):", "", _md_table(pr), ""]
            plot_histograms(df, out / f"{part}{suffix}_histograms.png",
                            f"ganaug scores on held-out rows ({part}{suffix}, seed 0; clipped to their 1-99 % range)")
            md += [f"![score histograms]({part}{suffix}_histograms.png)", ""]
            log(overall.round(3).to_string())
            for line in h2h:
                log(line)
    if "series" in parts and args.from_runs:
        sdf = pd.concat([pd.read_csv(f) for f in args.from_runs.split(",") if Path(f).name == "series_runs.csv"])
        md += [*series_section(sdf, args.series_fit), "![series scores](series_scores.png)", ""]
    elif "series" in parts:
        log("[series]")
        streams = [s for s in args.streams.split(",") if s] or None
        sdf, traces = run_series(seeds, log, nab_seeds=args.nab_seeds, streams=streams, fit_mode=args.series_fit)
        sdf.to_csv(out / "series_runs.csv", index=False)
        md += series_section(sdf, args.series_fit)
        if traces:
            plot_series(traces, out / "series_scores.png")
            md += ["![series scores](series_scores.png)", ""]
        log(summarise(sdf, key="series")[1].round(3).to_string())
        for line in series_verdict(sdf):
            log(line)
    if args.from_runs:
        md.append("Report merged from earlier runs (`--from-runs`): each fit's wall `seconds` and `cpu_seconds` "
                  "(where recorded) are in the runs CSVs and the tables above.")
    else:
        md.append(f"Total time: {time.perf_counter() - t_start:.0f} s")
    # a report from earlier runs (--from-runs) measures nothing: no wait for the load to settle
    bench = _bench.finish(bench, settle_seconds=_bench.quick_settle() if args.from_runs else None)
    md[2:2] = [*_bench.markdown(bench), ""]
    (out / "results.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    log(f"wrote {out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
