"""The resampling baselines of a utility report, as imbalanced-learn style samplers.

Each has ``fit_resample(X, y)`` returning the original rows first, unchanged,
then the new ones, in the caller's container (a DataFrame keeps its columns
and dtypes), so the report treats them exactly like a ganaug augmenter.

- :class:`RandomOversampler`: imbalanced-learn's ``RandomOverSampler`` applied
  to row indices, so it works for tables, images and series alike.
- :class:`SMOTESampler`: SMOTE, SMOTE-NC or SMOTEN chosen by the column
  dtypes, after imputing missing values (which SMOTE cannot take).
- :class:`CTGANSampler`: conditional oversampling with ``ctgan.CTGAN``. ctgan
  is licensed BUSL-1.1 and is an optional extra (``pip install ganaug[ctgan]``);
  it is imported only inside :meth:`CTGANSampler.fit_resample`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC, RandomOverSampler
from imblearn.utils import check_sampling_strategy
from sklearn.base import BaseEstimator

from ganaug.evaluate._preprocess import column_kinds, impute_frame
from ganaug.utils import seed_everything, seed_from_random_state

__all__ = ["CTGANSampler", "RandomOversampler", "SMOTESampler", "smote_variant"]


def _take(X, idx: np.ndarray):
    """Rows ``idx`` of a DataFrame, Series or array (any number of dimensions)."""
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.iloc[idx]
    return X[idx]


def _concat_rows(X, X_new):
    if isinstance(X, pd.DataFrame):
        return pd.concat([X.reset_index(drop=True), X_new.reset_index(drop=True)], ignore_index=True)
    return np.concatenate([np.asarray(X), np.asarray(X_new)])


def _concat_labels(y, y_new: np.ndarray):
    if isinstance(y, pd.Series):
        new = pd.Series(y_new, name=y.name)
        if isinstance(y.dtype, pd.CategoricalDtype):
            new = new.astype(y.dtype)
        return pd.concat([y.reset_index(drop=True), new], ignore_index=True)
    y_arr = np.asarray(y)
    return np.concatenate([y_arr, np.asarray(y_new, dtype=y_arr.dtype)])


class RandomOversampler(BaseEstimator):
    """Random oversampling (imbalanced-learn's ``RandomOverSampler``) for data of any shape.

    The sampler draws row indices, so ``X`` may be a table, an image stack
    ``(N, H, W)`` or series ``(N, C, L)``; a DataFrame keeps its dtypes.

    Parameters
    ----------
    sampling_strategy : str, float, dict or callable, default="auto"
        As in imbalanced-learn.
    random_state : int or None

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.evaluate import RandomOversampler
    >>> X = np.zeros((6, 2, 3)); y = np.array([0, 0, 0, 0, 1, 1])
    >>> Xr, yr = RandomOversampler(random_state=0).fit_resample(X, y)
    >>> Xr.shape, np.bincount(yr).tolist()
    ((8, 2, 3), [4, 4])
    """

    def __init__(self, sampling_strategy="auto", random_state=None):
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    def fit_resample(self, X, y):
        y_arr = np.asarray(y)
        if len(X) != y_arr.shape[0]:
            raise ValueError(f"X has {len(X)} rows but y has {y_arr.shape[0]}")
        ros = RandomOverSampler(sampling_strategy=self.sampling_strategy, random_state=self.random_state)
        idx, _ = ros.fit_resample(np.arange(y_arr.shape[0]).reshape(-1, 1), y_arr)
        idx = idx[:, 0]
        n = y_arr.shape[0]
        new = idx[n:]
        return _concat_rows(X, _take(X, new)), _concat_labels(y, y_arr[new])


def smote_variant(X) -> str:
    """Which SMOTE fits a table: ``"SMOTE"`` (all numeric), ``"SMOTEN"`` (all categorical) or ``"SMOTE-NC"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.evaluate import smote_variant
    >>> smote_variant(pd.DataFrame({"a": [1.0], "b": pd.Categorical(["x"])}))
    'SMOTE-NC'
    """
    numeric, categorical, dates = column_kinds(X)
    if dates:
        raise TypeError(f"SMOTE cannot interpolate datetime column(s) {dates}; convert them to numbers first")
    if not categorical:
        return "SMOTE"
    if not numeric:
        return "SMOTEN"
    return "SMOTE-NC"


class SMOTESampler(BaseEstimator):
    """SMOTE for numeric, SMOTE-NC for mixed and SMOTEN for categorical tables.

    Missing values are imputed first (median, or most frequent level) from the
    rows given to :meth:`fit_resample`, i.e. the training fold only; the
    returned table has no NaN. ``k_neighbors`` shrinks when a class is smaller.

    Parameters
    ----------
    k_neighbors : int, default=5
    sampling_strategy : str, float, dict or callable, default="auto"
    random_state : int or None

    Attributes
    ----------
    method_ : str
        The variant used, see :func:`smote_variant`.

    Examples
    --------
    >>> from ganaug.datasets import load_credit
    >>> from ganaug.evaluate import SMOTESampler
    >>> X, y = load_credit()
    >>> s = SMOTESampler(random_state=0)
    >>> Xr, yr = s.fit_resample(X, y)
    >>> s.method_, yr.value_counts().to_dict(), int(Xr.isna().sum().sum())
    ('SMOTE-NC', {'bad': 3200, 'good': 3200}, 0)
    """

    def __init__(self, k_neighbors=5, sampling_strategy="auto", random_state=None):
        self.k_neighbors = k_neighbors
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    def fit_resample(self, X, y):
        self.method_ = smote_variant(X)
        y_arr = np.asarray(y)
        _, counts = np.unique(y_arr, return_counts=True)
        if counts.min() < 2:
            raise ValueError("SMOTE needs at least 2 rows in every class")
        k = int(min(self.k_neighbors, counts.min() - 1))
        X_imp = impute_frame(X)
        kwargs = {"sampling_strategy": self.sampling_strategy, "random_state": self.random_state, "k_neighbors": k}
        if self.method_ == "SMOTE":
            sampler = SMOTE(**kwargs)
        elif self.method_ == "SMOTEN":
            sampler = SMOTEN(**kwargs)
        else:
            _, categorical, _ = column_kinds(X)
            if isinstance(X, pd.DataFrame):
                positions = [X.columns.get_loc(c) for c in categorical]
            else:
                positions = list(categorical)
            sampler = SMOTENC(categorical_features=positions, **kwargs)
        X_res, y_res = sampler.fit_resample(X_imp, y_arr)
        n = y_arr.shape[0]
        if isinstance(X, pd.DataFrame):
            X_new = pd.DataFrame(X_res).iloc[n:].reset_index(drop=True)
            X_new.columns = X.columns
            X_new = X_new.astype(X_imp.dtypes.to_dict())
            X_out = _concat_rows(X_imp, X_new)
        else:
            X_out = np.asarray(X_res)
        return X_out, _concat_labels(y, np.asarray(y_res)[n:])


class CTGANSampler(BaseEstimator):
    """Conditional oversampling with ``ctgan.CTGAN`` (the classic CTGAN implementation).

    CTGAN is fitted on the whole table with the label as one more discrete
    column; new rows of class ``c`` are drawn with ``condition_column=label``
    and kept only where the generated label is ``c`` (rejection, as SDV does),
    until the counts of ``sampling_strategy`` are met. Missing values are
    imputed before fitting (ctgan refuses NaN in numeric columns).

    ctgan is licensed BUSL-1.1; install it as an extra (``pip install
    ganaug[ctgan]``). It is imported only when :meth:`fit_resample` runs.

    Parameters
    ----------
    epochs : int, default=100
    batch_size : int, default=500
        Rounded to a multiple of ctgan's ``pac`` (10).
    sampling_strategy : str, float, dict or callable, default="auto"
    random_state : int or None
    max_rounds : int, default=20
        Conditional sampling rounds per class before giving up with a warning.
    verbose : bool, default=False

    Attributes
    ----------
    model_ : ctgan.CTGAN
        The fitted model; ``model_.loss_values`` holds its loss curves.
    history_ : list of dict
        Per-epoch ``{"epoch", "g_loss", "d_loss"}`` from ctgan's log.

    Examples
    --------
    >>> from ganaug.datasets import load_default
    >>> from ganaug.evaluate import CTGANSampler
    >>> X, y = load_default()
    >>> sampler = CTGANSampler(epochs=1, random_state=0)
    >>> Xr, yr = sampler.fit_resample(X.iloc[:600], y.iloc[:600])  # doctest: +SKIP
    >>> yr.value_counts().to_dict()  # doctest: +SKIP
    {'No': 580, 'Yes': 580}
    """

    def __init__(self, epochs=100, batch_size=500, sampling_strategy="auto", random_state=None, max_rounds=20,
                 verbose=False):
        self.epochs = epochs
        self.batch_size = batch_size
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.max_rounds = max_rounds
        self.verbose = verbose

    def fit_resample(self, X, y):
        try:
            from ctgan import CTGAN  # BUSL-1.1: imported here only, never by the package at import time
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("CTGANSampler needs the optional extra: pip install 'ganaug[ctgan]'") from exc
        y_arr = np.asarray(y)
        if len(X) != y_arr.shape[0]:
            raise ValueError(f"X has {len(X)} rows but y has {y_arr.shape[0]}")
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X), columns=[f"x{i}" for i in range(np.shape(X)[1])])
        imputed = impute_frame(frame)
        _, categorical, dates = column_kinds(imputed)
        if dates:
            raise TypeError(f"CTGANSampler cannot model datetime column(s) {dates}; convert them to numbers first")
        target = "__ganaug_label__"
        while target in imputed.columns:
            target += "_"
        labels = np.unique(y_arr)
        names = {str(v): v for v in labels.tolist()}
        if len(names) != len(labels):
            raise ValueError("class labels must stay distinct when written as text for CTGAN")
        data = imputed.copy()
        for col in categorical:  # ctgan wants plain values in discrete columns
            data[col] = data[col].astype(object)
        data[target] = y_arr.astype(str)
        seed = seed_from_random_state(self.random_state)
        seed_everything(seed)
        batch = max(10, int(round(self.batch_size / 10)) * 10)
        model = CTGAN(epochs=int(self.epochs), batch_size=batch, verbose=bool(self.verbose))
        model.set_random_state(seed)
        # ctgan transforms columns in a joblib process pool (n_jobs=-1) from 500 rows on: slow to start and
        # greedy on a shared machine; run it in this process like every other arm
        from joblib import parallel_config

        with warnings.catch_warnings(), parallel_config(backend="sequential"):
            warnings.simplefilter("ignore")
            model.fit(data, discrete_columns=[*categorical, target])
        self.model_ = model
        self.history_ = _ctgan_history(model)

        strategy = check_sampling_strategy(self.sampling_strategy, y_arr, "over-sampling")
        parts, new_labels = [], []
        for label, count in strategy.items():
            count = int(count)
            if count <= 0:
                continue
            got, have = [], 0
            for _ in range(int(self.max_rounds)):
                draw = model.sample(max(2 * (count - have), 100), condition_column=target, condition_value=str(label))
                keep = draw[draw[target] == str(label)]
                got.append(keep)
                have += len(keep)
                if have >= count:
                    break
            rows = pd.concat(got, ignore_index=True).iloc[:count] if got else data.iloc[:0]
            if len(rows) < count:
                warnings.warn(
                    f"CTGAN produced only {len(rows)} of {count} rows of class {label!r} in {self.max_rounds} rounds",
                    RuntimeWarning,
                    stacklevel=2,
                )
            parts.append(rows.drop(columns=[target]))
            new_labels.append(np.repeat(np.asarray([label], dtype=y_arr.dtype), len(rows)))
        X_new = pd.concat(parts, ignore_index=True) if parts else imputed.iloc[:0].copy()
        X_new = _restore_dtypes(X_new, imputed)
        y_new = np.concatenate(new_labels) if new_labels else y_arr[:0]
        X_out = _concat_rows(frame, X_new)
        if not isinstance(X, pd.DataFrame):
            X_out = X_out.to_numpy(dtype=np.asarray(X).dtype)
        return X_out, _concat_labels(y, y_new)


def _restore_dtypes(X_new: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    out = X_new[list(like.columns)].copy()
    for col in like.columns:
        dtype = like[col].dtype
        if pd.api.types.is_integer_dtype(dtype):
            out[col] = pd.to_numeric(out[col], errors="coerce").round().astype(dtype)
        else:
            out[col] = out[col].astype(dtype)
    return out


def _ctgan_history(model) -> list[dict]:
    losses = getattr(model, "loss_values", None)
    if losses is None or len(losses) == 0:
        return []
    frame = pd.DataFrame(losses).rename(columns={"Epoch": "epoch", "Generator Loss": "g_loss", "Discriminator Loss": "d_loss"})
    cols = [c for c in ("epoch", "g_loss", "d_loss") if c in frame.columns]
    return frame[cols].astype(float).to_dict("records")
