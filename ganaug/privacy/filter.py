"""Copy filter: drop synthetic items that sit closer to a training item than fresh real data would.

The threshold is calibrated on real data, per class: the ``quantile`` (5 % by
default) of the distances from fresh real items to their closest training
item. Without a holdout the fresh items are the training items themselves,
each measured against the *other* training items (leave-one-out), which
needs no data to be set aside. A synthetic item of class ``c`` closer to the
training set than that threshold (or at distance 0) is removed; a fresh real
item would be that close only ``quantile`` of the time.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ganaug.privacy.encoding import PrivacyEncoder
from ganaug.privacy.metrics import COPY_TOLERANCE, _labels, _take
from ganaug.privacy.neighbors import nearest_distances

__all__ = ["CopyFilter", "filter_copies"]


def _check_quantile(q) -> float:
    if isinstance(q, bool) or not isinstance(q, (int, float, np.floating)) or not 0.0 <= float(q) < 0.5:
        raise ValueError(f"quantile must be a float in [0, 0.5), got {q!r}")
    return float(q)


def filter_copies(X_synthetic, X_train, y_synthetic=None, y_train=None, *, quantile: float = 0.05, X_holdout=None,
                  y_holdout=None, kind: str = "auto", encoder=None) -> np.ndarray:
    """Mask of the synthetic items to keep (``True``) after removing near-copies of training items.

    Parameters
    ----------
    X_synthetic : table, images or series
        Generated items.
    X_train : same kind
        The generator's training items.
    y_synthetic, y_train : array-like, optional
        Labels: thresholds are then calibrated per class (a minority class is
        sparser than the majority, so its fresh rows sit farther away).
    quantile : float in [0, 0.5), default=0.05
        Share of fresh real items that the filter would remove.
    X_holdout, y_holdout : optional
        Fresh real items for the calibration; default leave-one-out
        distances among the training items.
    kind, encoder :
        See :class:`ganaug.privacy.encoding.PrivacyEncoder`.

    Returns
    -------
    ndarray of bool, shape (n_synthetic,)

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.privacy import filter_copies
    >>> rng = np.random.default_rng(0)
    >>> train = rng.normal(size=(500, 4))
    >>> synthetic = np.r_[train[:10], rng.normal(size=(90, 4))]   # 10 copies, 90 new rows
    >>> keep = filter_copies(synthetic, train)
    >>> bool(keep[:10].any()), int(keep[10:].sum()) >= 80
    (False, True)
    """
    q = _check_quantile(quantile)
    y_syn = _labels(y_synthetic, len(X_synthetic), "y_synthetic")
    y_tr = _labels(y_train, len(X_train), "y_train")
    if (y_syn is None) != (y_tr is None):
        raise ValueError("give both y_synthetic and y_train (per-class thresholds) or neither")
    enc = PrivacyEncoder(kind=kind, encoder=encoder).fit(X_train)
    E_tr, E_syn = enc.transform(X_train), enc.transform(X_synthetic)
    if len(E_syn) == 0:
        return np.zeros(0, dtype=bool)
    if X_holdout is not None:
        ref_d = nearest_distances(enc.transform(X_holdout), E_tr)[0][:, 0]
        y_ref = _labels(y_holdout, len(X_holdout), "y_holdout")
        if y_syn is not None and y_ref is None:
            raise ValueError("with labels, the holdout needs y_holdout too")
    else:
        if len(E_tr) < 2:
            raise ValueError("leave-one-out calibration needs at least 2 training items")
        ref_d = nearest_distances(E_tr, E_tr, exclude_self=True)[0][:, 0]
        y_ref = y_tr
    d_syn = nearest_distances(E_syn, E_tr)[0][:, 0]
    thresholds = np.empty(len(E_syn))
    if y_syn is None:
        thresholds[:] = np.quantile(ref_d, q)
    else:
        for c in np.unique(y_syn):  # a loop over classes
            ref_c = ref_d[y_ref == c]
            if ref_c.size == 0:
                raise ValueError(f"class {c!r} of the synthetic items has no real item to calibrate the threshold on")
            thresholds[y_syn == c] = np.quantile(ref_c, q)
    return (d_syn >= thresholds) & (d_syn > COPY_TOLERANCE)


class CopyFilter(BaseEstimator):
    """Wrap a sampler so that its synthetic items are new data, not near-copies of training items.

    ``fit_resample(X, y)`` runs the wrapped sampler, removes synthetic items
    closer to a training item than ``quantile`` of fresh real items would be
    (leave-one-out calibration per class, see :func:`filter_copies`) and,
    when the sampler can draw more (a ganaug augmenter's ``sample``), tops
    the removed items up with new ones that pass, in up to ``max_rounds``
    draws. Imbalanced-learn samplers cannot draw more: their filtered set is
    returned smaller, with a warning.

    Parameters
    ----------
    sampler : object with ``fit_resample(X, y)``
        Returns the original rows first (imbalanced-learn, ganaug).
    quantile : float, default=0.05
    max_rounds : int, default=5
    kind, encoder :
        See :class:`ganaug.privacy.encoding.PrivacyEncoder`.
    random_state : int, optional
        Passed to the wrapped sampler when it has a ``random_state`` parameter.

    Attributes
    ----------
    removed_ : int
        Synthetic items removed (including failed top-up draws).
    kept_share_ : float
        Share of drawn synthetic items that passed.

    Examples
    --------
    >>> from imblearn.over_sampling import RandomOverSampler
    >>> from ganaug.datasets import load_hmda
    >>> from ganaug.privacy import CopyFilter
    >>> X, y = load_hmda()
    >>> import warnings; warnings.simplefilter("ignore")
    >>> X_res, y_res = CopyFilter(RandomOverSampler(random_state=0)).fit_resample(X, y)
    >>> len(X_res) == len(X)   # every added row was a copy
    True
    """

    def __init__(self, sampler, quantile: float = 0.05, max_rounds: int = 5, kind: str = "auto", encoder=None,
                 random_state=None) -> None:
        self.sampler = sampler
        self.quantile = quantile
        self.max_rounds = max_rounds
        self.kind = kind
        self.encoder = encoder
        self.random_state = random_state

    def fit_resample(self, X, y):
        from sklearn.base import clone

        _check_quantile(self.quantile)
        if isinstance(self.max_rounds, bool) or not isinstance(self.max_rounds, (int, np.integer)) or self.max_rounds < 0:
            raise ValueError(f"max_rounds must be an int >= 0, got {self.max_rounds!r}")
        if not hasattr(self.sampler, "fit_resample"):
            raise TypeError(f"sampler must have fit_resample(X, y), got {type(self.sampler).__name__}")
        sampler = clone(self.sampler, safe=False)
        if self.random_state is not None and hasattr(sampler, "get_params") and \
                "random_state" in sampler.get_params(deep=False):
            sampler.set_params(random_state=self.random_state)
        X_res, y_res = sampler.fit_resample(X, y)
        return self.filter_resampled(X, y, X_res, y_res, sampler)

    def filter_resampled(self, X, y, X_res, y_res, sampler=None):
        """Filter the synthetic part of an already resampled set (``X_res`` = ``X`` then new rows).

        ``sampler`` (fitted, optional) tops removed rows up when it has ``sample``;
        use this to filter a sampler that was fitted once for several arms.
        """
        _check_quantile(self.quantile)
        n = len(X)
        y_arr = np.asarray(y)
        y_res_arr = np.asarray(y_res)
        X_syn, y_syn = _take(X_res, np.arange(n, len(X_res))), y_res_arr[n:]
        enc = PrivacyEncoder(kind=self.kind, encoder=self.encoder).fit(X)
        E_tr = enc.transform(X)
        loo = nearest_distances(E_tr, E_tr, exclude_self=True)[0][:, 0]
        thresholds = {c: float(np.quantile(loo[y_arr == c], float(self.quantile))) for c in np.unique(y_syn)}

        def passing(Xs, ys):
            if len(Xs) == 0:
                return np.zeros(0, dtype=bool)
            d = nearest_distances(enc.transform(Xs), E_tr)[0][:, 0]
            thr = np.array([thresholds[c] for c in np.unique(ys)])[np.searchsorted(np.unique(ys), ys)]
            return (d >= thr) & (d > COPY_TOLERANCE)

        keep = passing(X_syn, y_syn)
        drawn, removed = len(keep), int((~keep).sum())
        parts_X, parts_y = [_take(X_syn, np.flatnonzero(keep))], [y_syn[keep]]
        missing = pd.Series(y_syn[~keep]).value_counts().to_dict()
        can_draw = sampler is not None and hasattr(sampler, "sample") and getattr(sampler, "labelled_", False)
        rounds = 0
        while missing and can_draw and rounds < int(self.max_rounds):
            rounds += 1
            share = max(1.0 - removed / max(drawn, 1), 0.05)
            ask = {c: int(np.ceil(k / share)) + 1 for c, k in missing.items()}
            Xn, yn = sampler.sample(ask)
            yn = np.asarray(yn)
            ok = passing(Xn, yn)
            drawn += len(ok)
            removed += int((~ok).sum())
            # keep at most the missing count per class (first passing ones)
            sel = np.zeros(len(ok), dtype=bool)
            for c, k in missing.items():  # a loop over classes
                idx = np.flatnonzero(ok & (yn == c))[:k]
                sel[idx] = True
            parts_X.append(_take(Xn, np.flatnonzero(sel)))
            parts_y.append(yn[sel])
            got = pd.Series(yn[sel]).value_counts().to_dict()
            missing = {c: k - got.get(c, 0) for c, k in missing.items() if k - got.get(c, 0) > 0}
        if missing:
            warnings.warn(f"CopyFilter: {sum(missing.values())} synthetic item(s) removed as near-copies could not be "
                          f"replaced ({missing}); the resampled set is smaller than the sampler's", stacklevel=2)
        self.removed_ = removed
        self.kept_share_ = 1.0 - removed / max(drawn, 1)
        self.thresholds_ = thresholds
        self.sampler_ = sampler
        X_orig = _take(X_res, np.arange(n))
        if isinstance(X_res, pd.DataFrame):
            X_out = pd.concat([X_orig, *[p for p in parts_X]], ignore_index=True)
        else:
            X_out = np.concatenate([np.asarray(X_orig), *[np.asarray(p) for p in parts_X]])
        y_new = np.concatenate([y_res_arr[:n], *parts_y])
        if isinstance(y_res, pd.Series):
            y_out = pd.Series(y_new, name=y_res.name, dtype=y_res.dtype)
        else:
            y_out = y_new
        return X_out, y_out
