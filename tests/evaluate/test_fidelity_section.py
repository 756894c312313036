"""The fidelity section of the utility report: ganaug's own SDMetrics-style scores of each arm's synthetic rows."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from ganaug.datasets import load_credit, load_gunpoint
from ganaug.evaluate import utility_report
from ganaug.metrics.quality import quality_report


@pytest.fixture(scope="module")
def credit_report():
    X, y = load_credit()
    rep = utility_report(LogisticRegression(max_iter=300), X, y, augmenters=[], cv=3, random_state=0,
                         baselines=["none", "random_oversampling", "smote"], metrics=["f1"], n_boot=100,
                         progress=False)
    return X, y, rep


def test_fidelity_table_scores_each_arm_against_the_real_training_rows_of_its_class(credit_report):
    X, y, rep = credit_report
    table, details = rep.fidelity(details=True)
    assert list(table["arm"]) == ["random oversampling", "SMOTE-NC"]
    assert (table["class"] == rep.pos_label).all()
    for col in ("overall", "column_shapes", "column_pair_trends", "pair_trends_all_pairs"):
        assert table[col].between(0, 1).all()
    # copies of real rows follow the real marginals more closely than SMOTE's interpolations
    by_arm = table.set_index("arm")
    assert by_arm.loc["random oversampling", "column_shapes"] > by_arm.loc["SMOTE-NC", "column_shapes"]

    # the same numbers as quality_report on the first fold's rows
    _, _, splits = rep._data
    tr = splits[0][0]
    real = X.iloc[tr][np.asarray(y)[tr] == rep.pos_label]
    X_new, y_new = rep.synthetic["SMOTE-NC"]
    direct = quality_report(real, X_new[np.asarray(y_new) == rep.pos_label])
    assert by_arm.loc["SMOTE-NC", "overall"] == pytest.approx(direct["overall"])
    assert by_arm.loc["SMOTE-NC", "n_real"] == len(real)
    q = details[("SMOTE-NC", rep.pos_label)]
    assert by_arm.loc["SMOTE-NC", "weakest_column_score"] == pytest.approx(q["columns"]["score"].min())
    assert by_arm.loc["SMOTE-NC", "pairs"] == X.shape[1] * (X.shape[1] - 1) // 2


def test_markdown_and_html_have_a_fidelity_section(credit_report, tmp_path):
    _, _, rep = credit_report
    md = rep.to_markdown()
    assert "## Fidelity of the synthetic rows" in md
    section = md.split("## Fidelity of the synthetic rows")[1].split("## Arms")[0]
    assert "| random oversampling | bad |" in section and "| SMOTE-NC | bad |" in section
    page = rep.to_html(tmp_path / "r.html")
    assert "<h2>Fidelity of the synthetic rows</h2>" in page


def test_no_fidelity_section_without_a_table_or_without_synthetic_rows():
    X, y = load_credit()
    rep = utility_report(LogisticRegression(max_iter=300), X, y, augmenters=[], cv=2, random_state=0,
                         baselines=["none"], metrics=["f1"], n_boot=100, progress=False)
    assert rep.fidelity().empty and "Fidelity" not in rep.to_markdown()

    X_tr, y_tr, X_te, y_te = load_gunpoint()  # (N, 1, L) series: nothing to score as a table
    Xs, ys = np.concatenate([X_tr, X_te]), np.concatenate([y_tr, y_te])
    keep = np.flatnonzero((ys == "2") | (np.arange(ys.size) % 3 == 0))  # make class "1" rare

    def nearest_centroid(X_train, y_train, X_test):
        flat_tr, flat_te = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
        cent = np.stack([flat_tr[y_train == c].mean(0) for c in np.unique(y_train)])
        d = -((flat_te[:, None, :] - cent[None]) ** 2).sum(-1)
        e = np.exp(d - d.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    rep = utility_report(nearest_centroid, Xs[keep], ys[keep], augmenters=[], cv=2, random_state=0,
                         baselines=["none", "random_oversampling"], metrics=["f1"], n_boot=100, progress=False)
    assert "random oversampling" in rep.synthetic
    assert rep.fidelity().empty and "Fidelity" not in rep.to_markdown()
