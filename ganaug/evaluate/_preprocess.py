"""Preprocessing of raw mixed-type tables for the downstream models of a report.

Everything here is a scikit-learn transformer that the report clones and fits
on a training fold only (resampled or not), never on a test fold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

__all__ = ["column_kinds", "impute_frame", "make_preprocessor"]


def column_kinds(X) -> tuple[list, list, list]:
    """Split the columns of a table into numeric, categorical and datetime ones.

    Booleans, ``category``, ``object`` and string columns count as categorical.

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.evaluate._preprocess import column_kinds
    >>> column_kinds(pd.DataFrame({"a": [1.0], "b": ["x"], "c": [True]}))
    (['a'], ['b', 'c'], [])
    """
    if not isinstance(X, pd.DataFrame):
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValueError(f"a table must be 2-D, got shape {arr.shape}")
        if arr.dtype.kind in "biuf":
            return list(range(arr.shape[1])), [], []
        return [], list(range(arr.shape[1])), []
    numeric, categorical, dates = [], [], []
    for col in X.columns:
        dtype = X[col].dtype
        if pd.api.types.is_bool_dtype(dtype):
            categorical.append(col)
        elif pd.api.types.is_numeric_dtype(dtype):
            numeric.append(col)
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            dates.append(col)
        elif isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            categorical.append(col)
        else:
            raise TypeError(f"column {col!r} has dtype {dtype} that the report cannot encode; convert it first")
    return numeric, categorical, dates


def _datetime_to_days(X):
    frame = pd.DataFrame(X)
    out = np.empty(frame.shape, dtype=np.float64)
    for j, col in enumerate(frame.columns):
        values = pd.to_datetime(frame[col])
        days = (values - pd.Timestamp(0)).dt.total_seconds().to_numpy(dtype=np.float64) / 86400.0
        out[:, j] = days
    return out


def _to_object(X):
    # OneHotEncoder treats None/NaN in object columns as one more category
    frame = pd.DataFrame(X)
    return frame.astype(object).where(frame.notna(), np.nan).to_numpy()


def _numeric_pipe():
    return Pipeline(
        [("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
         ("scale", StandardScaler())]
    )


def make_preprocessor(X):
    """A fresh (unfitted) transformer that turns a raw table into a dense numeric matrix.

    Numeric columns: median imputation plus a missing-value indicator, then
    standard scaling. Categorical columns: one-hot with missing values as a
    level of their own and unseen levels ignored. Datetimes: days since the
    epoch, then as numeric. Works for scikit-learn's linear models, trees and
    boosting alike.

    Parameters
    ----------
    X : DataFrame or 2-D array
        Used only to read the column names and dtypes.

    Returns
    -------
    sklearn.compose.ColumnTransformer

    Examples
    --------
    >>> from ganaug.datasets import load_credit
    >>> from ganaug.evaluate._preprocess import make_preprocessor
    >>> X, y = load_credit()
    >>> Z = make_preprocessor(X).fit_transform(X)
    >>> Z.shape[0], bool(abs(Z).max() < 1e3)
    (4454, True)
    """
    numeric, categorical, dates = column_kinds(X)
    parts = []
    if numeric:
        parts.append(("num", _numeric_pipe(), numeric))
    if categorical:
        onehot = Pipeline(
            [("object", FunctionTransformer(_to_object, feature_names_out="one-to-one")),
             ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False, max_categories=50))]
        )
        parts.append(("cat", onehot, categorical))
    if dates:
        days = Pipeline([("days", FunctionTransformer(_datetime_to_days, feature_names_out="one-to-one")), ("num", _numeric_pipe())])
        parts.append(("date", days, dates))
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


def impute_frame(X, reference=None):
    """Fill missing values: median for numeric columns, most frequent level otherwise.

    Statistics come from ``reference`` (default: ``X`` itself); column
    dtypes are kept. Used by the
    SMOTE and CTGAN arms, which cannot take NaN.

    Examples
    --------
    >>> import pandas as pd, numpy as np
    >>> from ganaug.evaluate._preprocess import impute_frame
    >>> impute_frame(pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": ["x", None, "x"]})).values.tolist()
    [[1.0, 'x'], [2.0, 'x'], [3.0, 'x']]
    """
    reference = X if reference is None else reference
    if not isinstance(X, pd.DataFrame):
        arr = np.asarray(X, dtype=np.float64)
        ref = np.asarray(reference, dtype=np.float64)
        with np.errstate(all="ignore"):
            med = np.nanmedian(ref, axis=0) if np.isnan(ref).any() else np.median(ref, axis=0)
        med = np.where(np.isfinite(med), med, 0.0)
        return np.where(np.isnan(arr), med, arr)
    out = X.copy()
    for col in out.columns:
        if not out[col].isna().any():
            continue
        ref = reference[col]
        if pd.api.types.is_numeric_dtype(ref.dtype) and not pd.api.types.is_bool_dtype(ref.dtype):
            fill = ref.median()
            out[col] = out[col].fillna(0.0 if pd.isna(fill) else fill)
        else:
            mode = ref.mode(dropna=True)
            if mode.empty:
                raise ValueError(f"column {col!r} has no observed value to impute from")
            out[col] = out[col].fillna(mode.iloc[0])
    return out
