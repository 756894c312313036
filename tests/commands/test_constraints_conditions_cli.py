"""``ganaug resample --constraints FILE.json`` and ``ganaug sample --where COL=VALUE`` on the real credit CSV."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ganaug.augment.tabular import TabularAugmenter
from ganaug.cli import main
from ganaug.tabular.constraints import FixedCombinations, Inequality

FAST = ["--epochs", "2", "--batch-size", "100"]


@pytest.fixture(scope="module")
def credit_csv(tmp_path_factory, shared_data):
    df = pd.read_csv(shared_data / "tabular" / "credit_data.csv").iloc[:700]
    assert (df["Amount"] <= df["Price"]).all()
    path = tmp_path_factory.mktemp("csv") / "credit.csv"
    df.to_csv(path, index=False)
    return path, df


@pytest.fixture(scope="module")
def constrained(credit_csv, tmp_path_factory):
    path, _ = credit_csv
    out_dir = tmp_path_factory.mktemp("out")
    rules = out_dir / "rules.json"
    rules.write_text(json.dumps([{"type": "Inequality", "low": "Amount", "high": "Price"},
                                 {"type": "FixedCombinations", "columns": ["Home", "Job"]}]))
    out, model = out_dir / "balanced.csv", out_dir / "model"
    code = main(["resample", str(path), "--target", "Status", *FAST, "--constraints", str(rules),
                 "--save-model", str(model), "-o", str(out)])
    assert code == 0
    return pd.read_csv(out), model


def test_resample_with_constraints_file(credit_csv, constrained):
    _, df = credit_csv
    out, model = constrained
    new = out.iloc[len(df):]
    assert len(new) > 0 and (new["Amount"] <= new["Price"]).all()
    seen = set(zip(df["Home"].astype(str), df["Job"].astype(str)))
    assert set(zip(new["Home"].astype(str), new["Job"].astype(str))) <= seen
    back = TabularAugmenter.load(model)
    assert back.constraints == [Inequality("Amount", "Price"), FixedCombinations(["Home", "Job"])]


def test_sample_where(constrained, tmp_path, capsys):
    _, model = constrained
    a = tmp_path / "a.csv"
    code = main(["sample", str(model), "-n", "120", "--where", "Home=rent", "--where", "Amount=1000..2000",
                 "--where", "Time=36", "--seed", "1", "-o", str(a)])
    assert code == 0, capsys.readouterr().err
    rows = pd.read_csv(a)
    assert len(rows) == 120 and (rows["Home"] == "rent").all()
    assert rows["Amount"].between(1000, 2000).all() and (rows["Time"] == 36).all()
    assert (rows["Amount"] <= rows["Price"]).all()
    b = tmp_path / "b.csv"
    assert main(["sample", str(model), "--class", "bad=40", "--where", "Records=yes", "-o", str(b)]) == 0
    rows = pd.read_csv(b)
    assert (rows["Status"] == "bad").all() and (rows["Records"] == "yes").all() and len(rows) == 40


@pytest.mark.parametrize(
    ("where", "match"),
    [("Home=castle", "never seen in training"), ("Town=Paris", "unknown column 'Town'"),
     ("Amount=lots", "not a number"), ("Home", "COLUMN=VALUE"), ("Amount=9000..9500", "never seen in training")],
)
def test_sample_where_errors(constrained, tmp_path, capsys, where, match):
    _, model = constrained
    code = main(["sample", str(model), "-n", "5", "--where", where, "-o", str(tmp_path / "x.csv")])
    assert code == 2
    assert match in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "match"),
    [("not json", "not valid JSON"), ('{"type": "Inequality"}', "JSON list"),
     ('[{"type": "Inequality", "low": "Amount", "high": "Prize"}]', "unknown column 'Prize'"),
     ('[{"type": "Inequality", "low": "Price", "high": "Amount"}]', "violate"),
     ('[{"type": "Custom"}]', "cannot be read from JSON")],
)
def test_resample_constraint_file_errors(credit_csv, tmp_path, capsys, content, match):
    path, _ = credit_csv
    rules = tmp_path / "rules.json"
    rules.write_text(content)
    code = main(["resample", str(path), "--target", "Status", *FAST, "--constraints", str(rules),
                 "-o", str(tmp_path / "o.csv")])
    assert code == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()
