"""The bagged GAN ensemble and the nearest-generated-sample component of GANAnomalyDetector, on real data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from ganaug.anomaly import GANAnomalyDetector

TINY = dict(epochs=4, encoder_epochs=4, hidden_dim=16, latent_dim=8)
#: the GAN alone with its four components (the table default before the classical members)
HYBRID = dict(score="hybrid", members=("gan",))


@pytest.fixture(scope="module")
def wbc(shared_data):
    d = np.load(shared_data / "adbench" / "42_WBC.npz")
    return d["X"].astype(np.float64), d["y"].astype(np.int64)


def test_table_defaults_one_gan_and_two_classical_members(wbc):
    X, _ = wbc
    det = GANAnomalyDetector(random_state=0, **TINY).fit(X)
    assert det.n_estimators_ == 1 and det.max_samples_ == min(1024, len(X))
    assert det.members_ == ("gan", "iforest", "knn") and det.score_ == "neighbor"
    assert det._backends[0].encoder is None  # the neighbor score needs no encoder
    # the score is the sum of the members' scores, each standardised on the training rows
    comps = det.score_components(X[:60])
    np.testing.assert_allclose(det.decision_function(X[:60]), comps[["gan", "iforest", "knn"]].sum(1), rtol=1e-6)
    for name in det.members_:
        z = det.decision_components_[name]
        assert abs(float(np.median(z))) < 1e-9
    # without the classical members it is the GAN member's score alone
    gan_only = GANAnomalyDetector(random_state=0, members=("gan",), **TINY).fit(X)
    np.testing.assert_allclose(gan_only.decision_function(X[:60]), gan_only.score_components(X[:60])["neighbor"],
                               rtol=1e-6)


def test_bagging_five_gans_on_subsamples(wbc):
    X, _ = wbc
    det = GANAnomalyDetector(random_state=0, n_estimators=5, max_samples=256, **HYBRID, **TINY).fit(X)
    assert det.n_estimators_ == 5 and det.max_samples_ == min(256, len(X))
    assert len(det.estimator_stats_) == 5
    # each GAN has its own seed and rows: their generators differ
    w = [next(iter(be.gan.generator.parameters())).detach() for be in det._backends]
    assert not torch.equal(w[0], w[1])
    # the score is the mean over the GANs of each GAN's weighted, standardised components
    per = []
    for be, stats in zip(det._backends, det.estimator_stats_):
        z = det._standardise(det._raw_parts(det._codec.transform(X), be), stats)
        per.append(0.5 * (z["residual"] + z["feature"] + z["discriminator"] + z["neighbor"]))
    np.testing.assert_allclose(det.decision_scores_, np.mean(per, axis=0), rtol=1e-5, atol=1e-6)


def test_max_samples_forms_and_single_gan(wbc):
    X, _ = wbc
    one = GANAnomalyDetector(n_estimators=1, max_samples=None, random_state=0, **TINY).fit(X)
    assert one.n_estimators_ == 1
    half = GANAnomalyDetector(n_estimators=2, max_samples=0.5, random_state=0, **TINY).fit(X)
    assert half.max_samples_ == round(0.5 * len(X)) and half.n_estimators_ == 2
    # a subsample smaller than the batch is named
    with pytest.raises(ValueError, match="max_samples=50"):
        GANAnomalyDetector(max_samples=50, batch_size=64, **TINY).fit(X)


@pytest.mark.parametrize("bad", [1, 0, 1.5, 0.0, "all", True])
def test_bad_max_samples(wbc, bad):
    with pytest.raises(ValueError, match="max_samples"):
        GANAnomalyDetector(max_samples=bad, **TINY).fit(wbc[0])


@pytest.mark.parametrize("members", [(), ("iforest",), ("gan", "gan"), ("gan", "lof"), "gan"])
def test_bad_members(wbc, members):
    with pytest.raises(ValueError, match="members"):
        GANAnomalyDetector(members=members, **TINY).fit(wbc[0])


def test_auto_score_of_a_series_is_hybrid_and_needs_latents():
    """score="auto" is "hybrid" for a series: without an encoder or inversion it has no latents, refused."""
    from ganaug.datasets import load_internal_bleeding

    _, test, _ = load_internal_bleeding()
    with pytest.raises(ValueError, match="encoder_epochs=0"):
        GANAnomalyDetector(window=16, encoder_epochs=0, epochs=1).fit(test[:600])


def test_classical_members_are_for_tables_only():
    from ganaug.datasets import load_internal_bleeding

    _, test, _ = load_internal_bleeding()
    with pytest.raises(ValueError, match="tables only"):
        GANAnomalyDetector(window=16, members=("gan", "iforest"), epochs=1, encoder_epochs=1).fit(test[:600])


@pytest.mark.parametrize("name,value", [("n_estimators", 0), ("k_neighbors", 0), ("n_generated", -1),
                                        ("neighbor_weight", -1.0)])
def test_bad_ensemble_params(wbc, name, value):
    with pytest.raises(ValueError, match=name):
        GANAnomalyDetector(**{name: value}, **TINY).fit(wbc[0])


def test_neighbor_score_needs_generated_rows(wbc):
    with pytest.raises(ValueError, match="n_generated > 0"):
        GANAnomalyDetector(score="neighbor", n_generated=0, **TINY).fit(wbc[0])


def test_neighbor_is_the_distance_to_the_nearest_generated_rows(wbc):
    X, y = wbc
    det = GANAnomalyDetector(score="neighbor", n_estimators=1, n_generated=300, k_neighbors=3, random_state=0,
                             **TINY).fit(X)
    be = det._backends[0]
    assert be.encoder is None  # the neighbor score needs no encoder
    x = det._codec.transform(X[:40])
    # brute force: every pair, in numpy
    bank = be.bank.numpy()
    d = np.sqrt(((x[:, None, :] - bank[None, :, :]) ** 2).sum(-1))
    want = np.sort(d, axis=1)[:, :3].mean(1)
    got = be.parts(x, batch_size=7, inversion_steps=0, inversion_lr=0.05, seed=0, k_neighbors=3)["neighbor"]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # the bank is drawn from the seed: the same draws again
    first = be.bank.clone()
    be.make_bank(300, det.seed_)
    torch.testing.assert_close(be.bank, first)


def test_injected_anomaly_tops_every_component(wbc):
    X, y = wbc
    normal = X[y == 0]
    det = GANAnomalyDetector(n_estimators=2, epochs=60, encoder_epochs=30, hidden_dim=16, latent_dim=8,
                             random_state=2, **HYBRID).fit(normal)
    spike = normal.max(0) + 3 * np.ptp(normal, axis=0)
    comps = det.score_components(np.vstack([normal, spike]))
    for k in ("residual", "feature", "neighbor"):
        assert comps[k].iloc[-1] > comps[k].iloc[:-1].max(), k
    assert roc_auc_score(y, det.decision_function(X)) > 0.8


def test_ensemble_save_load_roundtrip(wbc, tmp_path):
    X, _ = wbc
    det = GANAnomalyDetector(n_estimators=3, random_state=0, **TINY).fit(X)
    det.save(tmp_path / "det")
    back = GANAnomalyDetector.load(tmp_path / "det")
    assert back.n_estimators_ == 3 and back.max_samples_ == det.max_samples_
    np.testing.assert_allclose(back.decision_function(X[:50]), det.decision_function(X[:50]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(back.score_components(X[:50]), det.score_components(X[:50]), rtol=1e-5, atol=1e-6)


def test_series_keeps_one_gan_and_the_anogan_weighting():
    from ganaug.datasets import load_internal_bleeding

    _, test, _ = load_internal_bleeding()
    det = GANAnomalyDetector(window=16, stride=8, epochs=1, encoder_epochs=1, random_state=0).fit(test[:1200])
    assert det.n_estimators_ == 1 and det.max_samples_ == det.n_train_
    assert det._weights() == {"residual": 0.9, "feature": 0.1}
    assert det._backends[0].bank is None


def test_loads_a_detector_saved_before_the_ensemble(wbc, tmp_path):
    """A single-GAN detector in the earlier layout (no ``estimators`` list, unprefixed tensors) still loads."""
    from ganaug.io import load_model_dir, save_model_dir

    X, _ = wbc
    old = dict(n_estimators=1, max_samples=None, lambda_=0.1, discriminator_weight=0.0, neighbor_weight=0.0)
    det = GANAnomalyDetector(random_state=0, **old, **HYBRID, **TINY).fit(X)
    det.save(tmp_path / "new")
    config, tensors = load_model_dir(tmp_path / "new")
    est = config.pop("estimators")[0]
    config.pop("max_samples")
    config["gan_kwargs"], config["component_stats"] = est["gan_kwargs"], est["component_stats"]
    for k in ("n_estimators", "max_samples", "neighbor_weight", "n_generated", "k_neighbors", "members"):
        config["params"].pop(k)
    for k in ("score", "members", "member_stats", "member_params"):
        config.pop(k)
    tensors = {k[5:] if k.startswith("est0.") else k: v for k, v in tensors.items()}
    save_model_dir(tmp_path / "old", config, tensors)
    back = GANAnomalyDetector.load(tmp_path / "old")
    assert back.n_estimators_ == 1 and back._weights() == {"residual": 0.9, "feature": 0.1}
    np.testing.assert_allclose(back.decision_function(X[:40]), det.decision_function(X[:40]), rtol=1e-5, atol=1e-6)
