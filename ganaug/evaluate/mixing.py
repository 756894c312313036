"""Mixing policy: how much of the added data should be synthetic, chosen without the test split.

An augmenter can fill a rare class with synthetic items, with repeats of the
real ones (random oversampling), or with a mix. The share of synthetic items
among the added ones is a hyperparameter; it must be chosen on data cut from
the *training* set, never on the test set the final numbers come from.

* :func:`stratified_validation_split` - a stratified fit/validation cut of
  the training labels that keeps every class on both sides.
* :func:`choose_synthetic_share` - scores each candidate share on one or
  more such cuts (the caller trains and scores; this function only decides
  which training rows go where) and returns the best share, ties going to
  the smaller share (less synthetic data).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["DEFAULT_SHARES", "ShareChoice", "choose_synthetic_share", "stratified_validation_split"]

#: candidate shares of synthetic items among the added ones
DEFAULT_SHARES: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)


def _label_repr(c) -> str:
    return repr(c.item() if isinstance(c, np.generic) else c)


def stratified_validation_split(y, val_size: float = 0.25, min_fit: int = 1, random_state=None):
    """Cut a stratified validation part from training labels, keeping every class on both sides.

    Class ``c`` with ``n_c`` items puts ``round(val_size * n_c)`` of them
    (half up), but at least 1 and at most ``n_c - min_fit``, in the
    validation part; the rest form the fit part. So a rare class keeps at
    least ``min_fit`` items to learn from and at least one to be scored on.

    Parameters
    ----------
    y : array-like of shape (n,)
        Labels of the training items (any hashable label type).
    val_size : float, default=0.25
        Share of each class that goes to validation, in (0, 1).
    min_fit : int, default=1
        Fewest items of a class left in the fit part (e.g. 2 when the model
        fitted on that part needs two items per class).
    random_state : int, numpy Generator or None
        Which items of a class go to validation.

    Returns
    -------
    fit_index, val_index : ndarray of int
        Disjoint, sorted positions into ``y`` that together cover all of it.

    Raises
    ------
    ValueError
        ``y`` not 1-D or empty, ``val_size`` outside (0, 1), ``min_fit`` < 1,
        or a class with fewer than ``min_fit + 1`` items (named in the
        message): it cannot be both learnt from and validated on. Drop or
        merge such a class, or lower ``min_fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.evaluate import stratified_validation_split
    >>> y = np.repeat(["common", "rare"], [40, 6])
    >>> fit, val = stratified_validation_split(y, val_size=0.25, min_fit=2, random_state=0)
    >>> len(fit), len(val), int((y[val] == "rare").sum()), int((y[fit] == "rare").sum())
    (34, 12, 2, 4)
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"y must be a non-empty 1-D array of labels, got shape {y.shape}")
    if isinstance(val_size, (bool, np.bool_)) or not 0.0 < float(val_size) < 1.0:
        raise ValueError(f"val_size must be a share in (0, 1), got {val_size!r}")
    if isinstance(min_fit, (bool, np.bool_)) or not isinstance(min_fit, (int, np.integer)) or min_fit < 1:
        raise ValueError(f"min_fit must be a positive int, got {min_fit!r}")
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    small = np.flatnonzero(counts < min_fit + 1)
    if small.size:
        c = small[0]
        raise ValueError(
            f"class {_label_repr(classes[c])} has {counts[c]} item(s); a validation split needs at least "
            f"min_fit + 1 = {min_fit + 1} (min_fit={min_fit} to fit on, 1 to validate on): drop or merge that "
            "class, or lower min_fit"
        )
    n_val = np.clip(np.floor(float(val_size) * counts + 0.5).astype(np.int64), 1, counts - min_fit)
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(y))
    order = order[np.argsort(codes[order], kind="stable")]  # grouped by class, random within a class
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(y)) - starts[codes[order]]  # position of each item within its class
    in_val = rank < n_val[codes[order]]
    return np.sort(order[~in_val]), np.sort(order[in_val])


@dataclass(frozen=True)
class ShareChoice:
    """What :func:`choose_synthetic_share` found.

    Attributes
    ----------
    share : float
        The chosen share of synthetic items among the added ones.
    shares : ndarray
        The candidates, ascending.
    scores : ndarray
        Mean validation score of each candidate over the splits.
    split_scores : ndarray of shape (n_splits, n_shares)
        The score of each candidate on each split.
    splits : list of (ndarray, ndarray)
        ``(fit_index, val_index)`` of each split, positions into the
        training labels given to :func:`choose_synthetic_share`.
    """

    share: float
    shares: np.ndarray
    scores: np.ndarray
    split_scores: np.ndarray
    splits: list = field(repr=False)

    def as_dict(self) -> dict:
        """``{share: mean validation score}``."""
        return {float(s): float(v) for s, v in zip(self.shares, self.scores)}


def _check_shares(shares) -> np.ndarray:
    arr = np.asarray(shares, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"shares must be a non-empty 1-D sequence of shares in [0, 1], got {shares!r}")
    if not np.isfinite(arr).all() or (arr < 0).any() or (arr > 1).any():
        raise ValueError(f"every share must be in [0, 1], got {arr.tolist()}")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"shares must not repeat, got {arr.tolist()}")
    return np.sort(arr)


def choose_synthetic_share(score, y, shares=DEFAULT_SHARES, *, val_size: float = 0.25, n_splits: int = 1,
                           min_fit: int = 1, tol: float = 0.0, random_state=None) -> ShareChoice:
    """Choose the share of synthetic items among the added ones on validation splits of the training data.

    The function never sees features or a test set: it cuts ``n_splits``
    stratified fit/validation splits of the *training* labels ``y``
    (:func:`stratified_validation_split`, a fresh random cut each time; the
    first is the one ``stratified_validation_split(y, val_size, min_fit,
    random_state)`` gives for an int ``random_state``, so a caller can build
    its validation data ahead, e.g. in other processes) and
    calls ``score(fit_index, val_index, shares)`` once per split. The caller
    fits everything (augmenter included) on the training rows ``fit_index``
    only, trains its model once per share, and returns one validation score
    per share, higher is better (e.g. balanced accuracy). The chosen share
    has the best mean score; shares within ``tol`` of the best count as
    ties, and ties go to the **smaller** share (less synthetic data).

    Parameters
    ----------
    score : callable
        ``score(fit_index, val_index, shares) -> sequence of float``, one
        finite score per entry of ``shares`` (given ascending). Indices are
        positions into ``y``.
    y : array-like of shape (n,)
        Labels of the training items.
    shares : sequence of float, default=(0, 0.25, 0.5, 0.75, 1)
        Candidate shares in [0, 1]: 0 = only repeats of real items (random
        oversampling), 1 = only synthetic items.
    val_size : float, default=0.25
        Share of each class in the validation part.
    n_splits : int, default=1
        Independent random splits; scores are averaged over them (more
        splits, less noise from a few validation items of a rare class).
    min_fit : int, default=1
        Fewest items of each class kept in the fit part; a class with fewer
        than ``min_fit + 1`` items raises a ``ValueError`` naming it.
    tol : float, default=0.0
        Shares whose mean score is within ``tol`` of the best are tied.
    random_state : int, numpy Generator or None
        Seeds the splits.

    Returns
    -------
    ShareChoice
        ``share`` (the choice), ``shares``, ``scores`` (mean per share),
        ``split_scores`` and the ``splits`` used.

    Raises
    ------
    ValueError
        Bad ``shares`` (empty, repeated, outside [0, 1]), ``n_splits`` < 1,
        ``tol`` < 0, a class too small to split, or a ``score`` that returns
        the wrong number of values or a non-finite one (share and split named).
    TypeError
        ``score`` is not callable.

    Examples
    --------
    A stand-in ``score`` whose best share is 0.5 (a real one trains a model
    on ``fit_index`` with each share and scores it on ``val_index``):

    >>> import numpy as np
    >>> from ganaug.evaluate import choose_synthetic_share
    >>> y = np.repeat([0, 1], [90, 10])
    >>> def score(fit_index, val_index, shares):
    ...     assert np.intersect1d(fit_index, val_index).size == 0
    ...     return [1.0 - abs(s - 0.5) for s in shares]
    >>> choice = choose_synthetic_share(score, y, random_state=0)
    >>> choice.share, choice.as_dict()
    (0.5, {0.0: 0.5, 0.25: 0.75, 0.5: 1.0, 0.75: 0.75, 1.0: 0.5})
    >>> fit, val = choice.splits[0]
    >>> len(fit), len(val), int((y[val] == 1).sum())
    (74, 26, 3)
    >>> flat = choose_synthetic_share(lambda f, v, s: [0.9] * len(s), y, random_state=0)
    >>> flat.share  # a tie: the smallest share wins
    0.0
    """
    if not callable(score):
        raise TypeError(f"score must be a callable score(fit_index, val_index, shares), got {type(score).__name__}")
    grid = _check_shares(shares)
    if isinstance(n_splits, (bool, np.bool_)) or not isinstance(n_splits, (int, np.integer)) or n_splits < 1:
        raise ValueError(f"n_splits must be a positive int, got {n_splits!r}")
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    y = np.asarray(y)
    rng = np.random.default_rng(random_state)
    splits, rows = [], []
    for i in range(int(n_splits)):  # a loop over splits, each trains models
        fit_index, val_index = stratified_validation_split(y, val_size, min_fit, rng)
        values = np.asarray(score(fit_index, val_index, grid.copy()), dtype=np.float64)
        if values.shape != grid.shape:
            raise ValueError(f"score returned {values.size} value(s) on split {i}; expected one per share "
                             f"({grid.size}: {grid.tolist()})")
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(f"score returned {values[bad[0]]} for share {grid[bad[0]]:g} on split {i}; "
                             "scores must be finite")
        splits.append((fit_index, val_index))
        rows.append(values)
    split_scores = np.vstack(rows)
    mean = split_scores.mean(axis=0)
    best = mean.max()
    tied = mean >= best - float(tol) - 1e-12 * max(1.0, abs(best))
    chosen = float(grid[np.flatnonzero(tied)[0]])  # ascending: the first tied share is the smallest
    return ShareChoice(share=chosen, shares=grid, scores=mean, split_scores=split_scores, splits=splits)
