"""TabularAugmenter: the sampler contract on real tables, persistence, filter, validation, backends."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split

from ganaug.augment.base import BaseAugmenter
from ganaug.augment.tabular import TabularAugmenter
from ganaug.datasets import load_credit, load_hmda
from ganaug.exceptions import ModelFormatError

#: tiny networks so that a fit takes a second or two
TINY = dict(epochs=2, batch_size=200, embedding_dim=16, generator_dim=(32, 32), discriminator_dim=(32,), pac=5)


@pytest.fixture(scope="module")
def credit():
    X, y = load_credit()
    return X, y


@pytest.fixture(scope="module")
def fitted(credit):
    X, y = credit
    return TabularAugmenter(random_state=0, **TINY).fit(X, y)


def test_fit_resample_keeps_originals_first_and_dtypes(credit):
    X, y = credit
    Xs = X.set_index(np.arange(100, 100 + len(X)))  # a non-default index is reset, as imbalanced-learn does
    ys = y.set_axis(Xs.index)
    X_res, y_res = TabularAugmenter(random_state=0, **TINY).fit_resample(Xs, ys)
    n = len(X)
    assert isinstance(X_res, pd.DataFrame) and isinstance(X_res.index, pd.RangeIndex)
    assert list(X_res.columns) == list(X.columns) and X_res.dtypes.equals(X.dtypes)
    pd.testing.assert_frame_equal(X_res.iloc[:n], X)  # every original value, in order
    assert y_res.iloc[:n].tolist() == y.tolist() and y_res.name == "Status" and y_res.dtype == y.dtype
    assert y_res.value_counts().to_dict() == {"bad": 3200, "good": 3200}
    new = X_res.iloc[n:]
    assert (new["Seniority"] % 1 == 0).all() and new["Home"].dtype == X["Home"].dtype
    assert new["Income"].isna().any()  # missing values are generated too


@pytest.mark.parametrize(
    "strategy, expected",
    [(0.5, {"bad": 225, "good": 450}), ({"bad": 200, "good": 460}, {"bad": 200, "good": 460}),
     ("not minority", {"bad": 150, "good": 450})],
)
def test_sampling_strategy(credit, strategy, expected):
    X, y = credit
    keep = np.r_[np.flatnonzero(y == "good")[:450], np.flatnonzero(y == "bad")[:150]]
    aug = TabularAugmenter(sampling_strategy=strategy, random_state=0, **{**TINY, "epochs": 1})
    _, y_res = aug.fit_resample(X.iloc[keep], y.iloc[keep])
    assert y_res.value_counts().to_dict() == expected


def test_arrays_in_arrays_out():
    X, y = load_hmda()
    A = X.select_dtypes("number").to_numpy(np.float32)
    A[::17, 0] = np.nan
    labels = (y == "yes").to_numpy().astype(int)
    A_res, y_res = TabularAugmenter(random_state=0, **TINY).fit_resample(A, labels)
    assert isinstance(A_res, np.ndarray) and A_res.dtype == np.float32 and A_res.shape[1] == A.shape[1]
    assert np.array_equal(A_res[: len(A)], A, equal_nan=True)
    assert isinstance(y_res, np.ndarray) and y_res.dtype == labels.dtype and np.bincount(y_res).tolist() == [2095] * 2


def test_sample_counts_seed_and_unknown_label(fitted):
    X_new, y_new = fitted.sample(100, random_state=1)
    assert len(X_new) == 100 and y_new.value_counts().to_dict() == {"good": 72, "bad": 28}
    X_again, _ = fitted.sample(100, random_state=1)
    pd.testing.assert_frame_equal(X_new, X_again)
    X_bad, y_bad = fitted.sample({"bad": 7})
    assert len(X_bad) == 7 and (y_bad == "bad").all()
    with pytest.raises(ValueError, match="unknown class 'ugly'"):
        fitted.sample({"ugly": 3})


def test_iter_samples_streams_bounded_chunks(fitted):
    chunks = list(fitted.iter_samples({"bad": 1200, "good": 300}, chunk_size=500, random_state=4))
    assert [len(X) for X, _ in chunks] == [500, 500, 500]
    y_all = pd.concat([y for _, y in chunks], ignore_index=True)
    assert y_all.value_counts().to_dict() == {"bad": 1200, "good": 300}
    again = list(fitted.iter_samples({"bad": 1200, "good": 300}, chunk_size=500, random_state=4))
    pd.testing.assert_frame_equal(chunks[1][0], again[1][0])
    with pytest.raises(ValueError, match="chunk_size"):
        next(fitted.iter_samples(10, chunk_size=0))


def test_unlabelled_fit_samples_rows_only(credit):
    X, _ = credit
    aug = TabularAugmenter(random_state=0, **TINY).fit(X.iloc[:600])
    out = aug.sample(5)
    assert isinstance(out, pd.DataFrame) and out.shape == (5, X.shape[1])


def test_save_load_gives_identical_samples(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    loaded = TabularAugmenter.load(tmp_path / "m")
    for rs in (0, 5):
        a, ya = fitted.sample(300, random_state=rs)
        b, yb = loaded.sample(300, random_state=rs)
        pd.testing.assert_frame_equal(a, b)
        assert ya.equals(yb)
    assert isinstance(BaseAugmenter.load(tmp_path / "m"), TabularAugmenter)
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "manifest.json", "weights.safetensors"]
    (tmp_path / "m" / "config.json").write_text((tmp_path / "m" / "config.json").read_text().replace("Income", "Incone"))
    with pytest.raises(ModelFormatError, match="altered"):
        TabularAugmenter.load(tmp_path / "m")


def test_pipeline_and_clone(credit):
    X, y = credit
    pipe = Pipeline([("aug", TabularAugmenter(random_state=0, **TINY)),
                     ("clf", HistGradientBoostingClassifier(max_iter=20, categorical_features="from_dtype"))])
    pipe.fit(X.iloc[:1000], y.iloc[:1000])
    assert pipe.predict_proba(X.iloc[:5]).shape == (5, 2)
    c = clone(pipe.named_steps["aug"])
    assert c.get_params() == pipe.named_steps["aug"].get_params() and not hasattr(c, "module_")


def test_trainer_passthrough_dict_and_instance(credit):
    X, y = credit
    aug = TabularAugmenter(random_state=0, **{**TINY, "epochs": 5}, trainer={"max_epochs": 1})
    aug.fit(X.iloc[:500], y.iloc[:500])
    assert max(r["epoch"] for r in aug.history_) == 0
    trainer = pl.Trainer(max_steps=4, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    aug = TabularAugmenter(random_state=0, **TINY, trainer=trainer).fit(X.iloc[:2000], y.iloc[:2000])
    assert 1 <= len(aug.history_) <= 4  # the user's Trainer (max_steps) wins over epochs=2 (20 batches)


def test_same_seed_same_model(credit):
    X, y = credit
    a = TabularAugmenter(random_state=3, **TINY).fit(X.iloc[:800], y.iloc[:800]).sample(50, random_state=0)[0]
    b = TabularAugmenter(random_state=3, **TINY).fit(X.iloc[:800], y.iloc[:800]).sample(50, random_state=0)[0]
    pd.testing.assert_frame_equal(a, b)


def test_filter_keeps_the_rows_the_critic_prefers(fitted):
    aug = clone(fitted)
    aug.__dict__.update(fitted.__dict__)  # same trained model
    aug.set_params(filter_synthetic=True, filter_quantile=0.5)
    X_f, y_f = aug.sample({"bad": 400, "good": 100}, random_state=2)
    assert y_f.value_counts().to_dict() == {"bad": 400, "good": 100}
    # the same candidates, drawn again with the same seeds: the kept rows are each class's best-scored half
    import torch

    codes = np.repeat([0, 1], [400, 100])
    cand_codes = np.repeat([0, 1], [800, 200])
    rng = np.random.default_rng(9)
    cats = aug._sampler.sample_conditions(cand_codes, rng)
    rows = aug.module_.sample_rows(torch.as_tensor(cand_codes), torch.as_tensor(cats),
                                   generator=torch.Generator().manual_seed(9))
    scores = aug._critic_scores(rows, cand_codes, cats, rng)
    kept = aug._encoded_rows(codes, np.random.default_rng(9), torch.Generator().manual_seed(9))
    for c, (lo, hi), n in ((0, (0, 800), 400), (1, (800, 1000), 100)):
        best = lo + np.argsort(-scores[lo:hi], kind="stable")[:n]
        np.testing.assert_array_equal(kept[codes == c], rows.numpy()[best])
        assert scores[best].mean() > scores[lo:hi].mean()


def test_tstr_validation_keeps_the_best_checkpoint(credit):
    X, y = credit
    aug = TabularAugmenter(random_state=0, **{**TINY, "epochs": 4}, validation="tstr", validation_interval=1,
                           patience=2)
    aug.fit(X.iloc[:1500], y.iloc[:1500])
    epochs = [e for e, _ in aug.validation_scores_]
    scores = [s for _, s in aug.validation_scores_]
    assert epochs[0] == 1 and all(0.0 <= s <= 1.0 for s in scores)
    assert aug.best_epoch_ == epochs[int(np.argmax(scores))]
    assert len(epochs) == 4 or len(epochs) - 1 - int(np.argmax(scores)) == 2  # ran out, or stopped by patience
    with pytest.raises(ValueError, match="fit with labels"):
        TabularAugmenter(validation="tstr", **TINY).fit(X.iloc[:100])


def test_high_cardinality_and_datetimes_end_to_end():
    rng = np.random.default_rng(0)
    n = 1200
    df = pd.DataFrame({
        "shop": rng.choice([f"s{i}" for i in range(400)], n),
        "when": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        "amount": rng.lognormal(3, 1, n),
    })
    y = (rng.random(n) < 0.1).astype(int)
    aug = TabularAugmenter(random_state=0, max_categories=20, **TINY)
    X_res, y_res = aug.fit_resample(df, y)
    assert X_res.dtypes.equals(df.dtypes) and aug.transformer_.discrete_spans[0].width == 20
    new = X_res.iloc[n:]
    assert new["shop"].isin(df["shop"]).all()
    assert new["when"].between(df["when"].min(), df["when"].max()).all()


def test_ctgan_backend(credit):
    pytest.importorskip("ctgan")
    X, y = credit
    Xs, ys = X.iloc[:300], y.iloc[:300]
    aug = TabularAugmenter(backend="ctgan", epochs=1, batch_size=100, random_state=0, embedding_dim=16,
                           generator_dim=(32,), discriminator_dim=(32,))
    X_res, y_res = aug.fit_resample(Xs, ys)
    assert X_res.dtypes.equals(Xs.dtypes) and y_res.value_counts().nunique() == 1
    pd.testing.assert_frame_equal(X_res.iloc[:300], Xs)
    with pytest.raises(ValueError, match="cannot be saved without pickle"):
        aug.save("unused")


@pytest.mark.slow
def test_synthetic_rows_carry_the_class_structure_of_real_data():
    """Train on synthetic only, test on untouched real rows: far better than chance; augmenting keeps PR-AUC."""
    X, y = load_hmda()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    aug = TabularAugmenter(random_state=0, epochs=100)
    X_res, y_res = aug.fit_resample(X_tr, y_tr)

    def ap(Xf, yf):
        clf = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0).fit(Xf, yf)
        return average_precision_score(y_te == "yes", clf.predict_proba(X_te)[:, list(clf.classes_).index("yes")])

    X_syn, y_syn = aug.sample(len(X_tr), random_state=0)
    prevalence = (y_te == "yes").mean()
    tstr, real, augmented = ap(X_syn, y_syn), ap(X_tr, y_tr), ap(X_res, y_res)
    assert tstr > prevalence + 0.2, (tstr, prevalence)
    assert augmented > real - 0.04, (augmented, real)


def test_missing_rates_follow_the_training_rows(credit):
    X, y = credit
    aug = TabularAugmenter(random_state=0, **TINY).fit(X, y)
    X_new, y_new = aug.sample(y.value_counts().to_dict(), random_state=0)
    for cls in ("bad", "good"):
        for col in ("Income", "Assets", "Home"):
            real = X.loc[y == cls, col].isna().mean()
            syn = X_new.loc[y_new.to_numpy() == cls, col].isna().mean()
            assert abs(real - syn) < 0.03, (cls, col, real, syn)
