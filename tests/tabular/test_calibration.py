"""Marginal calibration: per-class level frequencies and value quantiles of generated rows match the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ganaug.augment.tabular import TabularAugmenter
from ganaug.datasets import load_hmda
from ganaug.tabular.calibration import MarginalCalibration

PARAMS = dict(epochs=3, random_state=0, embedding_dim=16, generator_dim=(32, 32), discriminator_dim=(32,), pac=5,
              batch_size=200, filter_synthetic=False, classifier_weight=0.0)


@pytest.fixture(scope="module")
def hmda():
    X, y = load_hmda()
    return X, y


def _errors(aug, X, y):
    X_new, y_new = aug.sample(y.value_counts().to_dict(), random_state=1)
    level_err, value_err = [], []
    for cls in ("no", "yes"):
        real, syn = X[y == cls], X_new[y_new.to_numpy() == cls]
        for col in ("phist", "selfemp", "insurance", "afam"):
            level_err.append(abs((real[col] == "yes").mean() - (syn[col] == "yes").mean()))
        for col in ("pirat", "lvrat"):
            value_err.append(abs(real[col].median() - syn[col].median()) / X[col].std())
    return np.mean(level_err), np.mean(value_err)


def test_calibration_matches_class_marginals(hmda):
    X, y = hmda
    raw = TabularAugmenter(calibrate=False, **PARAMS).fit(X, y)
    cal = TabularAugmenter(calibrate=True, **PARAMS).fit(X, y)
    lv_raw, val_raw = _errors(raw, X, y)
    lv_cal, val_cal = _errors(cal, X, y)
    # a barely trained generator is far off; calibration brings the per-class marginals close
    assert lv_cal < 0.04 and lv_cal < lv_raw / 2, (lv_raw, lv_cal)
    assert val_cal < 0.1 and val_cal < val_raw, (val_raw, val_cal)
    assert np.abs(cal.module_.logit_bias.numpy()).max() > 0
    assert cal.calibration_.nodes_real.shape[:2] == (2, len(cal.transformer_.continuous_columns))


def test_quantile_map_is_monotone_and_per_class():
    cal = MarginalCalibration.identity(n_classes=2, columns=[3], n_quantiles=3)
    cal.nodes_synthetic[:, 0] = [0.0, 1.0, 2.0]
    cal.nodes_real[0, 0] = [0.0, 10.0, 20.0]
    cal.nodes_real[1, 0] = [5.0, 6.0, 7.0]
    x = np.array([0.5, 0.5, 3.0, 1.0])
    codes = np.array([0, 1, 0, 1])
    out = cal.map_values(3, x, codes, missing=np.array([False, False, False, True]))
    assert out.tolist() == [5.0, 5.5, 20.0, 1.0]  # beyond the nodes: the class's end; missing rows untouched
    assert cal.map_values(7, x, codes).tolist() == x.tolist()  # not a calibrated column
    state, tensors = cal.get_state()
    again = MarginalCalibration.from_state(state, tensors)
    assert np.array_equal(again.map_values(3, x, codes), cal.map_values(3, x, codes))
