"""GANAnomalyDetector: pyod contract, scoring, inversion, validation, sklearn and persistence, on real data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ganaug.anomaly import GANAnomalyDetector
from ganaug.core.latent import invert
from ganaug.exceptions import ModelFormatError

TINY = dict(epochs=4, encoder_epochs=4, hidden_dim=16, latent_dim=8)


@pytest.fixture(scope="module")
def breastw(shared_data):
    d = np.load(shared_data / "adbench" / "4_breastw.npz")
    return d["X"].astype(np.float64), d["y"].astype(np.int64)


@pytest.fixture(scope="module")
def fitted_hybrid(breastw):
    """The GAN alone, all four components, five bagged GANs (the table default before the classical members)."""
    X, y = breastw
    return GANAnomalyDetector(contamination=0.1, random_state=0, score="hybrid", members=("gan",), n_estimators=5,
                              max_samples=256, **TINY).fit(X)


@pytest.fixture(scope="module")
def fitted(breastw):
    X, y = breastw
    return GANAnomalyDetector(contamination=0.1, random_state=0, **TINY).fit(X)


def test_pyod_contract(fitted, breastw):
    X, _ = breastw
    det = fitted
    assert det.decision_scores_.shape == (len(X),)
    assert det.labels_.shape == (len(X),) and set(np.unique(det.labels_)) <= {0, 1}
    # threshold_ flags about `contamination` of the training data
    assert abs(det.labels_.mean() - 0.1) <= 0.02
    scores = det.decision_function(X[:50])
    # training rows: the GAN and isolation-forest members score them as any row; the kNN member leaves each
    # row out of its own neighbours (as pyod's KNN does for decision_scores_), so only it can score them higher
    comp = det.score_components(X[:50])
    train = det.decision_components_.iloc[:50]
    assert list(det.members_) == ["gan", "iforest", "knn"]
    for member in ("gan", "iforest"):
        np.testing.assert_allclose(comp[member], train[member], rtol=1e-5, atol=1e-6)
    assert (train["knn"].to_numpy() >= comp["knn"].to_numpy() - 1e-3).all()  # float32 distances
    assert (train["knn"].to_numpy() > comp["knn"].to_numpy() + 1e-3).any()
    np.testing.assert_allclose(det.decision_scores_, det.decision_components_.to_numpy().sum(1))
    pred = det.predict(X[:50])
    np.testing.assert_array_equal(pred, (scores > det.threshold_).astype(int))
    for method in ("linear", "unify"):
        proba = det.predict_proba(X[:50], method=method)
        assert proba.shape == (50, 2)
        np.testing.assert_allclose(proba.sum(1), 1.0)
        assert (proba >= 0).all() and (proba <= 1).all()
    # higher score, higher outlier probability
    p = det.predict_proba(X[:50])[:, 1]
    order = np.argsort(scores)
    assert np.all(np.diff(p[order]) >= -1e-12)
    labels, conf = det.predict(X[:10], return_confidence=True)
    assert conf.shape == (10,) and ((conf >= 0) & (conf <= 1)).all()
    with pytest.raises(ValueError, match="method"):
        det.predict_proba(X[:5], method="softmax")


def test_score_types_and_components(fitted_hybrid, breastw):
    fitted = fitted_hybrid
    X, y = breastw
    comps = fitted.score_components(X)
    assert list(comps.columns) == ["residual", "feature", "discriminator", "neighbor"]
    # table defaults: the four standardised components, weighted 0.5 each
    hybrid = 0.5 * (comps["residual"] + comps["feature"] + comps["discriminator"] + comps["neighbor"])
    np.testing.assert_allclose(fitted.decision_scores_, hybrid, rtol=1e-5, atol=1e-6)
    # the AnoGAN weighting on request
    old = clone(fitted).set_params(lambda_=0.1, discriminator_weight=0.0, neighbor_weight=0.0).fit(X)
    c = old.score_components(X)
    assert list(c.columns) == ["residual", "feature", "discriminator"]  # no bank drawn when unused
    np.testing.assert_allclose(old.decision_scores_, 0.9 * c["residual"] + 0.1 * c["feature"], rtol=1e-5, atol=1e-6)
    rec = clone(fitted).set_params(score="reconstruction")
    assert rec.score == "reconstruction"


def test_injected_anomaly_beats_every_normal_point(breastw):
    X, y = breastw
    normal = X[y == 0]
    det = GANAnomalyDetector(random_state=1, **{**TINY, "epochs": 60, "encoder_epochs": 30}).fit(normal)
    # a clear, separable anomaly: every feature 3 training ranges beyond the normal maximum
    spike = normal.max(0) + 3 * np.ptp(normal, axis=0)
    s = det.decision_function(np.vstack([normal, spike]))
    assert s[-1] > s[:-1].max()
    # and the real anomalies of the set rank above normal rows on the whole
    assert roc_auc_score(y, det.decision_function(X)) > 0.8


def test_y_given_trains_on_normal_rows_only(breastw):
    X, y = breastw
    det = GANAnomalyDetector(random_state=0, **TINY).fit(X, y)
    assert det.n_train_ == int((y == 0).sum())
    assert det.n_labelled_anomalies_ == int(y.sum())
    assert det.decision_scores_.shape == (len(X),)  # every row is still scored
    with pytest.raises(ValueError, match="0 \\(normal\\) and 1"):
        GANAnomalyDetector(**TINY).fit(X, np.where(y == 1, 2, 0))
    with pytest.raises(ValueError, match="every row"):
        GANAnomalyDetector(**TINY).fit(X, np.ones(len(X)))


def test_batched_inversion_matches_per_sample(fitted_hybrid, breastw):
    fitted = fitted_hybrid
    X, _ = breastw
    be = fitted._backend
    x = torch.as_tensor(fitted._codec.transform(X[:6]))
    z0 = torch.randn(6, *be.latent_shape, generator=torch.Generator().manual_seed(0))
    z_batch, r_batch = invert(be.decode, x, be.latent_shape, steps=25, lr=0.05, z0=z0)
    singles = [invert(be.decode, x[i : i + 1], be.latent_shape, steps=25, lr=0.05, z0=z0[i : i + 1]) for i in range(6)]
    z_single = torch.cat([z for z, _ in singles])
    r_single = torch.cat([r for _, r in singles])
    torch.testing.assert_close(z_batch, z_single, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(r_batch, r_single, rtol=1e-4, atol=1e-5)
    # inversion refines the encoder's guess: lower residual on the training rows
    det = clone(fitted)
    comps_enc = fitted.score_components(X[:100])
    fitted.inversion_steps = 30
    try:
        comps_inv = fitted.score_components(X[:100])
    finally:
        fitted.inversion_steps = 0
    assert comps_inv["residual"].mean() < comps_enc["residual"].mean()
    assert det.inversion_steps == 0


def test_bad_input_is_named(breastw):
    X, _ = breastw
    Xn = X.copy()
    Xn[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN in column 2 "):
        GANAnomalyDetector(**TINY).fit(Xn)
    Xi = X.copy()
    Xi[5, 1] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        GANAnomalyDetector(**TINY).fit(Xi)
    frame = pd.DataFrame(X.copy(), columns=[f"f{i}" for i in range(X.shape[1])])
    frame.loc[7, "f4"] = np.nan
    with pytest.raises(ValueError, match="'f4'"):
        GANAnomalyDetector(**TINY).fit(frame)
    with pytest.raises(ValueError, match="tabular|2-D"):
        GANAnomalyDetector(modality="tabular", **TINY).fit(X[:, 0])
    with pytest.raises(ValueError, match="dimensions"):
        GANAnomalyDetector(**TINY).fit(np.zeros((2, 2, 2, 2, 2)))
    for c in (0.0, 0.6, -0.1):
        with pytest.raises(ValueError, match="contamination"):
            GANAnomalyDetector(contamination=c, **TINY).fit(X)
    with pytest.raises(ValueError, match="fewer than batch_size=1000"):
        GANAnomalyDetector(batch_size=1000, **TINY).fit(X)
    with pytest.raises(ValueError, match="score"):
        GANAnomalyDetector(score="density", **TINY).fit(X)
    with pytest.raises(TypeError, match="numeric"):
        GANAnomalyDetector(**TINY).fit(np.array([["a", "b"], ["c", "d"]]))


def test_bad_input_after_fit(fitted, breastw):
    X, _ = breastw
    with pytest.raises(ValueError, match="features"):
        fitted.decision_function(X[:, :3])
    Xn = X[:10].copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.decision_function(Xn)


def test_dataframe_with_categories_unseen_level_scores_not_fails(shared_data):
    df = pd.read_csv(shared_data / "tabular" / "HMDA.csv").head(400)
    X = df.drop(columns=["deny"])
    det = GANAnomalyDetector(random_state=0, **TINY).fit(X)
    odd = X.head(3).copy()
    cat = next(c for c in X.columns if X[c].dtype == object)
    odd[cat] = "never-seen-level"
    s = det.decision_function(odd)
    assert s.shape == (3,) and np.isfinite(s).all()
    with pytest.raises(ValueError, match="columns"):
        det.decision_function(X.iloc[:, ::-1])


def test_pipeline_clone_and_repeatable(breastw):
    X, _ = breastw
    pipe = make_pipeline(StandardScaler(), GANAnomalyDetector(random_state=3, **TINY))
    pipe.fit(X)
    s1 = pipe.decision_function(X[:20])
    assert pipe.predict(X[:20]).shape == (20,)
    pipe2 = clone(pipe).fit(X)
    np.testing.assert_allclose(pipe2.decision_function(X[:20]), s1, rtol=1e-5, atol=1e-6)
    assert pipe.get_params()["gananomalydetector__contamination"] == 0.1


def test_save_load_roundtrip_without_pickle(fitted, breastw, tmp_path):
    X, _ = breastw
    fitted.save(tmp_path / "det")
    files = sorted(p.name for p in (tmp_path / "det").iterdir())
    assert files == ["config.json", "manifest.json", "weights.safetensors"]
    back = GANAnomalyDetector.load(tmp_path / "det")
    np.testing.assert_allclose(back.decision_function(X[:30]), fitted.decision_function(X[:30]), rtol=1e-5, atol=1e-6)
    assert back.threshold_ == pytest.approx(fitted.threshold_)
    np.testing.assert_array_equal(back.labels_, fitted.labels_)
    cfg = tmp_path / "det" / "config.json"
    data = json.loads(cfg.read_text())
    data["threshold"] = 0.0
    cfg.write_text(json.dumps(data))
    with pytest.raises(ModelFormatError, match="altered"):
        GANAnomalyDetector.load(tmp_path / "det")


def test_scoring_is_batched(fitted_hybrid, breastw, monkeypatch):
    fitted = fitted_hybrid
    X, _ = breastw
    calls = []
    be = fitted._backend
    original = be.decode

    def counting(z):
        calls.append(z.shape[0])
        return original(z)

    monkeypatch.setattr(be, "decode", counting)
    big = np.repeat(X, 15, axis=0)  # ~10k rows
    fitted.decision_function(big)
    assert len(calls) == int(np.ceil(len(big) / fitted.scoring_batch_size))
