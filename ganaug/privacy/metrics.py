"""Memorisation and privacy metrics: is synthetic data new data, or near-copies of the training items?

Three sets take part: the **training** items the generator learnt from, the
**synthetic** items it made, and a **holdout** of fresh real items it never
saw. A fresh real item shows how close new data from the same distribution
naturally sits to the training items; synthetic items should sit about as
close, not closer.

* **DCR** (distance to closest record): Euclidean distance of an item to its
  nearest training item in a common encoding (:class:`PrivacyEncoder`).
  ``dcr_ratio`` = median DCR of synthetic items / median DCR of holdout
  items: 0 for copies, about 1 for data as new as fresh real data, above 1
  for data farther away than real data (private, but less realistic).
* **NNDR** (nearest-neighbour distance ratio): distance to the nearest /
  second-nearest training item; near 0 when an item sits on one training
  item in particular rather than between several.
* **exact copies**: share of synthetic items at distance 0 from a training item.
* **membership inference AUC**: an attacker holding the synthetic data
  scores candidate items and tries to tell training items (members) from
  holdout items (non-members). Two attacks: distance (closer to a synthetic
  item = member) and a DOMIAS-style density ratio (van Breugel et al., 2023):
  synthetic density over the density of real reference data, both by
  nearest-neighbour estimates. 0.5 = the synthetic data does not tell;
  ``mia_auc`` is the stronger of the two.

With labels, the holdout and the members are restricted to the classes the
synthetic items were made for (an augmenter adds minority rows: they are
compared with fresh minority rows, not with the whole table).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ganaug.privacy.encoding import PrivacyEncoder
from ganaug.privacy.neighbors import nearest_distances

__all__ = [
    "distance_to_closest_record",
    "membership_inference_auc",
    "privacy_metrics",
    "privacy_report",
    "copy_mask",
]

#: distance (in the encoded space) under which two items count as the same item
COPY_TOLERANCE = 1e-8


def _take(X, idx):
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.iloc[idx]
    return np.asarray(X)[idx]


def _labels(y, n: int, name: str):
    if y is None:
        return None
    arr = np.asarray(y)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} must be 1-D with one label per item ({n}), got shape {arr.shape}")
    return arr


def _encode_all(X_train, others: dict, kind: str, encoder):
    if len(X_train) < 2:
        raise ValueError(f"X_train has {len(X_train)} item(s); privacy metrics need at least 2 training items")
    enc = PrivacyEncoder(kind=kind, encoder=encoder).fit(X_train)
    out = {"train": enc.transform(X_train)}
    for name, X in others.items():
        out[name] = None if X is None else enc.transform(X)
    return out


def distance_to_closest_record(X, X_train, *, kind: str = "auto", encoder=None, k: int = 1) -> np.ndarray:
    """Distance of every item of ``X`` to its nearest item of ``X_train`` (DCR), in a common encoding.

    Parameters
    ----------
    X : table, images or series
        Items to measure (synthetic or holdout).
    X_train : same kind as ``X``
        The training items; the encoding is fitted on them.
    kind, encoder :
        See :class:`ganaug.privacy.encoding.PrivacyEncoder`.
    k : int, default=1
        With ``k=2`` the second column is the distance to the second-nearest item (for NNDR).

    Returns
    -------
    ndarray of shape (n,) (``k=1``) or (n, k)

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.privacy import distance_to_closest_record
    >>> train = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "c": ["a", "b", "a", "b"]})
    >>> distance_to_closest_record(train.iloc[[2]], train).tolist()  # a copy
    [0.0]
    """
    enc = _encode_all(X_train, {"X": X}, kind, encoder)
    d, _ = nearest_distances(enc["X"], enc["train"], k=k)
    return d[:, 0] if k == 1 else d


def _auc(scores_members: np.ndarray, scores_nonmembers: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    y = np.r_[np.ones(len(scores_members)), np.zeros(len(scores_nonmembers))]
    return float(roc_auc_score(y, np.r_[scores_members, scores_nonmembers]))


def membership_inference_auc(members, nonmembers, synthetic, reference=None, *, k: int = 1) -> dict:
    """AUC of two membership-inference attacks that use the synthetic items (encoded arrays).

    Parameters
    ----------
    members, nonmembers : ndarray (n, d)
        Encoded training items and encoded fresh items the generator never saw.
    synthetic : ndarray (m, d)
        Encoded synthetic items (the attacker's only view of the generator).
    reference : ndarray (r, d), "nonmembers" or None
        Further real items from the same distribution for the density-ratio
        attack. ``"nonmembers"``: the non-members themselves, each left out
        of its own estimate (leave-one-out), so that every holdout item can
        be a non-member. ``None`` skips that attack.
    k : int, default=1
        Neighbour of the density estimates (``r_k``: distance to the k-th
        nearest item). Small ``k`` resolves the local bumps that memorised
        rows leave; ``k=5`` already smooths a generator that adds 5 % noise
        to its training rows into chance level.

    Returns
    -------
    dict
        ``distance``: score = minus the distance to the nearest synthetic item;
        ``density_ratio``: score = ``log r_k(reference) - log r_k(synthetic)``,
        the log ratio of the two ``k``-NN density estimates up to a constant
        factor (DOMIAS); ``max``: the stronger one.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.privacy import membership_inference_auc
    >>> rng = np.random.default_rng(0)
    >>> train, hold = rng.normal(size=(200, 3)), rng.normal(size=(200, 3))
    >>> res = membership_inference_auc(train, hold, synthetic=train.copy())  # a replaying generator
    >>> res["distance"]
    1.0
    """
    d_mem = nearest_distances(members, synthetic, k=1)[0][:, 0]
    d_non = nearest_distances(nonmembers, synthetic, k=1)[0][:, 0]
    out = {"distance": _auc(-d_mem, -d_non)}
    loo = isinstance(reference, str)
    if loo and reference != "nonmembers":
        raise ValueError(f"reference must be an array, 'nonmembers' or None, got {reference!r}")
    ref = nonmembers if loo else reference
    if ref is not None and len(ref) > k + 1 and len(synthetic) > k:
        def log_ratio(x, r_ref):
            return np.log(r_ref + 1e-12) - np.log(nearest_distances(x, synthetic, k=k)[0][:, -1] + 1e-12)

        r_mem = nearest_distances(members, ref, k=k)[0][:, -1]
        r_non = nearest_distances(nonmembers, ref, k=k, exclude_self=loo)[0][:, -1]
        out["density_ratio"] = _auc(log_ratio(members, r_mem), log_ratio(nonmembers, r_non))
    out["max"] = max(v for v in out.values())
    return out


def copy_mask(distances, threshold: float = COPY_TOLERANCE) -> np.ndarray:
    """``True`` where a distance to the closest training item counts as an exact copy."""
    return np.asarray(distances) <= threshold


def privacy_report(X_train, X_synthetic, X_holdout, y_train=None, y_synthetic=None, y_holdout=None, *,
                   kind: str = "auto", encoder=None, max_members: int = 5000, random_state=None) -> dict:
    """Memorisation and privacy metrics of synthetic items against their training items and a holdout.

    Parameters
    ----------
    X_train : table, images or series
        Items the generator was trained on (the encoding is fitted on them).
    X_synthetic : same kind
        Generated items only (not the real rows of a resampled set).
    X_holdout : same kind
        Fresh real items the generator never saw (e.g. the test split).
    y_train, y_synthetic, y_holdout : array-like, optional
        Labels; with ``y_synthetic`` and ``y_holdout`` the holdout is
        restricted to the classes of the synthetic items, and with
        ``y_train`` too, so are the attack's members.
    kind, encoder :
        See :class:`~ganaug.privacy.encoding.PrivacyEncoder`: ``encoder=clf.transform``
        measures images in a classifier's feature space instead of pixels.
    max_members : int, default=5000
        At most this many members and non-members for the attacks (subsampled).
    random_state : int, optional
        Seeds the member (and non-member) subsamples of the attacks.

    Returns
    -------
    dict
        ``dcr_synthetic``, ``dcr_holdout`` (medians), ``dcr_ratio``;
        ``dcr_q05_ratio`` (the same for the 5 % quantile: the closest items);
        ``nndr_synthetic``, ``nndr_holdout`` (medians); ``exact_copies``,
        ``exact_copies_holdout`` (shares); ``mia_auc_distance``,
        ``mia_auc_density``, ``mia_auc`` (the stronger attack); the set sizes.
        With ``m`` members and non-members, an AUC has a standard error of
        about ``0.41 / sqrt(m)`` under no leak (0.06 for 50 minority rows), and
        the stronger of two attacks is biased upwards by about that much.

    Examples
    --------
    >>> from ganaug.datasets import load_hmda
    >>> from ganaug.privacy import privacy_report
    >>> X, y = load_hmda()
    >>> train, hold = X.iloc[:1500], X.iloc[1500:]
    >>> rep = privacy_report(train, train, hold, random_state=0)   # a generator that replays its rows
    >>> rep["exact_copies"], rep["dcr_ratio"], rep["mia_auc"] > 0.9
    (1.0, 0.0, True)
    """
    y_tr = _labels(y_train, len(X_train), "y_train")
    y_syn = _labels(y_synthetic, len(X_synthetic), "y_synthetic")
    y_ho = _labels(y_holdout, len(X_holdout), "y_holdout")
    if len(X_synthetic) == 0:
        raise ValueError("X_synthetic is empty: there is nothing to measure")
    if len(X_holdout) < 2:
        raise ValueError(f"X_holdout has {len(X_holdout)} item(s); the reference distances need at least 2")
    if isinstance(max_members, bool) or not isinstance(max_members, (int, np.integer)) or max_members < 10:
        raise ValueError(f"max_members must be an int >= 10, got {max_members!r}")
    rng = np.random.default_rng(random_state)
    hold_idx = np.arange(len(X_holdout))
    mem_idx = np.arange(len(X_train))
    if y_syn is not None and y_ho is not None:
        classes = np.unique(y_syn)
        hold_idx = np.flatnonzero(np.isin(y_ho, classes))
        if hold_idx.size < 2:
            raise ValueError(f"X_holdout has {hold_idx.size} item(s) of the synthetic classes {classes.tolist()}")
        if y_tr is not None:
            mem_idx = np.flatnonzero(np.isin(y_tr, classes))
    enc = _encode_all(X_train, {"syn": X_synthetic, "hold": X_holdout}, kind, encoder)
    E_tr, E_syn, E_hold = enc["train"], enc["syn"], enc["hold"][hold_idx]

    d_syn = nearest_distances(E_syn, E_tr, k=2)[0]
    d_hold = nearest_distances(E_hold, E_tr, k=2)[0]

    def ratio(a, b):
        return float(a / b) if b > 0 else (float("inf") if a > 0 else 1.0)

    def nndr(d):
        return np.where(d[:, 1] > 0, d[:, 0] / np.where(d[:, 1] > 0, d[:, 1], 1.0), 1.0)

    med_syn, med_hold = float(np.median(d_syn[:, 0])), float(np.median(d_hold[:, 0]))
    q_syn, q_hold = float(np.quantile(d_syn[:, 0], 0.05)), float(np.quantile(d_hold[:, 0], 0.05))

    # attack: members vs non-members of equal size; the holdout is also the attacker's reference data
    # (leave-one-out), so that every fresh item can serve as a non-member
    m = min(len(E_hold), len(mem_idx), max_members)
    non = E_hold[rng.choice(len(E_hold), size=m, replace=False)] if len(E_hold) > m else E_hold
    members = E_tr[rng.choice(mem_idx, size=m, replace=False)]
    mia = membership_inference_auc(members, non, E_syn, "nonmembers")
    return {
        "n_train": int(len(E_tr)),
        "n_synthetic": int(len(E_syn)),
        "n_holdout": int(len(E_hold)),
        "dcr_synthetic": med_syn,
        "dcr_holdout": med_hold,
        "dcr_ratio": ratio(med_syn, med_hold),
        "dcr_q05_ratio": ratio(q_syn, q_hold),
        "nndr_synthetic": float(np.median(nndr(d_syn))),
        "nndr_holdout": float(np.median(nndr(d_hold))),
        "exact_copies": float(copy_mask(d_syn[:, 0]).mean()),
        "exact_copies_holdout": float(copy_mask(d_hold[:, 0]).mean()),
        "mia_auc_distance": mia["distance"],
        "mia_auc_density": mia.get("density_ratio", float("nan")),
        "mia_auc": mia["max"],
    }


#: metric of :func:`privacy_report` -> column name in a utility report
DEFAULT_METRICS = {"dcr_ratio": "dcr ratio", "exact_copies": "exact copies", "mia_auc": "mia auc"}


def privacy_metrics(metrics=None, *, kind: str = "auto", encoder=None, random_state=0) -> dict:
    """Privacy columns for :func:`ganaug.evaluate.utility_report` (its ``synthetic_metrics`` hook).

    Every callable gets ``(X_train, X_synthetic, X_test)`` of one fold and arm
    and the labels of the three sets as the keywords ``y_train``,
    ``y_synthetic`` and ``y_test``; the test fold is the holdout. With the
    labels, the holdout and the attack's members are restricted to the
    classes of the synthetic items, as in :func:`privacy_report`: an
    augmenter's minority rows are compared with fresh minority rows, not with
    the whole test fold. One :func:`privacy_report` is computed per fold and
    arm and shared by the columns.

    Parameters
    ----------
    metrics : dict or list, optional
        Keys of :func:`privacy_report` (``{key: column name}`` or a list);
        default ``dcr_ratio``, ``exact_copies`` and ``mia_auc``.
    kind, encoder, random_state :
        As in :func:`privacy_report`.

    Returns
    -------
    dict
        ``{column name: f(X_train, X_synthetic, X_test, y_train=None, y_synthetic=None, y_test=None)}``;
        called without labels (as older hooks did), a callable compares the
        synthetic items with the whole holdout.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from imblearn.over_sampling import RandomOverSampler
    >>> from ganaug.datasets import load_default
    >>> from ganaug.evaluate import utility_report
    >>> from ganaug.privacy import privacy_metrics
    >>> X, y = load_default()
    >>> rep = utility_report(LogisticRegression(), X.iloc[:2000], y.iloc[:2000], augmenters={"ros": RandomOverSampler()},
    ...                      baselines=["none"], cv=2, metrics=["pr_auc"], n_boot=100, random_state=0,
    ...                      synthetic_metrics=privacy_metrics())
    >>> float(rep.results.query("arm == 'ros' and metric == 'exact copies'")["value"].mean())
    1.0
    """
    if metrics is None:
        metrics = DEFAULT_METRICS
    if not isinstance(metrics, dict):
        metrics = {m: m.replace("_", " ") for m in metrics}
    cache: dict = {}

    def compute(sets):
        key = cache.get("key")  # the objects themselves: an id cannot be reused while they are held here
        if key is None or not all(a is b for a, b in zip(key, sets)):  # always six items
            cache["key"] = sets
            X_train, X_syn, X_test, y_train, y_syn, y_test = sets
            cache["value"] = privacy_report(X_train, X_syn, X_test, y_train, y_syn, y_test, kind=kind,
                                            encoder=encoder, random_state=random_state)
        return cache["value"]

    out = {}
    for key, name in metrics.items():
        def metric(X_train, X_syn, X_test, y_train=None, y_synthetic=None, y_test=None, _key=key):
            value = compute((X_train, X_syn, X_test, y_train, y_synthetic, y_test))
            if _key not in value:
                raise KeyError(f"privacy_report has no metric {_key!r}; it has {sorted(value)}")
            return value[_key]

        out[name] = metric
    return out
