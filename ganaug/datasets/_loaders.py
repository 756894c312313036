"""Loaders of the bundled data sets."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

__all__ = [
    "TABULAR_DATASETS",
    "load_attrition",
    "load_credit",
    "load_default",
    "load_gunpoint",
    "load_hmda",
    "load_internal_bleeding",
    "load_mnist",
    "load_stocks",
    "load_tabular",
]

#: bundled tables: name -> (file, target column, minority label)
TABULAR_DATASETS: dict[str, tuple[str, str, str]] = {
    "credit": ("credit_data.csv", "Status", "bad"),
    "attrition": ("attrition.csv", "Attrition", "Yes"),
    "hmda": ("HMDA.csv", "deny", "yes"),
    "default": ("Default.csv", "default", "Yes"),
}


def _path(name: str):
    return resources.files("ganaug.datasets").joinpath("data", name)


def _read_table(file: str, target: str) -> tuple[pd.DataFrame, pd.Series]:
    with resources.as_file(_path(file)) as p:
        df = pd.read_csv(p)
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].astype("category")
    y = df.pop(target)
    return df, y


def load_tabular(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """Load a bundled table by name: one of ``TABULAR_DATASETS``.

    Returns
    -------
    X : DataFrame
        Features; text columns as ``category`` dtype, missing values as NaN.
    y : Series
        The target (``category`` dtype).

    Examples
    --------
    >>> from ganaug.datasets import load_tabular
    >>> X, y = load_tabular("credit")
    >>> X.shape, y.value_counts().to_dict()
    ((4454, 13), {'good': 3200, 'bad': 1254})
    """
    key = name.lower()
    if key not in TABULAR_DATASETS:
        raise ValueError(f"unknown bundled table {name!r}; choose one of {sorted(TABULAR_DATASETS)}")
    file, target, _ = TABULAR_DATASETS[key]
    return _read_table(file, target)


def load_credit() -> tuple[pd.DataFrame, pd.Series]:
    """Credit scoring (modeldata): 4454 rows, 13 mixed-type features with 455 missing values, target ``Status``.

    Examples
    --------
    >>> from ganaug.datasets import load_credit
    >>> X, y = load_credit()
    >>> int(X.isna().sum().sum())
    455
    """
    return load_tabular("credit")


def load_attrition() -> tuple[pd.DataFrame, pd.Series]:
    """IBM HR attrition (modeldata): 1470 rows, 30 features, target ``Attrition`` (Yes = 16 %).

    Examples
    --------
    >>> from ganaug.datasets import load_attrition
    >>> X, y = load_attrition()
    >>> X.shape
    (1470, 30)
    """
    return load_tabular("attrition")


def load_hmda() -> tuple[pd.DataFrame, pd.Series]:
    """Boston HMDA mortgage denials (AER): 2380 rows, 13 features, target ``deny`` (yes = 12 %).

    Examples
    --------
    >>> from ganaug.datasets import load_hmda
    >>> X, y = load_hmda()
    >>> X.shape
    (2380, 13)
    """
    return load_tabular("hmda")


def load_default() -> tuple[pd.DataFrame, pd.Series]:
    """Credit card default (ISLR): 10000 rows, 3 features, target ``default`` (Yes = 3.3 %).

    Examples
    --------
    >>> from ganaug.datasets import load_default
    >>> X, y = load_default()
    >>> int((y == "Yes").sum())
    333
    """
    return load_tabular("default")


def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    """4000 MNIST digits: ``X`` uint8 of shape (4000, 28, 28) and ``y`` int64 labels 0-9.

    Examples
    --------
    >>> from ganaug.datasets import load_mnist
    >>> X, y = load_mnist()
    >>> X.shape, X.dtype, sorted(set(y.tolist())) == list(range(10))
    ((4000, 28, 28), dtype('uint8'), True)
    """
    with resources.as_file(_path("mnist_4k.npz")) as p, np.load(p, allow_pickle=False) as d:
        return d["X"].copy(), d["y"].astype(np.int64)


def load_stocks(window: int | None = 24, stride: int = 1) -> pd.DataFrame | np.ndarray:
    """Daily Google stock prices, the TimeGAN "Stocks" benchmark (3685 days x 6 channels).

    Parameters
    ----------
    window : int or None, default=24
        ``None`` returns the raw DataFrame (oldest day first). An int returns
        sliding windows as a float32 array of shape ``(n_windows, 6, window)``
        in the (N, channels, length) layout, unscaled.
    stride : int, default=1
        Step between window starts.

    Examples
    --------
    >>> from ganaug.datasets import load_stocks
    >>> load_stocks().shape
    (3662, 6, 24)
    >>> list(load_stocks(window=None).columns)
    ['Open', 'High', 'Low', 'Close', 'Adj_Close', 'Volume']
    """
    with resources.as_file(_path("stock_data.csv")) as p:
        df = pd.read_csv(p)
    # TimeGAN's loader flips the file so time runs forward
    df = df.iloc[::-1].reset_index(drop=True)
    if window is None:
        return df
    if window < 2 or stride < 1:
        raise ValueError(f"window must be >= 2 and stride >= 1, got window={window}, stride={stride}")
    values = df.to_numpy(dtype=np.float32)  # (T, C)
    windows = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)[::stride]  # (N, C, window)
    return np.ascontiguousarray(windows)


def load_gunpoint() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """UCR GunPoint: ``X_train`` (50, 1, 150), ``y_train``, ``X_test`` (150, 1, 150), ``y_test``.

    Examples
    --------
    >>> from ganaug.datasets import load_gunpoint
    >>> X_train, y_train, X_test, y_test = load_gunpoint()
    >>> X_train.shape, sorted(set(y_train.tolist()))
    ((50, 1, 150), ['1', '2'])
    """
    with resources.as_file(_path("GunPoint.npz")) as p, np.load(p, allow_pickle=False) as d:
        return d["X_train"].copy(), d["y_train"].copy(), d["X_test"].copy(), d["y_test"].copy()


def load_internal_bleeding() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UCR anomaly archive InternalBleeding16.

    Returns
    -------
    train : ndarray (1200,)
        Normal data.
    test : ndarray (7501,)
        The whole series, with one labelled anomaly. Its first 1200 steps
        are ``train`` again (as in the archive's files): judge a detector on
        ``test[len(train):]`` only.
    test_labels : ndarray of int (7501,)
        1 inside the anomaly.

    Examples
    --------
    >>> from ganaug.datasets import load_internal_bleeding
    >>> train, test, labels = load_internal_bleeding()
    >>> train.shape, test.shape, int(labels.sum()) > 0
    ((1200,), (7501,), True)
    """
    with resources.as_file(_path("135_UCR_Anomaly_InternalBleeding16_TRAIN.csv")) as p:
        train = pd.read_csv(p)
    with resources.as_file(_path("135_UCR_Anomaly_InternalBleeding16_TEST.csv")) as p:
        test = pd.read_csv(p)
    return (
        train["value"].to_numpy(dtype=np.float64),
        test["value"].to_numpy(dtype=np.float64),
        test["is_anomaly"].to_numpy(dtype=np.int64),
    )
