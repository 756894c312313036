"""``ganaug sample MODEL_DIR -n N -o OUT.csv``: draw rows from a saved tabular model.

``--where COLUMN=VALUE`` (repeatable) asks for rows with that value, e.g.
``--where Home=rent``; ``--where Amount=1000..2000`` asks for the closed
interval ``1000 <= Amount <= 2000`` (numeric and date columns).
"""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "sample",
        help="draw synthetic rows from a saved model (see 'ganaug resample --save-model')",
        description="Load a model saved by ganaug (JSON + safetensors, never pickle) and write N synthetic rows.",
    )
    p.add_argument("model", help="model directory written by save() or 'ganaug resample --save-model'")
    p.add_argument("-n", "--n-samples", type=int, default=None,
                   help="rows to draw with the training class mix (or use --class)")
    p.add_argument("--class", dest="classes", action="append", default=[], metavar="LABEL=COUNT",
                   help="rows of one class, e.g. --class bad=500 (repeatable)")
    p.add_argument("--where", dest="where", action="append", default=[], metavar="COLUMN=VALUE",
                   help="only rows with this value, e.g. --where Home=rent, or this closed range, e.g. "
                        "--where Amount=1000..2000 (repeatable; values must have been seen in training)")
    p.add_argument("--seed", type=int, default=0, help="random state of the draw (default 0)")
    p.add_argument("--target", default=None, help="name of the label column in the output (default: as trained)")
    p.add_argument("-o", "--out", required=True, help="output CSV file")
    p.set_defaults(run=run)
    return p


def _counts(aug, items: list[str]) -> dict:
    known = {str(c): c for c in aug.classes_.tolist()}
    out = {}
    for item in items:
        label, sep, count = item.rpartition("=")
        if not sep or not label:
            raise ValueError(f"--class expects LABEL=COUNT, got {item!r}")
        if label not in known:
            raise ValueError(f"unknown class {label!r}; the model knows {sorted(known)}")
        try:
            out[known[label]] = int(count)
        except ValueError:
            raise ValueError(f"count in --class {item!r} is not an integer") from None
    return out


def _conditions(aug, items: list[str]) -> dict:
    if not hasattr(aug, "_schema"):
        raise ValueError(f"--where needs a tabular model; a {type(aug).__name__} has no feature columns to "
                         "condition on")
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name or not text:
            raise ValueError(f"--where expects COLUMN=VALUE or COLUMN=LOW..HIGH, got {item!r}")
        column, value = aug._schema().parse_text(name, text, aug.transformer_)
        if column in out:
            raise ValueError(f"--where gives column {name!r} twice")
        out[column] = value
    return out


def run(args) -> int:
    import numpy as np
    import pandas as pd

    from ganaug.augment.base import BaseAugmenter

    aug = BaseAugmenter.load(args.model)
    if args.classes and args.n_samples is not None:
        raise ValueError("give either -n N or --class LABEL=COUNT, not both")
    if args.classes:
        if not aug.labelled_:
            raise ValueError("this model was trained without labels: use -n, not --class")
        request = _counts(aug, args.classes)
    elif args.n_samples is not None:
        if args.n_samples < 0:
            raise ValueError(f"-n must be >= 0, got {args.n_samples}")
        request = args.n_samples
    else:
        raise ValueError("give -n N or at least one --class LABEL=COUNT")
    if args.where:
        out = aug.sample(request, random_state=args.seed, conditions=_conditions(aug, args.where))
    else:
        out = aug.sample(request, random_state=args.seed)
    if aug.labelled_:
        X, y = out
        X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        name = args.target or getattr(y, "name", None) or "target"
        X = X.copy()
        X[name] = np.asarray(y)
    else:
        X = out if isinstance(out, pd.DataFrame) else pd.DataFrame(out)
    X.to_csv(args.out, index=False)
    print(f"wrote {args.out}: {len(X)} rows")
    return 0
