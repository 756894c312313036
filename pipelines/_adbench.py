"""Shared data handling of the anomaly pipelines: the ADBench sets, their split and scaling, a quiet context.

Used by ``anomaly_benchmark.py`` and ``anomaly_fewlabel_benchmark.py`` (both run
as scripts, so ``pipelines/`` is on ``sys.path``). Everything is read from the
local copy in ``../shared/data``; nothing downloads.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

#: the classical ADBench sets the issue names (the benchmark sets; never used for tuning)
DEFAULT_SETS = ["4_breastw", "6_cardio", "18_Ionosphere", "38_thyroid", "42_WBC", "43_WDBC", "21_Lymphography",
                "39_vertebral", "45_wine", "2_annthyroid", "12_fault", "28_pendigits", "30_satellite",
                "31_satimage-2", "25_musk"]
#: other ADBench sets, used to tune the detector's design and defaults (large ones subsampled, see load_set)
DEV_SETS = ["14_glass", "15_Hepatitis", "37_Stamps", "46_WPBC", "40_vowels", "20_letter", "19_landsat",
            "26_optdigits", "10_cover", "16_http", "22_magic.gamma", "33_skin"]


def load_set(name: str, max_rows: int | None = None, seed: int = 123) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of one ADBench set (float64, int64); a stratified subsample when it has more than ``max_rows``."""
    path = DATA / "adbench" / f"{name}.npz"
    if not path.exists():
        raise FileNotFoundError(f"ADBench set {name!r} not found at {path}")
    d = np.load(path)
    X, y = d["X"].astype(np.float64), d["y"].astype(np.int64)
    if max_rows is not None and len(X) > max_rows:
        from sklearn.model_selection import train_test_split

        X, _, y, _ = train_test_split(X, y, train_size=max_rows, stratify=y, random_state=seed)
    return X, y


def split_scale(X: np.ndarray, y: np.ndarray, seed: int, *, normal_only: bool = False,
                max_train: int | None = None):
    """Stratified 70/30 split, features standardised on the training rows.

    ``normal_only``: keep only the normal training rows (the semi-supervised
    setting). ``max_train``: a stratified subsample of the training rows.
    Returns ``(Ztr, Zte, ytr, yte)``.
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    if max_train and len(Xtr) > max_train:
        Xtr, _, ytr, _ = train_test_split(Xtr, ytr, train_size=max_train, stratify=ytr, random_state=seed)
    if normal_only:
        Xtr, ytr = Xtr[ytr == 0], ytr[ytr == 0]
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr), scaler.transform(Xte), ytr, yte


def quiet() -> contextlib.ExitStack:
    """Warnings off and stdout swallowed (the baselines print progress)."""
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    return stack
