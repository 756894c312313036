"""No data lost, determinism, the NaN guard and resume from a checkpoint, for every augmenter."""

from __future__ import annotations

import re
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError

from ganaug.augment.image import ImageAugmenter
from ganaug.augment.tabular import TabularAugmenter
from ganaug.augment.timeseries import TimeSeriesAugmenter
from ganaug.core.checkpoint import InterruptTraining, TrainingInterrupted, resumable_trainer
from ganaug.exceptions import NonFiniteLossError
from tests.reliability._fuzz import TINY_IMG, TINY_TAB, TINY_TS, byte_equal_prefix


@pytest.fixture(scope="module")
def credit(shared_data):
    df = pd.read_csv(shared_data / "tabular" / "credit_data.csv")
    df = df.iloc[:400].reset_index(drop=True)
    y = df.pop("Status")
    for col in df.columns[df.dtypes == object]:
        df[col] = df[col].astype("category")
    return df, y


@pytest.fixture(scope="module")
def digits(shared_data):
    d = np.load(shared_data / "mnist" / "mnist_4k.npz")
    keep = np.concatenate([np.flatnonzero(d["y"] == 3)[:40], np.flatnonzero(d["y"] == 8)[:12]])
    return d["X"][keep], d["y"][keep]


@pytest.fixture(scope="module")
def vowels(shared_data):
    """JapaneseVowels: 12 channels, variable length padded with NaN (two classes kept)."""
    d = np.load(shared_data / "timeseries" / "JapaneseVowels.npz", allow_pickle=False)
    X, y = d["X_train"], d["y_train"]
    keep = np.concatenate([np.flatnonzero(y == y[0])[:30], np.flatnonzero(y != y[0])[:10]])
    return X[keep], y[keep]


def _cases(credit, digits, vowels):
    return {
        "tabular": (TabularAugmenter, TINY_TAB, *credit),
        "image": (ImageAugmenter, TINY_IMG, *digits),
        "timeseries": (TimeSeriesAugmenter, TINY_TS, *vowels),
    }


MODALITIES = ["tabular", "image", "timeseries"]


# ------------------------------------------------------------ no data lost
@pytest.mark.parametrize("modality", MODALITIES)
def test_fit_resample_returns_every_original_item_unchanged(modality, credit, digits, vowels):
    cls, params, X, y = _cases(credit, digits, vowels)[modality]
    X_res, y_res = cls(**params).fit_resample(X, y)
    byte_equal_prefix(X_res, X)
    assert np.array_equal(np.asarray(y_res)[: len(y)], np.asarray(y))
    assert len(X_res) > len(X)


def test_tabular_arrays_keep_every_original_row(credit):
    X, y = credit
    arr = X.select_dtypes("number").to_numpy(dtype=np.float64)  # with NaN
    X_res, y_res = TabularAugmenter(**TINY_TAB).fit_resample(arr, y.to_numpy())
    byte_equal_prefix(X_res, arr)
    assert np.isnan(X_res[: len(arr)]).sum() == np.isnan(arr).sum()


# ------------------------------------------------------------- determinism
@pytest.mark.parametrize("modality", MODALITIES)
def test_same_random_state_same_samples(modality, credit, digits, vowels):
    cls, params, X, y = _cases(credit, digits, vowels)[modality]
    a = cls(**params).fit(X, y)
    b = cls(**params).fit(X, y)
    Xa, ya = a.sample(30)
    Xb, yb = b.sample(30)
    if isinstance(Xa, pd.DataFrame):
        pd.testing.assert_frame_equal(Xa, Xb, check_exact=True)
    else:
        assert np.asarray(Xa).tobytes() == np.asarray(Xb).tobytes()
    assert np.array_equal(np.asarray(ya), np.asarray(yb))
    for k, v in a.module_.state_dict().items():
        assert torch.equal(v, b.module_.state_dict()[k]), f"weights differ in {k}"
    c = cls(**{**params, "random_state": 1}).fit(X, y)
    Xc, _ = c.sample(30)
    assert np.asarray(Xc if not isinstance(Xc, pd.DataFrame) else Xc.select_dtypes("number")).tobytes() != \
        np.asarray(Xa if not isinstance(Xa, pd.DataFrame) else Xa.select_dtypes("number")).tobytes()


# ----------------------------------------------------------- the NaN guard
@pytest.mark.parametrize("modality", MODALITIES)
def test_divergent_learning_rate_stops_with_the_step_not_nan_rows(modality, credit, digits, vowels):
    cls, params, X, y = _cases(credit, digits, vowels)[modality]
    aug = cls(**{**params, "lr_g": 1e30, "lr_d": 1e30, "epochs": 3})
    # NaN / inf, or (the recurrent networks saturate instead of overflowing) a finite loss beyond 1e8
    with pytest.raises(NonFiniteLossError, match=r"loss is (nan|inf|-inf|\S+ \(beyond \+-1e\+08\)) at epoch \d+, step \d+") as err:
        aug.fit(X, y)
    assert "lr_g" in str(err.value)
    with pytest.raises(NotFittedError):  # the failed fit left nothing to draw NaN rows from
        aug.sample(5)


@pytest.mark.parametrize("modality", MODALITIES)
def test_infinite_learning_rate_always_trips_the_guard(modality, credit, digits, vowels):
    cls, params, X, y = _cases(credit, digits, vowels)[modality]
    aug = cls(**{**params, "lr_g": float("inf"), "lr_d": float("inf"), "epochs": 2})
    with pytest.raises(NonFiniteLossError, match=r"at epoch \d+, step \d+"):
        aug.fit(X, y)
    with pytest.raises(NotFittedError):
        aug.sample(5)


# ------------------------------------------------------------------ resume
def _weights(aug) -> dict:
    return {k: v.clone() for k, v in aug.module_.state_dict().items()}


@pytest.mark.parametrize("modality", MODALITIES)
def test_resume_after_interruption_gives_identical_weights(modality, credit, digits, vowels, tmp_path):
    """Interrupted at the start of epoch 2 and resumed from last.ckpt: bit-identical to an uninterrupted run."""
    cls, params, X, y = _cases(credit, digits, vowels)[modality]
    params = {**params, "epochs": 4}
    quiet = {"enable_progress_bar": False}
    reference = cls(**params).fit(X, y)

    crashing = cls(**{**params, "trainer": resumable_trainer(tmp_path, callbacks=[InterruptTraining(2)], **quiet)})
    with pytest.raises(TrainingInterrupted):
        crashing.fit(X, y)
    assert (tmp_path / "last.ckpt").is_file()

    args = resumable_trainer(tmp_path, **quiet)
    assert args["ckpt_path"] == str(tmp_path / "last.ckpt") and args["weights_only"] is True
    resumed = cls(**{**params, "trainer": args}).fit(X, y)

    ref_w, res_w = _weights(reference), _weights(resumed)
    assert ref_w.keys() == res_w.keys()
    worst = max(float((ref_w[k].double() - res_w[k].double()).abs().max()) for k in ref_w)
    assert worst == 0.0, f"resumed weights differ from the uninterrupted run by up to {worst:g}"
    assert len(resumed.history_) == len(reference.history_)
    Xr, _ = reference.sample(10, random_state=0)
    Xs, _ = resumed.sample(10, random_state=0)
    assert np.asarray(Xr if not isinstance(Xr, pd.DataFrame) else Xr.to_numpy()).tobytes() == \
        np.asarray(Xs if not isinstance(Xs, pd.DataFrame) else Xs.to_numpy()).tobytes() or \
        (isinstance(Xr, pd.DataFrame) and Xr.equals(Xs))


def test_resume_can_be_turned_off(tmp_path):
    (tmp_path / "last.ckpt").write_bytes(b"old")
    assert "ckpt_path" not in resumable_trainer(tmp_path, resume=False)
    with pytest.raises(ValueError, match="every_n_epochs"):
        resumable_trainer(tmp_path, every_n_epochs=0)
