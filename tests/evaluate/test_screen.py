"""The end-of-run screen of the tabular benchmark (``make demo``) and the plain-line progress of a report."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

from ganaug.evaluate._progress import LineProgress, progress_bar
from ganaug.evaluate._screen import screen_table, summary_screen

BASELINE_ARMS = ["none", "tuned threshold", "class weights", "random oversampling", "SMOTE-NC"]
AUGMENTER_ARMS = ["ganaug", "ganaug + filter", "CTGAN"]
ROW_ADDING = {"random oversampling", "SMOTE-NC", *AUGMENTER_ARMS}

VERDICT = (
    "HGB: No augmenter beat tuned threshold on minority F1: the best, ganaug, was 0.012 lower (95% CI -0.030 to "
    "-0.001). ganaug + filter did not clearly change PR-AUC against the best alternative, none: +0.004 (95% CI "
    "-0.010 to +0.018). Recommendation: no augmenter clearly beat tuned threshold on this data; do not augment.\n"
    "LR: CTGAN raised minority F1 by 0.031 (95% CI +0.010 to +0.052) over the best alternative, class weights. "
    "CTGAN raised PR-AUC by 0.020 (95% CI +0.004 to +0.036) over the best alternative, class weights. "
    "Recommendation: augment with CTGAN."
)


def synthetic_summary(seed: int = 0) -> pd.DataFrame:
    """A frame shaped like ``UtilityReport.summary()`` of the benchmark (two models, eight arms, privacy columns)."""
    rng = np.random.default_rng(seed)
    rows = []
    for model in ("HGB", "LR"):
        for metric in ("f1", "pr_auc", "roc_auc", "balanced_accuracy"):
            means = {arm: float(rng.uniform(0.4, 0.9)) for arm in BASELINE_ARMS + AUGMENTER_ARMS}
            ref = max(BASELINE_ARMS, key=means.get)
            for arm, mean in means.items():
                fam = "baseline" if arm in BASELINE_ARMS else "augmenter"
                diff = mean - means[ref]
                rows.append((model, arm, fam, metric, mean, 0.02, 3, ref, diff, diff - 0.02, diff + 0.02))
        for arm in BASELINE_ARMS + AUGMENTER_ARMS:
            fam = "baseline" if arm in BASELINE_ARMS else "augmenter"
            rows.append((model, arm, fam, "fit_time", 1.5, 0.1, 3, None, np.nan, np.nan, np.nan))
            if arm in ROW_ADDING:
                copies = 1.0 if arm == "random oversampling" else 0.0
                mia = 0.95 if arm == "random oversampling" else 0.52
                for metric, value in (("DCR ratio", 0.8), ("exact copies", copies), ("MIA AUC", mia)):
                    rows.append((model, arm, fam, metric, value, 0.0, 3, None, np.nan, np.nan, np.nan))
    return pd.DataFrame(rows, columns=["model", "arm", "family", "metric", "mean", "std", "n_folds", "reference",
                                       "diff", "ci_low", "ci_high"])


def header_cells(header: str) -> list[str]:
    return re.split(r"\s{2,}", header.strip())


def test_screen_fits_100_columns_with_at_most_six_table_columns():
    text = summary_screen(
        synthetic_summary(), VERDICT,
        title="credit: 1000 rows, 3 stratified hold-out splits (test 30%), ganaug 100 epochs, 85 s",
        footer=["Means over 3 splits; * = augmenter.", "Full report (HTML): results/tabular_benchmark/report.html"],
    )
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    table = screen_table(synthetic_summary())
    cells = header_cells(table[0])
    assert cells == ["arm", "minority F1", "PR-AUC", "Δ PR-AUC [95% CI]", "exact copies", "MIA AUC"]
    assert len(cells) <= 6
    # the verdict of each model and its recommendation, before the table
    assert lines.index("Verdict") < next(i for i, line in enumerate(lines) if line.startswith("arm"))
    assert any(line.startswith("  HGB: No augmenter beat tuned threshold") for line in lines)
    assert any(line.startswith("  LR: CTGAN raised minority F1") for line in lines)
    assert sum("→ Recommendation:" in line for line in lines) == 2
    assert "results/tabular_benchmark/report.html" in text
    # all arms of both models, augmenters marked, one screen (well under 50 lines)
    for arm in BASELINE_ARMS:
        assert sum(line.startswith(f"  {arm}  ") or line == f"  {arm}" for line in lines) == 2
    assert sum(line.startswith("  ganaug *") for line in lines) == 2
    assert len(lines) <= 45


def test_screen_cells_privacy_and_reference():
    lines = screen_table(synthetic_summary())
    ros = next(line for line in lines if line.startswith("  random oversampling"))
    assert ros.split()[-3:] == ["100", "%", "0.95"]  # all copies, attack near 1
    gan = next(line for line in lines if line.startswith("  ganaug *"))
    assert gan.split()[-3:] == ["0", "%", "0.52"]
    none = next(line for line in lines if line.startswith("  none"))
    assert none.rstrip().endswith("–")  # adds no rows: no privacy numbers
    s = synthetic_summary()
    ref = s[(s["model"] == "HGB") & (s["metric"] == "pr_auc")]["reference"].iloc[0]
    assert f"HGB (Δ against the best simple alternative, {ref})" in lines
    ref_line = next(line for line in lines if line.startswith(f"  {ref}"))
    assert " ref." in ref_line


def test_screen_without_privacy_columns_and_with_long_arm_names():
    s = synthetic_summary()
    s = s[~s["metric"].isin(["exact copies", "MIA AUC", "DCR ratio"])]
    s = s.replace({"arm": {"ganaug": "ganaug ratio 0.5 with a very long name that would not fit a terminal " * 2}})
    text = summary_screen(s, VERDICT, width=100)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert header_cells(screen_table(s)[0]) == ["arm", "minority F1", "PR-AUC", "Δ PR-AUC [95% CI]"]
    assert "…" in text


def test_line_progress_prints_plain_lines():
    buf = io.StringIO()
    bar = LineProgress(4, file=buf)
    bar.set_postfix_str("fold 1/2, none")
    bar.update(1)
    bar.set_postfix_str("fold 1/2, ganaug")
    bar.update(1)
    bar.close()
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("utility report: 0/4 done, ") and lines[0].endswith(" s: fold 1/2, none")
    assert lines[1].startswith("utility report: 1/4 done, ") and lines[1].endswith("fold 1/2, ganaug")
    assert lines[2].startswith("utility report: 2/4 done, ")
    assert "\r" not in buf.getvalue() and "\x1b" not in buf.getvalue()
    with pytest.raises(ValueError, match="lines"):
        progress_bar(3, "bars")


def test_utility_report_progress_lines(capsys):
    from sklearn.linear_model import LogisticRegression

    from ganaug.datasets import load_hmda
    from ganaug.evaluate import utility_report

    X, y = load_hmda()
    utility_report(LogisticRegression(max_iter=300), X, y, augmenters=[], cv=2, random_state=0,
                   baselines=["none", "class_weight"], metrics=["f1"], n_boot=100, progress="lines")
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("utility report: 0/4 done") and err[0].endswith("fold 1/2, none")
    assert err[3].endswith("fold 2/2, class weights")
    assert err[-1].startswith("utility report: 4/4 done")


def test_benchmark_screen_fits_100_columns(monkeypatch):
    """The pipeline's own screen (title, note, file lines) on the synthetic summary."""
    import sys
    from pathlib import Path

    pipelines = Path(__file__).resolve().parents[2] / "pipelines"
    monkeypatch.syspath_prepend(str(pipelines))
    monkeypatch.delitem(sys.modules, "tabular_benchmark", raising=False)
    import tabular_benchmark

    args = tabular_benchmark.build_parser().parse_args([])
    text = tabular_benchmark.screen("credit", 4454, synthetic_summary(), VERDICT, args, 85.0,
                                    ["Full report (HTML): results/tabular_benchmark/report.html"])
    lines = text.splitlines()
    assert lines[0].startswith("credit: 4454 rows, 3 stratified hold-out splits")
    assert max(len(line) for line in lines) <= 100
    assert len(re.split(r"\s{2,}", next(line for line in lines if line.startswith("arm")).strip())) == 6
