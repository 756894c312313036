import numpy as np
import pytest

from ganaug.metrics.fidelity import class_frechet_distances, conditional_accuracy, frechet_distance


def test_frechet_distance_matches_the_gaussian_formula():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 2))
    b = rng.normal(size=(20000, 2)) * [2.0, 1.0] + [1.0, 0.0]
    # ||mu||^2 = 1; covariances diag(1,1) and diag(4,1): tr = 2 + 5 - 2 * (2 + 1) = 1
    assert frechet_distance(a, b) == pytest.approx(2.0, abs=0.1)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)


def test_frechet_distance_on_real_digits_ranks_sets():
    from ganaug.datasets import load_mnist

    X, y = load_mnist()
    feats = X.reshape(len(X), -1)[:, ::40].astype(float) / 255.0  # 20 pixel features
    ones, sevens = feats[y == 1], feats[y == 7]
    same = frechet_distance(ones[:150], ones[150:300])
    other = frechet_distance(ones[:150], sevens[:150])
    assert same < other


def test_singular_covariances_and_bad_input():
    rng = np.random.default_rng(1)
    few = rng.normal(size=(5, 30))  # fewer samples than features
    value = frechet_distance(few, rng.normal(size=(50, 30)))
    assert np.isfinite(value) and value > 0
    with pytest.raises(ValueError, match="2-D"):
        frechet_distance(np.zeros(5), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="widths differ"):
        frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((5, 2), np.nan), np.zeros((5, 2)))


def test_per_class_distances_and_conditional_accuracy():
    rng = np.random.default_rng(2)
    real, y = rng.normal(size=(300, 3)), np.repeat(["a", "b", "c"], 100)
    fake = real + np.where((y == "c")[:, None], 5.0, 0.0)
    d = class_frechet_distances(real, y, fake, y)
    assert d["a"] == pytest.approx(0, abs=1e-6) and d["c"] == pytest.approx(75.0, rel=1e-6)
    assert np.isnan(class_frechet_distances(real, y, fake[:1], y[:1], classes=["a"])["a"])
    overall, per = conditional_accuracy(np.array(["a", "a", "b", "b"]), np.array(["a", "b", "b", "b"]))
    assert overall == 0.75 and per == {"a": 0.5, "b": 1.0}
    with pytest.raises(ValueError, match="equal length"):
        conditional_accuracy([0, 1], [0])
