"""Development check of ganaug's tabular utility against the usual resamplers.

On the four bundled tables (credit, attrition, hmda, default): stratified
repeated hold-out (70/30, ``--splits`` repeats, fixed seeds); on each training
split the rows are resampled by each arm (no resampling, RandomOverSampler,
SMOTE-NC, CTGAN, ganaug variants); a HistGradientBoosting and a
LogisticRegression model (one-hot + imputation + scaling in front, fitted on
the training split only) are trained and scored on the untouched test split
by minority average precision (PR-AUC). Baseline results are cached in
``--out/cache.json`` so variants of ganaug can be compared quickly. Each run
writes ``runs_<time>.csv`` and ``runs_<time>.md`` (commit, command, machine
load and threads at its head, then the tables printed at the end).

This is the tuning tool behind ganaug's defaults; the main benchmark is
``pipelines/tabular_benchmark.py``.

Usage::

    python pipelines/tabular_dev_eval.py --variants '{"default": {}}' --epochs 100
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.pipeline import Pipeline

from ganaug.datasets import TABULAR_DATASETS, load_tabular
from ganaug.evaluate._preprocess import make_preprocessor
from ganaug.evaluate.samplers import CTGANSampler, RandomOversampler, SMOTESampler

MODELS = {
    "hgb": lambda seed: HistGradientBoostingClassifier(random_state=seed),
    "lr": lambda seed: LogisticRegression(max_iter=2000),
}


def _score(X_train, y_train, X_test, y_test, minority, seed) -> dict:
    out = {}
    for name, make in MODELS.items():
        model = Pipeline([("prep", make_preprocessor(X_train)), ("model", make(seed))])
        model.fit(X_train, y_train)
        col = list(model.classes_).index(minority)
        out[name] = float(average_precision_score(y_test == minority, model.predict_proba(X_test)[:, col]))
    return out


def _baseline(name: str, seed: int, ctgan_epochs: int):
    if name == "ros":
        return RandomOversampler(random_state=seed)
    if name == "smote":
        return SMOTESampler(random_state=seed)
    if name == "ctgan":
        return CTGANSampler(epochs=ctgan_epochs, random_state=seed)
    raise ValueError(name)


def _ganaug(params: dict, seed: int, epochs: int):
    from ganaug.augment.tabular import TabularAugmenter

    p = {"epochs": epochs, "trainer": {"enable_progress_bar": False}, **params}
    return TabularAugmenter(random_state=seed, **p)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default=",".join(TABULAR_DATASETS))
    ap.add_argument("--splits", type=int, default=3)
    ap.add_argument("--baselines", default="none,ros,smote,ctgan")
    ap.add_argument("--ctgan-epochs", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=100, help="ganaug epochs")
    ap.add_argument("--variants", default='{"ganaug": {}}', help="JSON {name: TabularAugmenter params}")
    ap.add_argument("--out", default="results/tabular_dev")
    args = ap.parse_args(argv)
    import _bench

    bench = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache_file = out / "cache.json"
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    variants = json.loads(args.variants)
    rows = []
    cached = 0
    for ds in args.datasets.split(","):
        X, y = load_tabular(ds)
        minority = TABULAR_DATASETS[ds][2]
        y = y.astype(str).to_numpy()
        splitter = StratifiedShuffleSplit(n_splits=args.splits, test_size=0.3, random_state=0)
        for split, (tr, te) in enumerate(splitter.split(X, y)):
            Xtr, ytr = X.iloc[tr].reset_index(drop=True), y[tr]
            Xte, yte = X.iloc[te].reset_index(drop=True), y[te]
            seed = 1000 + split
            arms = [(b, None) for b in args.baselines.split(",") if b] + list(variants.items())
            for arm, params in arms:
                key = f"{ds}|{split}|{arm}" + ("" if params is None else f"|{json.dumps(params, sort_keys=True)}|{args.epochs}")
                if params is None and key in cache:
                    res = cache[key]
                    cached += 1
                else:
                    t0 = time.time()
                    if arm == "none":
                        Xa, ya = Xtr, ytr
                    elif params is None:
                        Xa, ya = _baseline(arm, seed, args.ctgan_epochs).fit_resample(Xtr, ytr)
                    else:
                        p = dict(params)
                        filters = p.pop("_filters", [])
                        aug = _ganaug(p, seed, args.epochs)
                        Xa, ya = aug.fit_resample(Xtr, ytr)
                        for q in filters:  # the same fitted model, sampled through the discriminator filter
                            aug.set_params(filter_synthetic=True, filter_quantile=q)
                            wanted = {k: v for k, v in aug.sampling_strategy_.items() if v > 0}
                            Xf, yf = aug.sample(wanted, random_state=seed)
                            Xq = pd.concat([Xtr, Xf], ignore_index=True)
                            yq = np.concatenate([ytr, np.asarray(yf)])
                            rq = _score(Xq, yq, Xte, yte, minority, seed)
                            rows.append({"dataset": ds, "split": split, "arm": f"{arm}+f{q}", **rq, "time": 0.0})
                            print(f"{ds:10s} split {split} {arm + '+f' + str(q):20s} hgb {rq['hgb']:.4f} lr {rq['lr']:.4f}",
                                  flush=True)
                    fit_time = time.time() - t0
                    res = {**_score(Xa, np.asarray(ya), Xte, yte, minority, seed), "time": fit_time}
                    if params is None:
                        cache[key] = res
                        cache_file.write_text(json.dumps(cache, indent=1))
                rows.append({"dataset": ds, "split": split, "arm": arm, **res})
                print(f"{ds:10s} split {split} {arm:20s} hgb {res['hgb']:.4f} lr {res['lr']:.4f} ({res['time']:.0f}s)",
                      flush=True)
    df = pd.DataFrame(rows)
    table = df.groupby(["dataset", "arm"])[["hgb", "lr"]].mean().unstack("dataset")
    order = [a for a in ["none", "ros", "smote", "ctgan"] if a in df.arm.unique()]
    order += [a for a in df.arm.unique() if a not in order]
    summary = df.groupby(["arm", "dataset"])[["hgb", "lr"]].mean().groupby("arm").mean().loc[order]
    pd.set_option("display.width", 200)
    print("\nmean minority PR-AUC per table (test splits):")
    print(table.loc[order].round(4).to_string())
    print("\nmean over tables:")
    print(summary.round(4).to_string())
    bench = _bench.finish(bench)
    stem = f"runs_{int(time.time())}"
    df.to_csv(out / f"{stem}.csv", index=False)
    md = ["# Tabular development check", "", *_bench.markdown(bench), "",
          f"Minority PR-AUC on the test splits ({args.splits} splits per table, ganaug {args.epochs} epochs, "
          f"CTGAN {args.ctgan_epochs} epochs). {cached} baseline runs came from `{cache_file}` (earlier runs; their "
          f"`time` is from those runs). Rows: `{stem}.csv`.", "",
          "Mean per table:", "", "```", table.loc[order].round(4).to_string(), "```", "",
          "Mean over tables:", "", "```", summary.round(4).to_string(), "```"]
    (out / f"{stem}.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print(f"wrote {out / (stem + '.csv')} and {out / (stem + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
