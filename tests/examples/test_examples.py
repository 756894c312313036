"""Run every script in ``examples/`` with ``--fast`` in a subprocess, as a user would.

Each test checks the exit code and something the example claims: the numbers
it writes are there, in range and better than a trivial answer where the
tiny ``--fast`` training allows it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
TIMEOUT = 600

pytestmark = pytest.mark.slow


def run_example(name: str, out: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--fast", "--out", str(out), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )
    if check:
        assert proc.returncode == 0, f"{name} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def test_every_example_is_tested_and_documented():
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    tested = Path(__file__).read_text()
    readme = (EXAMPLES / "README.md").read_text()
    for script in scripts:
        assert f'"{script}"' in tested, f"{script} has no test here"
        assert script in readme, f"{script} is not listed in examples/README.md"
        source = (EXAMPLES / script).read_text()
        assert source.lstrip().startswith('"""'), f"{script} has no docstring"
        assert "--fast" in source and "--out" in source and "random_state" in source


def test_tabular_pipeline_gridsearch(tmp_path):
    proc = run_example("tabular_pipeline_gridsearch.py", tmp_path)
    table = pd.read_csv(tmp_path / "results.csv").set_index("arm")
    assert set(table.index) == {"no augmentation", "ganaug"}
    # Held-out PR-AUC well above the share of the rare class (0.28): the models learned something.
    assert (table["test_pr_auc"] > 0.45).all() and (table["test_pr_auc"] <= 1).all()
    assert ((table["test_f1"] > 0.3) & (table["test_f1"] <= 1)).all()
    assert table.loc["ganaug", "synthetic_rows_added"] > 0
    assert "aug__sampling_strategy" in table.loc["ganaug", "best_params"]
    assert "test PR-AUC" in proc.stdout


def test_image_dataset_lightning(tmp_path):
    proc = run_example("image_dataset_lightning.py", tmp_path)
    table = pd.read_csv(tmp_path / "results.csv").set_index("arm")
    assert list(table.index) == ["real only", "random oversampling", "real + ganaug"]
    # The balanced arms have more items than the real data, and the same number.
    assert table.loc["real + ganaug", "train_items"] == table.loc["random oversampling", "train_items"]
    assert table.loc["real + ganaug", "train_items"] > table.loc["real only", "train_items"]
    # Far above chance (0.1 for ten digits) even after two CNN epochs.
    assert table.loc["real + ganaug", "balanced_accuracy"] > 0.5
    assert table["rare_recall"].between(0, 1).all()
    assert (tmp_path / "samples.png").stat().st_size > 1000
    assert "synthetic items" in proc.stdout


def test_timeseries_rare_class_and_windows(tmp_path):
    run_example("timeseries_rare_class_and_windows.py", tmp_path)
    table = pd.read_csv(tmp_path / "rare_class.csv").set_index("arm")
    assert list(table.index) == ["real only", "random oversampling", "jitter + scaling", "ganaug"]
    assert table.loc["real only", "train_series"] == 29
    assert table.loc["ganaug", "train_series"] == 48           # 24 + 5 real + 19 synthetic: balanced
    assert table["balanced_accuracy"].between(0, 1).all()
    stats = pd.read_csv(tmp_path / "windows_stats.csv").set_index("column")
    assert list(stats.index) == ["Open", "High", "Low", "Close", "Adj_Close", "Volume"]
    assert np.isfinite(stats.to_numpy()).all()
    assert (stats["synthetic_std"] > 0).all()                  # not one constant window
    assert (tmp_path / "windows.png").stat().st_size > 1000


def test_image_translation_cyclegan(tmp_path):
    run_example("image_translation_cyclegan.py", tmp_path)
    row = pd.read_csv(tmp_path / "results.csv").iloc[0]
    # Even a 2-epoch CycleGAN is far closer to the true negatives than the untranslated digits.
    assert row["L1 plain->negative"] < 0.5 * row["L1 do nothing"]
    assert row["L1 negative->plain"] < 0.5 * row["L1 do nothing"]
    assert bool(row["reload_identical"])
    assert (tmp_path / "translator" / "config.json").is_file()
    assert (tmp_path / "translations.png").stat().st_size > 1000


def test_utility_report_csv_default(tmp_path):
    proc = run_example("utility_report_csv.py", tmp_path)
    assert "Recommendation" in proc.stdout
    summary = pd.read_csv(tmp_path / "summary.csv")
    arms = set(summary["arm"])
    assert {"none", "class weights", "ganaug", "ganaug + filter"} <= arms
    f1 = summary[summary["metric"] == "f1"]
    assert f1["mean"].between(0.3, 1).all()
    assert "Recommendation" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "report.html").stat().st_size > 1000


def test_utility_report_csv_own_file(tmp_path):
    """A user's CSV with another target name; a wrong --target gets a clear message."""
    from ganaug.datasets import load_hmda

    X, y = load_hmda()
    csv = tmp_path / "loans.csv"
    X.iloc[:800].assign(decision=y.iloc[:800].to_numpy()).to_csv(csv, index=False)

    bad = run_example("utility_report_csv.py", tmp_path / "bad", "--csv", str(csv), "--target", "nope", check=False)
    assert bad.returncode == 2 and "'nope' is not a column" in bad.stderr

    proc = run_example("utility_report_csv.py", tmp_path / "out", "--csv", str(csv), "--target", "decision")
    assert "800 rows" in proc.stdout and "Recommendation" in proc.stdout
    assert (tmp_path / "out" / "summary.csv").is_file()


def test_anomaly_table_and_series(tmp_path):
    proc = run_example("anomaly_table_and_series.py", tmp_path)
    results = pd.read_csv(tmp_path / "results.csv")
    assert list(results["detector"]) == ["GANAnomalyDetector", "IsolationForest", "GANAnomalyDetector", "nearest window"]
    assert results["roc_auc"].between(0, 1).all()
    gan_table, gan_series = results.iloc[0], results.iloc[2]
    # Better than chance on the held-out defaults (ROC-AUC 0.5) even after three epochs,
    # and the series baseline finds the labelled anomaly (its highest score lies inside it).
    assert gan_table["roc_auc"] > 0.6
    assert gan_series["roc_auc"] > 0.6
    assert bool(results.iloc[3]["peak_in_anomaly"])
    for png in ("table_scores.png", "series_scores.png"):
        assert (tmp_path / png).stat().st_size > 1000
    assert "per-step ROC-AUC" in proc.stdout
