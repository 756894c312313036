"""pipelines/detection_benchmark.py (issue 21): the mixed arm's GAN share is chosen on validation scenes built
from the training digits only; the --share override; --gan-params."""

from __future__ import annotations

import numpy as np
import pytest

from ganaug.evaluate import DEFAULT_SHARES


@pytest.fixture()
def bench(import_pipeline):
    return import_pipeline("detection_benchmark")


def _rows(X) -> set:
    X = np.asarray(X)
    return {row.tobytes() for row in X.reshape(len(X), int(np.prod(X.shape[1:])))}


def test_parse_args(bench):
    args = bench.parse_args([])
    assert args.share is None and args.shares == DEFAULT_SHARES and args.gan_params == {}
    args = bench.parse_args(["--share", "0.5", "--gan-params", '{"lecam_weight": 0.01, "filter_synthetic": true}'])
    assert args.share == 0.5 and args.gan_params == {"lecam_weight": 0.01, "filter_synthetic": True}
    quick = bench.parse_args(["--quick"])
    assert quick.seeds == [0] and quick.shares == (0.0, 0.5, 1.0) and quick.val_scenes == 60
    for bad in (["--gan-params", '{"width": 8}'], ["--gan-params", '{"nope": 1}'], ["--share", "-0.1"]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)


def test_validation_scenes_use_training_digits_only(bench, monkeypatch):
    import ganaug.detection

    args = bench.parse_args(["--train-scenes", "12", "--val-scenes", "6", "--test-scenes", "6"])
    train_digits, test_digits = bench.load_digits(args)
    seen = []
    real = ganaug.detection.make_digit_scenes

    def recording(X, y, n_scenes, **kw):
        seen.append((_rows(X), n_scenes, kw.get("class_weights")))
        return real(X, y, n_scenes, **kw)

    monkeypatch.setattr(ganaug.detection, "make_digit_scenes", recording)
    fit, val, (fit_index, val_index) = bench.validation_scenes(train_digits, args)
    X_tr, y_tr = train_digits
    assert np.intersect1d(fit_index, val_index).size == 0
    assert np.array_equal(np.sort(np.concatenate([fit_index, val_index])), np.arange(len(y_tr)))
    (fit_rows, n_fit, weights), (val_rows, n_val, val_weights) = seen
    assert fit_rows == _rows(X_tr[fit_index]) and val_rows == _rows(X_tr[val_index])
    assert not (fit_rows | val_rows) & _rows(test_digits[0])  # no test digit in a fit or validation scene
    assert n_fit == 12 and n_val == 6 and len(fit[0]) == 12 and len(val[0]) == 6
    assert weights[0] == args.rare_weight and weights[9] == 1.0 and val_weights is None  # rare as in training
    counts = np.bincount(y_tr[val_index], minlength=10)
    assert np.all(np.abs(counts - args.val_size * np.bincount(y_tr)) <= 1)  # stratified


class _NoPastes:
    def __init__(self, log, key, share):
        log.append((key, share))

    def paste(self, images, targets, random_state=None):
        return np.zeros((0,) + images.shape[1:], images.dtype), []


class _Detector:
    def predict(self, images):
        return [{"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)} for _ in images]


def test_choice_task_never_touches_training_or_test_scenes(bench, monkeypatch, scenes):
    args = bench.parse_args(["--jobs", "1"])
    log, fitted = [], []
    monkeypatch.setattr(bench, "_pastes", lambda key, share=None: _NoPastes(log, key, share))
    monkeypatch.setattr(bench, "fit_detector",
                        lambda train, args_, seed, augment=False, sample_weight=None: fitted.append(train) or _Detector())
    images, targets = scenes
    # no "tr" or "te" in the shared data: any use of the training or test scenes raises KeyError
    monkeypatch.setattr(bench, "_SHARED", {"args": args, "fit": (images[:40], targets[:40]),
                                           "val": (images[40:], targets[40:])})
    seed, share, value, _ = bench.run_choice_task((1, 0.25))
    assert (seed, share) == (1, 0.25) and log == [("choice", 0.25)] and value == 0.0
    assert len(fitted[0][0]) == 40


def test_mixed_arm_pastes_with_its_share(bench, monkeypatch, scenes):
    args = bench.parse_args(["--jobs", "1"])
    log = []
    monkeypatch.setattr(bench, "_pastes", lambda key, share=None: _NoPastes(log, key, share))
    monkeypatch.setattr(bench, "fit_detector", lambda *a, **k: _Detector())
    images, targets = scenes
    monkeypatch.setattr(bench, "_SHARED", {"args": args, "tr": (images, targets), "te": (images[:5], targets[:5])})
    bench.run_task((0, bench.MIXED_ARM, "mixed", False, 0.75))
    bench.run_task((0, "+ GAN pastes", "gan", False, None))
    assert log == [("mixed", 0.75), ("gan", None)]


def test_pastes_need_a_share_for_mixed(bench, monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "_SHARED", {"gan_dir": str(tmp_path), "choice_gan_dir": str(tmp_path)})
    monkeypatch.setattr("ganaug.detection.ObjectPasteAugmenter.load", classmethod(lambda cls, path: object.__new__(cls)))
    with pytest.raises(ValueError, match="need the GAN share"):
        bench._pastes("mixed")
    aug = bench._pastes("choice", 0.25)
    assert aug.source == "mixed" and aug.real_share == 0.75


def test_choose_shares_per_seed_ties_to_the_smaller(bench):
    args = bench.parse_args(["--seeds", "0", "1", "--shares", "0,0.5,1"])
    y = np.repeat(np.arange(10), 8)
    from ganaug.evaluate import stratified_validation_split

    split = stratified_validation_split(y, val_size=args.val_size, min_fit=1, random_state=0)
    scores = {(0, 0.0): 0.2, (0, 0.5): 0.4, (0, 1.0): 0.3, (1, 0.0): 0.5, (1, 0.5): 0.5, (1, 1.0): 0.1}
    out = bench.choose_shares(scores, y, split, args)
    assert out[0].share == 0.5 and out[1].share == 0.0
    assert out[0].scores.tolist() == [0.2, 0.4, 0.3]
    other = stratified_validation_split(y, val_size=args.val_size, min_fit=1, random_state=1)
    with pytest.raises(RuntimeError, match="split differs"):
        bench.choose_shares(scores, y, other, args)


class _GanPaste:
    def sample_objects(self, counts, random_state=None):
        n = sum(counts.values())
        return [np.zeros((8, 8), np.uint8)] * n, np.zeros(n, int)


# stubs of main's heavy tasks: module-level (a process pool pickles them by name), state in _STATE (forked)
_STATE: dict = {}
_PEAK = {0: 0.5, 1: 1.0}  # the share each seed's (stubbed) validation score prefers


def _shared() -> dict:
    import sys

    return sys.modules["detection_benchmark"]._SHARED


def _fake_gan_fit(which="main"):
    return 0.0


def _fake_choice(task):
    seed, share = task
    assert _shared()["val"] is not None and _shared()["fit"] is not None
    return seed, float(share), 1.0 - abs(share - _PEAK[seed]), 0.0


def _fake_run(task):
    seed, name, data, augment, share = task
    if data == "mixed":
        (_STATE["tmp"] / f"mixed_{seed}.txt").write_text(str(share))  # (workers are other processes)
    report = {"AP50": {c: 0.5 for c in range(10)}, "mAP50": 0.5, "mAP50_95": 0.2, "rare_mAP50": 0.4,
              "rare_mAP50_95": 0.1}
    tr_images, tr_targets = _shared()["tr"]
    sample = (tr_images[:2], tr_targets[:2]) if data in ("real", "gan", "mixed") else None
    return seed, name, report, 0.0, sample


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("override", [None, 0.3])
def test_main_uses_the_validation_choice_or_the_override(bench, monkeypatch, tmp_path, jobs, override):
    """main's wiring with the heavy parts stubbed: choice tasks only when choosing, the chosen share reaches the
    mixed arm of each seed, the tables say which share and whether it was chosen or forced."""
    monkeypatch.setitem(_STATE, "tmp", tmp_path)
    monkeypatch.setattr(bench, "fit_gan_task", _fake_gan_fit)
    monkeypatch.setattr(bench, "run_choice_task", _fake_choice)
    monkeypatch.setattr(bench, "run_task", _fake_run)
    monkeypatch.setattr(bench, "_pastes", lambda key, share=None: _GanPaste())
    monkeypatch.setattr(bench, "privacy_table", lambda gp, ti, tt, mixed_share=None: (
        [{"gan_share": 0.0, "MIA AUC": 1.0}, {"gan_share": 1.0, "MIA AUC": 0.6},
         {"gan_share": float(mixed_share), "MIA AUC": 0.8}], "privacy\n"))
    monkeypatch.setattr(bench, "diversity_table", lambda *a, **k: ([], "diversity\n"))
    argv = ["--seeds", "0", "1", "--train-scenes", "20", "--test-scenes", "6", "--val-scenes", "6", "--jobs", str(jobs),
            "--out", str(tmp_path / "out")]
    if override is not None:
        argv += ["--share", str(override)]
    assert bench.main(argv) == 0
    used = {seed: float((tmp_path / f"mixed_{seed}.txt").read_text()) for seed in (0, 1)}
    md = (tmp_path / "out" / "results.md").read_text()
    choice_csv = (tmp_path / "out" / "share_choice.csv").read_text().splitlines()
    if override is None:
        assert used == {0: 0.5, 1: 1.0}
        assert "0.5, 1 (validation)" in md and "GAN share chosen on validation scenes" in md
        assert len(choice_csv) == 1 + 2 * 5
    else:
        assert used == {0: 0.3, 1: 0.3}
        assert "0.3, 0.3 (--share override)" in md and "NOT chosen on validation" in md
        assert len(choice_csv) == 1


def test_gan_params_reach_the_object_gan_and_the_tables_run(bench, monkeypatch, tmp_path):
    """--gan-params end to end on tiny scenes: the saved and reloaded object GAN has LeCam, ADA and the filter on;
    the mixed pastes, the privacy table (with the mixed row) and the diversity table run on it (filter off)."""
    args = bench.parse_args(["--gan-epochs", "1", "--gan-width", "8", "--rare-weight", "0.3", "--gan-params",
                             '{"lecam_weight": 0.01, "ada_target": 0.6, "filter_synthetic": true, '
                             '"filter_classifier_steps": 5}'])
    train_digits, test_digits = bench.load_digits(args)
    tr = bench.training_scenes(*train_digits, 40, args, random_state=0)
    from ganaug.detection import ObjectPasteAugmenter, make_digit_scenes

    te_images, te_targets, _ = make_digit_scenes(*test_digits, 20, random_state=1)
    monkeypatch.setattr(bench, "_SHARED", {"args": args, "tr": tr, "gan_dir": str(tmp_path / "gan"),
                                           "real_paste": ObjectPasteAugmenter(source="real").fit(*tr)})
    assert bench.fit_gan_task("main") > 0
    mixed = bench._pastes("mixed", 0.5)
    gan = mixed.gan_
    assert gan.lecam_weight == 0.01 and gan.ada_target == 0.6 and gan.filter_synthetic
    assert hasattr(gan, "filter_classifier_")  # the filter came back from disk
    # a GAN of one epoch draws mean-like blobs, nearer to a training crop than two real crops are to each other:
    # the copy check rejects them all (ValueError naming the class); the tables below are about the pipeline
    gan.filter_synthetic = False
    new_images, new_targets = mixed.paste(*tr, random_state=0)
    assert len(new_images) > 0
    rows, md = bench.privacy_table(mixed, te_images, te_targets, mixed_share=0.5)
    assert [r["gan_share"] for r in rows] == [0.0, 1.0, 0.5] and "GAN share 0.5" in md
    div_rows, div_md = bench.diversity_table(mixed, te_images, te_targets, n_per_class=10)
    assert [r["digit"] for r in div_rows] == list(bench.RARE) and "coverage" in div_md
