"""``ganaug resample IN.csv --target COL -o OUT.csv``: balance a CSV table with ganaug's tabular GAN.

The output holds every input row first, unchanged and in order, then the
synthetic rows; the target column stays where it was.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["add_parser", "run", "parse_strategy"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "resample",
        help="balance a CSV table with synthetic rows (original rows first)",
        description=(
            "Train ganaug's conditional tabular GAN on IN.csv and add synthetic rows until the classes of "
            "--target meet --strategy (imbalanced-learn meanings). Missing values are kept."
        ),
    )
    p.add_argument("data", help="input CSV file with a header row")
    p.add_argument("--target", required=True, help="name of the label column")
    p.add_argument("--strategy", default="auto",
                   help="sampling strategy: auto, minority, 'not minority', 'not majority', all, a float ratio, "
                        "or a JSON dict of counts such as '{\"bad\": 2000}' (default auto)")
    p.add_argument("--epochs", type=int, default=300, help="training epochs (default 300)")
    p.add_argument("--batch-size", type=int, default=500, help="rows per step (default 500)")
    p.add_argument("--seed", type=int, default=0, help="random state (default 0)")
    p.add_argument("--filter", action="store_true", help="reject the least realistic 20%% of synthetic rows")
    p.add_argument("--save-model", default=None, metavar="DIR",
                   help="also save the trained model to DIR (for 'ganaug sample')")
    p.add_argument("-o", "--out", required=True, help="output CSV file")
    p.set_defaults(run=run)
    return p


def parse_strategy(text: str):
    """Turn the ``--strategy`` text into what ``sampling_strategy`` accepts.

    Examples
    --------
    >>> from ganaug.commands.resample import parse_strategy
    >>> parse_strategy("not majority"), parse_strategy("0.5"), parse_strategy('{"bad": 10}')
    ('not majority', 0.5, {'bad': 10})
    """
    t = text.strip()
    if t.startswith("{"):
        try:
            value = json.loads(t)
        except ValueError as exc:
            raise ValueError(f"--strategy is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise ValueError("--strategy JSON must be an object {class: count}")
        return value
    try:
        return float(t)
    except ValueError:
        return t


def _read(path: str, target: str):
    import pandas as pd

    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    df = pd.read_csv(path)
    if target not in df.columns:
        raise ValueError(f"target column {target!r} not in {path} (columns: {list(df.columns)})")
    return df


def _match_labels(strategy, y):
    """JSON keys are strings: map them to the labels of y (e.g. the int 1 for "1")."""
    if not isinstance(strategy, dict):
        return strategy
    by_text = {str(v): v for v in y.unique().tolist()}
    out = {}
    for key, count in strategy.items():
        if key not in by_text:
            raise ValueError(f"class {key!r} in --strategy is not a value of the target (values: {sorted(by_text)})")
        out[by_text[key]] = count
    return out


def run(args) -> int:
    import pandas as pd

    from ganaug.augment.tabular import TabularAugmenter

    df = _read(args.data, args.target)
    y = df[args.target]
    X = df.drop(columns=[args.target])
    for col in X.columns:
        if X[col].dtype == object:
            X[col] = X[col].astype("category")
    aug = TabularAugmenter(
        sampling_strategy=_match_labels(parse_strategy(args.strategy), y), epochs=args.epochs,
        batch_size=args.batch_size, random_state=args.seed, filter_synthetic=args.filter,
    )
    X_res, y_res = aug.fit_resample(X, y)
    n_new = len(X_res) - len(X)
    new = X_res.iloc[len(X):].copy()
    for col in new.columns:
        if df[col].dtype == object:  # text columns back to plain text
            new[col] = new[col].astype(object)
    new.insert(df.columns.get_loc(args.target), args.target, y_res.iloc[len(X):].to_numpy())
    out = pd.concat([df, new], ignore_index=True)
    out.to_csv(args.out, index=False)
    if args.save_model:
        aug.save(args.save_model)
    counts = pd.Series(y_res).value_counts().to_dict()
    print(f"wrote {args.out}: {len(df)} original + {n_new} synthetic rows; class counts {counts}")
    return 0
