"""utility_report: fold hygiene by instrumentation, verdict logic, repeatability, bad input, other modalities."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline

from ganaug.datasets import load_credit, load_default, load_gunpoint, load_hmda, load_mnist
from ganaug.evaluate import RandomOversampler, utility_report
from ganaug.evaluate._preprocess import make_preprocessor

from ..augment._gaussian import GaussianTestAugmenter


# ------------------------------------------------------------------ test doubles
class SpySampler(BaseEstimator):
    """Oversamples the minority by copying rows, giving every synthetic row a negative ``row_id``."""

    calls: ClassVar[list] = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit_resample(self, X, y):
        ids = X["row_id"].to_numpy()
        y = np.asarray(y)
        labels, counts = np.unique(y, return_counts=True)
        minority = labels[np.argmin(counts)]
        src = X[y == minority]
        n_new = counts.max() - counts.min()
        rng = np.random.default_rng(self.random_state)
        new = src.iloc[rng.integers(0, len(src), n_new)].copy()
        start = 1 + sum(len(c[1]) for c in SpySampler.calls)
        new["row_id"] = -(start + np.arange(n_new))
        SpySampler.calls.append((ids.copy(), new["row_id"].to_numpy()))
        return pd.concat([X, new], ignore_index=True), np.concatenate([y, np.repeat(minority, n_new)])


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression that records the row ids it is fitted on and asked to score."""

    log: ClassVar[list] = []

    def __init__(self, class_weight=None):
        self.class_weight = class_weight

    def fit(self, X, y):
        self.fit_ids_ = X["row_id"].to_numpy().copy()
        feats = X.drop(columns="row_id")
        self.model_ = make_pipeline(make_preprocessor(feats), LogisticRegression(max_iter=500, class_weight=self.class_weight))
        self.model_.fit(feats, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        SpyClassifier.log.append((self.fit_ids_, X["row_id"].to_numpy().copy()))
        return self.model_.predict_proba(X.drop(columns="row_id"))


class FlipMinority(BaseEstimator):
    """A harmful 'augmenter': relabels 30% of the minority rows as the majority class."""

    def __init__(self, share=0.3, random_state=None):
        self.share = share
        self.random_state = random_state

    def fit_resample(self, X, y):
        y = np.array(y, copy=True)
        labels, counts = np.unique(y, return_counts=True)
        minority, majority = labels[np.argmin(counts)], labels[np.argmax(counts)]
        rows = np.flatnonzero(y == minority)
        rng = np.random.default_rng(self.random_state)
        y[rng.choice(rows, int(self.share * rows.size), replace=False)] = majority
        return X, y


class Identity(BaseEstimator):
    def fit_resample(self, X, y):
        return X, y


# ------------------------------------------------------------------- hygiene
def test_resampling_stays_inside_training_folds_and_tests_never_see_synthetic_rows():
    X, y = load_hmda()
    X = X.iloc[:900].reset_index(drop=True)
    y = y.iloc[:900].reset_index(drop=True)
    X.insert(0, "row_id", np.arange(len(X)))
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=5)
    splits = list(cv.split(X, y))
    SpySampler.calls.clear()
    SpyClassifier.log.clear()
    rep = utility_report(SpyClassifier(), X, y, augmenters={"spy": SpySampler()}, cv=cv, random_state=0,
                         baselines=["none", "tuned_threshold", "class_weight", "random_oversampling"], preprocess=None, metrics=["f1", "pr_auc"], n_boot=100, progress=False)

    # the sampler saw exactly each training fold, once per resampling arm and fold
    trains = [set(tr.tolist()) for tr, _ in splits]
    assert len(SpySampler.calls) == 3
    for (seen, made), train in zip(SpySampler.calls, trains):
        assert set(seen.tolist()) == train
        assert made.size > 0 and (made < 0).all()
    synthetic = set(np.concatenate([m for _, m in SpySampler.calls]).tolist())

    # no model is ever asked to score a row it was fitted on, nor a synthetic row
    assert SpyClassifier.log
    fitted_with_synthetic = 0
    for fit_ids, scored in SpyClassifier.log:
        assert (scored >= 0).all()
        assert not set(scored.tolist()) & set(fit_ids.tolist())
        fitted_with_synthetic += bool(set(fit_ids.tolist()) & synthetic)
    assert fitted_with_synthetic > 0  # the synthetic rows were used, for training

    # every outer test fold was scored as itself, by models fitted inside its training fold
    for tr, te in splits:
        outer = [(f, s) for f, s in SpyClassifier.log if set(s.tolist()) == set(te.tolist())]
        assert len(outer) == 4  # none, class weights, random oversampling, spy (tuned reuses none's scores)
        for fit_ids, _ in outer:
            real = fit_ids[fit_ids >= 0]
            assert set(real.tolist()) <= set(tr.tolist())

    # the report's stored predictions are the test folds, in order
    for (_, arm), preds in rep._preds.items():
        for p, (_, te) in zip(preds, splits):
            assert np.array_equal(p.index, te)
    assert rep.results.query("metric == 'n_synthetic' and arm == 'spy'")["value"].gt(0).all()


# -------------------------------------------------------------------- verdict
@pytest.fixture(scope="module")
def credit():
    return load_credit()


def test_an_arm_that_flips_minority_labels_is_reported_worse(credit):
    X, y = credit
    rep = utility_report(LogisticRegression(max_iter=1000), X, y, augmenters={"flip 30%": FlipMinority()},
                         baselines=["none", "tuned_threshold", "class_weight"], cv=5, random_state=0,
                         metrics=["f1", "pr_auc", "recall"], n_boot=500, progress=False)
    s = rep.summary().set_index(["arm", "metric"])
    row = s.loc[("flip 30%", "f1")]
    assert row["reference"] in ("tuned threshold", "class weights")
    assert row["diff"] < 0 and row["ci_high"] < 0
    assert s.loc[("flip 30%", "recall"), "ci_high"] < 0
    v = rep.verdicts().set_index("metric")
    assert v.loc["f1", "outcome"] == "worse"
    text = rep.verdict()
    assert "flip 30% lowered minority F1 by" in text
    assert "do not augment" in text


def test_identical_arms_give_intervals_covering_zero(credit):
    X, y = credit
    X, y = X.iloc[:2000], y.iloc[:2000]
    rep = utility_report(LogisticRegression(max_iter=1000), X, y,
                         augmenters={"identity": Identity(), "oversampling again": RandomOversampler()},
                         baselines=["none", "random_oversampling"], cv=4, random_state=1, metrics=["f1", "pr_auc"],
                         n_boot=500, progress=False)
    s = rep.summary().set_index(["arm", "metric"])
    # exactly the same model as "none": difference and interval are exactly zero
    for metric in ("f1", "pr_auc"):
        ident = s.loc[("identity", metric)]
        none = s.loc[("none", metric)]
        assert ident["mean"] == none["mean"]
    # the same method with other random draws: the interval covers zero
    for metric in ("f1", "pr_auc"):
        again = s.loc[("oversampling again", metric)]
        ros_ref = s.loc[("random oversampling", metric)]
        if ros_ref["reference"] == "random oversampling":
            assert again["ci_low"] <= 0 <= again["ci_high"]
    f1_ref = s.loc[("none", "f1"), "reference"]
    assert f1_ref == "random oversampling"
    assert s.loc[("identity", "pr_auc"), "reference"] in ("none", "random oversampling")
    v = rep.verdicts().set_index("metric")
    assert v.loc["f1", "outcome"] == "unclear"


def test_a_real_gain_is_reported_as_better():
    # LogisticRegression on Default (3.3% positives): at the 0.5 threshold balancing raises recall a lot
    X, y = load_default()
    rep = utility_report(LogisticRegression(max_iter=1000), X, y, augmenters={"oversampling": RandomOversampler()},
                         baselines=["none"], cv=3, random_state=0, metrics=["recall"], n_boot=300,
                         progress=False)
    v = rep.verdicts().set_index("metric")
    assert list(v.index) == ["recall"]  # without f1 and pr_auc the first metric (display order) decides
    assert v.loc["recall", "outcome"] == "better" and v.loc["recall", "ci_low"] > 0.3
    assert "oversampling raised minority recall by" in rep.verdict()
    assert "Recommendation: augment with oversampling." in rep.verdict()


# ---------------------------------------------------------------- repeatable
def _numeric_default():
    X, y = load_default()
    X = X.assign(student=(X["student"] == "Yes").astype(float)).to_numpy(dtype=float)[:3000]
    return X, np.asarray(y)[:3000]


def test_same_seed_same_report_other_seed_other_folds():
    X, y = _numeric_default()
    kw = {"augmenters": {"gauss": GaussianTestAugmenter()}, "cv": 3, "metrics": ["f1", "pr_auc"], "n_boot": 200,
          "progress": False, "baselines": ["none", "random_oversampling", "smote"]}
    a = utility_report(LogisticRegression(max_iter=500), X, y, random_state=11, **kw)
    b = utility_report(LogisticRegression(max_iter=500), X, y, random_state=11, **kw)
    c = utility_report(LogisticRegression(max_iter=500), X, y, random_state=12, **kw)

    def quality(r):
        return r.results[~r.results["metric"].isin(["fit_time", "sample_time"])].reset_index(drop=True)

    pd.testing.assert_frame_equal(quality(a), quality(b))
    cols = ["mean", "diff", "ci_low", "ci_high"]
    sa, sb = a.summary(), b.summary()
    keep = ~sa["metric"].isin(["fit_time", "sample_time"])
    pd.testing.assert_frame_equal(sa.loc[keep, cols], sb.loc[keep, cols])
    assert a.verdict() == b.verdict()
    assert not quality(a)["value"].equals(quality(c)["value"])
    assert a.results.query("arm == 'gauss' and metric == 'n_synthetic'")["value"].gt(0).all()


# ----------------------------------------------------------------- bad input
class NoScores(BaseEstimator):
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


def test_bad_input_gives_clear_errors():
    X, y = load_hmda()
    lr = LogisticRegression()
    with pytest.raises(TypeError, match="neither predict_proba nor decision_function"):
        utility_report(NoScores(), X, y, augmenters=[])
    with pytest.raises(ValueError, match="only one class"):
        utility_report(lr, X, np.repeat("no", len(X)), augmenters=[])
    small_y = np.where(np.arange(len(X)) < 4, "yes", "no")
    with pytest.raises(ValueError, match=r"cv=5 folds need at least 5 rows of every class, but class 'yes' has 4"):
        utility_report(lr, X, small_y, augmenters=[])
    with pytest.raises(ValueError, match="X has 2380 rows but y has 10"):
        utility_report(lr, X, y[:10], augmenters=[])
    with pytest.raises(TypeError, match="has no fit_resample"):
        utility_report(lr, X, y, augmenters={"bad": lr})
    with pytest.raises(TypeError, match="scikit-learn classifier or a callable"):
        utility_report(42, X, y, augmenters=[])
    with pytest.raises(ValueError, match="pos_label 'maybe' is not a class"):
        utility_report(lr, X, y, augmenters=[], pos_label="maybe")
    with pytest.raises(ValueError, match="unknown metric 'speed'"):
        utility_report(lr, X, y, augmenters=[], metrics=["speed"])
    with pytest.raises(ValueError, match="unknown baseline"):
        utility_report(lr, X, y, augmenters=[], baselines=["smote", "adasyn"])
    with pytest.raises(ValueError, match="missing label"):
        utility_report(lr, X, pd.Series(y).astype(object).where(np.arange(len(y)) > 0), augmenters=[])


# ------------------------------------------------------ images and series
def _centroid_proba(X_train, y_train, X_test, sample_weight=None):
    """A tiny classifier on any array shape: softmax of negative distances to (weighted) class centroids."""
    Xtr = np.asarray(X_train, dtype=float).reshape(len(X_train), -1)
    Xte = np.asarray(X_test, dtype=float).reshape(len(X_test), -1)
    classes = np.unique(y_train)
    w = np.ones(len(Xtr)) if sample_weight is None else np.asarray(sample_weight)
    cents = np.stack([np.average(Xtr[y_train == c], axis=0, weights=w[y_train == c]) for c in classes])
    d = ((Xte[:, None, :] - cents[None]) ** 2).sum(-1)
    d = d / d.std()
    e = np.exp(-(d - d.min(axis=1, keepdims=True)))
    return e / e.sum(axis=1, keepdims=True)


def test_series_report_through_a_callable():
    X_tr, y_tr, X_te, y_te = load_gunpoint()
    X = np.concatenate([X_tr, X_te])
    y = np.concatenate([y_tr, y_te])
    keep = np.flatnonzero((y == "2") | (np.arange(y.size) % 3 == 0))  # make class "1" rare
    rep = utility_report(_centroid_proba, X[keep], y[keep], augmenters=[], cv=3, random_state=0, n_boot=200,
                         progress=False)
    assert list(rep.arms["name"]) == ["none", "tuned threshold", "class weights", "random oversampling"]
    assert any("SMOTE skipped" in n for n in rep.notes)
    assert rep.pos_label == "1"
    syn = rep.synthetic["random oversampling"][0]
    assert syn.shape[1:] == (1, 150)
    assert "_centroid_proba" in rep.to_markdown()


def test_multiclass_images_through_a_callable():
    X, y = load_mnist()
    rng = np.random.default_rng(0)
    keep = np.flatnonzero((y != 0) | (rng.random(y.size) < 0.15))[:1500]
    rep = utility_report({"centroid": _centroid_proba}, X[keep], y[keep], augmenters={"ros": RandomOversampler()},
                         baselines=["none", "tuned_threshold"], cv=3, random_state=0, n_boot=200, progress=False)
    assert rep.pos_label == 0
    assert "macro_f1" in rep.metrics
    assert any("tuned threshold skipped" in n for n in rep.notes)
    s = rep.summary()
    assert set(s["arm"]) == {"none", "ros"}
    fig = rep.plot()
    assert len(fig.axes) == 2


# ------------------------------------------------------------------ rendering
def test_markdown_html_and_figures(tmp_path):
    X, y = load_hmda()
    rep = utility_report(LogisticRegression(max_iter=500), X, y, augmenters={"ros": RandomOversampler()},
                         baselines=["none", "tuned_threshold", "smote"], cv=3, random_state=0, n_boot=200,
                         progress=False)
    md = rep.to_markdown()
    assert "## Verdict" in md and "| ros * |" in md and "SMOTE-NC" in md
    page = rep.to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == page
    assert page.count("data:image/png;base64,") == 2  # metrics + marginals (no GAN history)
    assert "<script" not in page and "http" not in page.split("<body>")[1]  # self-contained
    paths = rep.save_figures(tmp_path)
    assert sorted(p.name for p in paths) == ["marginals.png", "metrics.png"]


# ------------------------------------------------------- shared-fit variants
class CountingGaussian(GaussianTestAugmenter):
    fits: ClassVar[list] = []

    def _fit_generator(self, X, codes, seed):
        CountingGaussian.fits.append(len(X))
        super()._fit_generator(X, codes, seed)


def test_augmenter_variants_fit_once_per_fold_and_sample_each_variant():
    from ganaug.evaluate import AugmenterVariants

    X, y = _numeric_default()
    CountingGaussian.fits.clear()
    variants = AugmenterVariants(CountingGaussian(), {"full": {"sampling_strategy": "auto"},
                                                      "half": {"sampling_strategy": 0.5}})
    rep = utility_report(LogisticRegression(max_iter=500), X, y, augmenters={"gauss": variants}, baselines=["none"],
                         cv=3, random_state=0, metrics=["f1"], n_boot=200, progress=False)
    assert len(CountingGaussian.fits) == 3  # one fit per fold for both arms
    n = rep.results.query("metric == 'n_synthetic'").groupby("arm")["value"].mean()
    majority = (y == "No").sum() * 2 / 3
    assert n["full"] == pytest.approx(majority - (y == "Yes").sum() * 2 / 3, abs=2)
    assert n["half"] < n["full"] / 2 + 2
    assert list(rep.arms["name"]) == ["none", "full", "half"]
    with pytest.raises(TypeError, match="needs an augmenter with fit"):
        AugmenterVariants(RandomOversampler(), {"a": {}})


# ------------------------------------------------------- with ganaug's GAN
@pytest.mark.slow
def test_report_with_tabular_augmenter_on_a_real_table():
    from ganaug.evaluate import default_augmenters

    X, y = load_hmda()
    arms = default_augmenters(X, epochs=2, ctgan=False)
    rep = utility_report(LogisticRegression(max_iter=1000), X, y, augmenters=arms, baselines=["none", "class_weight"],
                         cv=2, random_state=0, metrics=["f1", "pr_auc"], n_boot=200, progress=False)
    assert list(rep.arms["name"]) == ["none", "class weights", "ganaug", "ganaug + filter"]
    syn, lab = rep.synthetic["ganaug"]
    assert isinstance(syn, pd.DataFrame) and (syn.dtypes == X.dtypes).all()
    assert set(lab.tolist()) == {"yes"}
    assert "ganaug" in rep.histories and rep.histories["ganaug"][0].keys() >= {"d_loss"}
    assert set(rep.figures()) == {"metrics", "marginals", "losses"}
    assert rep.verdicts()["arm"].isin(["ganaug", "ganaug + filter"]).all()


def test_synthetic_metrics_are_computed_per_resampling_arm_and_fold():
    X, y = _numeric_default()

    def copy_share(X_train, X_syn, X_test):
        """Share of synthetic rows that are exact copies of a training row (privacy check of issue 13)."""
        train = {tuple(r) for r in np.round(np.asarray(X_train), 9)}
        return float(np.mean([tuple(r) in train for r in np.round(np.asarray(X_syn), 9)]))

    rep = utility_report(LogisticRegression(max_iter=500), X, y, augmenters={"gauss": GaussianTestAugmenter()},
                         baselines=["none", "random_oversampling"], cv=3, random_state=0, metrics=["f1"], n_boot=200,
                         progress=False, synthetic_metrics={"copy share": copy_share})
    share = rep.results.query("metric == 'copy share'").groupby("arm")["value"]
    assert share.count().to_dict() == {"gauss": 3, "random oversampling": 3}  # not for "none"
    assert share.mean()["random oversampling"] == 1.0 and share.mean()["gauss"] == 0.0
    assert "copy share" in rep.to_markdown()
    with pytest.raises(ValueError, match="clashes"):
        utility_report(LogisticRegression(), X, y, augmenters=[], synthetic_metrics={"f1": copy_share})


def test_synthetic_metrics_get_labels_when_they_accept_them():
    X, y = _numeric_default()
    seen: dict = {"labelled": [], "kwargs": [], "plain": 0}

    def labelled(X_train, X_syn, X_test, y_train, y_synthetic, y_test):
        seen["labelled"].append((len(X_train), len(X_syn), len(X_test), np.asarray(y_train), np.asarray(y_synthetic),
                                 np.asarray(y_test)))
        return 0.0

    def kwargs(X_train, X_syn, X_test, **kw):
        seen["kwargs"].append(sorted(kw))
        return 0.0

    def plain(X_train, X_syn, X_test):
        seen["plain"] += 1
        return 0.0

    utility_report(LogisticRegression(max_iter=500), X, y, augmenters=[], baselines=["none", "random_oversampling"],
                   cv=3, random_state=0, metrics=["f1"], n_boot=200, progress=False,
                   synthetic_metrics={"a": labelled, "b": kwargs, "c": plain})
    assert len(seen["labelled"]) == 3 and seen["plain"] == 3
    assert seen["kwargs"] == [["y_synthetic", "y_test", "y_train"]] * 3
    values, counts = np.unique(y, return_counts=True)
    minority = values[np.argmin(counts)]
    total = 0
    for n_tr, n_syn, n_te, y_tr, y_syn, y_te in seen["labelled"]:
        assert (len(y_tr), len(y_syn), len(y_te)) == (n_tr, n_syn, n_te)
        assert set(np.unique(y_syn)) == {minority}  # random oversampling adds minority rows only
        assert n_syn == (y_tr != minority).sum() - (y_tr == minority).sum()
        total += n_te
    assert total == len(y)  # the test folds, with their own labels


def test_a_bad_variant_strategy_fails_before_any_training():
    from ganaug.evaluate import AugmenterVariants

    X, y = _numeric_default()
    CountingGaussian.fits.clear()
    bad = AugmenterVariants(CountingGaussian(), {"ok": {}, "too low": {"sampling_strategy": 0.01}})
    with pytest.raises(ValueError, match="arm 'too low': sampling_strategy=0.01"):
        utility_report(LogisticRegression(), X, y, augmenters={"g": bad}, baselines=["none"], cv=3, progress=False)
    assert CountingGaussian.fits == []
