"""Fidelity of a synthetic table: the column-shape and column-pair scores of SDMetrics' quality report.

:func:`quality_report` scores how closely a synthetic table follows a real
one, with the same definitions as the single-table ``QualityReport`` of
SDMetrics (the score the SDV ecosystem reports), in ganaug's own vectorised
code (sdmetrics is only an optional benchmark extra, never imported here):

* **Column Shapes**: the mean over columns of the *KS complement*
  ``1 - D`` (``D`` the two-sample Kolmogorov-Smirnov statistic; numerical and
  datetime columns, missing values dropped) and the *TV complement*
  ``1 - 0.5 * sum |p_real - p_synthetic|`` over the categories
  (categorical, ordinal and boolean columns, missing values dropped).
* **Column Pair Trends**: the mean over column pairs of the *correlation
  similarity* ``1 - |r_real - r_synthetic| / 2`` (two continuous columns,
  Pearson on the rows where both are present) and the *contingency
  similarity* ``1 - 0.5 * sum |p_real - p_synthetic|`` over the cells of the
  two-way table (every other pair; continuous columns are cut into 10
  equal-width bins first, missing values form one more category).
* **Overall**: the mean of the two.

SDMetrics 0.32 counts a pair in the Column Pair Trends mean only when the
pair is related in the real data: ``|r_real| > 0.5`` for correlations and
Cramér's V ``> 0.3`` for contingency tables. Those are the defaults here too;
``real_correlation_threshold=0, real_association_threshold=0`` counts every
pair (the definition of SDMetrics before 0.30). Every pair gets a score in
the returned table either way, with a ``counted`` flag.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

__all__ = ["SDTYPES", "infer_sdtypes", "quality_report"]

#: the column types scored; any other sdtype in ``metadata`` (``id``, ``text``, ``pii``...) is skipped
SDTYPES: tuple[str, ...] = ("numerical", "datetime", "categorical", "ordinal", "boolean")
_CONTINUOUS = ("numerical", "datetime")
_DECIMALS = 14  # values equal to 14 decimals are ties for the KS statistic (float noise such as 0.1 + 0.2)


def infer_sdtypes(data: pd.DataFrame) -> dict:
    """Column types in SDMetrics' vocabulary, from the dtypes of a table.

    ``bool`` -> ``"boolean"``; other numbers -> ``"numerical"``;
    ``datetime64`` -> ``"datetime"``; ``category``, ``object`` and strings ->
    ``"categorical"``. Pass ``metadata`` to :func:`quality_report` where this
    guess is wrong (an integer code that is really a category, an ID column
    to skip).

    Parameters
    ----------
    data : DataFrame

    Returns
    -------
    dict
        ``{column: sdtype}``.

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.metrics.quality import infer_sdtypes
    >>> infer_sdtypes(pd.DataFrame({"a": [1.5], "b": ["x"], "c": [True], "d": pd.to_datetime(["2024-01-01"])}))
    {'a': 'numerical', 'b': 'categorical', 'c': 'boolean', 'd': 'datetime'}
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    out = {}
    for col in data.columns:
        dtype = data[col].dtype
        if pd.api.types.is_bool_dtype(dtype):
            out[col] = "boolean"
        elif pd.api.types.is_numeric_dtype(dtype):
            out[col] = "numerical"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            out[col] = "datetime"
        else:
            out[col] = "categorical"
    return out


def _sdtypes_from(metadata, real: pd.DataFrame) -> tuple[dict, dict]:
    """``({column: sdtype}, {column: datetime_format})`` from SDMetrics-style or flat metadata."""
    if metadata is None:
        return infer_sdtypes(real), {}
    if not isinstance(metadata, dict):
        raise TypeError("metadata must be a dict: {'columns': {name: {'sdtype': ...}}} or {name: sdtype}")
    columns = metadata["columns"] if isinstance(metadata.get("columns"), dict) else metadata
    sdtypes, formats = {}, {}
    for col, meta in columns.items():
        sdtype = meta.get("sdtype") if isinstance(meta, dict) else meta
        if not isinstance(sdtype, str):
            raise ValueError(f"column {col!r}: no sdtype in metadata ({meta!r})")
        if col not in real.columns:
            raise ValueError(f"metadata names column {col!r}, which the real table does not have")
        sdtypes[col] = sdtype
        if isinstance(meta, dict) and meta.get("datetime_format"):
            formats[col] = meta["datetime_format"]
    return sdtypes, formats


def _as_float(values: pd.Series, sdtype: str, fmt=None) -> np.ndarray:
    """Numbers of a continuous column (datetimes as nanoseconds since the epoch), NaN where missing."""
    if sdtype == "datetime":
        s = values
        if not pd.api.types.is_datetime64_any_dtype(s.dtype):
            s = pd.to_datetime(s, format=fmt)
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        s = s.astype("datetime64[ns]")
        out = s.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
        out[s.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)


def _ks_complement(a: np.ndarray, b: np.ndarray) -> float:
    """1 - the two-sample KS statistic, missing values dropped; NaN when a side is empty."""
    a = np.sort(np.round(a[~np.isnan(a)], _DECIMALS))
    b = np.sort(np.round(b[~np.isnan(b)], _DECIMALS))
    if a.size == 0 or b.size == 0:
        return float("nan")
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / a.size
    cdf_b = np.searchsorted(b, grid, side="right") / b.size
    return float(1.0 - np.abs(cdf_a - cdf_b).max())


def _codes(real: pd.Series, synthetic: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes of a discrete column over the union of both tables' values; missing -> -1."""
    both = pd.concat([real.astype(object), synthetic.astype(object)], ignore_index=True)
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    return codes[: len(real)], codes[len(real):], len(uniques)


def _tv_complement(r: np.ndarray, s: np.ndarray, k: int) -> float:
    """1 - total variation distance of two coded columns, missing values (-1) dropped."""
    r, s = r[r >= 0], s[s >= 0]
    if r.size == 0 or s.size == 0 or k == 0:
        return float("nan")
    p = np.bincount(r, minlength=k) / r.size
    q = np.bincount(s, minlength=k) / s.size
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def _bin_edges(x: np.ndarray, n_bins: int) -> np.ndarray | None:
    finite = x[~np.isnan(x)]
    if finite.size == 0:
        return None
    return np.histogram_bin_edges(finite, bins=n_bins)


def _pearson_matrix(x: np.ndarray) -> np.ndarray:
    """Pearson correlation of every pair of columns on the rows where both are present (NaN if undefined)."""
    present = ~np.isnan(x)
    m = present.astype(np.float64)
    n = m.T @ m
    # centre and scale by each column's overall moments first, against cancellation (datetimes are ~1e18 ns)
    counts = m.sum(0)
    centre = np.where(present, x, 0.0).sum(0) / np.maximum(counts, 1)
    dev = np.where(present, x - centre, 0.0)
    scale = np.sqrt((dev * dev).sum(0) / np.maximum(counts, 1))
    z = dev / np.where(scale > 0, scale, 1.0)
    sx = z.T @ m  # sx[i, j]: sum of column i over the rows where i and j are present
    sxx = (z * z).T @ m
    sxy = z.T @ z
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx * sx / n
        var_j = var_i.T
        r = cov / np.sqrt(var_i * var_j)
        tiny = 1e-12 * np.maximum(sxx, sxx.T)
        r[(n < 2) | (var_i <= tiny) | (var_j <= tiny)] = np.nan
    return np.clip(r, -1.0, 1.0)


def _cramers_v(counts: np.ndarray) -> float:
    """Cramér's V (no bias correction) of a two-way count table, on its non-empty rows and columns."""
    counts = counts[counts.sum(1) > 0][:, counts.sum(0) > 0]
    k = min(counts.shape)
    total = counts.sum()
    if k < 2 or total == 0:
        return float("nan")
    p = counts / total
    phi2 = (p * p / np.outer(p.sum(1), p.sum(0))).sum() - 1.0
    return float(np.sqrt(max(phi2, 0.0) / (k - 1)))


def quality_report(real, synthetic, metadata=None, *, real_correlation_threshold=0.5, real_association_threshold=0.3,
                   n_bins=10, bins_from="each") -> dict:
    """SDMetrics-style quality scores of a synthetic table against a real one.

    Parameters
    ----------
    real, synthetic : DataFrame
        The real rows and the synthetic rows; the synthetic table must have
        every scored column of the real one (extra columns are ignored).
    metadata : dict, optional
        Column types, as SDMetrics takes them (``{"columns": {name:
        {"sdtype": ...}}}``, with an optional ``datetime_format``) or as a flat
        ``{name: sdtype}``; only the columns it names are scored, and sdtypes
        other than numerical, datetime, categorical, ordinal and boolean are
        skipped. Default: :func:`infer_sdtypes` of ``real``.
    real_correlation_threshold : float, default=0.5
        A pair of continuous columns counts in the Column Pair Trends mean only
        when ``|r_real|`` exceeds it (SDMetrics 0.32's default); 0 counts all.
    real_association_threshold : float, default=0.3
        The same for every other pair, on Cramér's V of the real two-way table
        (non-empty rows and columns, missing values a category of their own).
    n_bins : int, default=10
        Equal-width bins of a continuous column paired with a discrete one.
    bins_from : {"each", "real"}, default="each"
        ``"each"``: as SDMetrics' quality report, each table is cut on its own
        range (``numpy.digitize`` on 10 equal-width edges, so the maximum
        shares the last code with the missing values). ``"real"``: both tables
        are cut on the real range, with open outer bins and missing values
        apart (as SDMetrics' standalone ``ContingencySimilarity``).

    Returns
    -------
    dict
        ``overall``, ``column_shapes``, ``column_pair_trends`` (floats; NaN
        where nothing could be scored; ``overall`` is the mean of the
        defined ones), ``columns`` (DataFrame: ``column, sdtype, metric,
        score``) and ``pairs`` (DataFrame: ``column_1, column_2, metric,
        score, real_correlation, synthetic_correlation, real_association,
        counted``).

    Notes
    -----
    Where it differs from SDMetrics 0.32: no random subsample of more than
    50,000 rows for contingency tables (the exact tables are cheap here);
    a category declared by a ``category`` dtype but absent from the real rows
    does not void the pair's Cramér's V (SDMetrics then fails on an empty row
    and leaves the pair out); a constant column gives a NaN correlation on
    either side, as in SDMetrics.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ganaug.metrics.quality import quality_report
    >>> real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 4.0, 6.0, 8.1], "c": ["a", "a", "b", "b"]})
    >>> quality_report(real, real)["overall"]
    1.0
    >>> syn = real.assign(c=["a", "b", "b", "b"])
    >>> q = quality_report(real, syn)
    >>> q["columns"].set_index("column")["score"].round(2).to_dict()
    {'x': 1.0, 'y': 1.0, 'c': 0.75}
    >>> round(q["column_shapes"], 4), round(q["column_pair_trends"], 4)
    (0.9167, 0.8333)
    """
    for name, frame in (("real", real), ("synthetic", synthetic)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
        if len(frame) == 0:
            raise ValueError(f"{name} is empty (0 rows)")
    if bins_from not in ("each", "real"):
        raise ValueError(f"bins_from must be 'each' or 'real', got {bins_from!r}")
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
    for key, value in (("real_correlation_threshold", real_correlation_threshold),
                       ("real_association_threshold", real_association_threshold)):
        if not 0 <= float(value) <= 1:
            raise ValueError(f"{key} must be in [0, 1], got {value!r}")
    sdtypes, formats = _sdtypes_from(metadata, real)
    cols = [c for c, t in sdtypes.items() if t in SDTYPES]
    missing = [c for c in cols if c not in synthetic.columns]
    if missing:
        raise ValueError(f"the synthetic table lacks column(s) {missing} of the real table")

    cont = [c for c in cols if sdtypes[c] in _CONTINUOUS]
    num_r = {c: _as_float(real[c], sdtypes[c], formats.get(c)) for c in cont}
    num_s = {c: _as_float(synthetic[c], sdtypes[c], formats.get(c)) for c in cont}

    # column shapes
    discrete: dict = {}  # column -> (real codes, synthetic codes, number of codes), missing as its own code
    shape_rows = []
    for c in cols:
        if c in num_r:
            shape_rows.append((c, sdtypes[c], "KSComplement", _ks_complement(num_r[c], num_s[c])))
        else:
            r, s, k = _codes(real[c], synthetic[c])
            shape_rows.append((c, sdtypes[c], "TVComplement", _tv_complement(r, s, k)))
            discrete[c] = (np.where(r < 0, k, r), np.where(s < 0, k, s), k + 1)
    columns = pd.DataFrame(shape_rows, columns=["column", "sdtype", "metric", "score"])

    # continuous columns as bin codes, for their pairs with discrete columns
    if discrete:
        for c in cont:
            edges_r = _bin_edges(num_r[c], n_bins)
            edges_s = edges_r if bins_from == "real" else _bin_edges(num_s[c], n_bins)
            if edges_r is None or edges_s is None:
                discrete[c] = None  # nothing to bin: its pairs get NaN
                continue
            if bins_from == "real":
                edges_r = edges_s = np.concatenate([[-np.inf], edges_r[1:-1], [np.inf]])
            discrete[c] = (np.digitize(num_r[c], edges_r), np.digitize(num_s[c], edges_s), len(edges_r) + 1)

    # correlations of all continuous pairs at once
    corr_r = corr_s = None
    if len(cont) >= 2:
        corr_r = _pearson_matrix(np.column_stack([num_r[c] for c in cont]))
        corr_s = _pearson_matrix(np.column_stack([num_s[c] for c in cont]))
    pos = {c: i for i, c in enumerate(cont)}

    pair_rows = []
    for a, b in combinations(cols, 2):  # a loop over column pairs, not rows
        if a in pos and b in pos:
            rr, rs = float(corr_r[pos[a], pos[b]]), float(corr_s[pos[a], pos[b]])
            score = 1.0 - abs(rr - rs) / 2.0 if np.isfinite(rr) and np.isfinite(rs) else float("nan")
            counted = np.isfinite(score) and (real_correlation_threshold <= 0 or abs(rr) > real_correlation_threshold)
            pair_rows.append((a, b, "CorrelationSimilarity", score, rr, rs, float("nan"), bool(counted)))
            continue
        da, db = discrete.get(a), discrete.get(b)
        if da is None or db is None:
            nan = float("nan")
            pair_rows.append((a, b, "ContingencySimilarity", nan, nan, nan, nan, False))
            continue
        (ra, sa, ka), (rb, sb, kb) = da, db
        cells = ka * kb
        p = np.bincount(ra * kb + rb, minlength=cells) / ra.size
        q = np.bincount(sa * kb + sb, minlength=cells) / sa.size
        score = float(1.0 - 0.5 * np.abs(p - q).sum())
        assoc = _cramers_v(p.reshape(ka, kb)) if real_association_threshold > 0 else float("nan")
        counted = real_association_threshold <= 0 or (np.isfinite(assoc) and assoc > real_association_threshold)
        pair_rows.append((a, b, "ContingencySimilarity", score, float("nan"), float("nan"), assoc, bool(counted)))
    pairs = pd.DataFrame(pair_rows, columns=["column_1", "column_2", "metric", "score", "real_correlation",
                                             "synthetic_correlation", "real_association", "counted"])

    shapes = float(columns["score"].mean()) if columns["score"].notna().any() else float("nan")
    used = pairs.loc[pairs["counted"], "score"]
    trends = float(used.mean()) if used.notna().any() else float("nan")
    defined = [v for v in (shapes, trends) if np.isfinite(v)]
    overall = float(np.mean(defined)) if defined else float("nan")
    return {"overall": overall, "column_shapes": shapes, "column_pair_trends": trends, "columns": columns,
            "pairs": pairs}
