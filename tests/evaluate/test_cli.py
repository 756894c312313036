"""``ganaug report`` on a small real CSV."""

from __future__ import annotations

import pandas as pd
import pytest

from ganaug.cli import main


@pytest.fixture
def hmda_csv(tmp_path, shared_data):
    df = pd.read_csv(shared_data / "tabular" / "HMDA.csv").sample(700, random_state=0)
    path = tmp_path / "hmda.csv"
    df.to_csv(path, index=False)
    return path


def test_report_command_writes_markdown_html_figures_and_csv(hmda_csv, tmp_path, capsys):
    out = tmp_path / "rep"
    rc = main(["report", str(hmda_csv), "--target", "deny", "--model", "lr", "--cv", "3", "--no-gan",
               "--n-boot", "200", "-o", str(out)])
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    assert {"report.md", "report.html", "results.csv", "summary.csv", "metrics.png", "marginals.png"} <= names
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "positive (minority) class `yes`" in md
    for arm in ("none", "tuned threshold", "class weights", "random oversampling", "SMOTE-NC"):
        assert f"| {arm} |" in md
    results = pd.read_csv(out / "results.csv")
    assert set(results["fold"]) == {0, 1, 2} and results["model"].eq("LR").all()
    printed = capsys.readouterr().out
    assert printed.startswith("LR: ")


def test_report_command_bad_input_is_one_clear_line(hmda_csv, tmp_path, capsys):
    assert main(["report", str(hmda_csv), "--target", "nope", "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "target column 'nope' is not in the table" in err
    assert main(["report", str(tmp_path / "missing.csv"), "--target", "deny", "-o", str(tmp_path / "x")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["report", str(hmda_csv), "--target", "deny", "--cv", "1000", "--no-gan", "-o", str(tmp_path / "x")]) == 2
    assert "cv=1000 folds need at least 1000 rows of every class" in capsys.readouterr().err


@pytest.mark.slow
def test_report_command_with_ganaug_arms(hmda_csv, tmp_path):
    out = tmp_path / "gan"
    rc = main(["report", str(hmda_csv), "--target", "deny", "--model", "hgb", "--cv", "2", "--epochs", "2",
               "--no-ctgan", "--n-boot", "200", "-o", str(out)])
    assert rc == 0
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| ganaug * |" in md and "| ganaug + filter * |" in md
    assert (out / "losses.png").stat().st_size > 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 3
