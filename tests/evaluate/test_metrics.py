"""The weighted, vectorised metrics equal scikit-learn's, and the bootstrap plan is paired and stratified."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from ganaug.evaluate._bootstrap import BootstrapPlan, paired_bootstrap
from ganaug.evaluate._metrics import METRICS, resolve_metrics, weighted_metrics

BINARY = ["f1", "pr_auc", "roc_auc", "balanced_accuracy", "precision", "recall", "accuracy"]


def _sklearn(y, pred, score, pos, w=None):
    kw = {"sample_weight": w}
    return {
        "f1": skm.f1_score(y, pred, pos_label=pos, zero_division=0, **kw),
        "precision": skm.precision_score(y, pred, pos_label=pos, zero_division=0, **kw),
        "recall": skm.recall_score(y, pred, pos_label=pos, zero_division=0, **kw),
        "accuracy": skm.accuracy_score(y, pred, **kw),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred, **kw),
        "pr_auc": skm.average_precision_score(y == pos, score, **kw),
        "roc_auc": skm.roc_auc_score(y == pos, score, **kw),
    }


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(4, 60),
    seed=st.integers(0, 10_000),
    ties=st.booleans(),
    pos=st.integers(0, 1),
)
def test_binary_metrics_equal_sklearn_with_and_without_weights(n, seed, ties, pos):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]  # both classes present
    score = rng.random(n) + 0.3 * (y == pos)
    if ties:
        score = np.round(score, 1)  # many tied scores
    pred = np.where(score > 0.6, pos, 1 - pos)
    ours = weighted_metrics(y, pred, score, pos, 2, BINARY)
    ref = _sklearn(y, pred, score, pos)
    for name in BINARY:
        assert ours[name][0] == pytest.approx(ref[name], abs=1e-12), name
    # integer weights are the same as repeating rows: what the bootstrap relies on
    w = rng.integers(1, 4, n).astype(float)
    ours_w = weighted_metrics(y, pred, score, pos, 2, BINARY, W=w[None, :])
    ref_w = _sklearn(y, pred, score, pos, w)
    for name in BINARY:
        assert ours_w[name][0] == pytest.approx(ref_w[name], abs=1e-10), name


def test_float32_weight_blocks_match_row_by_row():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    score = rng.random(300) + 0.5 * y
    pred = (score > 0.7).astype(int)
    W = rng.integers(0, 3, (5, 300)).astype(np.float32)
    block = weighted_metrics(y, pred, score, 1, 2, BINARY, W=W)
    for b in range(5):
        ref = _sklearn(y, pred, score, 1, W[b].astype(float))
        for name in BINARY:
            assert block[name][b] == pytest.approx(ref[name], abs=1e-5), name


def test_multiclass_metrics_equal_sklearn():
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1, 2], [50, 30, 8])
    proba = rng.dirichlet(np.ones(3), size=y.size)
    proba[np.arange(y.size), y] += 0.4
    proba /= proba.sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    m = weighted_metrics(y, pred, proba, 2, 3, ["f1", "macro_f1", "roc_auc", "pr_auc", "balanced_accuracy"])
    assert m["f1"][0] == pytest.approx(skm.f1_score(y, pred, labels=[2], average="macro"))
    assert m["macro_f1"][0] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["roc_auc"][0] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert m["pr_auc"][0] == pytest.approx(skm.average_precision_score(y == 2, proba[:, 2]))
    assert m["balanced_accuracy"][0] == pytest.approx(skm.balanced_accuracy_score(y, pred))


def test_resolve_metrics_names_and_errors():
    assert resolve_metrics(None, 2) == [m for m in METRICS if m != "macro_f1"]
    assert "macro_f1" in resolve_metrics(None, 3)
    assert resolve_metrics("AP", 2) == ["pr_auc"]
    with pytest.raises(ValueError, match="unknown metric 'gmean'"):
        resolve_metrics(["f1", "gmean"], 2)


def test_bootstrap_plan_is_stratified_and_paired():
    labels = [np.repeat([0, 1], [40, 10]), np.repeat([0, 1], [38, 12])]
    plan = BootstrapPlan(labels, n_boot=300, seed=0)
    for lab, W in zip(labels, plan.row_weights):
        # every replicate keeps each class's count: no replicate without positives
        assert np.all(W[:, lab == 1].sum(axis=1) == (lab == 1).sum())
        assert np.all(W[:, lab == 0].sum(axis=1) == (lab == 0).sum())
    assert np.all(plan.fold_counts.sum(axis=1) == 2)
    same = BootstrapPlan(labels, n_boot=300, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(plan.row_weights, same.row_weights))


def test_paired_bootstrap_of_identical_arms_is_zero_and_of_a_shift_excludes_zero():
    rng = np.random.default_rng(3)
    labels = [rng.integers(0, 2, 80) for _ in range(5)]
    plan = BootstrapPlan(labels, n_boot=500, seed=1)
    preds = [(y, y.copy(), y + rng.normal(0, 0.8, y.size)) for y in labels]
    a = plan.per_fold_metrics(preds, 1, 2, ["pr_auc"])["pr_auc"]
    assert paired_bootstrap(a, a, plan) == (0.0, 0.0)
    # a worse arm: its scores carry more noise on every fold
    worse = [(y, p, s + rng.normal(0, 2.0, y.size)) for y, p, s in preds]
    b = plan.per_fold_metrics(worse, 1, 2, ["pr_auc"])["pr_auc"]
    lo, hi = paired_bootstrap(b, a, plan)
    assert hi < 0
