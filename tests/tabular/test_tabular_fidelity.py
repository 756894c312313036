"""Smoke test of pipelines/tabular_fidelity.py (issue 20): --fast on the bundled credit table, one seed.

CTGAN and TVAE (the ``ctgan`` package, in the ``test`` extra) are run when
ctgan is installed; without it only ganaug's rows are checked and the test
says so with a skip at the end.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

HAS_CTGAN = importlib.util.find_spec("ctgan") is not None


@pytest.fixture()
def fidelity(import_pipeline):
    return import_pipeline("tabular_fidelity")


def test_fast_run_on_credit_writes_scores_in_range(fidelity, tmp_path, capsys):
    models = "ganaug,ctgan,tvae" if HAS_CTGAN else "ganaug"
    out = tmp_path / "fidelity"
    assert fidelity.main(["--fast", "--tables", "credit", "--seeds", "1", "--models", models, "--constrained",
                          "--no-progress", "--out", str(out)]) == 0

    raw = pd.read_csv(out / "results.csv")
    expected = {"ganaug", "ganaug + constraints"} | ({"CTGAN", "TVAE"} if HAS_CTGAN else set())
    assert set(raw["model"]) == expected
    assert len(raw) == len(expected)  # one row per table x model x seed
    assert (raw["table"] == "credit").all() and (raw["seed"] == 0).all()
    for col in ("overall", "column_shapes", "column_pair_trends", "tstr_pr_auc", "tstr_f1", "trtr_pr_auc",
                "trtr_f1", "dcr_ratio", "dcr_q05_ratio", "exact_copies", "mia_auc", "violations",
                "violations Amount <= Price", "violations Seniority <= Age", "fit_s", "sample_s", "seconds"):
        assert col in raw.columns, col
        assert raw[col].notna().all(), col
    for col in ("overall", "column_shapes", "column_pair_trends", "tstr_pr_auc", "tstr_f1", "exact_copies",
                "mia_auc", "violations"):
        assert raw[col].between(0, 1).all(), col
    assert (raw["dcr_ratio"] >= 0).all()
    assert (raw["fit_s"] > 0).all() and (raw["sample_s"] >= 0).all()
    assert np.allclose(raw["seconds"], raw["fit_s"] + raw["sample_s"])
    # as many synthetic rows as the training split (70 % of the 600-row fast subsample)
    assert (raw["n_synthetic"] == raw["n_train"]).all() and (raw["n_train"] == 420).all()
    # overall is the mean of the two properties
    assert np.allclose(raw["overall"], (raw["column_shapes"] + raw["column_pair_trends"]) / 2)
    # the constrained ganaug keeps every row within Amount <= Price and Seniority <= Age
    assert raw.loc[raw["model"] == "ganaug + constraints", "violations"].eq(0).all()

    md = (out / "results.md").read_text(encoding="utf-8")
    assert "## credit" in md and "**Verdict (credit)**" in md and "- commit: `" in md
    assert "Amount <= Price" in md
    if not HAS_CTGAN:
        pytest.skip("ctgan is not installed: CTGAN and TVAE rows not checked (ganaug's were)")
    assert "pair trends" in md.split("**Verdict (credit)**")[1] and "TVAE" in md


def test_tables_without_implied_constraints_say_none(fidelity):
    part = pd.DataFrame({"model": ["ganaug"], "violations": [float("nan")]})
    assert fidelity.constraint_lines("default", part) == ["Constraints (default): none implied by the columns."]
    from ganaug.datasets import TABULAR_DATASETS, load_tabular

    assert set(fidelity.TABLE_CONSTRAINTS) == set(TABULAR_DATASETS)
    for name in TABULAR_DATASETS:  # every declared constraint holds on every real row (else this raises)
        X, _ = load_tabular(name)
        assert len(fidelity._constraints(name, X)) == len(fidelity.TABLE_CONSTRAINTS[name])


def test_ganaug_params_parse_json_values_and_refuse_bad_pairs(fidelity):
    assert fidelity.ganaug_params(["gp_every=4", "loss=hinge", "calibrate=false"]) == {
        "gp_every": 4, "loss": "hinge", "calibrate": False}
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        fidelity.ganaug_params(["gp_every"])
