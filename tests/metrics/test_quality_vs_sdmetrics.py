"""ganaug's quality_report against SDMetrics' QualityReport (skipped without the optional `bench` extra).

sdmetrics is MIT but pulls in copulas (BUSL-1.1): it lives in the `bench`
extra only, never in `test`, so CI skips this file.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from ganaug.metrics.quality import infer_sdtypes, quality_report

sdmetrics = pytest.importorskip("sdmetrics")


def _noisy_resample(X: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A cheap "synthetic" table: resampled rows, noise on numbers, 15 % of categories redrawn, one column shuffled."""
    rng = np.random.default_rng(seed)
    syn = X.sample(n=len(X), replace=True, random_state=seed).reset_index(drop=True)
    for col in syn.columns:
        s = syn[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            noisy = s + rng.normal(0, 0.3 * s.std(), len(s))
            syn[col] = noisy.round().astype(s.dtype) if pd.api.types.is_integer_dtype(s) else noisy
        else:
            redraw = rng.random(len(s)) < 0.15
            syn.loc[redraw, col] = rng.choice(s.dropna().unique(), redraw.sum())
    last = syn.columns[-1]
    syn[last] = syn[last].to_numpy()[rng.permutation(len(syn))]
    return syn


def _sdmetrics_scores(real, syn, metadata, thresholds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        if hasattr(report, "real_correlation_threshold"):
            report.real_correlation_threshold, report.real_association_threshold = thresholds
        elif thresholds != (0, 0):
            pytest.skip(f"sdmetrics {sdmetrics.__version__} has no pair thresholds")
        report.generate(real, syn, metadata, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return (report.get_score(), props["Column Shapes"], props["Column Pair Trends"],
            report.get_details("Column Shapes"), report.get_details("Column Pair Trends"))


@pytest.mark.parametrize("thresholds", [(0.5, 0.3), (0, 0)], ids=["sdmetrics-0.32-thresholds", "all-pairs"])
def test_scores_match_sdmetrics_on_the_credit_table(thresholds):
    from ganaug.datasets import load_credit

    X, _ = load_credit()  # mixed types, with missing values
    syn = _noisy_resample(X, seed=0)
    metadata = {"columns": {c: {"sdtype": t} for c, t in infer_sdtypes(X).items()}}
    ours = quality_report(X, syn, metadata, real_correlation_threshold=thresholds[0],
                          real_association_threshold=thresholds[1])
    overall, shapes, trends, shape_details, pair_details = _sdmetrics_scores(X, syn, metadata, thresholds)
    assert ours["overall"] == pytest.approx(overall, abs=0.01)
    assert ours["column_shapes"] == pytest.approx(shapes, abs=0.01)
    assert ours["column_pair_trends"] == pytest.approx(trends, abs=0.01)
    # and column by column, pair by pair
    assert ours["columns"]["score"].to_numpy() == pytest.approx(shape_details["Score"].to_numpy(), abs=0.01)
    assert list(ours["pairs"]["column_1"]) == list(pair_details["Column 1"])
    assert list(ours["pairs"]["column_2"]) == list(pair_details["Column 2"])
    counted = pair_details["Meets Threshold?"].fillna(False).to_numpy(dtype=bool)
    assert (ours["pairs"]["counted"].to_numpy() == counted).all()
    assert ours["pairs"]["score"].to_numpy()[counted] == pytest.approx(pair_details["Score"].to_numpy()[counted],
                                                                       abs=0.01)


def test_datetimes_booleans_and_missing_values_match_sdmetrics():
    rng = np.random.default_rng(1)

    def table(n, spread):
        t = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.normal(0, spread, n), unit="D")
        x = (t - pd.Timestamp("2020-01-01")).days.to_numpy() * 0.1 + rng.normal(0, 3, n)
        d = pd.DataFrame({"t": t, "x": x, "b": rng.random(n) < 0.3, "c": rng.choice(["u", "v", "w"], n)})
        d.loc[rng.random(n) < 0.1, "t"] = pd.NaT
        d.loc[rng.random(n) < 0.1, "c"] = None
        return d

    real, syn = table(800, 100), table(600, 150)
    metadata = {"columns": {c: {"sdtype": t} for c, t in infer_sdtypes(real).items()}}
    ours = quality_report(real, syn, metadata, real_correlation_threshold=0, real_association_threshold=0)
    overall, shapes, trends, _, _ = _sdmetrics_scores(real, syn, metadata, (0, 0))
    assert (ours["overall"], ours["column_shapes"], ours["column_pair_trends"]) == pytest.approx(
        (overall, shapes, trends), abs=0.01)
