"""pipelines/image_transfer.py (issue 21, item 2): the style-split comparison uses development data only."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture()
def transfer(import_pipeline):
    return import_pipeline("image_transfer")


def _rows(X) -> set:
    X = np.asarray(X)
    return {row.tobytes() for row in X.reshape(len(X), -1)}


def test_development_split_never_touches_the_test_split(transfer):
    from ganaug.datasets import load_mnist

    X, y = load_mnist()
    full, rare, test = transfer.make_split(X, y, 0)
    (X_fit, y_fit), (X_dev, y_dev) = transfer.development_split(full, rare, 0)
    assert not _rows(X_test := test[0]) & (_rows(X_fit) | _rows(X_dev)), X_test.shape
    assert not _rows(X_fit) & _rows(X_dev)  # nothing a GAN fits on is scored
    assert _rows(X_fit) | _rows(X_dev) <= _rows(full[0])
    fit_counts, dev_counts = np.bincount(y_fit, minlength=10), np.bincount(y_dev, minlength=10)
    kept = np.bincount(rare[1], minlength=10)
    assert fit_counts[:5].tolist() == kept[:5].tolist()  # every kept rare image is fitted on
    assert (dev_counts[:5] == np.bincount(full[1], minlength=10)[:5] - kept[:5]).all()  # the dropped ones are scored
    assert np.allclose(dev_counts[5:] / kept[5:], transfer.DEV_COMMON_SHARE, atol=0.01)


def test_variants_and_slugs(transfer):
    assert transfer.parse_variants('{"a": {"style_dim": 8}}') == {"a": {"style_dim": 8}}
    with pytest.raises(ValueError, match="not an ImageAugmenter option"):
        transfer.parse_variants('{"a": {"nope": 1}}')
    with pytest.raises(ValueError, match="non-empty JSON object"):
        transfer.parse_variants("[]")
    assert transfer.slug("style 64, class at input only") == "style_64_class_at_input_only"
    assert transfer.slug("style 64, diversity 0.1") == "style_64_diversity_0_1"
