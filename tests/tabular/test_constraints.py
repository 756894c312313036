"""Constraints of ``TabularAugmenter`` (``ganaug.tabular.constraints``) on the real bundled tables.

* each rule's row check, with missing values, datetimes and column bounds;
* the reparametrisation of ``Inequality`` (exact round trip, chains);
* the guarantee: no row from ``sample``, ``fit_resample``, ``iter_samples`` or
  ``sample_to_file`` breaks a declared constraint, while the same model
  without constraints does break them (so the checks can fail);
* rejection with a clear error when too few rows pass;
* save / load keeps the constraints, ``Custom`` refuses to be saved;
* bad declarations (hypothesis-fuzzed) get a ValueError/TypeError before training.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from ganaug.augment.tabular import TabularAugmenter
from ganaug.datasets import load_attrition, load_credit
from ganaug.tabular.constraints import (
    ConstraintSet,
    Custom,
    FixedCombinations,
    Inequality,
    Negative,
    Positive,
    Range,
    constraint_from_dict,
    parse_constraints,
)

TINY = dict(epochs=2, batch_size=200, embedding_dim=16, generator_dim=(32,), discriminator_dim=(32,), pac=5,
            random_state=0, trainer={"enable_progress_bar": False})


@pytest.fixture(scope="module")
def credit():
    return load_credit()


def _dated(X: pd.DataFrame) -> pd.DataFrame:
    """The credit table with two real-derived dates: a loan opens after ``Seniority`` years, runs ``Time`` months."""
    out = X.copy()
    out["opened"] = pd.Timestamp("2000-01-01") + pd.to_timedelta(X["Seniority"] * 365, unit="D")
    out["closes"] = out["opened"] + pd.to_timedelta(X["Time"] * 30, unit="D")
    return out


# --------------------------------------------------------------- row checks
def test_inequality_rows_missing_values_and_strictness(credit):
    X, _ = credit
    rows = X[["Amount", "Price", "Income", "Assets"]].iloc[:300].copy()
    assert Inequality("Amount", "Price").is_valid(rows).all()
    equal = (rows["Amount"] == rows["Price"]).to_numpy()
    assert equal.any()
    np.testing.assert_array_equal(Inequality("Amount", "Price", strict=True).is_valid(rows), ~equal)
    # swapped: every row with Amount < Price breaks it, a missing value never does
    swapped = Inequality("Price", "Amount").is_valid(rows)
    np.testing.assert_array_equal(swapped, (rows["Price"] <= rows["Amount"]).to_numpy())
    mask = Inequality("Income", "Assets").is_valid(rows)
    missing = rows[["Income", "Assets"]].isna().any(axis=1).to_numpy()
    assert missing.any() and mask[missing].all()
    np.testing.assert_array_equal(mask[~missing], (rows["Income"] <= rows["Assets"]).to_numpy()[~missing])


def test_range_positive_negative_and_datetime_rows(credit):
    X, _ = credit
    rows = _dated(X.iloc[:400])
    np.testing.assert_array_equal(Range("Age", 25, "Expenses").is_valid(rows),
                                  ((rows["Age"] >= 25) & (rows["Age"] <= rows["Expenses"])).to_numpy())
    np.testing.assert_array_equal(Range("Age", None, 30, strict=True).is_valid(rows), (rows["Age"] < 30).to_numpy())
    assert Range("opened", "2000-01-01", "closes").is_valid(rows).all()
    late = Range("opened", "2010-01-01", None).is_valid(rows)
    np.testing.assert_array_equal(late, (rows["opened"] >= pd.Timestamp("2010-01-01")).to_numpy())
    assert Positive("Debt").is_valid(rows).all()
    assert not Positive("Debt", strict=True).is_valid(rows).all()  # many zero debts
    np.testing.assert_array_equal(Negative("Debt").is_valid(rows), (rows["Debt"] <= 0).to_numpy() | rows["Debt"].isna().to_numpy())
    assert Inequality("opened", "closes", strict=True).is_valid(rows).all()


def test_fixed_combinations_learns_the_training_pairs(credit):
    X, _ = credit
    rule = FixedCombinations(["Home", "Marital"])
    state = rule.fit(X)
    assert rule.is_valid(X, state).all()
    seen = set(zip(X["Home"].astype(object), X["Marital"].astype(object)))
    unseen = next((h, m) for h in X["Home"].cat.categories for m in X["Marital"].cat.categories if (h, m) not in seen)
    probe = X.iloc[:2].copy()
    probe.loc[probe.index[1], ["Home", "Marital"]] = unseen
    assert rule.is_valid(probe, state).tolist() == [True, False]


def test_custom_must_return_one_bool_per_row(credit):
    X, _ = credit
    assert Custom(lambda d: d["Amount"] <= d["Price"]).is_valid(X).all()
    with pytest.raises(TypeError, match="one bool per row"):
        Custom(lambda d: np.ones(3, dtype=bool)).is_valid(X)
    with pytest.raises(TypeError, match="booleans"):
        Custom(lambda d: d["Amount"]).is_valid(X)


def test_json_round_trip_of_every_savable_rule():
    rules = [Inequality("a", "b", strict=True), Range("a", 1.5, "c"), Range("t", "2020-01-01", None),
             FixedCombinations(["x", "y", "z"]), Positive("a"), Negative(3, strict=True)]
    for rule in rules:
        assert constraint_from_dict(rule.to_dict()) == rule
    with pytest.raises(ValueError, match="cannot be saved"):
        Custom(len).to_dict()


# --------------------------------------------------------- reparametrisation
def test_inequality_is_reparametrised_and_rebuilt_exactly(credit):
    X, _ = credit
    X = _dated(X)
    cs = ConstraintSet.fit([Inequality("Amount", "Price"), Inequality("opened", "closes")], X)
    assert cs.reparametrised == [0, 1]
    moved = cs.transform(X)
    assert (moved["Price"] >= 0).all() and moved["closes"].dtype.kind == "m"
    pd.testing.assert_frame_equal(cs.inverse_transform(moved), X)
    # columns with missing values, or of mixed kinds, are enforced by rejection instead
    holes = X.assign(Price=X["Price"].where(X.index % 50 != 0))  # float with NaN
    assert ConstraintSet.fit([Inequality("Amount", "Price")], holes).reparametrised == []
    mixed = X.assign(Price=X["Price"].astype(float))  # int low, float high
    assert ConstraintSet.fit([Inequality("Amount", "Price")], mixed).reparametrised == []


def test_chains_rebuild_in_order_and_a_twice_bounded_column_is_rejected():
    X, _ = load_attrition()
    chain = [Inequality("YearsInCurrentRole", "YearsAtCompany"), Inequality("YearsAtCompany", "TotalWorkingYears"),
             Inequality("YearsWithCurrManager", "YearsAtCompany")]
    cs = ConstraintSet.fit(chain, X)
    assert cs.reparametrised == [0, 1]  # YearsAtCompany cannot be the difference of two pairs
    pd.testing.assert_frame_equal(cs.inverse_transform(cs.transform(X)), X)


# ------------------------------------------------------------ the guarantee
@pytest.fixture(scope="module")
def credit_rules():
    return [Inequality("Amount", "Price"), FixedCombinations(["Home", "Marital"]), Range("Seniority", 0, "Age"),
            Positive("Debt"), Custom(lambda d: (d["Seniority"] <= d["Age"] - 14), name="started work at 14+")]


@pytest.fixture(scope="module")
def fitted(credit, credit_rules):
    X, y = credit
    X = X.iloc[:2000]
    y = y.iloc[:2000]
    plain = TabularAugmenter(constraints=None, **TINY).fit(X, y)  # not even the inferred ones
    aug = TabularAugmenter(constraints=credit_rules, **TINY)
    X_res, y_res = aug.fit_resample(X, y)
    return X, y, plain, aug, X_res


def _broken(rules, frame, train) -> dict:
    """Rows of ``frame`` breaking each rule (FixedCombinations: combinations of ``train``), checked independently."""
    return {repr(rule): int((~rule.is_valid(frame, rule.fit(train))).sum()) for rule in rules}


def test_without_constraints_the_model_breaks_them(fitted, credit_rules):
    """The check below is not vacuous: the same tiny model, unconstrained, breaks the rules."""
    X, _, plain, _, _ = fitted
    X_new, _ = plain.sample(3000, random_state=0)
    broken = _broken(credit_rules, X_new, X)
    assert broken[repr(credit_rules[0])] > 300  # Amount > Price in >10 % of rows (27 % measured at 30 epochs)
    assert sum(v > 0 for v in broken.values()) >= 3


def test_no_row_breaks_a_constraint_in_sample_fit_resample_and_files(fitted, credit_rules, tmp_path):
    X, y, _, aug, X_res = fitted
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X.reset_index(drop=True))
    assert len(X_res) > len(X)
    frames = {"fit_resample": X_res.iloc[len(X):], "sample": aug.sample(3000, random_state=1)[0],
              "per-class sample": aug.sample({"bad": 700}, random_state=2)[0],
              "iter_samples": pd.concat([c for c, _ in aug.iter_samples(1500, chunk_size=600, random_state=3)])}
    assert aug.sample_to_file(tmp_path / "rows.parquet", 2000, chunk_size=700, random_state=4) == 2000
    frames["sample_to_file"] = pd.read_parquet(tmp_path / "rows.parquet").drop(columns=[y.name])
    for where, frame in frames.items():
        assert frame.dtypes.equals(X.dtypes), where
        broken = _broken(credit_rules, frame, X)
        assert all(v == 0 for v in broken.values()), (where, broken)
    assert aug.constraints_.reparametrised == [0]


def test_same_seed_same_rows_with_rejection(fitted):
    _, _, _, aug, _ = fitted
    a, _ = aug.sample(800, random_state=7)
    b, _ = aug.sample(800, random_state=7)
    pd.testing.assert_frame_equal(a, b)


def test_reparametrised_model_keeps_the_price_marginal(fitted):
    """high = low + difference: prices stay in the training range and keep their integer dtype."""
    X, _, _, aug, _ = fitted
    X_new, _ = aug.sample(2000, random_state=5)
    assert X_new["Price"].dtype == X["Price"].dtype
    assert X_new["Price"].min() >= X["Amount"].min()
    assert (X_new["Price"] >= X_new["Amount"]).all()


def test_a_rule_almost_no_generated_row_meets_ends_with_a_clear_error(credit):
    X, y = credit
    X, y = X.iloc[:600], y.iloc[:600]
    cols = ["Age", "Expenses", "Amount", "Price"]

    def key(d):
        return d[cols[0]].astype(str).str.cat([d[c].astype(str) for c in cols[1:]], sep="|")

    seen = set(key(X))
    copies_only = Custom(lambda d: key(d).isin(seen), name="copies only")  # every training row passes
    aug = TabularAugmenter(constraints=[copies_only], max_tries=4, **TINY).fit(X, y)
    with pytest.raises(ValueError, match=r"could not generate .* rows.*max_tries=4.*Custom\('copies only'\) (9\d|100)\.\d%"):
        aug.sample(2000, random_state=0)


# ---------------------------------------------------------------- persistence
def test_save_load_keeps_constraints_and_the_guarantee(credit, tmp_path):
    X, y = credit
    X, y = _dated(X.iloc[:1500]), y.iloc[:1500]
    rules = [Inequality("Amount", "Price"), Inequality("opened", "closes", strict=True),
             FixedCombinations(["Home", "Job"]), Range("Age", 18, 80)]
    aug = TabularAugmenter(constraints=rules, **TINY).fit(X, y)
    aug.save(tmp_path / "model")
    back = TabularAugmenter.load(tmp_path / "model")
    assert back.constraints == rules and all(isinstance(c, type(r)) for c, r in zip(back.constraints, rules))
    assert back.constraints_.reparametrised == aug.constraints_.reparametrised == [0, 1]
    assert back.constraints_.states == aug.constraints_.states
    a, _ = aug.sample(1000, random_state=0)
    b, _ = back.sample(1000, random_state=0)
    pd.testing.assert_frame_equal(a, b)
    assert ConstraintSet.fit(rules, X).is_valid(b).all()
    assert b["closes"].dtype == X["closes"].dtype


def test_custom_refuses_to_save_and_writes_nothing(credit, tmp_path):
    X, y = credit
    aug = TabularAugmenter(constraints=[Custom(lambda d: d["Age"] >= 18, name="adults")], **TINY)
    aug.fit(X.iloc[:500], y.iloc[:500])
    with pytest.raises(ValueError, match=r"Custom\('adults'\).*cannot be saved"):
        aug.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()


# ------------------------------------------------------- sklearn contract
def test_params_are_stored_untouched_and_clone_works(credit):
    X, y = credit
    rules = [Inequality("Amount", "Price"), {"type": "Positive", "column": "Debt"}]
    aug = TabularAugmenter(constraints=rules, **TINY)
    assert aug.get_params()["constraints"] is rules
    twin = clone(aug)
    assert twin.constraints == rules and twin.constraints is not rules
    aug.fit(X.iloc[:400], y.iloc[:400])
    assert aug.constraints is rules and rules[1] == {"type": "Positive", "column": "Debt"}  # not converted in place
    assert [repr(c) for c in aug.constraints_.constraints] == [
        "Inequality(low='Amount', high='Price', strict=False)", "Positive(column='Debt', strict=False)"]


# -------------------------------------------------------------- bad input
class _Started(Exception):
    """Raised instead of training: proves validation happened before."""


@pytest.fixture
def no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise _Started

    monkeypatch.setattr(TabularAugmenter, "_train", refuse)


@pytest.mark.parametrize(
    ("rules", "error", "match"),
    [
        ([Inequality("Amount", "Prise")], ValueError, r"unknown column 'Prise'"),
        ([Range("Age", 18, "Retirement")], ValueError, r"unknown column 'Retirement'"),
        ([FixedCombinations(["Home", "City"])], ValueError, r"unknown column 'City'"),
        ([Inequality("Home", "Price")], TypeError, r"dtypes category and int64"),
        ([Positive("Records")], TypeError, r"must be numeric"),
        ([Range("Age", "2020-01-01", 99)], ValueError, r"unknown column '2020-01-01'"),
        ([Inequality("Price", "Amount")], ValueError, r"violate Inequality\(low='Price'.*4255 of 4454 rows.*"
                                                        r"first at row positions \[0, 1, 2, 3, 4\]"),
        ([Range("Age", 20, 60)], ValueError, r"violate Range.* of 4454 rows"),
        ([Custom(lambda d: d["Amount"] > 500, name="big")], ValueError, r"violate Custom\('big'\)"),
        (Inequality("Amount", "Price"), TypeError, r"wrap it in a list"),
        (["Amount <= Price"], TypeError, r"constraints\[0\] must be a constraint"),
        ([{"type": "Between", "low": "Amount"}], ValueError, r"unknown constraint type 'Between'"),
        ([{"type": "Inequality", "low": "Amount"}], TypeError, r"high"),
    ],
)
def test_bad_constraints_are_refused_before_training(credit, no_training, rules, error, match):
    X, y = credit
    with pytest.raises(error, match=match):
        TabularAugmenter(constraints=rules, **TINY).fit(X, y)


def test_a_valid_declaration_reaches_training(credit, no_training):
    X, y = credit
    with pytest.raises(_Started):
        TabularAugmenter(constraints=[Inequality("Amount", "Price")], **TINY).fit(X, y)


_CREDIT_X = load_credit()[0]
_NAMES = st.sampled_from([*_CREDIT_X.columns[:6], "Amount", "Price", "Debt", "Nope", "", 0, 3])
_JUNK = st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.floats(allow_nan=True, allow_infinity=True),
                  st.text(max_size=4), st.lists(_NAMES, max_size=3), st.dictionaries(st.text(max_size=2), _NAMES,
                                                                                    max_size=1))
_ARG = st.one_of(_NAMES, _JUNK)
_DECL = st.one_of(
    st.builds(lambda a, b, s: ("Inequality", (a, b), {"strict": s}), _ARG, _ARG, st.one_of(st.booleans(), _JUNK)),
    st.builds(lambda c, lo, hi: ("Range", (c, lo, hi), {}), _ARG, _ARG, _ARG),
    st.builds(lambda cols: ("FixedCombinations", (cols,), {}), st.one_of(st.lists(_NAMES, max_size=4), _JUNK)),
    st.builds(lambda c, s: ("Positive", (c,), {"strict": s}), _ARG, st.one_of(st.booleans(), _JUNK)),
    st.builds(lambda c: ("Negative", (c,), {}), _ARG),
    st.builds(lambda d: ("dict", (d,), {}), st.dictionaries(st.sampled_from(["type", "low", "high", "column", "x"]),
                                                             _ARG, max_size=4)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(decls=st.lists(_DECL, min_size=1, max_size=3))
def test_fuzzed_declarations_give_clean_errors_before_training(decls, no_training):
    """Whatever is declared: a TypeError/ValueError naming the problem, or (if every rule holds) training starts."""
    import ganaug.tabular.constraints as module

    built = []
    try:
        for kind, args, kwargs in decls:
            built.append(args[0] if kind == "dict" else getattr(module, kind)(*args, **kwargs))
    except (TypeError, ValueError) as exc:
        assert str(exc)  # a message, not a bare exception
        return
    X = _CREDIT_X.iloc[:300]
    y = np.where(np.arange(300) % 3 == 0, "bad", "good")
    try:
        TabularAugmenter(constraints=built, **TINY).fit(X, y)
    except _Started:
        # accepted: then every training row satisfies every rule
        cs = ConstraintSet.fit(built, X)
        assert cs.is_valid(X).all()
        assert len(cs.constraints) == len(built)
    except (TypeError, ValueError) as exc:
        assert str(exc)
        # the message points at the declaration or its column
        text = str(exc)
        assert "constraint" in text or "column" in text or "violate" in text or any(
            k in text for k in ("Inequality", "Range", "FixedCombinations", "Positive", "Negative", "bound")), text
    else:  # pragma: no cover - fit never returns without training
        raise AssertionError("fit returned without training")


def test_parse_constraints_accepts_none_objects_and_dicts():
    assert parse_constraints(None) == []
    assert parse_constraints(({"type": "Negative", "column": "x"},)) == [Negative("x")]
    with pytest.raises(TypeError, match="list"):
        parse_constraints("Inequality(a, b)")


def test_rejection_gives_one_valid_row_per_target_in_order():
    """The rejection loop itself: row i of the result was drawn for target i and passed its check."""
    from ganaug.tabular._rejection import RejectionError, draw_valid

    want = np.arange(600) % 7

    def draw(idx, seed):
        rng = np.random.default_rng(seed)
        return pd.DataFrame({"target": idx, "v": rng.integers(0, 40, len(idx))}, index=idx * 10)

    def check(frame, idx):
        return frame["v"].to_numpy() == want[idx]  # 1 candidate in 40 passes

    out = draw_valid(draw, check, lambda f, i: "v", 600, seed=0, max_tries=20)
    assert len(out) == 600 and out.index.equals(pd.RangeIndex(600))
    assert (out["target"].to_numpy() == np.arange(600)).all() and (out["v"].to_numpy() == want).all()
    everything = draw_valid(draw, lambda f, i: np.ones(len(f), dtype=bool), lambda f, i: "", 300, seed=0, max_tries=1)
    assert len(everything) == 300 and (everything["target"].to_numpy() == np.arange(300)).all()
    with pytest.raises(RejectionError, match=r"could not generate 600 of 600 rows.*0 of \d+ candidate.*last candidates: never"):
        draw_valid(draw, lambda f, i: np.zeros(len(f), dtype=bool), lambda f, i: "never", 600, seed=0, max_tries=20)
