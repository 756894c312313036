"""The mixing policy: synthetic share chosen on validation splits of the training data only (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest

from ganaug.evaluate import DEFAULT_SHARES, ShareChoice, choose_synthetic_share, stratified_validation_split


def test_split_is_stratified_disjoint_and_keeps_rare_classes_on_both_sides():
    y = np.repeat(np.array(["a", "b", "rare", "tiny"]), [280, 270, 14, 3])
    fit, val = stratified_validation_split(y, val_size=0.25, min_fit=2, random_state=0)
    assert np.intersect1d(fit, val).size == 0
    assert np.array_equal(np.sort(np.concatenate([fit, val])), np.arange(len(y)))
    val_counts = {c: int((y[val] == c).sum()) for c in np.unique(y)}
    assert val_counts == {"a": 70, "b": 68, "rare": 4, "tiny": 1}  # 3 * 0.25 -> 1, 14 * 0.25 = 3.5 -> 4
    assert (y[fit] == "tiny").sum() == 2  # min_fit kept to learn from
    again = stratified_validation_split(y, val_size=0.25, min_fit=2, random_state=0)
    assert all(np.array_equal(p, q) for p, q in zip((fit, val), again))
    other = stratified_validation_split(y, val_size=0.25, min_fit=2, random_state=1)
    assert not np.array_equal(val, other[1])


def test_split_names_a_class_too_small_and_bad_parameters():
    y = np.array([0] * 10 + [1] * 2)
    with pytest.raises(ValueError, match=r"class 1 has 2 item\(s\).*min_fit \+ 1 = 3"):
        stratified_validation_split(y, min_fit=2)
    assert len(stratified_validation_split(y, min_fit=1)[1]) == 4  # 10 -> 3 (2.5 half up), 2 -> 1
    with pytest.raises(ValueError, match="val_size"):
        stratified_validation_split(y, val_size=1.0)
    with pytest.raises(ValueError, match="min_fit"):
        stratified_validation_split(y, min_fit=0)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        stratified_validation_split(np.zeros((3, 2)))


def _data(seed=0):
    """A training set (class 1 rare) and a test set of the same problem."""
    rng = np.random.default_rng(seed)
    y_tr = np.repeat([0, 1], [120, 16])
    X_tr = rng.normal(size=(len(y_tr), 2)) + 2.0 * y_tr[:, None]
    y_te = np.repeat([0, 1], [100, 100])
    X_te = rng.normal(size=(len(y_te), 2)) + 2.0 * y_te[:, None]
    return X_tr, y_tr, X_te, y_te


def _scorer(X, y, seen: list):
    """A real scorer: rare class filled up with Gaussian 'synthetic' points (a share) and repeats, nearest centroid."""

    def score(fit_index, val_index, shares):
        seen.append((fit_index.copy(), val_index.copy()))
        X_fit, y_fit = X[fit_index], y[fit_index]
        rng = np.random.default_rng(0)
        rare = X_fit[y_fit == 1]
        n_add = int((y_fit == 0).sum() - len(rare))
        out = []
        for share in shares:
            n_syn = int(round(share * n_add))
            synthetic = rng.normal(rare.mean(0), 3.0, size=(n_syn, 2))  # a too-wide 'generator'
            repeats = rare[rng.integers(len(rare), size=n_add - n_syn)]
            Xa = np.vstack([X_fit, synthetic, repeats])
            ya = np.concatenate([y_fit, np.ones(n_add, int)])
            centroids = np.stack([Xa[ya == c].mean(0) for c in (0, 1)])
            pred = np.argmin(((X[val_index, None] - centroids[None]) ** 2).sum(-1), axis=1)
            out.append(np.mean([np.mean(pred[y[val_index] == c] == c) for c in (0, 1)]))
        return out

    return score


def test_only_training_rows_are_used_and_test_labels_cannot_change_the_choice():
    X_tr, y_tr, X_te, y_te = _data()
    seen: list = []
    choice = choose_synthetic_share(_scorer(X_tr, y_tr, seen), y_tr, n_splits=3, random_state=0)
    assert isinstance(choice, ShareChoice)
    assert len(seen) == 3 and len(choice.splits) == 3
    for (fit, val), (f2, v2) in zip(seen, choice.splits):
        assert np.array_equal(fit, f2) and np.array_equal(val, v2)
        assert np.intersect1d(fit, val).size == 0
        assert fit.max() < len(y_tr) and val.max() < len(y_tr) and min(fit.min(), val.min()) >= 0
        assert (y_tr[val] == 1).sum() >= 1 and (y_tr[fit] == 1).sum() >= 1
    # the test set, with its labels flipped, passes nowhere into the choice: same splits, same scores, same share
    y_flipped = 1 - y_te
    again = choose_synthetic_share(_scorer(X_tr, y_tr, []), y_tr, n_splits=3, random_state=0)
    assert again.share == choice.share and np.array_equal(again.split_scores, choice.split_scores)
    assert y_flipped.sum() == 100  # (the flipped test set exists but the API has no place for it)
    # the validation split decides: scoring the same shares on the test rows instead gives other numbers
    test_scores = _scorer(np.vstack([X_tr, X_te]), np.concatenate([y_tr, y_flipped]), [])(
        np.arange(len(y_tr)), len(y_tr) + np.arange(len(y_te)), choice.shares)
    assert not np.allclose(test_scores, choice.split_scores[0])


def test_the_best_share_wins_and_ties_go_to_the_smaller_share():
    y = np.repeat([0, 1], [50, 10])
    peak = choose_synthetic_share(lambda f, v, s: -np.abs(s - 0.75), y, random_state=0)
    assert peak.share == 0.75 and peak.as_dict()[0.75] == 0.0
    assert np.array_equal(peak.shares, DEFAULT_SHARES)
    tie = choose_synthetic_share(lambda f, v, s: np.where(s >= 0.5, 1.0, 0.5), y, random_state=0)
    assert tie.share == 0.5
    near = choose_synthetic_share(lambda f, v, s: s / 100, y, tol=0.011, random_state=0)
    assert near.share == 0.0  # 0.0 .. 0.01 all within tol of the best
    assert choose_synthetic_share(lambda f, v, s: s / 100, y, tol=0.0, random_state=0).share == 1.0
    # shares are scored in ascending order whatever order they come in
    calls = []
    out = choose_synthetic_share(lambda f, v, s: calls.append(s.tolist()) or [0.0] * len(s), y, shares=(1, 0.5, 0))
    assert calls == [[0.0, 0.5, 1.0]] and out.share == 0.0


def test_scores_averaged_over_splits():
    y = np.repeat([0, 1], [40, 8])
    seq = iter([[0.9, 0.5], [0.1, 0.6]])  # split 0 prefers 0, split 1 prefers 1; the mean prefers 1 (0.5 vs 0.55)
    choice = choose_synthetic_share(lambda f, v, s: next(seq), y, shares=(0, 1), n_splits=2, random_state=0)
    assert choice.share == 1.0 and choice.scores.tolist() == pytest.approx([0.5, 0.55])
    assert not np.array_equal(choice.splits[0][1], choice.splits[1][1])  # two different cuts


def test_clear_errors():
    y = np.repeat([0, 1], [20, 6])
    ok = lambda f, v, s: [0.0] * len(s)  # noqa: E731
    with pytest.raises(TypeError, match="callable"):
        choose_synthetic_share(None, y)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        choose_synthetic_share(ok, y, shares=(0, 1.5))
    with pytest.raises(ValueError, match="must not repeat"):
        choose_synthetic_share(ok, y, shares=(0.5, 0.5))
    with pytest.raises(ValueError, match="non-empty"):
        choose_synthetic_share(ok, y, shares=())
    with pytest.raises(ValueError, match="n_splits"):
        choose_synthetic_share(ok, y, n_splits=0)
    with pytest.raises(ValueError, match="tol"):
        choose_synthetic_share(ok, y, tol=-1)
    with pytest.raises(ValueError, match=r"returned 2 value\(s\) on split 0; expected one per share \(5"):
        choose_synthetic_share(lambda f, v, s: [0.0, 1.0], y)
    with pytest.raises(ValueError, match="nan for share 0.25 on split 0"):
        choose_synthetic_share(lambda f, v, s: [0.0, np.nan, 0, 0, 0], y)
    with pytest.raises(ValueError, match="class 1 has 1 item"):
        choose_synthetic_share(ok, np.array([0, 0, 0, 1]), min_fit=1)


def test_first_split_is_the_one_stratified_validation_split_gives():
    y = np.repeat([0, 1, 2], [30, 9, 5])
    choice = choose_synthetic_share(lambda f, v, s: [0.0] * len(s), y, n_splits=2, val_size=0.3, min_fit=2,
                                    random_state=7)
    fit, val = stratified_validation_split(y, val_size=0.3, min_fit=2, random_state=7)
    assert np.array_equal(choice.splits[0][0], fit) and np.array_equal(choice.splits[0][1], val)
