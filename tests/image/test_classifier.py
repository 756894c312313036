import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from ganaug.image.classifier import CNNClassifier


@pytest.fixture(scope="module")
def digits(mnist):
    X, y = mnist
    return (X[:1500], y[:1500]), (X[3000:3600], y[3000:3600])


@pytest.mark.slow
def test_learns_digits_and_scores_on_held_out_images(digits):
    (X, y), (X_te, y_te) = digits
    clf = CNNClassifier(width=8, max_steps=100, random_state=0).fit(X, y)
    assert clf.score(X_te, y_te) > 0.8  # chance is 0.1
    proba = clf.predict_proba(X_te[:5])
    assert proba.shape == (5, 10) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert clf.transform(X_te[:4]).shape == (4, 32)
    a, b = (CNNClassifier(width=8, max_steps=10, random_state=0).fit(X[:200], y[:200]) for _ in range(2))
    np.testing.assert_allclose(a.predict_proba(X_te[:20]), b.predict_proba(X_te[:20]), atol=1e-6)


def test_string_labels_and_other_layouts(digits):
    (X, y), _ = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    X4 = (X[:200, :, :, None] / 255.0).astype(np.float32)  # (N, H, W, 1) floats
    clf = CNNClassifier(width=8, max_steps=10, random_state=0).fit(X4, names[y[:200]])
    assert set(clf.predict(X4[:20])) <= set(names)
    with pytest.raises(ValueError, match="fitted on 1-channel 28x28"):
        clf.predict(X4[:, :24, :24])


class _Items(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return torch.from_numpy(self.X[i]), int(self.y[i])


@pytest.mark.slow
def test_fit_on_a_dataset_matches_array_classes(digits):
    (X, y), (X_te, y_te) = digits
    clf = CNNClassifier(width=8, max_steps=100, random_state=0).fit(_Items(X, y))
    assert clf.classes_.tolist() == list(range(10))
    assert clf.score(X_te, y_te) > 0.8
    with pytest.raises(ValueError, match="not as y"):
        CNNClassifier(max_steps=1).fit(_Items(X, y), y)
