"""Hypothesis fuzzing of the other public entry points: image and series augmenters, AugmentedDataset,
the ``ganaug`` CLI and GANAnomalyDetector. Each works (output checked) or raises a clean error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from ganaug.augment.image import ImageAugmenter
from ganaug.augment.timeseries import TimeSeriesAugmenter
from tests.reliability._fuzz import (
    TINY_IMG,
    TINY_TS,
    assert_clean_error,
    byte_equal_prefix,
    frames,
    fuzz_settings,
    good_labels,
    labels,
    pixel_array,
    works_or_clean_error,
)

DTYPES = ["uint8", "float32", "float64", "int64", "int8", "bool", "object", "float16"]
SPECIAL = [None, np.nan, np.inf, -np.inf, 1e30, -5.0, 300.0]


# ---------------------------------------------------------------- images
image_shapes = st.one_of(
    st.tuples(st.integers(0, 24), st.sampled_from([4, 8, 12, 28]), st.sampled_from([4, 8, 12, 28])),
    st.tuples(st.integers(0, 24), st.sampled_from([1, 2, 3, 4]), st.sampled_from([4, 8, 7]), st.sampled_from([4, 8])),
    st.tuples(st.integers(0, 24), st.sampled_from([4, 8]), st.sampled_from([4, 8]), st.sampled_from([1, 3, 5])),
    st.tuples(st.integers(0, 24), st.integers(1, 6)),
    st.tuples(st.integers(0, 8), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.integers(0, 24)),
)


@fuzz_settings(30)
@given(image_shapes, st.sampled_from(DTYPES), st.sampled_from(SPECIAL), st.integers(0, 99), st.data())
def test_image_augmenter_any_array(shape, dtype, special, seed, data):
    X = pixel_array(shape, dtype, special, seed)
    y = data.draw(labels(shape[0]))
    ok, out = works_or_clean_error(lambda: ImageAugmenter(**TINY_IMG).fit_resample(X, y))
    if ok:
        X_res, y_res = out
        byte_equal_prefix(X_res, X)
        assert X_res.dtype == X.dtype and X_res.shape[1:] == X.shape[1:]
        new = X_res[len(X):].astype(np.float64)
        assert np.isfinite(new).all(), "synthetic images hold NaN/inf"
        assert new.min() >= np.nanmin(X.astype(np.float64)) - 1e-6 and new.max() <= np.nanmax(X.astype(np.float64)) + 1e-6


@fuzz_settings(12)
@given(st.sampled_from([(4, 4), (8, 8), (12, 12)]), st.sampled_from(["uint8", "float32"]), st.integers(0, 99),
       st.data())
def test_image_augmenter_valid_input_always_works(hw, dtype, seed, data):
    n = data.draw(st.integers(6, 20))
    X = pixel_array((n, *hw), dtype, None, seed)
    y = data.draw(good_labels(n))
    X_res, y_res = ImageAugmenter(**TINY_IMG).fit_resample(X, y)
    byte_equal_prefix(X_res, X)
    assert len(X_res) == len(y_res) and X_res.dtype == X.dtype


# ----------------------------------------------------------- time series
series_shapes = st.one_of(
    st.tuples(st.integers(0, 24), st.integers(1, 3), st.integers(1, 20)),
    st.tuples(st.integers(0, 24), st.integers(1, 20)),
    st.tuples(st.integers(0, 24)),
    st.tuples(st.integers(0, 6), st.integers(1, 2), st.integers(1, 4), st.integers(1, 4)),
)


@fuzz_settings(30)
@given(series_shapes, st.sampled_from(["float32", "float64", "int64", "object", "bool"]),
       st.sampled_from(["none", "pad", "middle", "all", "inf", "huge"]), st.integers(0, 99), st.data())
def test_timeseries_augmenter_any_array(shape, dtype, nan, seed, data):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=shape)
    if X.ndim >= 2 and X.shape[0] and X.shape[-1] > 2:
        if nan == "pad":  # variable length: NaN at the end of some series
            X[..., X.shape[-1] - 2:] = np.nan
            X[0, ..., X.shape[-1] - 2:] = 1.0
        elif nan == "middle":
            X[0, ..., 1] = np.nan
        elif nan == "all":
            X[0] = np.nan
        elif nan == "inf":
            X[0, ..., 0] = np.inf
        elif nan == "huge":
            X = X * 1e300
    X = X.astype(dtype) if dtype != "bool" else X > 0
    y = data.draw(labels(shape[0]))
    ok, out = works_or_clean_error(lambda: TimeSeriesAugmenter(**TINY_TS).fit_resample(X, y))
    if ok:
        X_res, y_res = out
        assert X_res.shape[1:] == (X.shape[1:] if X.ndim == 3 else X.shape[1:])
        head = X_res[: len(X)]
        assert np.array_equal(head, np.asarray(X, dtype=head.dtype), equal_nan=True), "original series changed"
        new = np.asarray(X_res[len(X):], dtype=np.float64)
        assert not np.isinf(new).any()
        nan_mask = np.isnan(new)
        assert (nan_mask[..., 1:] >= nan_mask[..., :-1]).all(), "NaN inside a synthetic series"


@fuzz_settings(12)
@given(st.sampled_from(["3d", "2d", "padded"]), st.integers(1, 3), st.integers(3, 16), st.integers(0, 99), st.data())
def test_timeseries_augmenter_valid_input_always_works(layout, channels, length, seed, data):
    n = data.draw(st.integers(6, 20))
    rng = np.random.default_rng(seed)
    X = np.cumsum(rng.normal(size=(n, channels, length)), axis=-1).astype(np.float32)
    if layout == "2d":
        X = X[:, 0]
    elif layout == "padded" and length > 3:  # variable length, NaN padding at the end
        cut = rng.integers(2, length, n)
        X[np.broadcast_to(np.arange(length)[None, None, :] >= cut[:, None, None], X.shape)] = np.nan
    y = data.draw(good_labels(n))
    X_res, y_res = TimeSeriesAugmenter(**TINY_TS).fit_resample(X, y)
    assert np.array_equal(X_res[:n], X, equal_nan=True) and X_res.dtype == X.dtype
    new = X_res[n:]
    assert len(X_res) == len(y_res) and not np.isinf(new).any()
    nan = np.isnan(new)
    assert (nan[..., 1:] >= nan[..., :-1]).all(), "NaN inside a synthetic series"


# ---------------------------------------------------------- AugmentedDataset
@pytest.fixture(scope="module")
def image_model(shared_data):
    d = np.load(shared_data / "mnist" / "mnist_4k.npz")
    keep = np.concatenate([np.flatnonzero(d["y"] == 1)[:30], np.flatnonzero(d["y"] == 7)[:8]])
    X, y = d["X"][keep], d["y"][keep]
    return ImageAugmenter(**TINY_IMG).fit(X, y), X, y


@fuzz_settings(30)
@given(st.one_of(st.none(), st.floats(-2, 5), st.just(float("nan")), st.just(float("inf")), st.text(max_size=2),
                 st.integers(-2, 4)),
       st.one_of(st.booleans(), st.none(), st.integers(0, 2)),
       st.one_of(st.floats(-1, 2), st.just(float("nan")), st.none(), st.integers(0, 1)),
       st.sampled_from(["ok", "short_y", "unknown_class", "float_y", "one_class"]),
       st.lists(st.one_of(st.integers(-200, 200), st.floats(-3, 3), st.text(max_size=2), st.none(),
                          st.just(np.int64(1)), st.booleans()), max_size=6))
def test_augmented_dataset_arguments_and_indexing(image_model, ratio, balance, share, y_kind, indices):
    from ganaug.data import AugmentedDataset

    aug, X, y = image_model
    y_in = {"ok": y, "short_y": y[:-3], "unknown_class": np.where(y == 7, 9, y), "float_y": y.astype(float) + 0.5,
            "one_class": np.full_like(y, 1)}[y_kind]
    kwargs = {"synthetic_ratio": ratio, "balance": balance, "random_state": 0}
    if share is not None:
        kwargs["synthetic_share"] = share
    ok, ds = works_or_clean_error(lambda: AugmentedDataset(X, aug, y=y_in, **kwargs))
    if not ok:
        return
    n = len(ds)
    assert n >= len(X) and ds.n_real == len(X)
    for i in range(len(X)):  # every real item comes back unchanged, in order
        img, lab = ds[i]
        assert np.array_equal(np.asarray(img), X[i]) and lab == y_in[i]
    for index in indices:
        try:
            img, lab = ds[index]
        except IndexError as exc:  # the Python convention for an index out of range
            assert str(exc)
            continue
        except (TypeError, ValueError) as exc:
            assert_clean_error(exc)
            continue
        assert isinstance(index, (int, np.integer)) and -n <= int(index) < n, f"index {index!r} was accepted"
        assert np.asarray(img).shape == X.shape[1:]


# ----------------------------------------------------------------------- CLI
@fuzz_settings(10)
@given(frames(n_min=0, n_max=30, kinds=("float", "float_nan", "int", "category", "text", "text_nan", "constant",
                                       "float_inf", "all_nan")),
       st.data())
def test_cli_resample_any_csv(tmp_path_factory, X, data):
    from ganaug.cli import main

    folder = tmp_path_factory.mktemp("cli")
    X = X.loc[:, ~X.columns.duplicated()]
    X.columns = [str(c) for c in X.columns]
    X = X.loc[:, ~pd.Index(X.columns).duplicated()]
    y = np.asarray(data.draw(labels(len(X))), dtype=object)
    target = data.draw(st.sampled_from(["label", "missing_col", *list(X.columns)[:1]]))
    df = X.copy()
    if target == "label" or target not in df.columns:
        df.insert(0, "label", y)
    src, out = folder / "in.csv", folder / "out.csv"
    df.to_csv(src, index=False)
    strategy = data.draw(st.sampled_from(["auto", "minority", "not majority", "all", "0.9", "2", "-1", "banana",
                                          '{"x": 3}', "{bad json", "[1, 2]"]))
    argv = ["resample", str(src), "--target", target, "--strategy", strategy, "--epochs", "1",
            "--batch-size", "20", "--seed", "0", "-o", str(out)]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    assert code in (0, 2)
    event(f"exit {code}")
    if code == 0:
        back_in, back_out = pd.read_csv(src), pd.read_csv(out)
        assert len(back_out) >= len(back_in)
        pd.testing.assert_frame_equal(back_out.iloc[: len(back_in)], back_in, check_dtype=False)
    else:
        assert not out.exists()


@fuzz_settings(15)
@given(st.lists(st.sampled_from(["-n", "5", "-1", "x", "--class", "no=3", "yes=2", "maybe=1", "no=-4", "no=abc",
                                 "=3", "--seed", "-3", "--target", "deny"]), max_size=6))
@example(["-n", "5"])
@example(["--class", "no=3", "--class", "yes=2", "--target", "deny"])
def test_cli_sample_any_arguments(saved_tabular, tmp_path_factory, extra):
    from ganaug.cli import main

    out = tmp_path_factory.mktemp("s") / "o.csv"
    try:
        code = main(["sample", str(saved_tabular), *extra, "-o", str(out)])
    except SystemExit as exc:
        code = exc.code
    assert code in (0, 2)
    event(f"exit {code}")
    if code == 0:
        assert pd.read_csv(out).shape[1] == 14


@pytest.fixture(scope="module")
def saved_tabular(tmp_path_factory, shared_data):
    from ganaug.augment.tabular import TabularAugmenter
    from tests.reliability._fuzz import TINY_TAB

    df = pd.read_csv(shared_data / "tabular" / "HMDA.csv").iloc[:200]
    y = df.pop("deny")
    path = tmp_path_factory.mktemp("model") / "m"
    TabularAugmenter(**TINY_TAB).fit(df, y).save(path)
    return path


# ------------------------------------------------------------ anomaly detector
TINY_DET = dict(epochs=1, encoder_epochs=1, hidden_dim=8, latent_dim=4, random_state=0,
                trainer={"enable_progress_bar": False})


@pytest.fixture(scope="module")
def detector(shared_data):
    from ganaug.anomaly import GANAnomalyDetector

    d = np.load(shared_data / "adbench" / "6_cardio.npz") if (shared_data / "adbench" / "6_cardio.npz").is_file() \
        else np.load(sorted((shared_data / "adbench").glob("*.npz"))[0])
    X = d["X"][:300].astype(np.float64)
    return GANAnomalyDetector(**TINY_DET).fit(X), X


@fuzz_settings(20)
@given(st.data())
def test_detector_decision_function_any_input(detector, data):
    det, X = detector
    kind = data.draw(st.sampled_from(["rows", "nan", "inf", "huge", "wrong_width", "1d", "3d", "empty", "object",
                                      "list", "frame", "str"]))
    n = data.draw(st.integers(1, 20))
    rows = X[:n].copy()
    if kind == "nan":
        rows[0, 0] = np.nan
    elif kind == "inf":
        rows[0, -1] = np.inf
    elif kind == "huge":
        rows = rows * 1e300
    elif kind == "wrong_width":
        rows = rows[:, :-1]
    elif kind == "1d":
        rows = rows[0]
    elif kind == "3d":
        rows = rows[:, :, None]
    elif kind == "empty":
        rows = rows[:0]
    elif kind == "object":
        rows = rows.astype(object)
        rows[0, 0] = "a"
    elif kind == "list":
        rows = rows.tolist()
    elif kind == "frame":
        rows = pd.DataFrame(rows)
    elif kind == "str":
        rows = "not data"
    ok, scores = works_or_clean_error(lambda: det.decision_function(rows))
    if ok:
        scores = np.asarray(scores)
        assert scores.shape == (len(rows),)
        assert np.isfinite(scores).all() or kind == "huge", f"non-finite scores for {kind}"


@fuzz_settings(15)
@given(frames(n_min=0, n_max=30, kinds=("float", "float_nan", "int", "float_inf", "constant", "bool")),
       st.one_of(st.floats(-0.5, 0.7), st.just(float("nan"))))
def test_detector_fit_any_frame(X, contamination):
    from ganaug.anomaly import GANAnomalyDetector

    det = GANAnomalyDetector(**{**TINY_DET, "contamination": contamination})
    ok, out = works_or_clean_error(lambda: det.fit(X))
    if ok:
        assert out.decision_scores_.shape == (len(X),) and np.isfinite(out.decision_scores_).all()
        assert set(np.unique(out.labels_)) <= {0, 1}
