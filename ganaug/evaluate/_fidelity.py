"""The fidelity section of a utility report: SDMetrics-style quality of each arm's synthetic rows.

Scored on the first fold only (the rows a report keeps), class by class: the
synthetic rows of class ``c`` against the real training rows of class ``c``,
with :func:`ganaug.metrics.quality.quality_report`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ganaug.metrics.quality import quality_report

__all__ = ["FIDELITY_COLUMNS", "fidelity_table"]

FIDELITY_COLUMNS = ["arm", "class", "n_real", "n_synthetic", "overall", "column_shapes", "column_pair_trends",
                    "pairs_counted", "pairs", "pair_trends_all_pairs", "weakest_column", "weakest_column_score",
                    "weakest_pair", "weakest_pair_score"]


def _as_frame(X) -> pd.DataFrame | None:
    if isinstance(X, pd.DataFrame):
        return X.reset_index(drop=True)
    arr = np.asarray(X)
    if arr.ndim != 2:
        return None  # images, series: no table to score
    return pd.DataFrame(arr)


def fidelity_table(X, y, train_index, synthetic: dict) -> tuple[pd.DataFrame, dict]:
    """One row per resampling arm and class that got synthetic rows in the first fold.

    Parameters
    ----------
    X, y
        The report's data (``y`` as a 1-D array) and the first fold's training positions.
    train_index : array of int
    synthetic : dict
        ``arm -> (X_new, y_new)``.

    Returns
    -------
    table : DataFrame
        Columns :data:`FIDELITY_COLUMNS`; empty when the data is not a table.
    details : dict
        ``(arm, class) -> quality_report(...)`` result (per-column and per-pair tables).
    """
    real_all = _as_frame(X)
    rows, details = [], {}
    if real_all is None:
        return pd.DataFrame(rows, columns=FIDELITY_COLUMNS), details
    real_all = real_all.iloc[np.asarray(train_index)]
    y_train = np.asarray(y)[np.asarray(train_index)]
    for arm, (X_new, y_new) in synthetic.items():
        syn_all = _as_frame(X_new)
        if syn_all is None or list(syn_all.columns) != list(real_all.columns):
            continue
        y_new = np.asarray(y_new)
        for c in pd.unique(y_new):  # a loop over classes, not rows
            real = real_all[y_train == c]
            syn = syn_all[y_new == c]
            if len(real) == 0 or len(syn) == 0:
                continue
            q = quality_report(real, syn)
            cols, pairs = q["columns"].dropna(subset=["score"]), q["pairs"].dropna(subset=["score"])
            wc = cols.loc[cols["score"].idxmin()] if len(cols) else None
            wp = pairs.loc[pairs["score"].idxmin()] if len(pairs) else None
            key = c.item() if isinstance(c, np.generic) else c
            rows.append((
                arm, key, len(real), len(syn), q["overall"], q["column_shapes"], q["column_pair_trends"],
                int(q["pairs"]["counted"].sum()), len(q["pairs"]),
                float(pairs["score"].mean()) if len(pairs) else np.nan,
                None if wc is None else wc["column"], np.nan if wc is None else float(wc["score"]),
                None if wp is None else f"{wp['column_1']} × {wp['column_2']}",
                np.nan if wp is None else float(wp["score"]),
            ))
            details[(arm, key)] = q
    return pd.DataFrame(rows, columns=FIDELITY_COLUMNS), details
