"""``ganaug resample IN.csv --target COL -o OUT.csv``: balance a CSV table with ganaug's tabular GAN.

The output holds every input row first, unchanged and in order, then the
synthetic rows; the target column stays where it was. Text columns are
modelled as categories; a text column whose every value is an ISO 8601 date
or date-time is modelled as a datetime (new rows get new dates, written in
the same form). Missing values are kept and generated.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["add_parser", "run", "parse_strategy", "read_constraints"]


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
    p.add_argument("--filter", action=argparse.BooleanOptionalAction, default=False,
                   help="reject the least realistic 20%% of generated rows by the trained discriminator "
                        "(default off, as TabularAugmenter(filter_synthetic=False))")
    p.add_argument("--validation", choices=["tstr", "augmented"], default=None,
                   help="keep the epoch whose synthetic rows best predict held-out real rows, with early stopping")
    p.add_argument("--constraints", default=None, metavar="FILE.json",
                   help='rules every synthetic row obeys, a JSON list such as '
                        '[{"type": "Inequality", "low": "Amount", "high": "Price"}]; the input rows must obey them '
                        '(default: the inequalities every input row obeys between correlated numeric columns, '
                        'as TabularAugmenter(constraints="auto"))')
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


def read_constraints(path: str) -> list:
    """The ``--constraints`` file: a JSON list of constraint objects.

    Parameters
    ----------
    path : str

    Returns
    -------
    list of Constraint

    Examples
    --------
    >>> import json, os, tempfile
    >>> from ganaug.commands.resample import read_constraints
    >>> path = os.path.join(tempfile.mkdtemp(), "rules.json")
    >>> with open(path, "w") as f:
    ...     json.dump([{"type": "Inequality", "low": "Amount", "high": "Price"}], f)
    >>> read_constraints(path)
    [Inequality(low='Amount', high='Price', strict=False)]
    """
    from ganaug.tabular.constraints import parse_constraints

    if not Path(path).is_file():
        raise FileNotFoundError(f"no such constraints file: {path}")
    try:
        spec = json.loads(Path(path).read_text())
    except ValueError as exc:
        raise ValueError(f"--constraints file {path} is not valid JSON: {exc}") from None
    if not isinstance(spec, list):
        raise ValueError(f"--constraints file {path} must hold a JSON list of constraints "
                         '[{"type": "Inequality", "low": ..., "high": ...}, ...]')
    return parse_constraints(spec)


def _read(path: str, target: str):
    import pandas as pd

    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    df = pd.read_csv(path)
    if target not in df.columns:
        raise ValueError(f"target column {target!r} not in {path} (columns: {list(df.columns)})")
    if df[target].isna().any():
        rows = (df.index[df[target].isna()] + 2).tolist()[:5]  # +2: header line and 1-based lines
        raise ValueError(f"target column {target!r} has {int(df[target].isna().sum())} missing label(s) "
                         f"(first on line(s) {rows} of {path}); drop or label those rows first")
    return df


def _iso_dates(column):
    """The column parsed as datetimes if every non-missing value is an ISO 8601 date/time, else None."""
    import pandas as pd

    values = column.dropna()
    if values.empty or not values.map(lambda v: isinstance(v, str)).all():
        return None
    text = values.astype(str)
    if not text.str.match(r"^\d{4}-\d{2}-\d{2}").all():  # cheap pre-check before the parser
        return None
    try:
        return pd.to_datetime(column, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return None


def _features(df, target: str):
    """X for the augmenter: text columns as categories, ISO date columns as datetimes."""
    X = df.drop(columns=[target])
    dates = {}
    for col in X.columns:
        if X[col].dtype == object:
            parsed = _iso_dates(X[col])
            if parsed is not None:
                X[col] = parsed
                dates[col] = "%Y-%m-%d" if (parsed.dropna() == parsed.dropna().dt.normalize()).all() else None
            else:
                X[col] = X[col].astype("category")
    return X, dates


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

    constraints = "auto" if args.constraints is None else read_constraints(args.constraints)
    df = _read(args.data, args.target)
    y = df[args.target]
    X, dates = _features(df, args.target)
    aug = TabularAugmenter(
        sampling_strategy=_match_labels(parse_strategy(args.strategy), y), epochs=args.epochs,
        batch_size=args.batch_size, random_state=args.seed, filter_synthetic=args.filter,
        validation=args.validation, constraints=constraints,
    )
    X_res, y_res = aug.fit_resample(X, y)
    n_new = len(X_res) - len(X)
    new = X_res.iloc[len(X):].copy()
    for col in new.columns:
        if col in dates:  # written back like the input: dates as YYYY-MM-DD, date-times in ISO form
            fmt = dates[col]
            new[col] = new[col].dt.strftime(fmt) if fmt else new[col].map(lambda t: t.isoformat(), na_action="ignore")
        elif df[col].dtype == object:  # text columns back to plain text
            new[col] = new[col].astype(object)
    new.insert(df.columns.get_loc(args.target), args.target, y_res.iloc[len(X):].to_numpy())
    out = pd.concat([df, new], ignore_index=True)
    out.to_csv(args.out, index=False)
    if args.save_model:
        aug.save(args.save_model)
    counts = pd.Series(y_res).value_counts().to_dict()
    print(f"wrote {args.out}: {len(df)} original + {n_new} synthetic rows; class counts {counts}")
    return 0
