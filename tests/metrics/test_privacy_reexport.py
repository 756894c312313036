"""``ganaug.metrics.privacy`` (the path issue 13 names) re-exports ``ganaug.privacy.metrics``: same objects, no copy."""

from __future__ import annotations

import numpy as np

import ganaug.metrics.privacy as reexport
import ganaug.privacy as privacy
import ganaug.privacy.metrics as metrics


def test_every_name_is_the_object_of_ganaug_privacy():
    for name in reexport.__all__:
        obj = getattr(reexport, name)
        source = getattr(metrics, name, None)
        if source is None:
            source = getattr(privacy, name)
        assert obj is source, name
    # the public functions of ganaug.privacy.metrics are all reachable under the new path
    assert set(metrics.__all__) <= set(reexport.__all__)
    # and no function is defined here (a copy would have this module as its home)
    assert all(getattr(getattr(reexport, n), "__module__", "ganaug.privacy").startswith("ganaug.privacy")
               for n in reexport.__all__ if callable(getattr(reexport, n)))


def test_the_reexported_report_flags_a_replaying_generator():
    from ganaug.datasets import load_hmda

    X, _ = load_hmda()
    train, hold = X.iloc[:1000], X.iloc[1000:1500]
    rep = reexport.privacy_report(train, train.iloc[:200], hold, random_state=0)
    assert rep["exact_copies"] == 1.0 and rep["dcr_ratio"] == 0.0
    assert np.isclose(rep["dcr_ratio"], privacy.privacy_report(train, train.iloc[:200], hold, random_state=0)["dcr_ratio"])
