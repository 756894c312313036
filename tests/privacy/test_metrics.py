"""Privacy metrics on real data: DCR, NNDR, exact copies, membership inference, copy filter."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import RandomOverSampler

from ganaug.datasets import load_credit, load_hmda
from ganaug.privacy import (
    CopyFilter,
    PrivacyEncoder,
    distance_to_closest_record,
    filter_copies,
    membership_inference_auc,
    nearest_distances,
    privacy_metrics,
    privacy_report,
)


@pytest.fixture(scope="module")
def credit_split():
    X, y = load_credit()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(X))
    tr, ho = idx[:3000], idx[3000:]
    return X.iloc[tr].reset_index(drop=True), y.iloc[tr].reset_index(drop=True), \
        X.iloc[ho].reset_index(drop=True), y.iloc[ho].reset_index(drop=True)


def test_nearest_distances_match_brute_force_across_blocks():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(700, 6))
    ref[50] = ref[10]  # a duplicate
    query = np.r_[rng.normal(size=(300, 6)), ref[:5]]
    d, i = nearest_distances(query, ref, k=3, query_block=64, reference_block=100)
    full = np.sqrt(((query[:, None, :] - ref[None]) ** 2).sum(-1))
    np.testing.assert_allclose(d, np.sort(full, axis=1)[:, :3], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(full[np.arange(len(query))[:, None], i], d, rtol=1e-10, atol=1e-12)
    assert np.all(d[-5:, 0] == 0.0)  # copies exactly at 0, not rounding noise
    # leave-one-out: the duplicate pair sees each other at 0, every other row its true nearest other row
    d_loo, i_loo = nearest_distances(ref, ref, exclude_self=True, query_block=64, reference_block=100)
    np.fill_diagonal(full2 := np.sqrt(((ref[:, None] - ref[None]) ** 2).sum(-1)), np.inf)
    np.testing.assert_allclose(d_loo[:, 0], full2.min(1), rtol=1e-10, atol=1e-12)
    assert d_loo[10, 0] == 0.0 and i_loo[10, 0] == 50
    assert np.all(i_loo[:, 0] != np.arange(len(ref)))


def test_dcr_of_a_copy_is_zero_and_of_a_holdout_row_its_true_distance(credit_split):
    X_tr, _, X_ho, _ = credit_split
    assert np.all(distance_to_closest_record(X_tr.iloc[:50], X_tr) == 0.0)
    enc = PrivacyEncoder().fit(X_tr)
    E_tr, E_ho = enc.transform(X_tr), enc.transform(X_ho.iloc[:40])
    brute = np.sqrt(((E_ho[:, None, :] - E_tr[None]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(distance_to_closest_record(X_ho.iloc[:40], X_tr), brute, rtol=1e-10)
    assert np.all(brute > 0)


def test_encoder_puts_a_different_level_and_a_one_std_change_at_distance_one():
    train = pd.DataFrame({"x": [0.0, 2.0, np.nan, 1.0], "c": ["a", "b", "a", None]})
    enc = PrivacyEncoder().fit(train)
    std = np.nanstd([0.0, 2.0, 1.0])
    a = enc.transform(pd.DataFrame({"x": [1.0], "c": ["a"]}))
    b = enc.transform(pd.DataFrame({"x": [1.0], "c": ["b"]}))
    c = enc.transform(pd.DataFrame({"x": [1.0 + std], "c": ["a"]}))
    unseen = enc.transform(pd.DataFrame({"x": [1.0], "c": ["zzz"]}))
    assert np.linalg.norm(a - b) == pytest.approx(1.0)
    assert np.linalg.norm(a - c) == pytest.approx(1.0)
    assert np.linalg.norm(a - unseen) == pytest.approx(1.0)
    missing = enc.transform(pd.DataFrame({"x": [np.nan], "c": [None]}))
    assert np.isfinite(missing).all() and missing.shape == a.shape
    with pytest.raises(ValueError, match="differ from the training columns"):
        enc.transform(pd.DataFrame({"x": [1.0], "d": ["a"]}))
    with pytest.raises(ValueError, match="kind='image' or kind='series'"):
        PrivacyEncoder().fit(np.zeros((4, 3, 5), dtype=np.float32))


def test_replaying_generator_is_flagged_and_fresh_real_rows_are_not(credit_split):
    X_tr, y_tr, X_ho, y_ho = credit_split
    bad = y_tr == "bad"
    replay = privacy_report(X_tr, X_tr[bad], X_ho, y_tr, y_tr[bad], y_ho, random_state=0)
    assert replay["exact_copies"] == 1.0 and replay["dcr_ratio"] == 0.0 and replay["nndr_synthetic"] == 0.0
    assert replay["mia_auc_distance"] > 0.9 and replay["mia_auc"] > 0.9
    # fresh real rows as "synthetic": as far as the holdout, no attack advantage
    half = len(X_ho) // 2
    fresh = privacy_report(X_tr, X_ho.iloc[:half], X_ho.iloc[half:], y_tr, y_ho.iloc[:half], y_ho.iloc[half:],
                           random_state=0)
    assert fresh["exact_copies"] < 0.01  # credit_data has a few real duplicate rows (about 0.3 %)
    assert 0.8 < fresh["dcr_ratio"] < 1.25
    assert 0.4 < fresh["mia_auc_distance"] < 0.6
    assert fresh["mia_auc"] < 0.62


def test_smote_like_interpolation_sits_closer_than_real_data(credit_split):
    X_tr, _, X_ho, _ = credit_split
    num = X_tr.select_dtypes("number").fillna(X_tr.select_dtypes("number").median())
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(num), 400), rng.integers(0, len(num), 400)
    lam = rng.random((400, 1)) * 0.1  # 10 % of the way to another row
    syn = pd.DataFrame(num.to_numpy()[a] * (1 - lam) + num.to_numpy()[b] * lam, columns=num.columns)
    hold = X_ho[num.columns].fillna(num.median())
    rep = privacy_report(num, syn, hold, random_state=0)
    assert rep["dcr_ratio"] < 0.5 and rep["exact_copies"] == 0.0


def test_images_and_series_replay_is_flagged(shared_data):
    mnist = np.load(shared_data / "mnist" / "mnist_4k.npz")
    X = mnist["X"]
    tr, ho = X[:1500], X[1500:2500]
    rep = privacy_report(tr, tr[:500], ho, random_state=0)
    assert rep["exact_copies"] == 1.0 and rep["dcr_ratio"] == 0.0
    fresh = privacy_report(tr, ho[:500], ho[500:], random_state=0)
    assert fresh["exact_copies"] == 0.0 and 0.8 < fresh["dcr_ratio"] < 1.25
    # a classifier's feature space through encoder=
    feats = privacy_report(tr, tr[:500], ho, encoder=lambda A: A.reshape(len(A), -1)[:, ::7].astype(float),
                           random_state=0)
    assert feats["exact_copies"] == 1.0

    gp = np.load(shared_data / "timeseries" / "GunPoint.npz")
    S_tr, S_ho = gp["X_test"][:100], gp["X_test"][100:]
    rep = privacy_report(S_tr, S_tr, S_ho, kind="series", random_state=0)
    assert rep["exact_copies"] == 1.0 and rep["mia_auc"] > 0.9
    jitter = S_tr + np.random.default_rng(0).normal(scale=0.01, size=S_tr.shape).astype(np.float32)
    rep = privacy_report(S_tr, jitter, S_ho, kind="series", random_state=0)
    assert rep["exact_copies"] == 0.0 and rep["dcr_ratio"] < 0.3  # near-copies: not exact, still far too close


def test_membership_attack_on_encoded_arrays():
    rng = np.random.default_rng(0)
    train, hold, ref = rng.normal(size=(300, 5)), rng.normal(size=(300, 5)), rng.normal(size=(300, 5))
    near_copies = train + rng.normal(scale=0.05, size=train.shape)
    res = membership_inference_auc(train, hold, near_copies, ref)
    assert membership_inference_auc(train, hold, near_copies, "nonmembers")["density_ratio"] > 0.9
    assert res["distance"] > 0.9 and res["density_ratio"] > 0.9
    fresh = membership_inference_auc(train, hold, rng.normal(size=(300, 5)), ref)
    assert abs(fresh["distance"] - 0.5) < 0.1 and abs(fresh["density_ratio"] - 0.5) < 0.1


def test_filter_copies_removes_copies_and_keeps_fresh_rows(credit_split):
    X_tr, y_tr, X_ho, y_ho = credit_split
    syn = pd.concat([X_tr.iloc[:100], X_ho.iloc[:300]], ignore_index=True)
    y_syn = np.r_[y_tr.iloc[:100], y_ho.iloc[:300]]
    keep = filter_copies(syn, X_tr, y_syn, y_tr, quantile=0.05)
    assert not keep[:100].any()
    assert keep[100:].mean() > 0.85  # about 95 % of fresh rows pass
    with pytest.raises(ValueError, match="quantile"):
        filter_copies(syn, X_tr, quantile=0.7)
    with pytest.raises(ValueError, match="both y_synthetic and y_train"):
        filter_copies(syn, X_tr, y_syn)


def test_copy_filter_on_random_oversampling_removes_every_added_row():
    X, y = load_hmda()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X_res, y_res = CopyFilter(RandomOverSampler(), random_state=0).fit_resample(X, y)
    assert len(X_res) == len(X) and X_res.equals(X.reset_index(drop=True))
    assert any("could not be replaced" in str(w.message) for w in caught)


@pytest.mark.slow
def test_copy_filter_tops_a_ganaug_augmenter_up_with_rows_that_pass():
    from ganaug.augment.tabular import TabularAugmenter

    X, y = load_hmda()
    tiny = TabularAugmenter(epochs=1, batch_size=200, embedding_dim=16, generator_dim=(32,), discriminator_dim=(32,),
                            pac=5)
    cf = CopyFilter(tiny, quantile=0.3, random_state=0)  # a strict threshold, so that rows get removed
    X_res, y_res = cf.fit_resample(X, y)
    assert cf.removed_ > 0
    assert y_res.value_counts().to_dict() == {"no": 2095, "yes": 2095}  # removed rows were replaced
    keep = filter_copies(X_res.iloc[len(X):], X, y_res.iloc[len(X):].to_numpy(), y.to_numpy(), quantile=0.3)
    assert keep.all()
    assert X_res.iloc[: len(X)].equals(X.reset_index(drop=True))


def test_privacy_columns_of_the_utility_report_compare_like_with_like(monkeypatch):
    """The hook passes labels: minority synthetic rows are measured against fresh minority rows only."""
    from sklearn.linear_model import LogisticRegression

    import ganaug.privacy.metrics as pm
    from ganaug.evaluate import utility_report

    X, y = load_hmda()
    X, y = X.iloc[:3000], y.iloc[:3000]
    calls = []
    real_report = pm.privacy_report
    monkeypatch.setattr(pm, "privacy_report", lambda *a, **k: calls.append(1) or real_report(*a, **k))
    cols = privacy_metrics(["exact_copies", "dcr_ratio", "mia_auc", "n_holdout"])
    rep = utility_report(LogisticRegression(max_iter=300), X, y, augmenters={"replay": RandomOverSampler(random_state=0)},
                         baselines=["none"], cv=3, metrics=["pr_auc"], n_boot=100, random_state=0, progress=False,
                         synthetic_metrics=cols)
    res = rep.results.query("arm == 'replay'").pivot_table(index="fold", columns="metric", values="value")
    minority = y.value_counts().idxmin()
    n_min = int((y == minority).sum())
    # the holdout of every fold is the minority rows of its test fold (about a third of them), not the whole fold
    assert res["n holdout"].sum() == n_min
    assert len(calls) == 3  # one report per fold, shared by the four columns
    assert (res["exact copies"] == 1.0).all() and (res["dcr ratio"] == 0.0).all()
    assert (res["mia auc"] > 0.75).all()
    # without labels (an old-style call) the same callable measures against the whole test fold
    X_tr, X_te = X.iloc[:2000], X.iloc[2000:]
    assert cols["n holdout"](X_tr, X_tr.iloc[:50], X_te) == len(X_te)
    y_tr, y_te = y.iloc[:2000].to_numpy(), y.iloc[2000:].to_numpy()
    assert cols["n holdout"](X_tr, X_tr.iloc[:50], X_te, y_train=y_tr, y_synthetic=y_tr[:50], y_test=y_te) \
        == np.isin(y_te, np.unique(y_tr[:50])).sum()
