"""TabularAugmenter's sampler contract, item by item, on real tables.

* ``sampling_strategy`` resolves to exactly the counts imbalanced-learn's
  own ``RandomOverSampler`` gives, for every form it accepts;
* ``sample(n)`` / ``sample({label: count})`` / ``sample(0)``;
* containers round-trip: DataFrame (names of any type, nullable and
  time-zone dtypes, ordered categories), ndarray (dtype kept), labels as
  Series (name, categories), list, bool;
* every loss of the registry trains and gives finite rows;
* save / load of array and unlabelled models gives the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import RandomOverSampler

from ganaug.augment.tabular import TabularAugmenter
from ganaug.core import available_losses
from ganaug.datasets import load_attrition, load_credit, load_hmda

TINY = dict(epochs=1, batch_size=100, embedding_dim=8, generator_dim=(16,), discriminator_dim=(16,), pac=5,
            random_state=0, trainer={"enable_progress_bar": False})


@pytest.fixture(scope="module")
def three_classes():
    """600 rows of the attrition table with ``Department`` as a 3-class target (398 / 183 / 19)."""
    X, _ = load_attrition()
    X = X.iloc[:600]
    return X.drop(columns=["Department"]), X["Department"].astype(str).rename("Department")


@pytest.mark.parametrize(
    "strategy",
    ["auto", "minority", "not minority", "not majority", "all",
     {"Human_Resources": 150, "Sales": 200}, lambda y: {"Human_Resources": int((y == "Human_Resources").sum()) * 3}],
    ids=["auto", "minority", "not-minority", "not-majority", "all", "dict", "callable"],
)
def test_every_sampling_strategy_matches_imbalanced_learn(three_classes, strategy):
    X, y = three_classes
    _, y_ref = RandomOverSampler(sampling_strategy=strategy, random_state=0).fit_resample(X, y)
    X_res, y_res = TabularAugmenter(sampling_strategy=strategy, **TINY).fit_resample(X, y)
    assert y_res.value_counts().to_dict() == y_ref.value_counts().to_dict()
    assert X_res.dtypes.equals(X.dtypes) and len(X_res) == len(y_res)
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X.reset_index(drop=True))
    assert y_res.iloc[: len(y)].tolist() == y.tolist() and y_res.name == "Department"
    # synthetic rows come after, grouped by class in the order of classes_
    new = y_res.iloc[len(y):]
    assert new.tolist() == sorted(new.tolist(), key=list(np.unique(y)).index)


@pytest.mark.parametrize("ratio", [0.3, 1.0])
def test_float_strategy_on_two_classes(ratio):
    X, y = load_hmda()
    _, y_ref = RandomOverSampler(sampling_strategy=ratio).fit_resample(X, y)
    _, y_res = TabularAugmenter(sampling_strategy=ratio, **TINY).fit_resample(X, y)
    assert y_res.value_counts().to_dict() == y_ref.value_counts().to_dict()


def test_strategy_that_does_not_fit_y_fails_before_training(three_classes):
    X, y = three_classes
    for strategy, match in [(0.5, "float"), ({"Sales": 10}, "greater or equal"), ("majority", "not an over-sampling"),
                            ({"IT": 5}, "IT")]:
        aug = TabularAugmenter(sampling_strategy=strategy, **TINY)
        with pytest.raises(ValueError, match=match):
            aug.fit_resample(X, y)
        assert not hasattr(aug, "module_")  # refused before any training


def test_sample_int_dict_and_zero(three_classes):
    X, y = three_classes
    aug = TabularAugmenter(**TINY).fit(X, y)
    X_new, y_new = aug.sample(100, random_state=0)
    share = y.value_counts(normalize=True)
    assert len(X_new) == 100 and all(abs(y_new.value_counts()[c] - 100 * share[c]) <= 1 for c in share.index)
    X_d, y_d = aug.sample({"Human_Resources": 5, "Sales": 0})
    assert y_d.tolist() == ["Human_Resources"] * 5 and len(X_d) == 5
    X_0, y_0 = aug.sample(0)
    assert X_0.shape == (0, X.shape[1]) and X_0.dtypes.equals(X.dtypes) and len(y_0) == 0
    assert list(aug.get_feature_names_out()) == list(X.columns)
    with pytest.raises(ValueError, match="non-negative"):
        aug.sample({"Sales": -1})
    with pytest.raises(TypeError, match="n_samples must be an int"):
        aug.sample(2.5)


def test_dataframe_dtypes_round_trip():
    """Nullable integers and booleans, strings, ordered categories, tz-aware datetimes, timedeltas, int names."""
    X, y = load_credit()
    X, y = X.iloc[:800].reset_index(drop=True), y.iloc[:800]
    rng = np.random.default_rng(0)
    n = len(X)
    df = pd.DataFrame({
        0: X["Income"],  # float with NaN
        1: X["Seniority"].astype("Int64").where(rng.random(n) > 0.1),  # nullable integer with NA
        2: pd.array(X["Records"] == "yes", dtype="boolean"),
        3: X["Job"].astype("string"),
        4: pd.Categorical(X["Home"], categories=list(X["Home"].cat.categories), ordered=True),
        5: pd.Timestamp("2020-01-01", tz="Europe/Paris") + pd.to_timedelta(X["Time"] * 7, unit="D"),
        6: pd.to_timedelta(X["Age"], unit="h"),
        7: X["Amount"],  # int64
    })
    X_res, y_res = TabularAugmenter(**TINY).fit_resample(df, y)
    assert list(X_res.columns) == list(range(8)) and X_res.dtypes.equals(df.dtypes)
    new = X_res.iloc[n:]
    assert new[1].isna().any() and new[0].isna().any()  # missing values are generated, as NA / NaN
    assert (new[1].dropna() >= 0).all() and (new[7] >= df[7].min()).all() and (new[7] <= df[7].max()).all()
    assert new[4].cat.ordered and list(new[4].cat.categories) == list(df[4].cat.categories)
    assert str(new[5].dt.tz) == "Europe/Paris" and new[5].between(df[5].min(), df[5].max()).all()
    assert set(new[3].dropna()) <= set(df[3].dropna())


@pytest.mark.parametrize("dtype", [np.int64, np.float32])
def test_arrays_keep_their_dtype(dtype):
    X, y = load_hmda()
    A = X.select_dtypes("number").to_numpy()
    A = (A * 100).astype(dtype) if dtype == np.int64 else A.astype(dtype)
    A_res, y_res = TabularAugmenter(**TINY).fit_resample(A, list(y))
    assert A_res.dtype == dtype and isinstance(y_res, np.ndarray) and y_res.tolist()[: len(y)] == list(y)
    assert np.array_equal(A_res[: len(A)], A)


def test_label_containers():
    X, y = load_hmda()
    cat = y.astype(pd.CategoricalDtype(["yes", "no", "maybe"])).rename("deny")
    _, y_res = TabularAugmenter(**TINY).fit_resample(X, cat)
    assert isinstance(y_res.dtype, pd.CategoricalDtype) and list(y_res.cat.categories) == ["yes", "no", "maybe"]
    assert y_res.name == "deny" and y_res.value_counts()[["no", "yes"]].tolist() == [2095, 2095]
    _, y_b = TabularAugmenter(**TINY).fit_resample(X, (y == "yes").to_numpy())
    assert y_b.dtype == bool and y_b.sum() == (~y_b).sum()


@pytest.mark.parametrize("loss", available_losses())
def test_every_registry_loss_trains(loss):
    X, y = load_hmda()
    aug = TabularAugmenter(loss=loss, **{**TINY, "epochs": 2}).fit(X.iloc[:500], y.iloc[:500])
    X_new, _ = aug.sample(200, random_state=0)
    assert len(X_new) == 200 and np.isfinite(X_new.select_dtypes("number").to_numpy(dtype=float)).all()
    assert all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in aug.history_)


def test_save_load_arrays_and_unlabelled(tmp_path):
    X, y = load_hmda()
    A = X.select_dtypes("number").to_numpy(np.float64)
    for name, aug in [("arrays", TabularAugmenter(**TINY).fit(A, y.to_numpy())),
                      ("unlabelled", TabularAugmenter(**TINY).fit(X))]:
        aug.save(tmp_path / name)
        loaded = TabularAugmenter.load(tmp_path / name)
        a, b = aug.sample(50, random_state=7), loaded.sample(50, random_state=7)
        if name == "arrays":
            assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and isinstance(b[0], np.ndarray)
        else:
            pd.testing.assert_frame_equal(a, b)
        assert loaded.get_params() == {**aug.get_params(), "trainer": None}
