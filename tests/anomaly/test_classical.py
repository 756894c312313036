"""The classical members (ECOD, kNN, isolation forest): against reference implementations, on real data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from ganaug.anomaly.classical import SCORERS, ECODScorer, IsolationScorer, NearestNeighborScorer


@pytest.fixture(scope="module")
def cardio(shared_data):
    d = np.load(shared_data / "adbench" / "6_cardio.npz")
    X = d["X"].astype(np.float64)
    return (X - X.mean(0)) / X.std(0), d["y"].astype(np.int64)


def test_knn_matches_brute_force_and_leaves_training_rows_out(cardio):
    from sklearn.neighbors import NearestNeighbors

    X, _ = cardio
    X = X[:900]
    s = NearestNeighborScorer(n_neighbors=5, max_reference=2048).fit(X)
    dist, _ = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X)
    # training rows: their own distance 0 is left out (the 2nd..6th neighbours)
    np.testing.assert_allclose(s.decision_scores_, dist[:, 1:].mean(1), rtol=1e-3, atol=1e-3)
    new = X[:50] + 0.1
    ref, _ = NearestNeighbors(n_neighbors=5).fit(X).kneighbors(new)
    np.testing.assert_allclose(s.decision_function(new), ref.mean(1), rtol=1e-3, atol=1e-3)


def test_knn_reference_subsample(cardio):
    X, _ = cardio
    s = NearestNeighborScorer(max_reference=256, random_state=0).fit(X)
    assert s.reference_.shape == (256, X.shape[1])
    assert np.isfinite(s.decision_scores_).all() and len(s.decision_scores_) == len(X)
    with pytest.raises(ValueError, match="n_neighbors"):
        NearestNeighborScorer(n_neighbors=0).fit(X)


def _ecod_by_hand(train: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """ECOD as the paper writes it (Li et al. 2022), row by row: max of the summed -log left, right and
    skewness-chosen tails, with ganaug's (count + 1) / (n + 2) smoothing (no extrapolation inside the range)."""
    from scipy.stats import skew

    n = len(train)
    sk = skew(train, axis=0)
    out = []
    for x in rows:
        left = np.array([((train[:, j] <= x[j]).sum() + 1) / (n + 2) for j in range(len(x))])
        right = np.array([((train[:, j] >= x[j]).sum() + 1) / (n + 2) for j in range(len(x))])
        auto = np.where(sk < 0, -np.log(left), -np.log(right))
        out.append(max(-np.log(left).sum(), -np.log(right).sum(), auto.sum()))
    return np.array(out)


def test_ecod_is_the_papers_formula_and_ranks_like_pyods(cardio):
    from pyod.models.ecod import ECOD

    X, y = cardio
    ours = ECODScorer().fit(X)
    np.testing.assert_allclose(ours.decision_scores_[:40], _ecod_by_hand(X, X[:40]), rtol=1e-9)
    # pyod sums the larger tail per feature instead of taking the larger sum: close, not equal
    theirs = ECOD().fit(X)
    assert spearmanr(ours.decision_scores_, theirs.decision_scores_).statistic > 0.85
    # beyond the training range the score keeps growing (no tie at the edge)
    far = np.vstack([X.max(0) + 1.0, X.max(0) + 5.0])
    s = ours.decision_function(far)
    assert s[1] > s[0] > ours.decision_scores_.max()


def test_isolation_scorer_is_sklearns_forest(cardio):
    from sklearn.ensemble import IsolationForest

    X, _ = cardio
    s = IsolationScorer(random_state=3).fit(X)
    ref = IsolationForest(n_estimators=100, max_samples=256, random_state=3).fit(X)
    np.testing.assert_allclose(s.decision_function(X[:100]), -ref.score_samples(X[:100]))


@pytest.mark.parametrize("name", sorted(SCORERS))
def test_state_roundtrip(cardio, name):
    X, _ = cardio
    s = SCORERS[name]().fit(X[:500])
    state = s.get_state()
    assert all(isinstance(v, np.ndarray) for v in state.values())  # arrays only: safetensors, no pickle
    back = SCORERS[name].from_state(state, s.get_params())
    np.testing.assert_array_equal(back.decision_function(X[500:600]), s.decision_function(X[500:600]))


def test_wrong_width_is_refused(cardio):
    X, _ = cardio
    s = ECODScorer().fit(X)
    with pytest.raises(ValueError, match="features"):
        s.decision_function(X[:, :3])
