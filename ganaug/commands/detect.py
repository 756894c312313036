"""``ganaug detect IN.csv -o scores.csv``: anomaly scores of every row of a CSV with GANAnomalyDetector."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "detect",
        help="score every row of a CSV for anomalies (GAN, isolation-forest and kNN members)",
        description="Fit GANAnomalyDetector on the rows of a CSV (or load a saved detector) and write, per row, "
                    "the anomaly score (higher = more abnormal), the 0/1 label and the outlier probability.",
    )
    p.add_argument("input", help="CSV file; every column is a feature unless --drop / --label say otherwise")
    p.add_argument("-o", "--out", required=True, help="output CSV: the input columns plus score, label, probability")
    p.add_argument("--contamination", type=float, default=0.1, help="expected share of anomalies (default 0.1)")
    # the same names as GANAnomalyDetector.SCORES (kept here so that building the parser does not import torch;
    # tests/commands checks they agree)
    p.add_argument("--score", choices=["auto", "hybrid", "reconstruction", "discriminator", "neighbor"],
                   default="auto", help="the GAN member's score; auto = neighbor for tables, hybrid for series")
    p.add_argument("--series", action="store_true",
                   help="the rows are the time steps of one series (scores per step from sliding windows)")
    p.add_argument("--window", type=int, default=32, help="window length for --series (default 32)")
    p.add_argument("--label", default=None,
                   help="0/1 column of known anomalies: kept out of training, not used as a feature")
    p.add_argument("--drop", action="append", default=[], metavar="COLUMN",
                   help="column to ignore (an id, a timestamp); repeatable")
    p.add_argument("--epochs", type=int, default=None, help="GAN training epochs (default: about 600 steps)")
    p.add_argument("--seed", type=int, default=0, help="random state (default 0)")
    p.add_argument("--model", default=None, help="score with this saved detector instead of fitting one")
    p.add_argument("--save-model", default=None, help="directory to save the fitted detector to")
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    import pandas as pd

    from ganaug.anomaly import GANAnomalyDetector

    df = pd.read_csv(args.input)
    missing = [c for c in [*args.drop, *([args.label] if args.label else [])] if c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in {args.input}; it has {list(df.columns)}")
    X = df.drop(columns=[*args.drop, *([args.label] if args.label else [])])
    if X.shape[1] == 0:
        raise ValueError("no feature column left after --drop/--label")
    y = df[args.label].to_numpy() if args.label else None
    if args.model:
        det = GANAnomalyDetector.load(args.model)
    else:
        det = GANAnomalyDetector(contamination=args.contamination, score=args.score,
                                 modality="series" if args.series else "tabular", window=args.window,
                                 epochs=args.epochs, random_state=args.seed)
        det.fit(X.to_numpy() if args.series else X, y)
        if args.save_model:
            det.save(args.save_model)
    data = X.to_numpy() if det.modality_ == "series" else X
    scores = det.decision_function(data)
    out = df.copy()
    out["anomaly_score"] = scores
    out["anomaly_label"] = (scores > det.threshold_).astype(int)
    out["anomaly_probability"] = det.predict_proba(data)[:, 1]
    out.to_csv(args.out, index=False)
    print(f"wrote {args.out}: {len(out)} rows, {int(out['anomaly_label'].sum())} flagged "
          f"(threshold {det.threshold_:.4g})")
    return 0
