"""``ganaug report DATA.csv --target COL -o OUT_DIR``: does augmentation help on this table?

Writes ``report.md``, ``report.html`` (self-contained), the figures as PNG,
and the numbers as CSV (``results.csv`` tidy per fold, ``summary.csv``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "run", "make_model", "read_table"]

_MODELS = ("hgb", "lr", "rf")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "report",
        help="utility report: does augmentation help a model on a CSV table",
        description=(
            "Cross-validate a classifier on DATA.csv trained with no resampling, a tuned threshold, class "
            "weights, random oversampling, SMOTE(-NC/N), ganaug and CTGAN (when installed), each scored on "
            "untouched test folds, and write a report with paired confidence intervals and a verdict."
        ),
    )
    p.add_argument("data", help="CSV file with a header row")
    p.add_argument("--target", required=True, help="name of the label column")
    p.add_argument("--model", choices=_MODELS, default="hgb",
                   help="downstream classifier: HistGradientBoosting, LogisticRegression or RandomForest (default hgb)")
    p.add_argument("--cv", type=int, default=5, help="stratified folds (default 5)")
    p.add_argument("--epochs", type=int, default=None, help="GAN epochs for ganaug (default: its own)")
    p.add_argument("--ctgan-epochs", type=int, default=100, help="epochs of the CTGAN baseline (default 100)")
    p.add_argument("--no-gan", action="store_true", help="baselines only (no ganaug, no CTGAN)")
    p.add_argument("--no-ctgan", action="store_true", help="leave out the CTGAN arm")
    p.add_argument("--pos-label", default=None, help="class of interest (default: the rarest)")
    p.add_argument("--seed", type=int, default=0, help="random state of the whole report (default 0)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates for the intervals (default 1000)")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.set_defaults(run=run)
    return p


def make_model(name: str, random_state: int | None = None):
    """The downstream classifier for ``--model``.

    Examples
    --------
    >>> from ganaug.commands.report import make_model
    >>> type(make_model("lr")).__name__
    'LogisticRegression'
    """
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=random_state)
    if name == "lr":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=2000)
    if name == "rf":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=200, n_jobs=1, random_state=random_state)
    raise ValueError(f"unknown model {name!r}; choose one of {list(_MODELS)}")


def read_table(path, target: str):
    """Read a CSV as the bundled loaders do (text columns as ``category``) and split off the target.

    Examples
    --------
    >>> import io
    >>> from ganaug.commands.report import read_table
    >>> X, y = read_table(io.StringIO("a,b,t\\n1,x,0\\n2,y,1\\n"), "t")
    >>> list(X.columns), X["b"].dtype.name, y.tolist()
    (['a', 'b'], 'category', [0, 1])
    """
    import pandas as pd

    if isinstance(path, (str, Path)) and not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    df = pd.read_csv(path)
    if target not in df.columns:
        raise ValueError(f"target column {target!r} is not in the table; columns are {list(df.columns)}")
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype("category")
    y = df.pop(target)
    if df.shape[1] == 0:
        raise ValueError("the table has no feature column besides the target")
    return df, y


def run(args) -> int:
    import numpy as np

    from ganaug.evaluate import default_augmenters, utility_report

    X, y = read_table(args.data, args.target)
    pos_label = args.pos_label
    if pos_label is not None and y.dtype.kind in "iuf":
        pos_label = np.asarray([pos_label]).astype(y.dtype)[0]
    augmenters = [] if args.no_gan else default_augmenters(
        X, epochs=args.epochs, ctgan=not args.no_ctgan, ctgan_epochs=args.ctgan_epochs
    )
    model = make_model(args.model, args.seed)
    report = utility_report(
        {args.model.upper(): model}, X, y, augmenters=augmenters, cv=args.cv, random_state=args.seed,
        pos_label=pos_label, n_boot=args.n_boot,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report.to_markdown(), encoding="utf-8")
    report.to_html(out / "report.html")
    figures = report.save_figures(out)
    report.results.to_csv(out / "results.csv", index=False)
    report.summary().to_csv(out / "summary.csv", index=False)
    print(report.verdict())
    written = ["report.md", "report.html", "results.csv", "summary.csv", *[p.name for p in figures]]
    print(f"wrote {', '.join(written)} to {out}", file=sys.stderr)
    return 0
