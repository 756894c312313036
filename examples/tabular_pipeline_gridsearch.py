"""Tabular: ``TabularAugmenter`` inside an imbalanced-learn ``Pipeline`` tuned by ``GridSearchCV``.

What it shows
-------------
* ``TabularAugmenter`` is an imbalanced-learn sampler: put it first in an
  ``imblearn.pipeline.Pipeline`` and it adds synthetic minority rows *only while
  fitting* (``fit_resample``). At ``predict`` time the pipeline skips it, so the
  test rows are never touched.
* Its parameters (here ``sampling_strategy``) are tuned by ``GridSearchCV`` like
  any other step's, with the ``step__param`` names.
* The same search without augmentation runs next to it, and both are scored on
  a held-out split they never saw (PR-AUC and F1 of the rare class).

The table is the bundled credit-scoring data (``ganaug.datasets.load_credit``:
4454 loans, 28% "bad", numeric and categorical columns with missing values).
The raw DataFrame goes in as it is: the augmenter keeps the dtypes
(categories, integers, NaN) and ``HistGradientBoostingClassifier`` reads the
categories natively.

Run
---
    python examples/tabular_pipeline_gridsearch.py            # realistic: 150 GAN epochs, 3-fold CV
    python examples/tabular_pipeline_gridsearch.py --fast     # tiny GANs, 2-fold CV
    python examples/tabular_pipeline_gridsearch.py --n-jobs 2 # candidates and folds on 2 processes
    python examples/tabular_pipeline_gridsearch.py --compare-jobs  # the augmented search with n_jobs=1, then 2

Writes ``results.csv`` (one row per arm) to ``--out``; ``--compare-jobs``
writes ``jobs.csv`` instead (wall time of each ``n_jobs``). Parallel
candidates must not stall each other: while a GAN trains, ganaug lowers its
torch threads when other processes keep cores busy (goal: ``n_jobs=2`` not
slower than ``n_jobs=1``).

Note: GridSearchCV clones the whole pipeline for every candidate and fold, so
the GAN is trained once per (candidate, fold) plus once for the final refit.
Keep the grid small.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from imblearn.pipeline import Pipeline
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from ganaug import TabularAugmenter
from ganaug.datasets import load_credit

SEED = 0


def compare_jobs(pipe, grid, cv, X_train, y_train, out: Path) -> None:
    """Wall time of the same search on 1 and on 2 processes (goal: 2 not slower than 1)."""
    rows = []
    for n_jobs in (1, 2):
        t0 = time.perf_counter()
        search = GridSearchCV(pipe, grid, scoring="average_precision", cv=cv, n_jobs=n_jobs)
        search.fit(X_train, y_train)
        seconds = time.perf_counter() - t0
        rows.append({"n_jobs": n_jobs, "fit_seconds": seconds, "best_params": search.best_params_,
                     "cv_pr_auc": search.best_score_})
        print(f"n_jobs={n_jobs}: {seconds:.1f} s  (best {search.best_params_}, CV PR-AUC {search.best_score_:.3f})",
              flush=True)
    ratio = rows[1]["fit_seconds"] / rows[0]["fit_seconds"]
    for row in rows:
        row["ratio_to_n_jobs_1"] = row["fit_seconds"] / rows[0]["fit_seconds"]
    pd.DataFrame(rows).to_csv(out / "jobs.csv", index=False)
    verdict = "met" if ratio <= 1.0 else "NOT met"
    print(f"\nn_jobs=2 / n_jobs=1 wall time: {ratio:.2f}x (goal: n_jobs=2 not slower, <= 1.00x: {verdict})")
    print(f"wrote {out / 'jobs.csv'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="tiny GAN and grid, finishes in about a minute")
    parser.add_argument("--out", default="results/examples/tabular_pipeline_gridsearch", help="output folder")
    parser.add_argument("--n-jobs", type=int, default=1, help="GridSearchCV processes (-1: one per core; default 1)")
    parser.add_argument("--compare-jobs", action="store_true",
                        help="only time the augmented search with n_jobs=1 and n_jobs=2 and print the ratio "
                             "(goal: n_jobs=2 not slower)")
    args = parser.parse_args()
    if args.n_jobs == 0:
        parser.error("--n-jobs must be a positive number of processes or -1, not 0")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. Data: the rare class ("bad") becomes 1 so that sklearn's scorers treat it as positive.
    X, y_text = load_credit()
    y = (y_text == "bad").astype(int).rename("bad")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=SEED)
    print(f"train {X_train.shape}, test {X_test.shape}, share of 'bad' in train: {y_train.mean():.3f}")

    # 2. Settings. --fast only shrinks the GAN, the grid and the CV; the code path is the same.
    epochs = 3 if args.fast else 150
    cv = StratifiedKFold(n_splits=2 if args.fast else 3, shuffle=True, random_state=SEED)
    clf = HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=100, random_state=SEED)

    # 3. Pipeline with augmentation. The augmenter sees the training folds only.
    #    sampling_strategy as in imbalanced-learn: 0.5 = the minority grows to half
    #    the majority, 1.0 = fully balanced.
    augmented = Pipeline([
        ("aug", TabularAugmenter(epochs=epochs, random_state=SEED)),
        ("clf", clf),
    ])
    grid_aug = {"aug__sampling_strategy": [0.5, 1.0]}
    if not args.fast:
        grid_aug["clf__learning_rate"] = [0.05, 0.1]

    # 4. The same search without augmentation (the honest comparison).
    plain = Pipeline([("clf", clf)])
    grid_plain = {"clf__learning_rate": [0.05, 0.1]}

    if args.compare_jobs:
        compare_jobs(augmented, grid_aug, cv, X_train, y_train, out)
        return

    rows = []
    for name, pipe, grid in [("no augmentation", plain, grid_plain), ("ganaug", augmented, grid_aug)]:
        t0 = time.perf_counter()
        search = GridSearchCV(pipe, grid, scoring="average_precision", cv=cv, n_jobs=args.n_jobs)
        search.fit(X_train, y_train)
        seconds = time.perf_counter() - t0

        # 5. Held-out scores: the pipeline's predict/predict_proba never resample.
        proba = search.predict_proba(X_test)[:, 1]
        pred = search.predict(X_test)
        row = {
            "arm": name,
            "best_params": search.best_params_,
            "cv_pr_auc": search.best_score_,
            "test_pr_auc": average_precision_score(y_test, proba),
            "test_f1": f1_score(y_test, pred),
            "fit_seconds": seconds,
        }
        if name == "ganaug":
            # The fitted augmenter of the refit pipeline: how many rows did it add?
            aug = search.best_estimator_.named_steps["aug"]
            row["synthetic_rows_added"] = int(sum(aug.sampling_strategy_.values()))
        rows.append(row)
        print(f"{name:>16}: best {search.best_params_}  CV PR-AUC {search.best_score_:.3f}  "
              f"test PR-AUC {row['test_pr_auc']:.3f}  test F1 {row['test_f1']:.3f}  ({seconds:.0f} s)")

    table = pd.DataFrame(rows)
    table.to_csv(out / "results.csv", index=False)
    print()
    print(table[["arm", "test_pr_auc", "test_f1", "cv_pr_auc", "fit_seconds"]].to_string(index=False, float_format="%.3f"))
    print(f"\nwrote {out / 'results.csv'}")


if __name__ == "__main__":
    main()
