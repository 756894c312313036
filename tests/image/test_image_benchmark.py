"""pipelines/image_benchmark.py (issue 21): the mixed arms' synthetic share is chosen on a validation split of
the training split only, the --share override, --gan-params, the added images of a mixed arm."""

from __future__ import annotations

import numpy as np
import pytest

from ganaug.evaluate import DEFAULT_SHARES


@pytest.fixture()
def bench(import_pipeline):
    return import_pipeline("image_benchmark")


def _args(bench, *extra):
    return bench.parse_args(["--gan-epochs", "1", "--gan-width", "8", "--clf-steps", "3", "--workers", "0",
                             "--shares", "1,0,0.5", *extra])


def _tiny_split():
    """A tiny imbalanced training split (digits 0-4: 4 images, 5-9: 12) and a disjoint test split."""
    from ganaug.datasets import load_mnist

    X, y = load_mnist()
    rng = np.random.default_rng(0)
    train, test = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        n = 4 if c < 5 else 12
        train.append(idx[:n])
        test.append(idx[n:n + 6])
    train, test = np.concatenate(train), np.concatenate(test)
    return (X[train], y[train]), (X[test], y[test])


def _rows(X) -> set:
    X = np.asarray(X)
    return {row.tobytes() for row in X.reshape(len(X), int(np.prod(X.shape[1:])))}


def test_parse_args_share_is_an_override_and_gan_params_are_checked(bench):
    args = bench.parse_args([])
    assert args.share is None and args.shares == DEFAULT_SHARES and args.gan_params == {}
    args = bench.parse_args(["--share", "0.3", "--gan-params",
                             '{"lecam_weight": 0.01, "ada_target": 0.6, "filter_synthetic": true}'])
    assert args.share == 0.3
    assert args.gan_params == {"lecam_weight": 0.01, "ada_target": 0.6, "filter_synthetic": True}
    options = bench.gan_options(bench.LOSSES[bench.MAIN_LOSS], args)
    assert options["lecam_weight"] == 0.01 and options["filter_synthetic"] is True and options["loss"] == "hinge"
    assert _args(bench).shares == (0.0, 0.5, 1.0)  # sorted
    quick = bench.parse_args(["--quick"])
    assert quick.seeds == [0] and quick.shares == (0.0, 0.5, 1.0) and quick.share is None
    for bad in ('{"lecam": 1}', '{"epochs": 3}', "[1, 2]", "{not json"):
        with pytest.raises(SystemExit):
            bench.parse_args(["--gan-params", bad])
    with pytest.raises(SystemExit):
        bench.parse_args(["--share", "1.5"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--shares", "0,2"])
    with pytest.raises(ValueError, match="'lecam' is not an ImageAugmenter option"):
        bench.parse_gan_params('{"lecam": 1}')


def test_choice_sees_only_training_images_and_the_gan_never_sees_validation(bench, monkeypatch):
    from ganaug.image import CNNClassifier

    train, test = _tiny_split()
    args = _args(bench)
    gan_rows, predicted = [], []
    real_train_gan = bench.train_gan

    def recording_train_gan(X, y, loss_options, args_, seed):
        gan_rows.append(_rows(X))
        return real_train_gan(X, y, loss_options, args_, seed)

    real_predict = CNNClassifier.predict

    def recording_predict(self, X):
        predicted.append(_rows(X))
        return real_predict(self, X)

    monkeypatch.setattr(bench, "train_gan", recording_train_gan)
    monkeypatch.setattr(CNNClassifier, "predict", recording_predict)
    cache: dict = {}
    choices = {arm: bench.choose_share(arm, train, args, 0, cache) for arm in bench.MIXED_ARMS}

    train_rows, test_rows = _rows(train[0]), _rows(test[0])
    first = next(iter(choices.values()))
    fit_index, val_index = first.splits[0]
    fit_rows, val_rows = _rows(train[0][fit_index]), _rows(train[0][val_index])
    assert not fit_rows & val_rows and fit_rows | val_rows == train_rows
    # both mixed arms of a seed use the same split and one GAN, fitted on the fit part only
    assert all(np.array_equal(c.splits[0][1], val_index) for c in choices.values())
    assert len(gan_rows) == 1 and gan_rows[0] <= fit_rows and not gan_rows[0] & val_rows
    # every prediction of the choice is on validation images of the training split, never a test image
    assert len(predicted) == len(bench.MIXED_ARMS) * len(args.shares)
    assert all(p == val_rows for p in predicted) and not any(p & test_rows for p in predicted)
    y_val = train[1][val_index]
    assert set(np.unique(y_val)) == set(range(10))  # every digit validated, rare ones included
    assert all((train[1][fit_index] == c).sum() >= 2 for c in range(5))  # the GAN needs 2 per class
    for choice in choices.values():
        assert choice.shares.tolist() == [0.0, 0.5, 1.0] and choice.split_scores.shape == (1, 3)
        assert choice.share in (0.0, 0.5, 1.0) and np.all((choice.scores >= 0) & (choice.scores <= 1))
        assert choice.share == choice.shares[np.flatnonzero(choice.scores == choice.scores.max())[0]]


def test_a_rare_digit_with_too_few_images_is_named(bench):
    (X, y), _ = _tiny_split()
    keep = np.concatenate([np.flatnonzero(y != 3), np.flatnonzero(y == 3)[:2]])
    with pytest.raises(ValueError, match=r"class 3 has 2 item\(s\)"):
        bench.choose_share("real + ganaug mixed", (X[keep], y[keep]), _args(bench), 0)


def test_mixed_arms_train_with_the_share_they_are_given(bench, monkeypatch):
    import ganaug.data

    train, test = _tiny_split()
    data = {"rare": train, "test": test}
    args = _args(bench)
    used = []

    class Stop(Exception):
        pass

    class RecordingDataset:
        def __init__(self, X, aug, y=None, transform=None, synthetic_share=1.0, random_state=None):
            used.append(synthetic_share)
            raise Stop

    monkeypatch.setattr(ganaug.data, "AugmentedDataset", RecordingDataset)
    for arm, share, expected in (("real + ganaug mixed", 0.75, 0.75), ("real + ganaug mixed + albumentations", 0.0, 0.0),
                                 ("real + ganaug", 0.75, 1.0)):
        with pytest.raises(Stop):
            bench.run_arm(arm, data, object(), args, 0, share)
        assert used[-1] == expected
    with pytest.raises(ValueError, match="needs its synthetic share"):
        bench.run_arm("real + ganaug mixed", data, object(), args, 0, None)


class _FakeGAN:
    filter_synthetic = False

    def sample(self, counts, random_state=None):
        X = np.concatenate([np.full((n, 28, 28), 200 + c, np.uint8) for c, n in counts.items()])
        return X, np.repeat(list(counts), list(counts.values()))


def test_mixed_added_counts(bench):
    (X, y), _ = _tiny_split()
    wanted = bench.added_counts(y)
    assert wanted == {c: 8 for c in range(5)}
    for share in (0.0, 0.25, 1.0):
        X_add, y_add = bench.mixed_added(X, y, _FakeGAN(), share, seed=0)
        assert np.array_equal(np.bincount(y_add, minlength=10)[:5], [8] * 5)
        synthetic = X_add.reshape(len(X_add), -1).min(axis=1) >= 200
        assert synthetic.sum() == 5 * int(np.rint(share * 8))
        assert _rows(X_add[~synthetic]) <= _rows(X)  # the rest are copies of kept training images


@pytest.mark.parametrize("override", [None, 0.75])
def test_main_uses_the_validation_choice_per_seed_or_the_override(bench, monkeypatch, tmp_path, override):
    """main's wiring (tiny GAN and judge; arms, choice and privacy stubbed): the choice gets the imbalanced
    training split and nothing else, each seed's chosen share reaches its mixed arms, the report says so."""
    from ganaug.datasets import load_mnist
    from ganaug.evaluate import ShareChoice

    X, y = load_mnist()
    _, (X_rare, y_rare), (X_test, _) = bench.make_split(X, y, 0)
    picks = {(bench.MIXED_ARMS[0], 0): 0.25, (bench.MIXED_ARMS[1], 0): 0.0,
             (bench.MIXED_ARMS[0], 1): 0.5, (bench.MIXED_ARMS[1], 1): 0.25}
    chooser_calls, arm_calls = [], []

    def fake_choose(arm, train, args, seed, gan_cache=None):
        chooser_calls.append((arm, seed))
        assert len(train) == 2 and np.array_equal(train[1], y_rare) and np.array_equal(train[0], X_rare)
        assert not _rows(train[0]) & _rows(X_test)
        shares = np.asarray(args.shares)
        scores = np.where(shares == picks[arm, seed], 0.9, 0.5)
        index = np.arange(len(train[1]))
        return ShareChoice(share=picks[arm, seed], shares=shares, scores=scores, split_scores=scores[None],
                           splits=[(index[:-20], index[-20:])])

    def fake_run_arm(name, data, aug, args, seed, share=None):
        arm_calls.append((name, seed, share))
        return {"balanced_accuracy": 0.5, "macro_f1": 0.5, "rare_recall": 0.5}, 0.0

    def fake_privacy(gans, judge, data, seed, mixed_shares):
        sources = [s.format(main=bench.MAIN_LOSS) for s in bench.ARM_PRIVACY_SOURCE.values()]
        return [{"source": s, "n_added": 10, "n_members": 70, "n_holdout": 600, "MIA AUC (pixels)": 0.5}
                for s in sources]

    monkeypatch.setattr(bench, "choose_share", fake_choose)
    monkeypatch.setattr(bench, "run_arm", fake_run_arm)
    monkeypatch.setattr(bench, "privacy_rows", fake_privacy)
    argv = ["--gan-epochs", "1", "--gan-width", "8", "--clf-steps", "3", "--per-class", "10", "--losses", "main",
            "--seeds", "0", "1", "--workers", "0", "--out", str(tmp_path)]
    if override is not None:
        argv += ["--share", str(override)]
    assert bench.main(argv) == 0
    mixed = {(name, seed): share for name, seed, share in arm_calls if "mixed" in name}
    md = (tmp_path / "results.md").read_text()
    if override is None:
        assert sorted(chooser_calls) == sorted(picks)
        assert mixed == picks
        assert "| real + ganaug mixed | 0.25, 0.5 (validation) |" in md
        assert "## Mixing policy: synthetic share chosen on validation" in md
        assert len((tmp_path / "share_choice.csv").read_text().splitlines()) == 1 + 4 * len(DEFAULT_SHARES)
    else:
        assert chooser_calls == [] and set(mixed.values()) == {0.75}
        assert "0.75, 0.75 (--share override)" in md and "NOT chosen on validation" in md
    # the other 'ganaug' arms are not mixed; the non-GAN arms get no share
    assert all(share is None for name, _, share in arm_calls if "ganaug" not in name)
    fidelity = (tmp_path / "fidelity.csv").read_text().splitlines()[0]
    assert "coverage_ganaug" in fidelity and "density_ganaug" in fidelity


class _FilteredGAN(_FakeGAN):
    filter_synthetic = True

    def sample(self, counts, random_state=None):
        rng = np.random.default_rng(random_state)
        self.acceptance_rate_ = {c: 0.5 + c / 100 for c in counts}
        X = rng.integers(0, 256, size=(sum(counts.values()), 28, 28)).astype(np.uint8)
        return X, np.repeat(list(counts), list(counts.values()))


class _PixelJudge:
    def predict(self, X):
        return np.zeros(len(X), int)

    def transform(self, X):
        return np.asarray(X, np.float64).reshape(len(X), -1)[:, ::49] / 255.0


def test_fidelity_reports_density_coverage_and_filter_acceptance(bench):
    from ganaug.datasets import load_mnist

    X, y = load_mnist()
    judge = _PixelJudge()
    test = (X[:1000], y[:1000])
    feats = {"test": judge.transform(test[0])}
    fid = bench.fidelity(_FilteredGAN(), judge, feats, X, y, *test, n_per_class=30, seed=0)
    assert fid["acceptance"] == {c: 0.5 + c / 100 for c in range(10)}
    assert set(fid["dc"]) == set(range(10)) and all(0 <= v["coverage"] <= 1 for v in fid["dc"].values())
    # noise images are far from every digit: low density; the real reference is much closer
    X_ref, y_ref = bench.real_reference(X[1000:], y[1000:], 30, seed=0)
    assert np.array_equal(np.bincount(y_ref), [30] * 10)
    from ganaug.metrics.fidelity import class_density_coverage

    ref = class_density_coverage(feats["test"], test[1], judge.transform(X_ref), y_ref)
    assert all(fid["dc"][c]["coverage"] < ref[c]["coverage"] for c in range(10))
    assert bench.fidelity(_FakeGAN(), judge, feats, X, y, *test, n_per_class=5, seed=0)["acceptance"] is None


def test_gan_params_reach_the_gan_and_the_filter_is_reported(bench):
    """--gan-params end to end on tiny data: LeCam, ADA and the filter are on in the fitted GAN, and the
    fidelity section reads the filter's acceptance rate per digit."""
    train, test = _tiny_split()
    args = _args(bench, "--gan-params", '{"lecam_weight": 0.01, "ada_target": 0.6, "filter_synthetic": true, '
                                        '"filter_classifier_steps": 5, "filter_threshold": 0.0, '
                                        '"filter_copy_quantile": 0.0}')
    aug, _ = bench.train_gan(*train, bench.LOSSES[bench.MAIN_LOSS], args, seed=0)
    assert aug.lecam_weight == 0.01 and aug.ada_target == 0.6 and aug.filter_synthetic
    assert hasattr(aug, "filter_classifier_")
    judge = _PixelJudge()
    fid = bench.fidelity(aug, judge, {"test": judge.transform(test[0])}, *train, *test, n_per_class=6, seed=0)
    assert set(fid["acceptance"]) == set(range(10)) and all(0 < v <= 1 for v in fid["acceptance"].values())
    X_add, y_add = bench.mixed_added(*train, aug, 0.5, seed=0)
    assert np.array_equal(np.bincount(y_add, minlength=10)[:5], [8] * 5)
