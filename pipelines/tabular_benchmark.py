"""Tabular benchmark (the main job, ``make demo``): does ganaug help a detector on a real, messy table?

On a bundled table (``credit`` by default, ``--dataset all`` for the four) or
a CSV, with stratified repeated hold-out (``--repeats`` splits of 70/30 with
fixed seeds), a HistGradientBoosting and a LogisticRegression model are
trained on each training split in every arm of :func:`ganaug.evaluate.utility_report`:

- no resampling; a decision threshold tuned for minority F1 by inner CV on
  the training split; class weights; RandomOverSampler; SMOTE-NC (or SMOTE /
  SMOTEN by dtypes);
- ganaug's ``TabularAugmenter`` (one GAN per split, sampled without and with
  its discriminator filter), optionally with TSTR checkpoint selection
  (``--tstr``), and ``ctgan.CTGAN`` conditional oversampling of the minority.

Each is scored on the untouched test split: minority F1, PR-AUC (average
precision), ROC-AUC, balanced accuracy, plus fit and sample time, and for
every arm that adds rows the privacy columns of
:func:`ganaug.privacy.privacy_report` (DCR ratio, its 5 % quantile ratio,
exact copies, membership-inference AUC; the synthetic minority rows against
the training split, with the test split's rows of the same class as the
holdout; ``--no-privacy`` leaves them out). Shows progress while it works
(a bar in a terminal, one line per arm and split in a pipe), then one screen
of at most 100 columns: the verdict per model and a six-column table (minority
F1, PR-AUC, the paired difference in PR-AUC to the best baseline with its
bootstrap interval, exact copies, membership-attack AUC). The wide table
(mean ± std of every metric, both differences, timings, every privacy column),
the verdicts, goals and the time against CTGAN go to Markdown and CSV in
``--out``, with the HTML report and plots (metric bars, PR curves, real vs
synthetic marginals, GAN loss curves). Where ganaug loses, the tables show it.

Usage::

    python pipelines/tabular_benchmark.py                       # credit, defaults (< 5 min on 2 cores)
    python pipelines/tabular_benchmark.py --dataset all --out results/tabular_benchmark_all
    python pipelines/tabular_benchmark.py --csv data.csv --target label
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

#: the table's columns: metric -> header
TABLE_METRICS = {
    "f1": "minority F1",
    "pr_auc": "PR-AUC",
    "roc_auc": "ROC-AUC",
    "balanced_accuracy": "bal. accuracy",
    "fit_time": "fit s",
    "sample_time": "sample s",
}
from _privacy_columns import PRIVACY_METRICS  # noqa: E402 - privacy_report key -> header, shared by the benchmarks
COMPETITORS = ("tuned threshold", "class weights", "random oversampling", "SMOTE-NC", "SMOTE", "SMOTEN", "CTGAN")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="credit", help="credit, attrition, hmda, default or all (default credit)")
    p.add_argument("--csv", default=None, help="a CSV file instead of a bundled table (needs --target)")
    p.add_argument("--target", default=None, help="label column of --csv")
    p.add_argument("--repeats", type=int, default=3, help="stratified hold-out splits (default 3)")
    p.add_argument("--test-size", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=100, help="ganaug GAN epochs (default 100)")
    p.add_argument("--ctgan-epochs", type=int, default=50, help="CTGAN epochs (default 50)")
    p.add_argument("--no-ctgan", action="store_true", help="leave out the CTGAN arm")
    p.add_argument("--no-gan", action="store_true", help="baselines only")
    p.add_argument("--tstr", action="store_true", help="add ganaug with TSTR checkpoint selection (a second GAN per split)")
    p.add_argument("--ratios", default="", help="comma list of minority/majority ratios (e.g. 0.5): extra ganaug arms "
                   "that add fewer rows, sampled from the same GAN (exploration; the baselines are not tuned alike)")
    p.add_argument("--models", default="hgb,lr", help="comma list of hgb, lr, rf (default hgb,lr)")
    p.add_argument("--no-privacy", action="store_true", help="leave out the privacy columns (DCR, copies, MIA AUC)")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--out", default="results/tabular_benchmark")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--bench-settle", type=float, nargs="?", const=120.0, default=None, metavar="SECONDS",
                   help="wait up to SECONDS (120 without a value) after the run for its own load to decay before "
                        "the after-load check that decides whether the timings count (default: GANAUG_BENCH_SETTLE "
                        "if set, else 0, so that `make demo` stays fast; its header then says the after-load was "
                        "measured without settling)")
    return p


def _augmenters(args) -> dict:
    from ganaug.evaluate import AugmenterVariants, CTGANSampler

    if args.no_gan:
        return {}
    from ganaug.augment.tabular import TabularAugmenter

    quiet = {"enable_progress_bar": False}
    variants = {"ganaug": {"filter_synthetic": False}, "ganaug + filter": {"filter_synthetic": True}}
    for ratio in [float(r) for r in args.ratios.split(",") if r.strip()]:
        variants[f"ganaug ratio {ratio:g}"] = {"filter_synthetic": False, "sampling_strategy": ratio}
    if len(variants) > 2:  # sampling_strategy is changed per variant: restore the default for the first ones
        for name in ("ganaug", "ganaug + filter"):
            variants[name]["sampling_strategy"] = "auto"
    arms: dict = {"ganaug": AugmenterVariants(TabularAugmenter(epochs=args.epochs, trainer=quiet), variants)}
    if args.tstr:
        arms["ganaug + tstr"] = TabularAugmenter(epochs=args.epochs, trainer=quiet, validation="tstr")
    if not args.no_ctgan:
        arms["CTGAN"] = CTGANSampler(epochs=args.ctgan_epochs)
    return arms


def _models(names: str, seed: int) -> dict:
    from ganaug.commands.report import make_model

    out = {}
    for name in [n.strip() for n in names.split(",") if n.strip()]:
        out[name.upper()] = make_model(name, seed)
    if not out:
        raise ValueError("--models is empty")
    return out


def _cell(mean: float, std: float, digits: int = 3) -> str:
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def table_rows(summary: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """One row per model and arm: mean ± std of the table metrics and the paired differences (F1, PR-AUC)."""
    rows = []
    idx = summary.set_index(["model", "arm", "metric"])
    for (model, arm), _ in summary.groupby(["model", "arm"], sort=False):
        row = {"dataset": dataset, "model": model, "arm": arm}
        for metric, head in TABLE_METRICS.items():
            if (model, arm, metric) in idx.index:
                r = idx.loc[(model, arm, metric)]
                row[head] = _cell(r["mean"], r["std"] if np.isfinite(r["std"]) else 0.0, 2 if metric.endswith("time") else 3)
        for head in PRIVACY_METRICS.values():
            if (model, arm, head) in idx.index:
                r = idx.loc[(model, arm, head)]
                row[head] = _cell(r["mean"], r["std"] if np.isfinite(r["std"]) else 0.0, 2)
            elif any(m in PRIVACY_METRICS.values() for m in summary["metric"].unique()):
                row[head] = "–"  # an arm that adds no rows
        for metric, head in (("f1", "Δ F1 [95% CI]"), ("pr_auc", "Δ PR-AUC [95% CI]")):
            r = idx.loc[(model, arm, metric)]
            row[head] = "ref." if r["reference"] == arm else f"{r['diff']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]"
        rows.append(row)
    return pd.DataFrame(rows)


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    def cell(v) -> str:
        if isinstance(v, float):
            return "" if pd.isna(v) else f"{v:.{digits}f}"
        return str(v)

    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, r in frame.iterrows():
        lines.append("| " + " | ".join(cell(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def goal_checks(summary: pd.DataFrame, dataset: str) -> list[dict]:
    """Issue 11's goals for ganaug (no filter) on one table, as numbers."""
    means = summary.pivot_table(index=["model", "arm"], columns="metric", values="mean")
    out = []
    for model in summary["model"].unique():
        m = means.loc[model]
        if "ganaug" not in m.index:
            continue
        comp = [a for a in m.index if a in COMPETITORS]
        g = m.loc["ganaug"]
        best_f1 = m.loc[comp, "f1"].max()
        best_ba = m.loc[comp, "balanced_accuracy"].max()
        best_pr_all = m.drop(index="ganaug")["pr_auc"].max()
        best_f1_all = m.drop(index="ganaug")["f1"].max()
        out.append({
            "dataset": dataset, "model": model,
            "ganaug F1 - best competitor": g["f1"] - best_f1,
            "ganaug bal.acc - best competitor": g["balanced_accuracy"] - best_ba,
            "ganaug PR-AUC - best arm": g["pr_auc"] - best_pr_all,
            "ganaug F1 - best arm": g["f1"] - best_f1_all,
            "ganaug PR-AUC - none": g["pr_auc"] - m.loc["none", "pr_auc"],
        })
    return out


def pr_auc_across(summaries: dict) -> pd.DataFrame:
    """Mean PR-AUC per model and arm on each table and over all tables (issue 4's utility goal)."""
    frames = []
    for name, summary in summaries.items():
        part = summary[summary["metric"] == "pr_auc"][["model", "arm", "mean"]].assign(dataset=name)
        frames.append(part)
    table = pd.concat(frames).pivot_table(index=["model", "arm"], columns="dataset", values="mean", sort=False)
    table = table[list(summaries)]
    table["mean"] = table.mean(axis=1)
    return table.reset_index()


def _progress_mode(no_progress: bool):
    """A tqdm bar in a terminal, plain lines in a pipe (``make demo | tee``); ``GANAUG_PROGRESS`` decides when set."""
    if no_progress:
        return False
    if os.environ.get("GANAUG_PROGRESS") is not None:
        return None  # utility_report's own rule reads it
    return True if sys.stderr.isatty() else "lines"


def _status(text: str, args) -> None:
    """One progress line on stderr (where the bar is), unless progress is off."""
    mode = _progress_mode(args.no_progress)
    if mode is None:
        from ganaug.evaluate.utility import _progress_enabled

        mode = _progress_enabled(None)
    if mode:
        print(text, file=sys.stderr, flush=True)


def screen(name: str, n_rows: int, summary: pd.DataFrame, verdict: str, args, wall: float, footer=()) -> str:
    """The end-of-run screen of one table: verdict per model, a six-column table, where the files are."""
    from ganaug.evaluate._screen import summary_screen

    title = (f"{name}: {n_rows} rows, {args.repeats} stratified hold-out splits (test {args.test_size:.0%}), "
             + ("" if args.no_gan else f"ganaug {args.epochs} epochs, ") + f"{wall:.0f} s")
    note = (f"Means over {args.repeats} splits; * = augmenter; Δ with a 95% paired bootstrap interval."
            + ("" if args.no_privacy else
               " exact copies: synthetic minority rows equal to a training row; MIA AUC: membership attack "
               "(0.5 = no leak)."))
    return summary_screen(summary, verdict, title=title, footer=[note, *footer], width=100)


def run_one(name: str, X, y, args, out: Path) -> tuple[pd.DataFrame, list[dict], pd.DataFrame, dict]:
    from sklearn.model_selection import StratifiedShuffleSplit

    from ganaug.evaluate import utility_report
    from ganaug.privacy import privacy_metrics

    cv = StratifiedShuffleSplit(n_splits=args.repeats, test_size=args.test_size, random_state=args.seed)
    _status(f"{name}: {len(y)} rows, {args.repeats} splits, models {args.models}; training every arm on every split",
            args)
    t0 = time.perf_counter()
    report = utility_report(
        _models(args.models, args.seed), X, y, augmenters=_augmenters(args), cv=cv, random_state=args.seed,
        metrics=["f1", "pr_auc", "roc_auc", "balanced_accuracy", "precision", "recall"], n_boot=args.n_boot,
        progress=_progress_mode(args.no_progress),
        synthetic_metrics=None if args.no_privacy else privacy_metrics(PRIVACY_METRICS, random_state=args.seed),
    )
    _status(f"{name}: {args.n_boot} bootstrap replicates for the intervals, then writing the report "
            f"({time.perf_counter() - t0:.0f} s so far)", args)
    summary = report.summary()
    wall = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report.to_markdown(), encoding="utf-8")
    report.to_html(out / "report.html")
    report.save_figures(out)
    report.results.to_csv(out / "results.csv", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    table = table_rows(summary, name)
    checks = goal_checks(summary, name)
    info = {"name": name, "rows": len(y), "wall": wall, "verdict": report.verdict(), "ratios": _ctgan_ratios(summary),
            "html": out / "report.html"}
    return table, checks, summary, info


def _ctgan_ratios(summary: pd.DataFrame) -> str:
    """ganaug's fit+sample time against CTGAN's in the same run (same rows, epochs as configured)."""
    t = summary[summary["metric"] == "sample_time"].groupby("arm")["mean"].first()
    if "CTGAN" not in t.index or "ganaug" not in t.index or t["ganaug"] <= 0:
        return ""
    return (f"fit+sample time per split: ganaug {t['ganaug']:.1f} s, CTGAN {t['CTGAN']:.1f} s "
            f"(CTGAN / ganaug = {t['CTGAN'] / t['ganaug']:.2f}x; epochs as configured, not per epoch)")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    import _bench

    # before the run: files may change while it trains
    bench = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    from ganaug.commands.report import read_table
    from ganaug.datasets import TABULAR_DATASETS, load_tabular

    if args.csv:
        if not args.target:
            raise SystemExit("--csv needs --target")
        sets = {Path(args.csv).stem: read_table(args.csv, args.target)}
    else:
        names = list(TABULAR_DATASETS) if args.dataset == "all" else [args.dataset]
        for n in names:
            if n not in TABULAR_DATASETS:
                raise SystemExit(f"unknown dataset {n!r}; choose from {sorted(TABULAR_DATASETS)} or all")
        sets = {n: load_tabular(n) for n in names}
    out = Path(args.out)
    t0 = time.perf_counter()
    tables, checks, summaries, infos = [], [], {}, []
    for name, (X, y) in sets.items():
        table, check, summaries[name], info = run_one(name, X, y, args, out / name if len(sets) > 1 else out)
        tables.append(table)
        checks += check
        infos.append(info)
        if len(sets) > 1:  # one screen per table as it finishes; the files of all tables come at the end
            print("\n" + screen(name, info["rows"], summaries[name], info["verdict"], args, info["wall"],
                                 [f"Full report (HTML): {info['html']}"]), flush=True)
    table = pd.concat(tables, ignore_index=True)
    bench = _bench.finish(bench, settle_seconds=_bench.quick_settle() if args.bench_settle is None
                          else args.bench_settle)
    lines = [
        "# Tabular benchmark", "",
        *_bench.markdown(bench), "",
        f"{args.repeats} stratified hold-out splits (test {args.test_size:.0%}, seed {args.seed}); ganaug "
        f"{args.epochs} epochs, CTGAN {args.ctgan_epochs} epochs; metrics on the untouched test split, mean ± std "
        "over splits; Δ = difference to the best baseline arm (no resampling, tuned threshold, class weights, "
        "random oversampling, SMOTE family) with a 95% paired bootstrap interval."
        + ("" if args.no_privacy else
           " Privacy (arms that add rows): `privacy_report` of the synthetic minority rows against the training "
           "split, holdout = the test split's minority rows; DCR ratio = median distance to the closest training "
           "row / the same for fresh real rows (0 = copies, ~1 = as new as real data), DCR q05 ratio = the same "
           "for the 5 % quantile, MIA AUC = membership-inference attack (0.5 = no leak)."), "",
        markdown_table(table),
    ]
    for info in infos:
        lines += ["", f"Verdict ({info['name']}):", ""] + [f"- {v}" for v in info["verdict"].splitlines()]
        if info["ratios"]:
            lines += ["", f"Time ({info['name']}): {info['ratios']}."]
    if checks:
        goals = pd.DataFrame(checks)
        lines += ["", "Goals of issue 11 (ganaug without filter; positive is good):", "",
                  markdown_table(goals, digits=4)]
    if len(summaries) > 1:
        across = pr_auc_across(summaries)
        lines += ["", "Minority PR-AUC per table and mean over the tables:", "", markdown_table(across)]
        print("\nMinority PR-AUC per table and mean over the tables:")
        print(across.round(3).to_string(index=False))
    total = time.perf_counter() - t0
    lines += ["", f"Total wall time: {total:.0f} s."]
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    table.to_csv(out / "table.csv", index=False)
    extra = ", the goals" if checks else ""
    extra += " and the time against CTGAN" if any(info["ratios"] for info in infos) else ""
    files = (f"Every column (± std, ROC-AUC, balanced accuracy, times, DCR, Δ F1){extra}: "
             f"{out / 'benchmark.md'} and {out / 'table.csv'}.")
    if len(sets) == 1:
        info = infos[0]
        text = screen(info["name"], info["rows"], summaries[info["name"]], info["verdict"], args, total,
                      [files, f"Full report (HTML): {info['html']}"])
        (out / "screen.txt").write_text(text + "\n", encoding="utf-8")
        print("\n" + text)
    else:
        print("\n" + files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
