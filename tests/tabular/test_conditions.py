"""``TabularAugmenter.sample(n, conditions=...)`` on the real credit table.

* exact category values (by the generator's condition vector, not rejection),
  numeric closed intervals and exact numbers (by rejection), several at once;
* combined with per-class counts and with constraints;
* a DataFrame of conditions: row ``i`` of the result meets row ``i``;
* unknown columns, unseen values, empty or out-of-range intervals are refused;
* conditions work after save / load and with the discriminator filter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ganaug.augment.tabular import TabularAugmenter
from ganaug.datasets import load_credit
from ganaug.tabular.constraints import Inequality

TINY = dict(epochs=2, batch_size=200, embedding_dim=16, generator_dim=(32,), discriminator_dim=(32,), pac=5,
            random_state=0, trainer={"enable_progress_bar": False})


def _dated(X: pd.DataFrame) -> pd.DataFrame:
    out = X.copy()
    out["opened"] = pd.Timestamp("2000-01-01") + pd.to_timedelta(X["Seniority"] * 365, unit="D")
    # few distinct dates: a discrete column (the loan's start year)
    out["start"] = pd.Timestamp("2020-01-01", tz="Europe/Paris") + pd.to_timedelta((X["Time"] // 12) * 365, unit="D")
    return out


@pytest.fixture(scope="module")
def data():
    X, y = load_credit()
    return _dated(X), y


@pytest.fixture(scope="module")
def aug(data):
    X, y = data
    return TabularAugmenter(constraints=[Inequality("Amount", "Price")], **TINY).fit(X, y)


def test_unconditioned_rows_are_mixed(aug):
    """Without conditions the tiny model makes other homes and amounts, so the checks below can fail."""
    X_new, _ = aug.sample(1000, random_state=0)
    assert (X_new["Home"] != "rent").mean() > 0.3
    assert (~X_new["Amount"].between(1000, 2000)).mean() > 0.3


def test_category_value_every_row(aug, data):
    X, _ = data
    X_new, y_new = aug.sample(800, conditions={"Home": "rent"}, random_state=1)
    assert len(X_new) == 800 and (X_new["Home"] == "rent").all()
    assert X_new.dtypes.equals(X.dtypes)
    assert set(y_new.unique()) == {"bad", "good"}
    assert (X_new["Amount"] <= X_new["Price"]).all()  # the constraint still holds


def test_category_value_is_made_by_construction_not_rejection(aug, data):
    """'ignore' is 20 of 4454 homes (0.4 %): one round of drawing is enough only if the level is set directly."""
    X, _ = data
    assert (X["Home"] == "ignore").mean() < 0.01
    few = aug.set_params(max_tries=1)
    try:
        X_new, _ = few.sample(500, conditions={"Home": "ignore", "Records": "yes"}, random_state=2)
    finally:
        aug.set_params(max_tries=20)
    assert (X_new["Home"] == "ignore").all() and (X_new["Records"] == "yes").all()


def test_numeric_interval_is_closed_and_combines_with_class_counts(aug):
    X_new, y_new = aug.sample({"bad": 300, "good": 100}, conditions={"Amount": (1000, 2000), "Home": "owner"},
                              random_state=3)
    assert y_new.value_counts().to_dict() == {"bad": 300, "good": 100}
    assert X_new["Amount"].between(1000, 2000).all() and (X_new["Home"] == "owner").all()
    assert (X_new["Amount"] <= X_new["Price"]).all()
    # the bounds themselves belong to the interval
    exact, _ = aug.sample(50, conditions={"Amount": (1000, 1000)}, random_state=4)
    assert (exact["Amount"] == 1000).all()


def test_exact_number_and_datetime_range(aug):
    X_new, _ = aug.sample(200, conditions={"Age": 30, "opened": ("2001-01-01", "2005-12-31")}, random_state=5)
    assert (X_new["Age"] == 30).all()
    assert X_new["opened"].between(pd.Timestamp("2001-01-01"), pd.Timestamp("2005-12-31")).all()


def test_exact_date_of_a_discrete_datetime_column(aug, data):
    X, _ = data
    assert X["start"].nunique() <= 10 and aug.transformer_.columns_[list(X.columns).index("start")].kind == "discrete"
    day = X["start"].iloc[0]
    X_new, _ = aug.sample(100, conditions={"start": str(day.date())}, random_state=12)
    assert (X_new["start"] == day).all() and X_new["start"].dtype == X["start"].dtype
    with pytest.raises(ValueError, match="never seen"):
        aug.sample(10, conditions={"start": "2020-01-02"})


def test_conditions_on_the_reparametrised_column(aug):
    """Price is learnt as Price - Amount: conditions on it are met by rejection, on the rebuilt value."""
    X_new, _ = aug.sample(300, conditions={"Price": (1500, 2500)}, random_state=6)
    assert X_new["Price"].between(1500, 2500).all() and (X_new["Amount"] <= X_new["Price"]).all()


def test_dataframe_of_conditions_one_row_each(aug):
    wanted = pd.DataFrame({"Home": ["rent", "owner", None, "parents"] * 50,
                           "Marital": ["single", None, "widow", "married"] * 50,
                           "Age": [30, np.nan, 40, np.nan] * 50})
    X_new, y_new = aug.sample(conditions=wanted, random_state=7)
    assert len(X_new) == len(wanted) == len(y_new)
    for col in wanted.columns:
        has = wanted[col].notna().to_numpy()
        got = X_new[col].astype(object).to_numpy()[has]
        assert (got == wanted[col].to_numpy()[has]).all(), col
    # per-class counts with the same frame: rows grouped by class, in order
    X2, y2 = aug.sample({"bad": 150, "good": 50}, conditions=wanted, random_state=8)
    assert y2.tolist() == ["bad"] * 150 + ["good"] * 50
    assert (X2["Home"].astype(object).to_numpy()[::4] == "rent").all()


def test_same_seed_same_conditioned_rows(aug):
    a, _ = aug.sample(300, conditions={"Job": "freelance", "Amount": (500, 900)}, random_state=9)
    b, _ = aug.sample(300, conditions={"Job": "freelance", "Amount": (500, 900)}, random_state=9)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("conditions", "error", "match"),
    [
        ({"Home": "castle"}, ValueError, r"'Home' == 'castle'.*never seen in training.*'rent'"),
        ({"Town": "Paris"}, ValueError, r"unknown column 'Town'"),
        ({"Amount": (6000, 9000)}, ValueError, r"never seen in training \(training values span \[100, 5000\]\)"),
        ({"Amount": 99999}, ValueError, r"value 99999 was never seen"),
        ({"Amount": (2000, 1000)}, ValueError, r"low 2000 is above high 1000"),
        ({"Amount": (1, 2, 3)}, ValueError, r"\(low, high\) pair"),
        ({"Amount": "a lot"}, TypeError, r"must be a number"),
        ({"Home": ("owner", "rent")}, TypeError, r"range needs a numeric"),
        ({"Home": None}, ValueError, r"missing"),
        ({"opened": ("2001-01-01", "not a date")}, TypeError, r"not a datetime value"),
        ({}, ValueError, r"empty dict"),
        ([("Home", "rent")], TypeError, r"dict .* or a DataFrame"),
        (pd.DataFrame({"Home": ["rent"] * 3}), ValueError, r"3 rows for 10 requested"),
    ],
)
def test_bad_conditions_are_refused(aug, conditions, error, match):
    with pytest.raises(error, match=match):
        aug.sample(10, conditions=conditions, random_state=0)


def test_zero_rows_with_conditions(aug):
    X_new, y_new = aug.sample(0, conditions={"Home": "rent"})
    assert len(X_new) == len(y_new) == 0 and list(X_new.columns)[-1] == "start"
    with pytest.raises(ValueError, match="never seen"):
        aug.sample(0, conditions={"Home": "castle"})


def test_impossible_mix_ends_with_a_clear_error(aug):
    with pytest.raises(ValueError, match=r"could not generate.*condition 'Amount'"):
        aug.sample(100, conditions={"Amount": (4999, 5000), "Age": 19, "Home": "ignore"}, random_state=0)


def test_conditions_after_save_load_and_with_the_filter(aug, data, tmp_path):
    aug.save(tmp_path / "model")
    back = TabularAugmenter.load(tmp_path / "model")
    a, _ = aug.sample(200, conditions={"Home": "priv", "Amount": (800, 1200)}, random_state=10)
    b, _ = back.sample(200, conditions={"Home": "priv", "Amount": (800, 1200)}, random_state=10)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="never seen"):
        back.sample(10, conditions={"Home": "castle"})
    X, y = data
    filt = TabularAugmenter(filter_synthetic=True, **TINY).fit(X.iloc[:1500], y.iloc[:1500])
    wanted = pd.DataFrame({"Home": ["rent", "owner"] * 100, "Job": ["fixed", None] * 100})
    X_new, _ = filt.sample(conditions=wanted, random_state=11)
    assert (X_new["Home"].astype(object).to_numpy() == wanted["Home"].to_numpy()).all()
    assert (X_new["Job"].astype(object).to_numpy()[::2] == "fixed").all()


def test_unlabelled_model_and_array_input(data):
    X, _ = data
    X = X.drop(columns=["opened"]).iloc[:1000]
    plain = TabularAugmenter(**TINY).fit(X)
    X_new = plain.sample(100, conditions={"Marital": "married", "Income": (100, 200)}, random_state=0)
    assert (X_new["Marital"] == "married").all() and X_new["Income"].between(100, 200).all()
    arr = X[["Age", "Amount", "Price"]].to_numpy(dtype=float)
    on_array = TabularAugmenter(**TINY).fit(arr)
    rows = on_array.sample(100, conditions={1: (1000, 1500)}, random_state=0)
    assert isinstance(rows, np.ndarray) and ((rows[:, 1] >= 1000) & (rows[:, 1] <= 1500)).all()
