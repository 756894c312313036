"""GANAnomalyDetector on series (per-step scores from windows) and images, and the ``ganaug detect`` command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ganaug.anomaly import GANAnomalyDetector
from ganaug.cli import main
from ganaug.datasets import load_internal_bleeding


@pytest.mark.slow
def test_series_scores_every_step_and_finds_the_labelled_anomaly():
    train, test, labels = load_internal_bleeding()
    det = GANAnomalyDetector(window=16, stride=2, epochs=3, encoder_epochs=3, random_state=0).fit(train)
    assert det.modality_ == "series"
    assert det.decision_scores_.shape == train.shape
    scores = det.decision_function(test)
    assert scores.shape == test.shape and np.isfinite(scores).all()
    # the jittery labelled region scores above the normal steps on the whole
    assert roc_auc_score(labels, scores) > 0.8
    assert det.predict(test).shape == test.shape
    with pytest.raises(ValueError, match="fewer than window"):
        det.decision_function(test[:10])
    with pytest.raises(ValueError, match="channels"):
        det.decision_function(np.stack([test, test], axis=1))


def test_series_y_keeps_windows_with_known_anomalies_out():
    _, test, labels = load_internal_bleeding()
    x, y = test[3800:4600], labels[3800:4600]
    det = GANAnomalyDetector(window=16, stride=4, epochs=1, encoder_epochs=1, random_state=0).fit(x, y)
    starts = np.arange(0, len(x) - 16 + 1, 4)
    clean = ~np.array([y[s : s + 16].any() for s in starts])
    assert det.n_train_ == int(clean.sum()) < len(starts)


@pytest.mark.slow
def test_images_one_digit_normal_other_digits_abnormal(shared_data):
    d = np.load(shared_data / "mnist" / "mnist_4k.npz")
    X, y = d["X"], d["y"]
    ones = X[y == 1][:256]
    det = GANAnomalyDetector(epochs=8, encoder_epochs=8, hidden_dim=16, latent_dim=16, batch_size=64,
                             random_state=0).fit(ones)
    assert det.modality_ == "image"
    test = np.concatenate([X[y == 1][256:356], X[y == 0][:100]])
    truth = np.r_[np.zeros(100), np.ones(100)]
    s = det.decision_function(test)
    assert s.shape == (200,)
    assert roc_auc_score(truth, s) > 0.8  # zeros do not look like ones


def test_cli_detect_writes_scores(shared_data, tmp_path):
    d = np.load(shared_data / "adbench" / "42_WBC.npz")
    df = pd.DataFrame(d["X"], columns=[f"f{i}" for i in range(d["X"].shape[1])])
    df.insert(0, "id", np.arange(len(df)))
    src, out, model = tmp_path / "in.csv", tmp_path / "scores.csv", tmp_path / "det"
    df.to_csv(src, index=False)
    assert main(["detect", str(src), "--drop", "id", "--contamination", "0.05", "--epochs", "2",
                 "--save-model", str(model), "-o", str(out)]) == 0
    res = pd.read_csv(out)
    assert {"anomaly_score", "anomaly_label", "anomaly_probability"} <= set(res.columns)
    assert len(res) == len(df) and 0 < res["anomaly_label"].mean() <= 0.07
    again = tmp_path / "again.csv"
    assert main(["detect", str(src), "--drop", "id", "--model", str(model), "-o", str(again)]) == 0
    np.testing.assert_allclose(pd.read_csv(again)["anomaly_score"], res["anomaly_score"], rtol=1e-5)
    assert main(["detect", str(src), "--drop", "nope", "-o", str(again)]) == 2


def test_cli_score_choices_are_the_detectors():
    import argparse

    from ganaug.anomaly.detector import SCORES
    from ganaug.commands import detect

    sub = detect.add_parser(argparse.ArgumentParser().add_subparsers())
    (score,) = [a for a in sub._actions if a.dest == "score"]
    assert set(score.choices) == set(SCORES) and score.default == "auto"
