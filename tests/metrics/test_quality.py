"""ganaug's SDMetrics-style quality report: hand-computed values, invariances, bad input (no sdmetrics needed)."""

import numpy as np
import pandas as pd
import pytest

from ganaug.metrics.quality import infer_sdtypes, quality_report


def _tiny():
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", "b"]})
    syn = pd.DataFrame({"x": [2.0, 3.0, 4.0, 5.0], "y": [4.0, 3.0, 2.0, 1.0], "c": ["a", "b", "b", "b"]})
    return real, syn


def test_hand_computed_scores_on_a_tiny_table():
    real, syn = _tiny()
    q = quality_report(real, syn, real_correlation_threshold=0, real_association_threshold=0)
    shapes = q["columns"].set_index("column")["score"]
    # x: the ECDFs differ by at most 1/4 -> 0.75; y: same values -> 1; c: TV(2/4 vs 1/4 'a') = 0.25 -> 0.75
    assert shapes.to_dict() == pytest.approx({"x": 0.75, "y": 1.0, "c": 0.75})
    pairs = q["pairs"].set_index(["column_1", "column_2"])
    # x-y: r_real = +1, r_syn = -1 -> 1 - |1 - (-1)| / 2 = 0
    assert pairs.loc[("x", "y"), "metric"] == "CorrelationSimilarity"
    assert pairs.loc[("x", "y"), "score"] == pytest.approx(0.0)
    assert pairs.loc[("x", "y"), ["real_correlation", "synthetic_correlation"]].tolist() == pytest.approx([1, -1])
    # x-c: each table cut into 10 bins on its own range -> cells (1,a) (4,a) (7,b) (11,b) vs (1,a) (4,b) (7,b) (11,b)
    assert pairs.loc[("x", "c"), "metric"] == "ContingencySimilarity"
    assert pairs.loc[("x", "c"), "score"] == pytest.approx(0.75)
    # y-c: y reversed in the synthetic rows: only the (7, b) cell agrees -> 1 - 0.5 * 6/4
    assert pairs.loc[("y", "c"), "score"] == pytest.approx(0.25)
    assert q["column_shapes"] == pytest.approx(2.5 / 3)
    assert q["column_pair_trends"] == pytest.approx(1.0 / 3)
    assert q["overall"] == pytest.approx((2.5 / 3 + 1.0 / 3) / 2)
    assert q["pairs"]["counted"].all()


def test_missing_values_are_dropped_for_shapes_and_a_category_for_pairs():
    real = pd.DataFrame({"c": ["a", None, "a", "b"], "d": ["u"] * 4, "x": [1.0, np.nan, 3.0, 4.0],
                         "z": [2.0, 5.0, 6.0, 8.0]})
    syn = pd.DataFrame({"c": ["a", "a", "b", "b"], "d": ["u"] * 4, "x": [1.0, 3.0, 4.0, np.nan],
                        "z": [2.0, 6.0, 8.0, 1.0]})
    q = quality_report(real, syn, real_correlation_threshold=0, real_association_threshold=0)
    shapes = q["columns"].set_index("column")["score"]
    assert shapes["c"] == pytest.approx(1 - 0.5 * (abs(2 / 3 - 0.5) + abs(1 / 3 - 0.5)))  # NaN ignored
    assert shapes["x"] == pytest.approx(1.0)  # {1, 3, 4} on both sides once NaN is dropped
    pairs = q["pairs"].set_index(["column_1", "column_2"])
    # (a,u) .5 / .5, (NaN,u) .25 / 0, (b,u) .25 / .5
    assert pairs.loc[("c", "d"), "score"] == pytest.approx(0.75)
    # correlation on the rows where both are present: real (1,2) (3,6) (4,8), synthetic (1,2) (3,6) (4,8)
    assert pairs.loc[("x", "z"), "score"] == pytest.approx(1.0)
    # with the SDMetrics 0.32 thresholds a constant column relates to nothing: its pairs are not counted
    q2 = quality_report(real, syn)
    p2 = q2["pairs"].set_index(["column_1", "column_2"])
    assert not p2.loc[("c", "d"), "counted"] and np.isnan(p2.loc[("c", "d"), "real_association"])
    assert p2.loc[("c", "d"), "score"] == pytest.approx(0.75)  # scored all the same


def test_identical_tables_score_one_and_a_shuffled_column_breaks_pairs_not_shapes():
    from ganaug.datasets import load_credit

    X, _ = load_credit()
    same = quality_report(X, X.copy(), real_correlation_threshold=0, real_association_threshold=0)
    assert same["overall"] == pytest.approx(1.0)
    assert same["column_shapes"] == pytest.approx(1.0) and same["column_pair_trends"] == pytest.approx(1.0)
    assert len(same["columns"]) == X.shape[1] and len(same["pairs"]) == X.shape[1] * (X.shape[1] - 1) // 2

    shuffled = X.copy()
    rng = np.random.default_rng(0)
    for col in ("Amount", "Home"):
        shuffled[col] = shuffled[col].to_numpy()[rng.permutation(len(X))]
    q = quality_report(X, shuffled, real_correlation_threshold=0, real_association_threshold=0)
    assert q["column_shapes"] == pytest.approx(1.0)  # same values in each column
    pairs = q["pairs"]
    touched = pairs["column_1"].isin(["Amount", "Home"]) | pairs["column_2"].isin(["Amount", "Home"])
    assert pairs.loc[~touched, "score"].to_numpy() == pytest.approx(1.0)
    amount_price = pairs[(pairs["column_1"] == "Amount") & (pairs["column_2"] == "Price")]["score"].item()
    assert amount_price < 0.75  # r ~ 0.7 in the real rows, ~ 0 once Amount is shuffled
    assert q["column_pair_trends"] < 0.99
    # with SDMetrics 0.32's thresholds only related pairs count, and Amount-Price is one of them
    q_thr = quality_report(X, shuffled)
    assert 0 < q_thr["pairs"]["counted"].sum() < len(q_thr["pairs"])
    assert q_thr["column_pair_trends"] < q["column_pair_trends"]


def test_datetimes_booleans_metadata_and_skipped_columns():
    rng = np.random.default_rng(3)
    n = 200
    t = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    real = pd.DataFrame({"id": np.arange(n), "t": t, "v": (t - t.min()).days.to_numpy() * 2.0,
                         "flag": rng.random(n) < 0.5})
    real.loc[::17, "t"] = pd.NaT
    syn = real.copy()
    q = quality_report(real, syn, {"columns": {"id": {"sdtype": "id"}, "t": {"sdtype": "datetime"},
                                              "v": {"sdtype": "numerical"}, "flag": {"sdtype": "boolean"}}})
    assert list(q["columns"]["column"]) == ["t", "v", "flag"]  # the id column is skipped
    assert q["overall"] == pytest.approx(1.0)
    tv = q["pairs"].set_index(["column_1", "column_2"]).loc[("t", "v")]
    assert tv["metric"] == "CorrelationSimilarity" and tv["real_correlation"] == pytest.approx(1.0)
    # dates given as strings with their format
    as_text = real.assign(t=real["t"].dt.strftime("%d/%m/%Y"))
    fmt = {"columns": {"t": {"sdtype": "datetime", "datetime_format": "%d/%m/%Y"}, "v": {"sdtype": "numerical"}}}
    text_q = quality_report(as_text, as_text, fmt)
    assert text_q["overall"] == pytest.approx(1.0) and list(text_q["columns"]["column"]) == ["t", "v"]
    # flat metadata {name: sdtype}
    flat = quality_report(real, syn, {"v": "numerical", "flag": "categorical"})
    assert list(flat["columns"]["metric"]) == ["KSComplement", "TVComplement"]
    shifted = real.assign(t=real["t"] + pd.Timedelta(days=400))
    q_shift = quality_report(real, shifted, {"t": "datetime"})
    assert q_shift["column_shapes"] == pytest.approx(0.0)  # no overlap at all
    assert infer_sdtypes(real) == {"id": "numerical", "t": "datetime", "v": "numerical", "flag": "boolean"}


def test_bins_from_real_range_and_thresholds():
    real, syn = _tiny()
    q = quality_report(real, syn, real_correlation_threshold=0, real_association_threshold=0, bins_from="real")
    pairs = q["pairs"].set_index(["column_1", "column_2"])["score"]
    # x on the real range with open outer bins: real codes 1 4 7 10, synthetic 4 7 10 10
    assert pairs[("x", "c")] == pytest.approx(0.75)
    strict = quality_report(real, syn, real_correlation_threshold=1.0, real_association_threshold=1.0)
    assert not strict["pairs"]["counted"].any() and np.isnan(strict["column_pair_trends"])
    assert strict["overall"] == pytest.approx(strict["column_shapes"])  # mean of what is defined


def test_bad_input_is_refused_clearly():
    real, syn = _tiny()
    with pytest.raises(TypeError, match="DataFrame"):
        quality_report(real.to_numpy(), syn)
    with pytest.raises(ValueError, match="empty"):
        quality_report(real, syn.iloc[:0])
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['c'\]"):
        quality_report(real, syn.drop(columns="c"))
    with pytest.raises(ValueError, match="'nope'"):
        quality_report(real, syn, {"nope": "numerical"})
    with pytest.raises(ValueError, match="bins_from"):
        quality_report(real, syn, bins_from="synthetic")
    with pytest.raises(ValueError, match="real_correlation_threshold"):
        quality_report(real, syn, real_correlation_threshold=2)
