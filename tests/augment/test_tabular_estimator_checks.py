"""scikit-learn and imbalanced-learn estimator checks for TabularAugmenter.

Every check that applies runs; the ones that do not are skipped here with
the reason, so the list is explicit and reviewed:

imbalanced-learn sampler checks
* ``check_samplers_list``: a list ``X`` comes back as an ndarray (ganaug's
  rule for every augmenter: arrays in, arrays out; imblearn returns lists).
* ``check_samplers_pandas``: a one-column DataFrame ``y`` comes back as a
  Series (BaseAugmenter squeezes it; imblearn returns a DataFrame).
* ``check_samplers_multiclass_ova``, ``check_samplers_2d_target``: ``y`` must
  be 1-D class labels; one-hot or column-vector targets get a clear
  ValueError ("y must be 1-dimensional ... use y.ravel()") instead of being
  reshaped silently.
* ``check_samplers_pandas_sparse``: sparse data is refused with a TypeError
  naming the column (the GAN encodes dense tables only).

scikit-learn checks
* ``check_array_api_input``: needs ``SCIPY_ARRAY_API=1`` and array-API
  namespaces; the augmenter converts to numpy/pandas.
* checks whose random data gives some class a single row
  (``check_dont_overwrite_parameters``, ``check_dict_unchanged``,
  ``check_fit2d_predict1d``, ``check_methods_*_invariance``,
  ``check_f_contiguous_array_estimator``) run on a subclass that accepts
  one-row classes: the real augmenter refuses them on purpose (it needs
  two rows to learn anything about a class) with an error naming the class.
"""

from __future__ import annotations

import warnings

import pytest
from imblearn.utils.estimator_checks import estimator_checks_generator as imblearn_checks
from sklearn.utils.estimator_checks import estimator_checks_generator as sklearn_checks

from ganaug.augment.base import register_augmenter
from ganaug.augment.tabular import TabularAugmenter

PARAMS = dict(epochs=1, batch_size=250, embedding_dim=4, generator_dim=(8,), discriminator_dim=(8,), pac=2,
              random_state=0, trainer={"enable_progress_bar": False})

SKIP_IMBLEARN = {
    "check_samplers_list": "list X comes back as an ndarray (arrays in, arrays out)",
    "check_samplers_pandas": "a one-column DataFrame y comes back as a Series",
    "check_samplers_multiclass_ova": "y must be 1-D class labels, one-hot targets are refused with a clear error",
    "check_samplers_2d_target": "a column-vector y is refused with 'use y.ravel()'",
    "check_samplers_pandas_sparse": "sparse data is refused with a TypeError naming the column",
}
SKIP_SKLEARN = {"check_array_api_input": "array-API inputs need SCIPY_ARRAY_API=1; the augmenter works on numpy/pandas"}
ONE_ROW_CLASSES = {
    "check_dont_overwrite_parameters", "check_dict_unchanged", "check_fit2d_predict1d",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_f_contiguous_array_estimator",
}


@register_augmenter
class _OneRowClassesAllowed(TabularAugmenter):
    """The same augmenter, accepting classes with a single row (only for sklearn's random test data)."""

    _min_class_size = 1


def _name(check) -> str:
    return getattr(check, "func", check).__name__


def _cases():
    est = TabularAugmenter(**PARAMS)
    for source, generator, skips in (("imblearn", imblearn_checks, SKIP_IMBLEARN),
                                     ("sklearn", sklearn_checks, SKIP_SKLEARN)):
        kwargs = {"legacy": True, "mark": None}
        for _, check in generator(est, **kwargs):
            name = _name(check)
            yield pytest.param(check, name, skips.get(name), id=f"{source}-{name}")


@pytest.mark.parametrize("check, name, skip_reason", list(_cases()))
def test_estimator_check(check, name, skip_reason):
    if skip_reason:
        pytest.skip(skip_reason)
    est = _OneRowClassesAllowed(**PARAMS) if name in ONE_ROW_CLASSES else TabularAugmenter(**PARAMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(est)


def test_one_row_class_is_refused_by_the_real_augmenter():
    import numpy as np

    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.array([0] * 19 + [1])
    with pytest.raises(ValueError, match="class 1 has 1 row"):
        TabularAugmenter(**PARAMS).fit(X, y)
