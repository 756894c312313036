"""``ganaug resample`` and ``ganaug sample`` on real CSV files (in-process through ``ganaug.cli.main``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ganaug.cli import main

FAST = ["--epochs", "1", "--batch-size", "100"]


@pytest.fixture(scope="module")
def credit_csv(tmp_path_factory, shared_data):
    """700 rows of the real credit table (NaN in Income/Assets/Debt/Home/..., text and integer columns)."""
    df = pd.read_csv(shared_data / "tabular" / "credit_data.csv").iloc[:700]
    assert df.isna().any().any()  # the test is about a messy table
    path = tmp_path_factory.mktemp("csv") / "credit.csv"
    df.to_csv(path, index=False)
    return path, df


@pytest.fixture(scope="module")
def resampled(credit_csv, tmp_path_factory):
    path, df = credit_csv
    out_dir = tmp_path_factory.mktemp("out")
    out, model = out_dir / "balanced.csv", out_dir / "model"
    assert main(["resample", str(path), "--target", "Status", *FAST, "--save-model", str(model), "-o", str(out)]) == 0
    return pd.read_csv(out), model


def test_resample_keeps_the_input_rows_and_columns_and_balances(credit_csv, resampled):
    _, df = credit_csv
    out, _ = resampled
    assert list(out.columns) == list(df.columns)  # target stays where it was
    pd.testing.assert_frame_equal(out.iloc[: len(df)], df)  # every input row first, unchanged
    counts = df["Status"].value_counts()
    assert out["Status"].value_counts().to_dict() == {"good": counts.max(), "bad": counts.max()}
    new = out.iloc[len(df):]
    for col in ("Seniority", "Time", "Age", "Expenses", "Amount", "Price"):  # integer columns stay integers
        assert out[col].dtype == np.int64, col
    for col in ("Home", "Marital", "Records", "Job"):  # text columns: only known levels (or missing)
        assert new[col].dropna().isin(df[col].dropna().unique()).all(), col
    assert np.isfinite(new.select_dtypes("number").to_numpy(dtype=float)[~new.select_dtypes("number").isna().to_numpy()]).all()


def test_sample_from_the_saved_model(resampled, tmp_path, capsys):
    _, model = resampled
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    assert main(["sample", str(model), "-n", "60", "--seed", "3", "-o", str(a)]) == 0
    assert main(["sample", str(model), "-n", "60", "--seed", "3", "-o", str(b)]) == 0
    assert main(["sample", str(model), "--class", "bad=7", "--class", "good=2", "-o", str(c)]) == 0
    assert "wrote" in capsys.readouterr().out
    A, B, C = pd.read_csv(a), pd.read_csv(b), pd.read_csv(c)
    pd.testing.assert_frame_equal(A, B)  # same seed, same rows
    assert len(A) == 60 and A.columns[-1] == "Status" and set(A["Status"]) <= {"good", "bad"}
    assert C["Status"].value_counts().to_dict() == {"bad": 7, "good": 2}


def test_resample_dict_strategy_and_filter(credit_csv, tmp_path):
    path, df = credit_csv
    out = tmp_path / "o.csv"
    strategy = json.dumps({"bad": 300})
    assert main(["resample", str(path), "--target", "Status", *FAST, "--strategy", strategy, "--filter",
                 "-o", str(out)]) == 0
    res = pd.read_csv(out)
    assert res["Status"].value_counts()["bad"] == 300
    assert res["Status"].value_counts()["good"] == (df["Status"] == "good").sum()


def test_iso_date_column_is_modelled_as_datetimes(shared_data, tmp_path):
    """A real sensor stream: synthetic timestamps are new date-times in the observed range, written in ISO form."""
    df = pd.read_csv(shared_data / "nab" / "data" / "realKnownCause" / "ambient_temperature_system_failure.csv")
    df = df.iloc[:600].copy()
    df["hot"] = np.where(df["value"] > df["value"].quantile(0.85), "yes", "no")
    src, out = tmp_path / "temp.csv", tmp_path / "out.csv"
    df.to_csv(src, index=False)
    assert main(["resample", str(src), "--target", "hot", *FAST, "-o", str(out)]) == 0
    res = pd.read_csv(out)
    pd.testing.assert_frame_equal(res.iloc[: len(df)], df)
    when = pd.to_datetime(res["timestamp"].iloc[len(df):], format="ISO8601")  # every new value parses
    t = pd.to_datetime(df["timestamp"])
    assert when.between(t.min(), t.max()).all()
    assert (~when.isin(t)).mean() > 0.5  # mostly new time points, not copies of the 600 levels


@pytest.mark.parametrize(
    "argv, message",
    [
        (["resample", "{csv}", "--target", "Statu", "-o", "{tmp}/o.csv"], "target column 'Statu' not in"),
        (["resample", "{tmp}/none.csv", "--target", "Status", "-o", "{tmp}/o.csv"], "no such file"),
        (["resample", "{csv}", "--target", "Status", "--strategy", "{{bad", "-o", "{tmp}/o.csv"], "not valid JSON"),
        (["resample", "{csv}", "--target", "Status", "--strategy", '{{"ugly": 5}}', "-o", "{tmp}/o.csv"],
         "class 'ugly' in --strategy is not a value of the target"),
        (["resample", "{csv}", "--target", "Status", "--strategy", "most", "-o", "{tmp}/o.csv"],
         "sampling_strategy='most' is not"),
        (["resample", "{csv}", "--target", "Status", "--epochs", "0", "-o", "{tmp}/o.csv"], "epochs"),
        (["resample", "{nan_csv}", "--target", "Status", "-o", "{tmp}/o.csv"], "missing label"),
        (["sample", "{tmp}", "-n", "5", "-o", "{tmp}/o.csv"], "config.json"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(credit_csv, tmp_path, capsys, argv, message):
    path, df = credit_csv
    nan_csv = tmp_path / "nan.csv"
    df.assign(Status=df["Status"].where(df.index != 5)).to_csv(nan_csv, index=False)
    argv = [a.format(csv=path, tmp=tmp_path, nan_csv=nan_csv) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_sample_argument_errors(resampled, tmp_path, capsys):
    _, model = resampled
    for argv, message in [
        (["-o", str(tmp_path / "o.csv")], "give -n N or at least one --class"),
        (["--class", "ugly=3", "-o", str(tmp_path / "o.csv")], "unknown class 'ugly'"),
        (["--class", "bad", "-o", str(tmp_path / "o.csv")], "LABEL=COUNT"),
        (["--class", "bad=x", "-o", str(tmp_path / "o.csv")], "not an integer"),
        (["-n", "5", "--class", "bad=3", "-o", str(tmp_path / "o.csv")], "not both"),
        (["-n", "-1", "-o", str(tmp_path / "o.csv")], "-n must be >= 0"),
    ]:
        assert main(["sample", str(model), *argv]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()
