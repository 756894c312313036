"""ConditionalSampler: vectorised training-by-sampling and generation conditions."""

from __future__ import annotations

import numpy as np
import pytest

from ganaug.tabular.sampler import ConditionalSampler


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    n = 5000
    classes = (rng.random(n) < 0.1).astype(int)  # 10 % minority
    a = np.where(classes == 1, rng.choice(3, n, p=[0.1, 0.1, 0.8]), rng.choice(3, n, p=[0.7, 0.25, 0.05]))
    b = rng.choice(4, n, p=[0.97, 0.01, 0.01, 0.01])
    return np.stack([a, b], axis=1), classes


def test_every_drawn_row_has_the_drawn_class_and_level(table):
    codes, classes = table
    s = ConditionalSampler(codes, [3, 4], classes, 2)
    rng = np.random.default_rng(1)
    rows, cats = s.sample_training(20_000, rng)
    col = np.searchsorted(s.level_offsets, cats, side="right") - 1
    level = cats - s.level_offsets[col]
    assert np.array_equal(codes[rows, col], level)
    assert s.n_categories == 7


@pytest.mark.parametrize("balance", [1.0, 0.5, 0.0])
def test_class_balance(table, balance):
    codes, classes = table
    s = ConditionalSampler(codes, [3, 4], classes, 2, class_balance=balance)
    rows, _ = s.sample_training(40_000, np.random.default_rng(2))
    n0, n1 = np.bincount(classes)
    expected = n1**balance / (n0**balance + n1**balance)  # 1: as in the data, 0: equal
    assert abs(classes[rows].mean() - expected) < 0.015


def test_levels_are_drawn_by_log_frequency_within_the_class(table):
    codes, classes = table
    s = ConditionalSampler(codes, [3, 4], classes, 2, class_balance=1.0)
    rows, cats = s.sample_training(200_000, np.random.default_rng(3))
    sel = (classes[rows] == 0) & (cats >= 3)  # column b, majority class
    got = np.bincount(cats[sel] - 3, minlength=4) / sel.sum()
    counts = np.bincount(codes[classes == 0, 1], minlength=4)
    expected = np.log1p(counts) / np.log1p(counts).sum()
    assert np.allclose(got, expected, atol=0.01)


def test_generation_conditions_follow_the_data_within_each_class(table):
    codes, classes = table
    s = ConditionalSampler(codes, [3, 4], classes, 2)
    cats = s.sample_conditions(np.ones(100_000, dtype=int), np.random.default_rng(4))
    a = cats[cats < 3]
    got = np.bincount(a, minlength=3) / len(a)
    expected = np.bincount(codes[classes == 1, 0], minlength=3) / (classes == 1).sum()
    assert np.allclose(got, expected, atol=0.01)
    # rebuilt from its saved state, the same seed gives the same conditions
    s2 = ConditionalSampler.for_generation(s.generation_state())
    again = s2.sample_conditions(np.ones(100_000, dtype=int), np.random.default_rng(4))
    assert np.array_equal(cats, again)


def test_no_discrete_columns_draws_by_class_only():
    classes = np.array([0] * 90 + [1] * 10)
    s = ConditionalSampler(np.zeros((100, 0), dtype=int), [], classes, 2, class_balance=0.0)
    rows, cats = s.sample_training(10_000, np.random.default_rng(0))
    assert (cats == -1).all() and abs(classes[rows].mean() - 0.5) < 0.03
    assert (s.sample_conditions(np.array([0, 1]), np.random.default_rng(0)) == -1).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="class_balance"):
        ConditionalSampler(np.zeros((3, 1), int), [1], np.zeros(3, int), 1, class_balance=2)
    with pytest.raises(ValueError, match="codes must be"):
        ConditionalSampler(np.zeros((3, 1), int), [1], np.zeros(4, int), 1)
