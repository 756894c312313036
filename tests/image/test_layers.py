"""The image modality sits below the augmenters (DESIGN.md, "imports only point down")."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["ganaug.image", "ganaug.image.classifier", "ganaug.image.model",
                                    "ganaug.image.translation"])
def test_image_modality_does_not_import_the_augmenters(module):
    code = (f"import sys, {module}; "
            "bad = sorted(m for m in sys.modules if m == 'ganaug.augment' or m.startswith('ganaug.augment.')); "
            "assert not bad, bad")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]


def test_label_helpers_live_below_the_augmenters():
    from ganaug import _labels
    from ganaug.augment import _labels as compat

    for name in _labels.__all__:
        assert getattr(compat, name) is getattr(_labels, name)
