"""Tabular fidelity benchmark (issue 20): ganaug's TabularAugmenter against CTGAN and TVAE on every bundled table.

For each bundled table (``ganaug.datasets.TABULAR_DATASETS``), each seed
(``--seeds``, default 3) and each model (ganaug ``TabularAugmenter``,
``ctgan.CTGAN``, ``ctgan.TVAE``; all at their defaults except the same
``--epochs`` for all):

1. a stratified 70/30 split of the real table (seeded);
2. the model is fitted on the 70 % training split (features and the target
   column) and samples as many rows as the training split has;
3. the synthetic rows are scored:

   - **quality** by :func:`ganaug.metrics.quality.quality_report` against the
     training split (the definitions of SDMetrics 0.32's ``QualityReport``:
     overall, column shapes, column pair trends; every column, target
     included); with ``--sdmetrics`` and sdmetrics installed, SDMetrics' own
     ``QualityReport`` as a check column (optional, never required);
   - **TSTR**: a ``HistGradientBoostingClassifier`` trained on the synthetic
     rows (target included) and tested on the real 30 % test split: PR-AUC
     (average precision) and F1 of the minority class; the same model trained
     on the real training split (TRTR) is recorded as the ceiling;
   - **privacy**: :func:`ganaug.privacy.privacy_report` of the synthetic rows
     against the training split, the test split as the holdout (DCR ratio,
     its 5 % quantile ratio, exact copies, membership-inference AUC);
   - **constraints** the table's columns imply (credit: ``Amount <= Price``
     and ``Seniority <= Age``; attrition: the tenure chain ``YearsInCurrentRole,
     YearsWithCurrManager, YearsSinceLastPromotion <= YearsAtCompany <=
     TotalWorkingYears <= Age``; hmda and default: none): the share of
     synthetic rows that break at least one (every one holds on every real row);
   - fit and sample wall seconds.

Output in ``--out`` (default ``results/tabular_fidelity``): ``results.csv``
(one row per table x model x seed, written after every fit) and
``results.md`` (commit, command, machine load; per table mean ± std over
seeds and a verdict against issue 20's goal: ganaug's pair trends >= TVAE's,
its overall quality the best of the three, and its privacy within bounds:
DCR ratio >= 0.9, no exact copies, MIA AUC <= 0.55).

CTGAN and TVAE come from the ``ctgan`` package (BUSL-1.1, the ``bench`` or
``ctgan`` extra), imported here only, never by ganaug. They cannot take
missing values in numeric columns: as SDV does by default, such a column is
median-imputed and gets a missing-value indicator column that the model
learns, and the sampled indicator puts the missing values back. Thread
counts are left as the user's environment sets them.

Usage::

    python pipelines/tabular_fidelity.py                          # all tables, 3 seeds, 100 epochs
    python pipelines/tabular_fidelity.py --tables credit --seeds 1 --sdmetrics
    python pipelines/tabular_fidelity.py --fast                   # smoke test: 2 epochs, 600 rows, 1 seed
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # the shared helpers below, also when imported by a test
    sys.path.insert(0, _HERE)

import _bench  # noqa: E402
from _privacy_columns import PRIVACY_METRICS  # noqa: E402

MODELS = ("ganaug", "CTGAN", "TVAE")
CONSTRAINED = "ganaug + constraints"
#: issue 20's privacy bounds for ganaug's rows
DCR_MIN, MIA_MAX = 0.9, 0.55
FAST = {"epochs": 2, "max_rows": 600, "seeds": 1}

#: the constraints each bundled table's columns imply, as (low, high) pairs: low <= high; all hold on the real rows
TABLE_CONSTRAINTS: dict[str, list[tuple[str, str]]] = {
    "credit": [("Amount", "Price"), ("Seniority", "Age")],
    "attrition": [("YearsInCurrentRole", "YearsAtCompany"), ("YearsWithCurrManager", "YearsAtCompany"),
                  ("YearsSinceLastPromotion", "YearsAtCompany"), ("YearsAtCompany", "TotalWorkingYears"),
                  ("TotalWorkingYears", "Age")],
    "hmda": [],  # hirat <= pirat looks implied but 5 real rows break it: not a rule of the data
    "default": [],
}

#: results.md columns: CSV column -> (header, digits, scale)
MD_COLUMNS = {
    "overall": ("overall", 3, 1.0),
    "column_shapes": ("shapes", 3, 1.0),
    "column_pair_trends": ("pair trends", 3, 1.0),
    "tstr_pr_auc": ("TSTR PR-AUC", 3, 1.0),
    "tstr_f1": ("TSTR F1", 3, 1.0),
    "dcr_ratio": ("DCR ratio", 2, 1.0),
    "exact_copies": ("exact copies %", 2, 100.0),
    "mia_auc": ("MIA AUC", 3, 1.0),
    "violations": ("violations %", 1, 100.0),
    "seconds": ("seconds", 1, 1.0),
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tables", default="all", help="comma list of bundled tables, or all (default)")
    p.add_argument("--models", default="ganaug,ctgan,tvae", help="comma list of ganaug, ctgan, tvae (default all)")
    p.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1, one split and one fit each (default 3)")
    p.add_argument("--epochs", type=int, default=None, help="epochs of every model (default 100)")
    p.add_argument("--test-size", type=float, default=0.3)
    p.add_argument("--max-rows", type=int, default=None,
                   help="stratified subsample of each table first (default: all rows)")
    p.add_argument("--constrained", action="store_true",
                   help="add ganaug fitted with the table's constraints (tables that have some)")
    p.add_argument("--sdmetrics", action="store_true",
                   help="add SDMetrics' own QualityReport as check columns (needs sdmetrics; skipped if missing)")
    p.add_argument("--fast", action="store_true",
                   help=f"smoke test: {FAST['epochs']} epochs, {FAST['max_rows']} rows, {FAST['seeds']} seed "
                        "(unless given) and no settle wait for the load check")
    p.add_argument("--ganaug-param", action="append", default=[], metavar="NAME=VALUE",
                   help="a TabularAugmenter parameter for the ganaug arms (repeatable; VALUE read as JSON where it "
                        "parses, else as text), e.g. --ganaug-param gp_every=4")
    p.add_argument("--out", default="results/tabular_fidelity")
    p.add_argument("--no-progress", action="store_true")
    return p


def ganaug_params(pairs: list[str]) -> dict:
    """``["gp_every=4", "loss=hinge"]`` -> ``{"gp_every": 4, "loss": "hinge"}`` (JSON values where they parse)."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"--ganaug-param wants NAME=VALUE, got {pair!r}")
        try:
            out[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[name.strip()] = value
    return out


def _resolve(args) -> argparse.Namespace:
    defaults = FAST if args.fast else {"epochs": 100, "max_rows": None, "seeds": 3}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.seeds < 1 or args.epochs < 1:
        raise SystemExit("--seeds and --epochs must be >= 1")
    names = {"ganaug": "ganaug", "ctgan": "CTGAN", "tvae": "TVAE"}
    models = []
    for m in [m.strip().lower() for m in args.models.split(",") if m.strip()]:
        if m not in names:
            raise SystemExit(f"unknown model {m!r}; choose from ganaug, ctgan, tvae")
        models.append(names[m])
    if not models:
        raise SystemExit("--models is empty")
    args.model_list = models
    return args


# ------------------------------------------------------------------ helpers
def _progress_mode(no_progress: bool):
    """A tqdm bar in a terminal, plain lines in a pipe; ``GANAUG_PROGRESS`` decides when set."""
    if no_progress:
        return False
    if os.environ.get("GANAUG_PROGRESS") is not None:
        from ganaug.evaluate.utility import _progress_enabled

        return _progress_enabled(None)
    return True if sys.stderr.isatty() else "lines"


def _constraints(name: str, X: pd.DataFrame) -> list:
    from ganaug.tabular.constraints import Inequality

    out = []
    for low, high in TABLE_CONSTRAINTS.get(name, []):
        if low in X.columns and high in X.columns:
            c = Inequality(low, high)
            c.check_frame(X)
            if not c.is_valid(X).all():  # a rule the real rows break is no rule of the data
                raise AssertionError(f"{name}: {low} <= {high} fails on {int((~c.is_valid(X)).sum())} real rows")
            out.append(c)
    return out


def _violations(constraints: list, frame: pd.DataFrame) -> dict:
    """Share of rows breaking any constraint, and per constraint."""
    if not constraints:
        return {"violations": float("nan")}
    valid = np.ones(len(frame), dtype=bool)
    out = {}
    for c in constraints:
        ok = c.is_valid(frame)
        out[f"violations {c.low} <= {c.high}"] = float(1.0 - ok.mean())
        valid &= ok
    out["violations"] = float(1.0 - valid.mean())
    return out


def _tstr(X_fit: pd.DataFrame, y_fit, X_te: pd.DataFrame, y_te, pos, seed: int) -> tuple[float, float]:
    """Minority PR-AUC and F1 (threshold 0.5) on the real test split of a HistGradientBoosting fitted on X_fit."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import average_precision_score, f1_score
    from sklearn.pipeline import make_pipeline

    from ganaug.evaluate._preprocess import make_preprocessor

    y_fit = np.asarray(y_fit, dtype=object)
    y_bin = (np.asarray(y_te, dtype=object) == pos).astype(int)
    classes = np.unique(y_fit)
    if len(classes) < 2:  # a sampler that produced one class only: a constant model
        proba = np.full(len(y_bin), 1.0 if classes[0] == pos else 0.0)
    else:
        model = make_pipeline(make_preprocessor(X_fit), HistGradientBoostingClassifier(random_state=seed))
        model.fit(X_fit, y_fit)
        proba = model.predict_proba(X_te)[:, list(model.classes_).index(pos)]
    return (float(average_precision_score(y_bin, proba)),
            float(f1_score(y_bin, (proba >= 0.5).astype(int), zero_division=0)))


def _sdmetrics_scores(real: pd.DataFrame, synthetic: pd.DataFrame, metadata: dict) -> dict:
    """SDMetrics' own QualityReport (its defaults), as a check of ganaug's quality_report."""
    from sdmetrics.reports.single_table import QualityReport  # optional, MIT, pulls in copulas (BUSL-1.1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = QualityReport()
        report.generate(real, synthetic, metadata, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return {"sdmetrics_overall": float(report.get_score()), "sdmetrics_shapes": float(props["Column Shapes"]),
            "sdmetrics_pair_trends": float(props["Column Pair Trends"])}


# ------------------------------------------------------------------- models
def _fit_sample_ganaug(X_tr, y_tr, n, seed, epochs, constraints=None, params=None):
    from ganaug.augment.tabular import TabularAugmenter

    t0 = time.perf_counter()
    options = dict(params or {})  # the plain arm: the augmenter's defaults (constraints="auto" included)
    if constraints:  # the constrained arm: the table's declared rules win over --ganaug-param
        options["constraints"] = constraints
    aug = TabularAugmenter(epochs=epochs, random_state=seed, trainer={"enable_progress_bar": False}, **options)
    aug.fit(X_tr, y_tr)
    t1 = time.perf_counter()
    X_syn, y_syn = aug.sample(n, random_state=seed)
    t2 = time.perf_counter()
    return X_syn.reset_index(drop=True), np.asarray(y_syn, dtype=object), t1 - t0, t2 - t1


def _fit_sample_ctgan(kind, X_tr, y_tr, n, seed, epochs):
    """CTGAN or TVAE on the training split with the label as one more discrete column.

    Numeric columns with missing values: median-imputed plus a learnt
    missing-value indicator (SDV's default handling), which puts the missing
    values back into the sampled rows. Missing categories stay a level of
    their own.
    """
    from ctgan import CTGAN, TVAE  # BUSL-1.1: imported in pipelines/ only
    from joblib import parallel_config

    from ganaug.evaluate._preprocess import column_kinds
    from ganaug.utils import seed_everything

    numeric, categorical, dates = column_kinds(X_tr)
    if dates:
        raise TypeError(f"{kind} cannot model datetime column(s) {dates}")
    data = X_tr.copy()
    for col in categorical:  # plain values; a missing level stays missing (ctgan's one-hot encoder keeps it)
        data[col] = data[col].astype(object)
    used = set(data.columns)

    def fresh(name):
        while name in used:
            name += "_"
        used.add(name)
        return name

    flags = {}
    for col in numeric:
        if X_tr[col].isna().any():
            flags[col] = fresh(f"{col}__is_missing")
            data[flags[col]] = np.where(X_tr[col].isna().to_numpy(), "yes", "no").astype(object)
            median = X_tr[col].median()
            data[col] = X_tr[col].fillna(0.0 if pd.isna(median) else median)
    target = fresh("__label__")
    labels = {str(v): v for v in pd.unique(np.asarray(y_tr, dtype=object))}
    data[target] = np.asarray(y_tr, dtype=object).astype(str)
    discrete = [*categorical, *flags.values(), target]

    seed_everything(seed)
    model = CTGAN(epochs=epochs) if kind == "CTGAN" else TVAE(epochs=epochs)
    model.set_random_state(seed)
    t0 = time.perf_counter()
    # ctgan's column transformer runs a joblib process pool (n_jobs=-1) from 500 rows on: run it in this process
    with warnings.catch_warnings(), parallel_config(backend="sequential"):
        warnings.simplefilter("ignore")
        model.fit(data, discrete_columns=discrete)
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = model.sample(n)
    t2 = time.perf_counter()
    raw = raw.reset_index(drop=True)
    X_syn = raw[list(X_tr.columns)].copy()
    for col, flag in flags.items():
        X_syn.loc[raw[flag].astype(str).to_numpy() == "yes", col] = np.nan
    for col in X_tr.columns:
        dtype = X_tr[col].dtype
        if pd.api.types.is_integer_dtype(dtype):
            X_syn[col] = pd.to_numeric(X_syn[col], errors="coerce").round().astype(dtype)
        elif isinstance(dtype, pd.CategoricalDtype):
            # a level the dtype does not know would turn into NaN silently: keep it visible as object instead
            vals = X_syn[col].astype(object)
            X_syn[col] = vals.astype(dtype) if vals.dropna().isin(dtype.categories).all() else vals
        else:
            X_syn[col] = X_syn[col].astype(dtype)
    y_syn = np.asarray([labels.get(str(v), v) for v in raw[target]], dtype=object)
    return X_syn, y_syn, t1 - t0, t2 - t1


# ---------------------------------------------------------------------- run
def _models_for(name: str, args) -> list[str]:
    models = list(args.model_list)
    if args.constrained and TABLE_CONSTRAINTS.get(name) and "ganaug" in models:
        models.insert(models.index("ganaug") + 1, CONSTRAINED)
    return models


def run_table(name: str, args, bar, log, rows: list, write) -> None:
    from sklearn.model_selection import train_test_split

    from ganaug.datasets import TABULAR_DATASETS, load_tabular
    from ganaug.metrics.quality import infer_sdtypes, quality_report
    from ganaug.privacy import privacy_report

    X, y = load_tabular(name)
    target, pos = TABULAR_DATASETS[name][1], TABULAR_DATASETS[name][2]
    y = pd.Series(y, name=target)
    if args.max_rows and len(X) > args.max_rows:
        X, _, y, _ = train_test_split(X, y, train_size=args.max_rows, stratify=y, random_state=0)
        X, y = X.reset_index(drop=True), y.reset_index(drop=True)
    constraints = _constraints(name, X)
    models = _models_for(name, args)
    for seed in range(args.seeds):
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=args.test_size, stratify=y, random_state=seed)
        X_tr, X_te = X_tr.reset_index(drop=True), X_te.reset_index(drop=True)
        y_tr, y_te = y_tr.reset_index(drop=True), y_te.reset_index(drop=True)
        n = len(X_tr)
        real = X_tr.assign(**{target: y_tr.values})
        metadata = {"columns": {c: {"sdtype": t} for c, t in infer_sdtypes(real).items()}}
        trtr = _tstr(X_tr, y_tr, X_te, y_te, pos, seed)
        for model in models:
            if hasattr(bar, "set_postfix_str"):
                bar.set_postfix_str(f"{name} seed {seed} {model}")
            if model == "ganaug":
                X_syn, y_syn, fit_s, sample_s = _fit_sample_ganaug(X_tr, y_tr, n, seed, args.epochs,
                                                                    params=ganaug_params(args.ganaug_param))
            elif model == CONSTRAINED:
                X_syn, y_syn, fit_s, sample_s = _fit_sample_ganaug(X_tr, y_tr, n, seed, args.epochs, constraints,
                                                                    ganaug_params(args.ganaug_param))
            else:
                X_syn, y_syn, fit_s, sample_s = _fit_sample_ctgan(model, X_tr, y_tr, n, seed, args.epochs)
            syn = X_syn.assign(**{target: pd.Categorical(y_syn, categories=y.cat.categories)
                                  if isinstance(y.dtype, pd.CategoricalDtype) else y_syn})
            q = quality_report(real, syn, metadata)
            row = {"table": name, "model": model, "seed": seed, "epochs": args.epochs, "n_train": n,
                   "n_test": len(X_te), "n_synthetic": len(X_syn),
                   "synthetic_minority_share": float(np.mean(y_syn == pos)),
                   "overall": q["overall"], "column_shapes": q["column_shapes"],
                   "column_pair_trends": q["column_pair_trends"]}
            if args.sdmetrics_ok:
                row.update(_sdmetrics_scores(real, syn, metadata))
            row["tstr_pr_auc"], row["tstr_f1"] = _tstr(X_syn, y_syn, X_te, y_te, pos, seed)
            row["trtr_pr_auc"], row["trtr_f1"] = trtr
            rep = privacy_report(X_tr, X_syn, X_te, y_tr.to_numpy(dtype=object), y_syn, y_te.to_numpy(dtype=object),
                                 random_state=seed)
            row.update({k: rep[k] for k in PRIVACY_METRICS})
            row["exact_copies_holdout"] = rep["exact_copies_holdout"]
            row.update(_violations(constraints, X_syn))
            row.update({"fit_s": fit_s, "sample_s": sample_s, "seconds": fit_s + sample_s})
            rows.append(row)
            write()
            log(f"{name} seed {seed} {model:>10s}: overall {row['overall']:.3f} shapes {row['column_shapes']:.3f} "
                f"pairs {row['column_pair_trends']:.3f} TSTR PR-AUC {row['tstr_pr_auc']:.3f} F1 {row['tstr_f1']:.3f} "
                f"DCR {row['dcr_ratio']:.2f} copies {row['exact_copies']:.3f} MIA {row['mia_auc']:.3f} "
                + ("" if not constraints else f"violations {row['violations']:.1%} ")
                + f"({fit_s:.1f}+{sample_s:.1f} s)")
            bar.update(1)


# ------------------------------------------------------------------ report
def _cell(values: pd.Series, digits: int, scale: float) -> str:
    v = pd.to_numeric(values, errors="coerce").dropna() * scale
    if v.empty:
        return "–"
    if len(v) == 1:
        return f"{v.iloc[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


def table_markdown(part: pd.DataFrame, sdm: bool) -> str:
    cols = dict(MD_COLUMNS)
    if sdm and "sdmetrics_overall" in part:
        cols = {**{k: v for k, v in cols.items() if k in ("overall", "column_shapes", "column_pair_trends")},
                "sdmetrics_overall": ("SDMetrics overall", 3, 1.0),
                **{k: v for k, v in cols.items() if k not in ("overall", "column_shapes", "column_pair_trends")}}
    lines = ["| model | " + " | ".join(h for h, _, _ in cols.values()) + " |", "|---" * (len(cols) + 1) + "|"]
    for model, g in part.groupby("model", sort=False):
        lines.append(f"| {model} | " + " | ".join(_cell(g[c], d, s) if c in g else "–"
                                                  for c, (_, d, s) in cols.items()) + " |")
    return "\n".join(lines)


def verdict(part: pd.DataFrame) -> str:
    """Issue 20's goal on one table, from the means over seeds."""
    means = part.groupby("model", sort=False)[["overall", "column_pair_trends", "dcr_ratio", "exact_copies",
                                               "mia_auc"]].mean()
    if "ganaug" not in means.index:
        return "no ganaug rows"
    g = means.loc["ganaug"]
    bits = []
    if "TVAE" in means.index:
        t = means.loc["TVAE", "column_pair_trends"]
        bits.append(f"pair trends {g['column_pair_trends']:.3f} vs TVAE {t:.3f}: "
                    + ("met" if g["column_pair_trends"] >= t else "NOT met"))
    else:
        bits.append("pair trends vs TVAE: not run")
    rivals = [m for m in ("CTGAN", "TVAE") if m in means.index]
    if rivals:
        best = means.loc[rivals, "overall"].idxmax()
        bits.append(f"overall {g['overall']:.3f} vs best other {best} {means.loc[best, 'overall']:.3f}: "
                    + ("best" if g["overall"] >= means.loc[best, "overall"] else "NOT best"))
    copies = part.loc[part["model"] == "ganaug", "exact_copies"].max()
    ok = g["dcr_ratio"] >= DCR_MIN and copies == 0 and g["mia_auc"] <= MIA_MAX
    bits.append(f"privacy DCR ratio {g['dcr_ratio']:.2f} (>= {DCR_MIN}), exact copies {copies:.2%} (0), "
                f"MIA AUC {g['mia_auc']:.3f} (<= {MIA_MAX}): " + ("within bounds" if ok else "NOT within bounds"))
    return "; ".join(bits)


def constraint_lines(name: str, part: pd.DataFrame) -> list[str]:
    rules = TABLE_CONSTRAINTS.get(name, [])
    if not rules:
        return [f"Constraints ({name}): none implied by the columns."]
    out = [f"Constraints ({name}, every real row obeys them): "
           + ", ".join(f"`{lo} <= {hi}`" for lo, hi in rules) + ". Share of synthetic rows breaking them (mean over "
           "seeds):", ""]
    for model, g in part.groupby("model", sort=False):
        per = [f"{c.removeprefix('violations ')} {g[c].mean():.1%}" for c in g.columns
               if c.startswith("violations ") and g[c].notna().any()]
        out.append(f"- {model}: any {g['violations'].mean():.1%} ({'; '.join(per)})")
    return out


def write_markdown(raw: pd.DataFrame, args, info: dict, path: Path) -> str:
    lines = ["# Tabular fidelity: ganaug, CTGAN, TVAE", "", *_bench.markdown(info), "",
             f"{args.seeds} seed(s) (stratified {1 - args.test_size:.0%}/{args.test_size:.0%} split and fit per seed), "
             f"{args.epochs} epochs for every model, all else at the defaults"
             + (f" except ganaug's {ganaug_params(args.ganaug_param)}" if args.ganaug_param else "")
             + (f", tables subsampled to {args.max_rows} rows" if args.max_rows else "")
             + ". Quality: ganaug.metrics.quality.quality_report (SDMetrics 0.32 QualityReport definitions) of the "
             "synthetic rows (as many as the training split, target included) against the training split. TSTR: "
             "HistGradientBoosting trained on the synthetic rows, minority PR-AUC and F1 on the real test split. "
             "Privacy: privacy_report against the training split, holdout = test split (DCR ratio: 0 = copies, "
             "~1 = as new as fresh real rows; exact copies: share of synthetic rows equal to a training row; MIA "
             "AUC: membership attack, 0.5 = no leak). Seconds: fit + sample, wall clock. Mean ± std over seeds.",
             ""]
    for name, part in raw.groupby("table", sort=False):
        trtr = part.drop_duplicates("seed")
        lines += [f"## {name}", "", table_markdown(part, args.sdmetrics_ok), "",
                  f"Real training split -> test split (TRTR, the ceiling): PR-AUC {trtr['trtr_pr_auc'].mean():.3f}, "
                  f"F1 {trtr['trtr_f1'].mean():.3f}.", "",
                  *constraint_lines(name, part), "", f"**Verdict ({name})**: {verdict(part)}.", ""]
    text = "\n".join(lines)
    path.write_text(text, encoding="utf-8")
    return text


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _resolve(build_parser().parse_args(argv))
    from ganaug.datasets import TABULAR_DATASETS
    from ganaug.evaluate._progress import progress_bar

    tables = list(TABULAR_DATASETS) if args.tables == "all" else [t.strip() for t in args.tables.split(",") if t.strip()]
    for t in tables:
        if t not in TABULAR_DATASETS:
            raise SystemExit(f"unknown table {t!r}; choose from {sorted(TABULAR_DATASETS)} or all")
    if any(m in ("CTGAN", "TVAE") for m in args.model_list):
        try:
            import ctgan  # noqa: F401
        except ImportError:
            raise SystemExit("CTGAN and TVAE need the ctgan package (pip install 'ganaug[bench]'), "
                             "or pass --models ganaug") from None
    args.sdmetrics_ok = False
    if args.sdmetrics:
        try:
            import sdmetrics  # noqa: F401

            args.sdmetrics_ok = True
        except ImportError:
            print("note: sdmetrics is not installed; the SDMetrics check columns are left out", file=sys.stderr)

    info = _bench.start(["pipelines/tabular_fidelity.py", *argv])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    csv = out / "results.csv"

    def write():
        pd.DataFrame(rows).to_csv(csv, index=False)  # after every fit: partial results survive

    t0 = time.perf_counter()
    mode = _progress_mode(args.no_progress)

    def log(msg):
        line = f"[{time.perf_counter() - t0:6.0f}s] {msg}"
        if mode is True:  # above the tqdm bar, not through it
            from tqdm.auto import tqdm

            tqdm.write(line, file=sys.stderr)
        elif mode:
            print(line, file=sys.stderr, flush=True)

    total = sum(args.seeds * len(_models_for(t, args)) for t in tables)
    bar = progress_bar(total, mode, desc="tabular fidelity")
    try:
        for name in tables:
            run_table(name, args, bar, log, rows, write)
    finally:
        bar.close()
    finish_kw = {}
    if args.fast and "settle_seconds" in inspect.signature(_bench.finish).parameters:
        finish_kw["settle_seconds"] = 0
    info = _bench.finish(info, **finish_kw)
    raw = pd.DataFrame(rows)
    write()
    text = write_markdown(raw, args, info, out / "results.md")
    print(text)
    print(f"\nFiles: {csv} and {out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
