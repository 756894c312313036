"""FewLabelAnomalyDetector and mask_labels: label handling, one label, pyod contract, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier

from ganaug.anomaly import GANAnomalyDetector
from ganaug.anomaly.fewlabel import FewLabelAnomalyDetector, mask_labels
from ganaug.augment.tabular import TabularAugmenter


def _data(seed=0, n_normal=240, n_anom=16):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(n_normal, 4)), rng.normal(5.0, 0.4, size=(n_anom, 4))])
    y = np.r_[np.zeros(n_normal, int), np.ones(n_anom, int)]
    return X, y


def _tiny_gan(**kw):
    return GANAnomalyDetector(epochs=2, encoder_epochs=1, hidden_dim=8, latent_dim=4, **kw)


def _tiny_aug():
    return TabularAugmenter(epochs=2, batch_size=50, generator_dim=(16,), discriminator_dim=(16,), embedding_dim=8,
                            max_modes=1, calibrate=False, filter_synthetic=False)


#: what the recording estimators saw, by name (``clone`` copies parameters, so the log lives outside them)
_LOGS: dict[str, list] = {}


class _RecordingClassifier(ClassifierMixin, BaseEstimator):
    """A classifier that remembers what it was trained on (for the leak tests)."""

    def __init__(self, log="clf"):
        self.log = log

    def fit(self, X, y):
        _LOGS.setdefault(self.log, []).append((np.array(X, copy=True), np.array(y, copy=True)))
        self.classes_ = np.array([0, 1])
        self.center_ = np.asarray(X)[np.asarray(y) == 1].mean(axis=0)
        return self

    def predict_proba(self, X):
        p = 1.0 / (1.0 + np.linalg.norm(np.asarray(X) - self.center_, axis=1))
        return np.c_[1 - p, p]


class _RecordingDetector(BaseEstimator):
    def __init__(self, log="det"):
        self.log = log

    def fit(self, X, y=None):
        _LOGS.setdefault(self.log, []).append((np.array(X, copy=True), y))
        self.center_ = np.asarray(X).mean(axis=0)
        self.decision_scores_ = self.decision_function(X)
        return self

    def decision_function(self, X):
        return np.linalg.norm(np.asarray(X) - self.center_, axis=1)


# ------------------------------------------------------------ mask_labels
def test_mask_labels_keeps_a_ratio_of_true_anomalies_nested_and_at_least_one():
    _, y = _data()
    kept = {r: mask_labels(y, r, random_state=3) for r in (0.01, 0.25, 0.5, 1.0)}
    assert [int(k.sum()) for k in kept.values()] == [1, 4, 8, 16]
    for k in kept.values():
        assert set(np.flatnonzero(k)) <= set(np.flatnonzero(y))  # only true anomalies stay labelled
    assert set(np.flatnonzero(kept[0.01])) <= set(np.flatnonzero(kept[0.25])) <= set(np.flatnonzero(kept[0.5]))
    assert not np.array_equal(mask_labels(y, 0.25, random_state=3), mask_labels(y, 0.25, random_state=4))


@pytest.mark.parametrize("ratio", [0, -0.1, 1.5, True, "half"])
def test_mask_labels_bad_ratio(ratio):
    with pytest.raises(ValueError, match="ratio"):
        mask_labels([0, 1, 1], ratio)


def test_mask_labels_bad_y():
    with pytest.raises(ValueError, match="no anomaly"):
        mask_labels([0, 0, 0], 0.5)
    with pytest.raises(ValueError, match="only 0 and 1"):
        mask_labels([0, 2, 1], 0.5)


# ------------------------------------------------------- label handling
def test_only_kept_labels_reach_the_classifier_detector_and_augmenter():
    X, y = _data()
    y_kept = mask_labels(y, 0.25, random_state=0)  # 4 of 16 anomalies labelled, 12 hidden as 0
    hidden = np.flatnonzero((y == 1) & (y_kept == 0))
    from imblearn.over_sampling import RandomOverSampler

    _LOGS.clear()
    det = FewLabelAnomalyDetector(detector=_RecordingDetector("det"), augmenter=RandomOverSampler(),
                                  estimator=_RecordingClassifier("clf"), random_state=0).fit(X, y_kept)
    (X_fit, y_fit), = _LOGS["clf"]
    n = len(X)
    # the real rows come first with exactly the kept labels: the hidden anomalies are 0; the detector's
    # standardised score of each row is one more feature (XGBOD's representation)
    assert X_fit.shape[1] == X.shape[1] + 1 and det.score_features_ == ["detector"]
    np.testing.assert_array_equal(X_fit[:n, :4], X)
    med, iqr = det._score_scale
    np.testing.assert_allclose(X_fit[:n, 4], (det.detector_.decision_function(X) - med) / iqr)
    np.testing.assert_array_equal(y_fit[:n], y_kept)
    assert y_fit[hidden].sum() == 0
    # the extra rows are synthetic anomalies, copies of labelled rows only (RandomOverSampler)
    extra = X_fit[n:]
    assert len(extra) == det.n_synthetic_ == n - 2 * 4 and (y_fit[n:] == 1).all()
    labelled_rows = {tuple(r) for r in X[y_kept == 1]}
    assert all(tuple(r) in labelled_rows for r in extra[:, :4])
    # the detector saw the unlabelled rows (hidden anomalies included), without labels
    (X_det, y_det), = _LOGS["det"]
    np.testing.assert_array_equal(X_det, X[y_kept == 0])
    assert y_det is None
    assert det.n_labelled_anomalies_ == 4


def test_fit_is_a_function_of_X_and_the_kept_labels_and_the_seed():
    """Same rows, same kept labels, same seed: the same detector, whatever the hidden truth was."""
    X, y = _data()
    y_kept = mask_labels(y, 0.25, random_state=0)
    y_more = y.copy()
    y_more[:5] = 1  # a different hidden truth (more anomalies) that hides to the same kept labels
    assert np.array_equal(y_kept, np.where((y_more == 1) & (y_kept == 1), 1, 0))
    kw = dict(detector=_tiny_gan(), augmenter=_tiny_aug(), random_state=0)
    a = FewLabelAnomalyDetector(**kw).fit(X, y_kept)
    b = FewLabelAnomalyDetector(**kw).fit(X, np.where((y_more == 1) & (y_kept == 1), 1, 0))
    np.testing.assert_allclose(a.decision_scores_, b.decision_scores_)


def test_one_labelled_anomaly_works_with_the_gan_augmenter():
    X, y = _data(seed=1)
    y_one = mask_labels(y, 0.01, random_state=1)
    assert y_one.sum() == 1
    det = FewLabelAnomalyDetector(detector=_tiny_gan(), augmenter=_tiny_aug(), n_synthetic=50,
                                  random_state=0).fit(X, y_one)
    assert det.n_labelled_anomalies_ == 1 and det.n_synthetic_ == 50
    assert det.weight_ == pytest.approx(1 / 1.25)  # prior_strength 0.25
    s = det.decision_function(X)
    assert np.isfinite(s).all()
    hidden = (y == 1) & (y_one == 0)
    assert s[hidden].mean() > s[y == 0].mean()  # the unknown anomalies rank above the normal rows on average


# --------------------------------------------------------------- contract
def test_pyod_contract_and_clone():
    X, y = _data()
    y_kept = mask_labels(y, 0.5, random_state=0)
    det = FewLabelAnomalyDetector(contamination=0.1, detector=_tiny_gan(members=("gan",)), augmenter=None,
                                  random_state=0)
    assert clone(det).get_params()["contamination"] == 0.1
    det.fit(X, y_kept)
    n = len(X)
    assert det.decision_scores_.shape == (n,) and det.labels_.shape == (n,)
    assert abs(det.labels_.mean() - 0.1) < 0.05
    s = det.decision_function(X)
    np.testing.assert_allclose(s, det.decision_scores_)
    np.testing.assert_array_equal(det.predict(X), (s > det.threshold_).astype(int))
    p = det.predict_proba(X)
    assert p.shape == (n, 2) and np.allclose(p.sum(1), 1)
    comp = det.score_components(X)
    assert list(comp.columns) == ["unsupervised", "supervised", "detector"] and len(comp) == n
    assert det.weight_ == pytest.approx(8 / 8.25) and det.n_synthetic_ == 0 and det.augmenter_ is None


def test_without_detector_the_score_is_the_classifiers_and_prefit_detector_is_not_refitted():
    X, y = _data()
    y_kept = mask_labels(y, 0.25, random_state=0)
    sup = FewLabelAnomalyDetector(detector=None, augmenter=None, random_state=0).fit(X, y_kept)
    assert sup.weight_ == 1.0 and sup.score_components(X)["unsupervised"].isna().all()
    clf = HistGradientBoostingClassifier(class_weight="balanced", random_state=0).fit(X, y_kept)
    order = np.argsort(clf.predict_proba(X)[:, 1], kind="stable")
    assert np.all(np.diff(sup.decision_function(X)[order]) >= -1e-12)  # same ranking as the plain classifier
    _LOGS.clear()
    pre = _RecordingDetector("pre").fit(X)
    FewLabelAnomalyDetector(detector=pre, prefit_detector=True, augmenter=None, random_state=0).fit(X, y_kept)
    assert len(_LOGS["pre"]) == 1  # used as it is, not refitted


def test_default_representation_appends_each_members_score_and_training_rows_leave_themselves_out():
    X, y = _data()
    y_kept = mask_labels(y, 0.25, random_state=0)
    _LOGS.clear()
    det = FewLabelAnomalyDetector(detector=_tiny_gan(), estimator=_RecordingClassifier("clf"),
                                  random_state=0).fit(X, y_kept)
    assert det.score_features_ == ["gan", "iforest", "knn"] and det.augmenter_ is None
    (X_fit, _), = _LOGS["clf"]
    unl = y_kept == 0
    # unlabelled rows: the members' scores from the detector's own fit (kNN without the row itself)
    np.testing.assert_allclose(X_fit[unl, 4:], det.detector_.decision_components_.to_numpy())
    # labelled anomalies were not in the detector's training rows: scored as new rows
    np.testing.assert_allclose(X_fit[~unl, 4:], det.detector_.score_components(X[~unl])[det.score_features_],
                               rtol=1e-6, atol=1e-6)
    raw = FewLabelAnomalyDetector(detector=_tiny_gan(), representation="raw", estimator=_RecordingClassifier("raw"),
                                  random_state=0).fit(X, y_kept)
    (X_raw, _), = _LOGS["raw"]
    assert X_raw.shape == X.shape and raw.score_features_ == []


def test_save_load_roundtrip_without_pickle_and_tampering_refused(tmp_path):
    import json

    import ganaug
    from ganaug.exceptions import ModelFormatError

    X, y = _data()
    y_kept = mask_labels(y, 0.25, random_state=0)
    det = FewLabelAnomalyDetector(detector=_tiny_gan(), augmenter=_tiny_aug(), n_synthetic=20,
                                  random_state=0).fit(X, y_kept)
    det.save(tmp_path / "few")
    back = ganaug.load(tmp_path / "few")
    assert isinstance(back, FewLabelAnomalyDetector) and isinstance(back.augmenter_, TabularAugmenter)
    np.testing.assert_array_equal(back.decision_function(X), det.decision_function(X))
    np.testing.assert_array_equal(back.predict(X), det.predict(X))
    assert back.weight_ == det.weight_ and back.threshold_ == det.threshold_
    # no pickle anywhere: the classifier is a skops byte string inside safetensors
    assert not list((tmp_path / "few").rglob("*.pkl"))
    cfg = tmp_path / "few" / "config.json"
    c = json.loads(cfg.read_text())
    c["weight"] = 0.0
    cfg.write_text(json.dumps(c))
    with pytest.raises(ModelFormatError, match="altered"):
        FewLabelAnomalyDetector.load(tmp_path / "few")
    # the GAN detector's own folder is checked as well
    det.save(tmp_path / "few2")
    w = tmp_path / "few2" / "detector" / "weights.safetensors"
    w.write_bytes(w.read_bytes()[:-8] + b"\x00" * 8)
    with pytest.raises(ModelFormatError):
        ganaug.load(tmp_path / "few2")


def test_save_refuses_a_custom_detector(tmp_path):
    X, y = _data()
    det = FewLabelAnomalyDetector(detector=_RecordingDetector("x"), random_state=0).fit(X, mask_labels(y, 0.25, 0))
    with pytest.raises(TypeError, match="only ganaug's GANAnomalyDetector"):
        det.save(tmp_path / "custom")


def test_skops_loader_refuses_untrusted_types():
    from skops.io import dumps

    from ganaug.anomaly.classical import loads_trusted
    from ganaug.exceptions import ModelFormatError

    with pytest.raises(ModelFormatError, match="does not trust"):
        loads_trusted(dumps(_RecordingClassifier("evil")))


# -------------------------------------------------------------- bad input
@pytest.mark.parametrize("y, match", [
    (None, "y is required"),
    (np.zeros(256), "no confirmed anomaly"),
    (np.r_[np.zeros(255), 2], "only 0 and 1"),
    (np.zeros(10), "10 labels but X has 256"),
    (np.zeros((256, 2)), "1-D"),
    (np.array(["a"] * 256), "0 \\(unlabelled"),
])
def test_bad_labels(y, match):
    X, _ = _data()
    with pytest.raises(ValueError, match=match):
        FewLabelAnomalyDetector(detector=None, augmenter=None).fit(X, y)


def test_bad_X_and_params():
    X, y = _data()
    det = FewLabelAnomalyDetector(detector=None, augmenter=None)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        det.fit(X_nan, y)
    with pytest.raises(ValueError, match="2D"):
        det.fit(X[:, 0], y)
    with pytest.raises(ValueError, match="only 1 unlabelled"):
        det.fit(X[:2], [0, 1])
    for params, err, match in [
        ({"contamination": 0.7}, ValueError, "contamination"),
        ({"prior_strength": -1}, ValueError, "prior_strength"),
        ({"representation": "both"}, ValueError, "representation"),
        ({"n_synthetic": -5}, ValueError, "n_synthetic"),
        ({"detector": "iforest"}, ValueError, "detector"),
        ({"augmenter": "smote"}, ValueError, "augmenter"),
        ({"detector": object()}, TypeError, "fit and decision_function"),
        ({"augmenter": object()}, TypeError, "fit_resample"),
        ({"estimator": object()}, TypeError, "predict_proba"),
        ({"prefit_detector": True, "detector": None}, ValueError, "prefit_detector"),
    ]:
        kw = {"detector": None, "augmenter": None, **params}
        with pytest.raises(err, match=match):
            FewLabelAnomalyDetector(**kw).fit(X, y)
    fitted = det.fit(X, y)
    with pytest.raises(ValueError, match="3 features, but the detector was fitted on 4"):
        fitted.decision_function(X[:, :3])


# ------------------------------------------------------------- real data
@pytest.mark.slow
def test_weakly_supervised_on_real_data_beats_chance(shared_data):
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    d = np.load(shared_data / "adbench" / "38_thyroid.npz")
    Xtr, Xte, ytr, yte = train_test_split(d["X"], d["y"], test_size=0.3, stratify=d["y"], random_state=0)
    sc = StandardScaler().fit(Xtr)
    y_kept = mask_labels(ytr, 0.05, random_state=0)
    det = FewLabelAnomalyDetector(contamination=0.03, detector=GANAnomalyDetector(epochs=8, encoder_epochs=4),
                                  augmenter=_tiny_aug(), random_state=0).fit(sc.transform(Xtr), y_kept)
    ap = average_precision_score(yte, det.decision_function(sc.transform(Xte)))
    assert ap > 5 * yte.mean()  # thyroid: 2.5 % anomalies
