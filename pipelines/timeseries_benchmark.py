"""Time-series benchmark: TimeGAN's stocks protocol and rare-class series classification.

Part 1 - stocks (TimeGAN's own evaluation)
    Daily Google stock prices, 6 channels, min-max scaled per channel as
    TimeGAN does, cut into 3662 sliding windows of 24 days. ganaug's
    ``TimeSeriesAugmenter`` (its defaults) is trained on all windows and
    samples as many. Scores: the discriminative score (post-hoc GRU, real vs
    synthetic, accuracy on a held-out 20 % of both; ``|acc - 0.5|``) and the
    predictive score (GRU trained on synthetic windows to predict the next
    step, MAE on the real windows), each averaged over repeats; one row per
    arm, mean ± std over runs (GAN seeds). Arms in the same run and table:
    real data (a random half vs the other half; real-on-real predictive),
    jittered + scaled copies, windows with their time steps shuffled, and
    plain copies of training windows (memorisation: the scores a copier gets).
    Memorisation check: median distance from each synthetic window to its
    nearest training window, divided by the same for real windows to real
    windows that do not overlap them in time (1 = as novel as real data,
    0 = copies). Training time is wall clock and CPU time of ``fit``.

Part 2 - rare-class classification
    GunPoint, ArrowHead, BasicMotions, JapaneseVowels (UCR/UEA, official
    train/test split, ``../shared/data/timeseries``). For each seed, 80 % of
    the training series of one class (the first label) are dropped. A small
    1-D CNN (``ganaug.timeseries.classifier.SeriesClassifier``) is trained on:
    the imbalanced data, class weights, random oversampling, jitter+scaling
    oversampling and ganaug's ``fit_resample``; balanced accuracy and macro-F1
    on the official test split, mean ± std over seeds. Privacy columns for
    the arms that add series (:func:`ganaug.privacy.privacy_report`, series
    encoding): DCR ratio, its 5 % quantile ratio, exact copies and the
    membership-inference AUC of the added minority series against the kept
    training series, with the official test series of that class as the
    holdout.

Writes ``stocks.md``, ``classification.md``, ``results.json`` and PNG plots
to ``--out``. Run::

    python pipelines/timeseries_benchmark.py --out results/timeseries_benchmark
    python pipelines/timeseries_benchmark.py --quick          # minutes, smoke test
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "timeseries"
CLASSIFICATION_SETS = ("GunPoint", "ArrowHead", "BasicMotions", "JapaneseVowels")

#: ganaug's configuration for the stocks windows: the augmenter's defaults (issue 22 is about them)
STOCKS_GAN: dict = {}
#: a stronger post-hoc discriminator than TimeGAN's (GRU of 3 units for 6 channels), as a robustness check
STRONG_DISC = dict(hidden_dim=24, iterations=3000)
#: ganaug's configuration for the classification sets: the augmenter's defaults, written out (about
#: ``CLASS_GAN_STEPS`` generator steps: the default 250 epochs on a set smaller than a batch)
CLASS_GAN = dict(mode="rcgan", cell="lstm", hidden_dim=24, num_layers=1, batch_size=256, lr_g=1e-3, lr_d=1e-3)
CLASS_GAN_STEPS = 250
CLASSIFIER = dict(arch="cnn", width=32, epochs=60, batch_size=32, lr=1e-3)
from _privacy_columns import PRIVACY_METRICS  # noqa: E402 - privacy_report key -> header, shared by the benchmarks


def _fmt(values, digits: int = 3) -> str:
    v = np.asarray(values, dtype=float)
    if v.size == 0 or np.isnan(v).all():
        return "-"
    if v.size == 1:
        return f"{v[0]:.{digits}f} (1 run)"
    return f"{v.mean():.{digits}f} ± {v.std():.{digits}f}"


# --------------------------------------------------------------------- stocks
def stocks_windows() -> np.ndarray:
    from ganaug.datasets import load_stocks
    from ganaug.timeseries import make_windows

    raw = load_stocks(window=None).to_numpy(np.float64)
    scaled = (raw - raw.min(0)) / (raw.max(0) - raw.min(0) + 1e-7)  # TimeGAN's MinMaxScaler
    return make_windows(scaled, window=24, stride=1)


def novelty_ratio(synthetic: np.ndarray, real: np.ndarray, rng: np.random.Generator, n: int = 1000) -> float:
    """median NN distance synthetic->real over median NN distance real->non-overlapping real."""
    from ganaug.timeseries.metrics import nearest_distance

    syn = synthetic[rng.permutation(len(synthetic))[:n]]
    d_syn = nearest_distance(syn, real)
    idx = rng.permutation(len(real))[:n]
    q = real[idx].reshape(len(idx), -1)
    ref = real.reshape(len(real), -1)
    d2 = (q**2).sum(1)[:, None] - 2 * q @ ref.T + (ref**2).sum(1)[None, :]
    window = real.shape[2]
    overlap = np.abs(idx[:, None] - np.arange(len(real))[None, :]) < window
    d2[overlap] = np.inf
    d_real = np.sqrt(np.maximum(d2.min(1), 0))
    return float(np.median(d_syn) / np.median(d_real))


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


def _score(job) -> float:
    """One TimeGAN score (``("disc" | "pred", real, synthetic, kwargs)``), in this or a worker process."""
    from ganaug.timeseries.metrics import discriminative_score, predictive_score

    kind, real, syn, kw = job
    return (discriminative_score if kind == "disc" else predictive_score)(real, syn, **kw).mean


class _Done:
    """A finished result with the ``Future.result()`` interface (runs without a process pool)."""

    def __init__(self, value) -> None:
        self.value = value

    def result(self):
        return self.value


def _fit_stocks_gan(job):
    """Fit ganaug on the windows and sample as many: (synthetic, fit wall s, fit CPU s of this process)."""
    from ganaug.augment.timeseries import TimeSeriesAugmenter

    W, cfg, run = job
    t0, c0 = time.perf_counter(), time.process_time()
    aug = TimeSeriesAugmenter(random_state=run, **cfg).fit(W)
    fit_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    return aug.sample(len(W), random_state=run), fit_s, cpu_s


def _score_jobs(arm: str, ref, syn, W, run: int, score_kw) -> dict:
    """The score jobs of one arm: discriminative (TimeGAN's and the stronger GRU) and predictive."""
    jobs = {"disc": ("disc", ref, syn, dict(random_state=run, **score_kw[0])),
            "strong": ("disc", ref, syn, dict(random_state=run, **score_kw[2]))}
    if arm.startswith("real data"):
        jobs["pred"] = ("pred", W, W, dict(random_state=run, **score_kw[1]))
    elif not arm.startswith("copies"):  # a copier's predictive score is the real-on-real one
        jobs["pred"] = ("pred", W, syn, dict(random_state=run, **score_kw[1]))
    return jobs


def acf_gap(ref, syn) -> float:
    """Autocorrelation gap of one-step increments, lags 1-5 (0 = moves like the real windows)."""
    from ganaug.timeseries.metrics import autocorrelation_gap

    return autocorrelation_gap(ref, syn, lags=5, on="increments")


def run_stocks(args, out: Path) -> dict:
    from ganaug.timeseries.baselines import JitterScalingOverSampler
    from ganaug.timeseries.metrics import plot_real_vs_synthetic

    W = stocks_windows()
    n = len(W)
    gan_cfg = dict(STOCKS_GAN, **json.loads(args.stocks_gan or "{}"))
    if args.quick:
        gan_cfg.update(epochs=2, pretrain_epochs=2)
    score_kw = (dict(n_repeats=args.disc_repeats), dict(n_repeats=args.pred_repeats),
                dict(STRONG_DISC, n_repeats=args.strong_repeats, iterations=args.strong_iterations))
    if args.quick:
        score_kw = (dict(n_repeats=1, iterations=200), dict(n_repeats=1, iterations=300),
                    dict(n_repeats=1, hidden_dim=24, iterations=200))
    rows: dict[str, dict[str, list]] = {}

    def record(arm, disc, pred, strong, ratio=None, **extra):
        r = rows.setdefault(arm, {"disc": [], "pred": [], "strong": [], "novelty": [], "fit_s": [], "cpu_s": [],
                                  "acf": []})
        r["disc"].append(disc)
        r["strong"].append(strong)
        r["pred"].append(pred)
        if ratio is not None:
            r["novelty"].append(ratio)
        for k, v in extra.items():
            r[k].append(v)

    workers = max(1, int(args.workers))
    pool = None
    if workers > 1:  # GAN fits and scores are small sequential RNNs: one process per core beats threads
        import concurrent.futures
        import multiprocessing

        pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                                      initializer=_worker_init)

    def submit(fn, job):
        return pool.submit(fn, job) if pool is not None else _Done(fn(job))

    try:
        # every run's GAN first (the longest tasks), then the scores of the arms that do not need it
        fits = {run: submit(_fit_stocks_gan, (W, gan_cfg, run)) for run in range(args.runs)}
        arms_by_run, futures = {}, {}
        for run in range(args.runs):
            rng = np.random.default_rng(1000 + run)
            half = rng.permutation(n)
            arms = {
                "jittered + scaled copies": (W, JitterScalingOverSampler(random_state=run).sample_copies(W, n)),
                "time steps shuffled": (W, np.take_along_axis(
                    W, np.argsort(rng.random((n, 1, W.shape[2])), axis=2).repeat(W.shape[1], 1), axis=2)),
                "copies of training windows": (W, W[rng.integers(0, n, n)]),
                "real data (half vs half; real-on-real)": (W[half[: n // 2]], W[half[n // 2 :]]),
            }
            if run >= args.baseline_runs:  # the simple baselines are scored in the first runs only
                arms = {k: v for k, v in arms.items() if k.startswith("real data")}
            arms_by_run[run] = arms
            for arm, (ref, syn) in arms.items():
                for key, job in _score_jobs(arm, ref, syn, W, run, score_kw).items():
                    futures[run, arm, key] = submit(_score, job)
        fit_info = {}
        for run in range(args.runs):
            S, fit_s, cpu_s = fits[run].result()
            print(f"[stocks run {run}] ganaug fitted: {fit_s:.0f}s wall / {cpu_s:.0f}s CPU", flush=True)
            fit_info[run] = (fit_s, cpu_s)
            arm = "ganaug (default)"
            arms_by_run[run] = {arm: (W, S), **arms_by_run[run]}
            for key, job in _score_jobs(arm, W, S, W, run, score_kw).items():
                futures[run, arm, key] = submit(_score, job)
        first_synthetic = arms_by_run[0]["ganaug (default)"][1]
        for run in range(args.runs):
            rng = np.random.default_rng(2000 + run)
            for arm, (ref, syn) in arms_by_run[run].items():
                d, st = futures[run, arm, "disc"].result(), futures[run, arm, "strong"].result()
                p = futures[run, arm, "pred"].result() if (run, arm, "pred") in futures else float("nan")
                extra = dict(zip(("fit_s", "cpu_s"), fit_info[run])) if arm.startswith("ganaug") else {}
                ratio = None if arm.startswith("real data") else novelty_ratio(syn, W, rng)
                record(arm, d, p, st, ratio, acf=acf_gap(ref, syn), **extra)
                print(f"[stocks run {run}] {arm}: disc {d:.3f} pred {p:.3f} strong disc {st:.3f}"
                      + (f" fit {extra['fit_s']:.0f}s wall / {extra['cpu_s']:.0f}s CPU" if extra else ""),
                      flush=True)
    finally:
        if pool is not None:
            pool.shutdown()

    lines = [
        "| arm | discriminative (TimeGAN's GRU) | predictive MAE | discriminative, stronger GRU (24 units) "
        "| novelty ratio | autocorrelation gap (increments, lags 1-5) | fit wall s (1 thread) | fit CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    order = ["ganaug (default)", "real data (half vs half; real-on-real)", "jittered + scaled copies",
             "time steps shuffled", "copies of training windows"]
    for arm in order:
        r = rows[arm]
        lines.append(
            f"| {arm} | {_fmt(r['disc'])} | {_fmt(r['pred'])} | {_fmt(r['strong'])} | "
            f"{_fmt(r['novelty'], 2) if r['novelty'] else '-'} | {_fmt(r['acf'])} | "
            f"{_fmt(r['fit_s'], 0) if r['fit_s'] else '-'} | {_fmt(r['cpu_s'], 0) if r['cpu_s'] else '-'} |"
        )
    lines.append("| TimeGAN, published (Yoon et al. 2019) | 0.102 ± 0.021 | 0.038 ± 0.001 | - | - | - | - | - |")
    g = rows["ganaug (default)"]
    goal = (np.mean(g["disc"]) <= 0.08, np.mean(g["pred"]) <= 0.040)
    table = "\n".join(lines)
    summary = (
        f"Goal discriminative <= 0.08: {'met' if goal[0] else 'NOT met'} ({np.mean(g['disc']):.3f}); "
        f"predictive <= 0.040: {'met' if goal[1] else 'NOT met'} ({np.mean(g['pred']):.3f}); "
        f"fit wall time: here one thread per process ({'parallel workers' if args.workers > 1 else 'sequential'}; "
        "the 2-minute goal is timed by pipelines/timeseries_speed.py with the machine's two threads), max "
        f"{max(g['fit_s']):.0f} s wall, "
        f"max {max(g['cpu_s']):.0f} s CPU."
    )
    config = json.dumps(gan_cfg)
    text = (f"## Stocks (TimeGAN protocol), {args.runs} runs (simple baselines: {min(args.baseline_runs, args.runs)})"
            f"\n\nganaug config: `{config}`; scores: "
            f"{score_kw[0]} / {score_kw[1]} / stronger: {score_kw[2]} per run. The predictive score of copies of "
            f"training windows is the real-on-real one (not computed twice).\n\n{table}\n\n{summary}\n")
    (out / "stocks.md").write_text(text)
    print(text, flush=True)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plot_real_vs_synthetic(W, first_synthetic, method="both", title="stocks, ganaug")
    fig.savefig(out / "stocks_pca_tsne.png", dpi=110)
    plt.close(fig)
    fig, axes = plt.subplots(2, 3, figsize=(12, 5), sharey=True)
    names = ["Open", "High", "Low", "Close", "Adj_Close", "Volume"]
    rng = np.random.default_rng(0)
    ri, si = rng.integers(0, n, 8), rng.integers(0, n, 8)
    for c, ax in enumerate(axes.ravel()):
        ax.plot(W[ri, c].T, color="tab:red", alpha=0.6)
        ax.plot(first_synthetic[si, c].T, color="tab:blue", alpha=0.6)
        ax.set_title(f"{names[c]} (red real, blue ganaug)")
    fig.tight_layout()
    fig.savefig(out / "stocks_windows.png", dpi=110)
    plt.close(fig)
    return {"rows": rows, "config": gan_cfg, "summary": summary}


# ------------------------------------------------------------- classification
def load_set(name: str):
    with np.load(DATA / f"{name}.npz", allow_pickle=False) as d:
        return d["X_train"], d["y_train"], d["X_test"], d["y_test"]


def drop_minority(y, seed: int, keep_share: float = 0.2):
    """Training indices with 80 % of the first class's series dropped (at least 2 kept), and that class."""
    label = np.unique(y)[0]
    members = np.flatnonzero(y == label)
    keep_n = max(2, math.ceil(keep_share * len(members)))
    kept = np.random.default_rng(seed).choice(members, size=keep_n, replace=False)
    return np.sort(np.concatenate([np.flatnonzero(y != label), kept])), label


def class_gan(n_train: int, quick: bool, seed: int, steps: int = CLASS_GAN_STEPS, overrides: dict | None = None):
    from ganaug.augment.timeseries import TimeSeriesAugmenter

    cfg = dict(CLASS_GAN, **(overrides or {}))
    steps_per_epoch = math.ceil(n_train / cfg["batch_size"])
    epochs = max(1, steps // steps_per_epoch)
    if quick:
        epochs = 2
    return TimeSeriesAugmenter(epochs=epochs, pretrain_epochs=max(1, epochs // 2), random_state=seed, **cfg)


def _pad_to(X: np.ndarray, length: int) -> np.ndarray:
    if X.shape[2] >= length:
        return X
    pad = np.full((X.shape[0], X.shape[1], length - X.shape[2]), np.nan, dtype=X.dtype)
    return np.concatenate([X, pad], axis=2)


def run_classification(args, out: Path) -> dict:
    """Every data set through :func:`ganaug.evaluate.utility_report`, one fold per seed.

    Fold ``k`` trains on the official training split with 80 % of the first
    class dropped (seed ``k``) and tests on the whole official test split, so
    the report's mean ± std over folds is over seeds, and its paired
    bootstrap intervals compare arms on the same test series.
    """
    import functools

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ganaug.evaluate import utility_report
    from ganaug.privacy import privacy_metrics
    from ganaug.timeseries.baselines import JitterScalingOverSampler
    from ganaug.timeseries.classifier import fit_predict_proba

    clf_cfg = dict(CLASSIFIER)
    if args.clf_epochs:
        clf_cfg["epochs"] = args.clf_epochs
    gan_overrides = json.loads(args.class_gan or "{}")
    if args.quick:
        clf_cfg["epochs"] = 5
    model = functools.partial(fit_predict_proba, **clf_cfg)
    model.__name__ = "1-D CNN"
    metrics = ["balanced_accuracy", "macro_f1", "f1"]
    names = {"balanced_accuracy": "balanced accuracy", "macro_f1": "macro-F1", "f1": "minority-class F1"}
    privacy_heads = list(PRIVACY_METRICS.values())
    lines = ["| data set (minority kept) | arm | " + " | ".join(names[m] for m in metrics)
             + " | balanced acc. vs best baseline (95% CI) | augment s | " + " | ".join(privacy_heads) + " |",
             "|---|---|" + "---|" * len(metrics) + "---|---|" + "---|" * len(privacy_heads)]
    verdicts, results, examples = [], {}, {}
    for name in args.datasets:
        X_tr, y_tr, X_te, y_te = load_set(name)
        length = max(X_tr.shape[2], X_te.shape[2])
        X_all = np.concatenate([_pad_to(X_tr, length), _pad_to(X_te, length)])
        y_all = np.concatenate([y_tr, y_te])
        test_idx = np.arange(len(X_tr), len(X_all))
        folds = []
        for seed in range(args.seeds):
            train_idx, minority = drop_minority(y_tr, seed)
            folds.append((train_idx, test_idx))
        n_train = len(folds[0][0])
        augmenters = {
            "jitter + scaling": JitterScalingOverSampler(random_state=0),
            "ganaug": class_gan(n_train, args.quick, 0, args.class_steps, gan_overrides),
        }
        t0 = time.perf_counter()
        rep = utility_report(model, X_all, y_all, augmenters=augmenters, cv=folds,
                             baselines=["none", "class_weight", "random_oversampling"], metrics=metrics,
                             pos_label=minority, random_state=0, n_boot=1000, progress=False,
                             synthetic_metrics=privacy_metrics(PRIVACY_METRICS, kind="series", random_state=0))
        print(f"[{name}] report in {time.perf_counter() - t0:.0f}s", flush=True)
        summ = rep.summary()
        summ = summ[summ["model"] == "1-D CNN"]
        label_n = int((y_tr == minority).sum())
        kept_n = max(2, math.ceil(0.2 * label_n))
        results[name] = {}
        for arm in dict.fromkeys(summ["arm"]):
            part = summ[summ["arm"] == arm].set_index("metric")
            cells = [f"{part.loc[m, 'mean']:.3f} ± {part.loc[m, 'std']:.3f}" for m in metrics]
            b = part.loc["balanced_accuracy"]
            ci = "-" if np.isnan(b["diff"]) else f"{b['diff']:+.3f} [{b['ci_low']:+.3f}, {b['ci_high']:+.3f}]"
            t = part.loc["sample_time", "mean"] if "sample_time" in part.index else 0.0
            priv = [f"{part.loc[h, 'mean']:.2f} ± {part.loc[h, 'std']:.2f}" if h in part.index else "-"
                    for h in privacy_heads]
            lines.append(f"| {name} ({minority}: {kept_n} of {label_n}) | {arm} | " + " | ".join(cells)
                         + f" | {ci} | {t:.0f} | " + " | ".join(priv) + " |")
            results[name][arm] = {m: list(map(float, rep.results[(rep.results["arm"] == arm)
                                                                 & (rep.results["metric"] == m)]["value"]))
                                  for m in metrics}
        verdicts.append(f"- **{name}**: {rep.verdict().strip()}")
        (out / f"report_{name}.md").write_text(rep.to_markdown())
        if "ganaug" in rep.synthetic:
            X_new, y_new = rep.synthetic["ganaug"]
            real = X_tr[y_tr == minority]
            examples[name] = (real, np.asarray(X_new)[np.asarray(y_new) == minority])

    text = (f"## Rare-class classification, {args.seeds} seeds (folds of `utility_report`)\n\n"
            f"Classifier: `{json.dumps(clf_cfg)}`; ganaug: `{json.dumps(dict(CLASS_GAN, **gan_overrides))}`, about "
            f"{args.class_steps} "
            "adversarial steps after pre-training. \"vs best baseline\": difference in mean balanced accuracy to the "
            "best of imbalanced / class weights / random oversampling, with a paired bootstrap 95% interval. "
            "Privacy (arms that add series): `privacy_report` of the added minority series against the kept "
            "training series, holdout = the official test series of the minority class; DCR ratio = median "
            "distance to the closest training series / the same for fresh real series (0 = copies, ~1 = as new as "
            "real data); MIA AUC: membership inference (0.5 = no leak; with 2-10 kept minority series it is very "
            "noisy).\n\n"
            + "\n".join(lines) + "\n\nVerdicts of `utility_report` (on minority-class F1):\n\n" + "\n".join(verdicts)
            + "\n")
    (out / "classification.md").write_text(text)
    print(text, flush=True)

    arms = list(next(iter(results.values())).keys())
    fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 3.8), squeeze=False)
    for ax, (name, by_arm) in zip(axes[0], results.items()):
        means = [np.mean(by_arm[a]["balanced_accuracy"]) for a in arms]
        stds = [np.std(by_arm[a]["balanced_accuracy"]) for a in arms]
        ax.bar(range(len(arms)), means, yerr=stds,
               color=["grey", "silver", "tab:orange", "tab:green", "tab:blue"][: len(arms)])
        ax.set_xticks(range(len(arms)), arms, rotation=40, ha="right", fontsize=8)
        ax.set_ylim(max(0.0, min(means) - 0.15), 1.0)
        ax.set_title(name)
        ax.set_ylabel("balanced accuracy")
    fig.tight_layout()
    fig.savefig(out / "classification_bacc.png", dpi=110)
    plt.close(fig)
    if examples:
        fig, axes = plt.subplots(2, len(examples), figsize=(4 * len(examples), 5), squeeze=False)
        for j, (name, (real, syn)) in enumerate(examples.items()):
            for i, (arr, title) in enumerate(((real, "real minority (all)"), (syn, "ganaug minority"))):
                ax = axes[i, j]
                ax.plot(arr[:5, 0].T, alpha=0.7)
                ax.set_title(f"{name}: {title}, channel 0", fontsize=9)
        fig.tight_layout()
        fig.savefig(out / "classification_examples.png", dpi=110)
        plt.close(fig)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(REPO / "results" / "timeseries_benchmark"))
    parser.add_argument("--part", choices=["stocks", "classification", "all"], default="all")
    parser.add_argument("--runs", type=int, default=3, help="stocks: GAN seeds")
    parser.add_argument("--seeds", type=int, default=3, help="classification: seeds")
    parser.add_argument("--disc-repeats", type=int, default=5)
    parser.add_argument("--pred-repeats", type=int, default=2)
    parser.add_argument("--strong-repeats", type=int, default=2)
    parser.add_argument("--strong-iterations", type=int, default=STRONG_DISC["iterations"])
    parser.add_argument("--stocks-gan", default=None, help="JSON overrides of STOCKS_GAN (TimeSeriesAugmenter args)")
    parser.add_argument("--class-gan", default=None, help="JSON overrides of CLASS_GAN (TimeSeriesAugmenter args)")
    parser.add_argument("--class-steps", type=int, default=CLASS_GAN_STEPS,
                        help="classification: adversarial steps of ganaug")
    parser.add_argument("--clf-epochs", type=int, default=None, help="classification: classifier epochs")
    parser.add_argument("--baseline-runs", type=int, default=None,
                        help="stocks: score jittered/shuffled/copied windows in the first N runs only (default: all)")
    parser.add_argument("--workers", type=int, default=2, help="stocks: processes for GAN fits and scores")
    parser.add_argument("--datasets", nargs="+", default=list(CLASSIFICATION_SETS))
    parser.add_argument("--quick", action="store_true", help="tiny settings: checks the pipeline, not the numbers")
    args = parser.parse_args(argv)
    if args.baseline_runs is None:
        args.baseline_runs = args.runs
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import torch

    from ganaug.utils import limit_threads

    limit_threads()
    import _bench

    bench = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    print(f"torch threads: {torch.get_num_threads()}", flush=True)
    results = {}
    if args.part in ("stocks", "all"):
        results["stocks"] = run_stocks(args, out)
    if args.part in ("classification", "all"):
        if not DATA.is_dir():
            print(f"classification data not found at {DATA}", file=sys.stderr)
            return 1
        results["classification"] = run_classification(args, out)
    bench = _bench.finish(bench, settle_seconds=_bench.quick_settle() if args.quick else None)
    for name in ("stocks.md", "classification.md") if args.part == "all" else (f"{args.part}.md",):
        _bench.prepend(out / name, bench)
    results["bench"] = _bench.facts(bench)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
