"""Inferred inequality constraints (``TabularAugmenter(constraints="auto")``) on the bundled tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ganaug.datasets import load_attrition, load_credit, load_tabular
from ganaug.tabular.constraints import Inequality, infer_inequalities


def _pairs(constraints):
    return [(c.low, c.high) for c in constraints]


def test_credit_gets_the_rules_a_person_would_declare():
    X, _ = load_credit()
    assert _pairs(infer_inequalities(X)) == [("Amount", "Price"), ("Seniority", "Age")]


def test_attrition_gets_a_tenure_chain_and_every_rule_holds_on_every_row():
    X, _ = load_attrition()
    found = infer_inequalities(X)
    assert ("TotalWorkingYears", "Age") in _pairs(found)
    assert ("YearsAtCompany", "TotalWorkingYears") in _pairs(found)
    for c in found:
        assert c.is_valid(X).all()
    highs = [c.high for c in found]
    assert len(highs) == len(set(highs))  # one inequality per high column


@pytest.mark.parametrize("name", ["hmda", "default"])
def test_tables_without_ordered_columns_get_none(name):
    X, _ = load_tabular(name)
    assert infer_inequalities(X) == []


def test_weak_correlation_disjoint_ranges_missing_values_and_cycles_are_left_out():
    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    frame = pd.DataFrame({
        "a": a,
        "a_plus": a + rng.uniform(0, 0.1, 500),   # a <= a_plus, strongly correlated: kept
        "noise_above": rng.uniform(10, 11, 500),  # always above a, but by disjoint ranges: left out
        "with_nan": np.where(np.arange(500) == 3, np.nan, a + 1.0),  # a missing value: left out
        "weak": a + rng.uniform(0, 50, 500),      # a <= weak on every row, correlation ~0.1: left out
    })
    assert _pairs(infer_inequalities(frame)) == [("a", "a_plus")]
    assert infer_inequalities(frame, min_correlation=0.0) != []
    same = pd.DataFrame({"x": a, "y": a.copy()})  # equal columns: no rule, no cycle
    assert infer_inequalities(same) == []


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="DataFrame"):
        infer_inequalities(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="min_correlation"):
        infer_inequalities(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), min_correlation=1.5)


def test_augmenter_with_auto_constraints_obeys_them_and_round_trips(tmp_path):
    import ganaug
    from ganaug import TabularAugmenter

    X, y = load_credit()
    X, y = X.iloc[:600], y.iloc[:600]
    aug = TabularAugmenter(epochs=1, generator_dim=(32,), discriminator_dim=(32,), constraints="auto",
                           random_state=0).fit(X, y)
    learnt = _pairs(aug.constraints_.constraints)
    assert ("Amount", "Price") in learnt
    X_new, _ = aug.sample(500, random_state=0)
    for c in aug.constraints_.constraints:
        assert isinstance(c, Inequality) and c.is_valid(X_new).all()
    aug.save(tmp_path / "model")
    loaded = ganaug.load(tmp_path / "model")
    assert loaded.constraints == "auto"
    assert _pairs(loaded.constraints_.constraints) == learnt
    assert loaded.sample(50, random_state=1)[0].equals(aug.sample(50, random_state=1)[0])
