"""Adapters that give the report one interface over downstream models.

A model is either a scikit-learn classifier (anything with ``fit`` and
``predict_proba`` or ``decision_function``, a ``Pipeline`` included) or a
callable ``fit_predict_proba(X_train, y_train, X_test)`` for images, series
or any model outside scikit-learn. Both are turned into
``fit_score(X_train, y_train, X_test, balanced, seed) -> scores`` where the
scores are, for two classes, one column for the positive class (with a
default threshold), and otherwise one column per class.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils.class_weight import compute_sample_weight

from ganaug.evaluate._preprocess import make_preprocessor

__all__ = ["as_models"]


def _accepts_kwarg(func, name: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _final_step(est):
    """(parameter prefix, final estimator) of a possibly nested Pipeline."""
    prefix = ""
    while isinstance(est, Pipeline):
        name, est = est.steps[-1]
        prefix += f"{name}__"
    return prefix, est


class _SklearnModel:
    """A scikit-learn classifier, with the report's preprocessing in front when asked."""

    def __init__(self, name: str, estimator, preprocess):
        if not hasattr(estimator, "fit"):
            raise TypeError(f"model {name!r} has no fit method")
        if not (hasattr(estimator, "predict_proba") or hasattr(estimator, "decision_function")):
            raise TypeError(
                f"model {name!r} ({type(estimator).__name__}) has neither predict_proba nor decision_function; "
                "the report needs scores to compute PR-AUC and to tune a threshold"
            )
        self.name = name
        self.estimator = estimator
        self.preprocess = preprocess
        prefix, final = _final_step(estimator)
        self._prefix = "model__" + prefix if preprocess is not None else prefix
        params = final.get_params(deep=False)
        self._has_seed = "random_state" in params and params["random_state"] is None
        if "class_weight" in params:
            self.weighting = "class_weight"
        elif _accepts_kwarg(final.fit, "sample_weight"):
            self.weighting = "sample_weight"
        else:
            self.weighting = None

    @property
    def supports_weights(self) -> bool:
        return self.weighting is not None

    def _build(self, seed: int):
        est = clone(self.estimator)
        model = Pipeline([("prep", clone(self.preprocess)), ("model", est)]) if self.preprocess is not None else est
        if self._has_seed:
            model.set_params(**{f"{self._prefix}random_state": seed})
        return model

    def fit_score(self, X_train, y_train, X_test, classes: np.ndarray, pos: int, balanced: bool, seed: int):
        model = self._build(seed)
        fit_kwargs = {}
        if balanced:
            if self.weighting == "class_weight":
                model.set_params(**{f"{self._prefix}class_weight": "balanced"})
            elif self.weighting == "sample_weight":
                fit_kwargs[f"{self._prefix}sample_weight"] = compute_sample_weight("balanced", np.asarray(y_train))
            else:  # pragma: no cover - the report skips such arms
                raise TypeError(f"model {self.name!r} supports neither class_weight nor sample_weight")
        model.fit(X_train, y_train, **fit_kwargs)
        fitted = np.asarray(model.classes_)
        if hasattr(model, "predict_proba"):
            raw = np.asarray(model.predict_proba(X_test), dtype=np.float64)
            return _align(raw, fitted, classes, pos, threshold=0.5, name=self.name)
        raw = np.asarray(model.decision_function(X_test), dtype=np.float64)
        return _align(raw, fitted, classes, pos, threshold=0.0, name=self.name)


class _CallableModel:
    """A ``fit_predict_proba(X_train, y_train, X_test)`` function."""

    def __init__(self, name: str, func: Callable):
        self.name = name
        self.func = func
        self.weighting = "sample_weight" if _accepts_kwarg(func, "sample_weight") else None
        self._seeded = _accepts_kwarg(func, "random_state")

    @property
    def supports_weights(self) -> bool:
        return self.weighting is not None

    def fit_score(self, X_train, y_train, X_test, classes: np.ndarray, pos: int, balanced: bool, seed: int):
        kwargs = {}
        if balanced:
            kwargs["sample_weight"] = compute_sample_weight("balanced", np.asarray(y_train))
        if self._seeded:
            kwargs["random_state"] = seed
        raw = np.asarray(self.func(X_train, y_train, X_test, **kwargs), dtype=np.float64)
        n_test = len(X_test)
        if raw.shape[0] != n_test:
            raise ValueError(f"fit_predict_proba {self.name!r} returned {raw.shape[0]} rows for {n_test} test items")
        return _align(raw, classes, classes, pos, threshold=0.5, name=self.name)


def _align(raw: np.ndarray, fitted: np.ndarray, classes: np.ndarray, pos: int, threshold: float, name: str):
    """Scores in the report's class order: ``(score_of_pos, threshold)`` for 2 classes, else ``(matrix, None)``."""
    k = len(classes)
    if not np.all(np.isfinite(raw)):
        raise ValueError(f"model {name!r} returned NaN or infinite scores")
    if raw.ndim == 1:
        if k != 2:
            raise ValueError(f"model {name!r} returned one score per item but there are {k} classes; return (n, {k})")
        if len(fitted) != 2:
            raise ValueError(f"model {name!r} was fitted on {len(fitted)} class(es); every training fold needs both")
        # scikit-learn convention: a 1-D score is for the second (greater) class
        return (raw if fitted[1] == classes[pos] else (2 * threshold - raw)), threshold
    if raw.ndim != 2 or raw.shape[1] != len(fitted):
        raise ValueError(f"model {name!r} returned scores of shape {raw.shape}; expected (n_test, {len(fitted)})")
    full = np.full((raw.shape[0], k), -np.inf if threshold == 0.0 else 0.0)
    index = {c: i for i, c in enumerate(classes.tolist())}
    for j, c in enumerate(np.asarray(fitted).tolist()):
        if c not in index:
            raise ValueError(f"model {name!r} predicted unknown class {c!r}")
        full[:, index[c]] = raw[:, j]
    if k == 2:
        if threshold == 0.0 and raw.shape[1] == 2:
            # two decision columns: margin of pos over the other
            return full[:, pos] - full[:, 1 - pos], 0.0
        return full[:, pos], threshold
    return full, None


def as_models(estimator, preprocess, X) -> dict:
    """Normalise the ``estimator`` argument to ``{name: adapter}``.

    ``preprocess="auto"`` puts :func:`make_preprocessor` in front of a bare
    scikit-learn estimator on 2-D data (not of a Pipeline, which is taken to
    do its own preprocessing, and not of a callable).
    """
    if isinstance(estimator, dict):
        if not estimator:
            raise ValueError("estimator is an empty dict; give at least one model")
        items = list(estimator.items())
    elif isinstance(estimator, (list, tuple)):
        if not estimator:
            raise ValueError("estimator is empty; give at least one model")
        items = [(_default_name(e), e) for e in estimator]
        names = [n for n, _ in items]
        if len(set(names)) != len(names):
            raise ValueError(f"models have clashing names {names}; pass a dict {{name: model}}")
    else:
        items = [(_default_name(estimator), estimator)]
    models = {}
    for name, est in items:
        if not isinstance(name, str):
            raise TypeError(f"model names must be strings, got {name!r}")
        if hasattr(est, "fit"):
            prep = preprocess
            if isinstance(prep, str):
                if prep != "auto":
                    raise ValueError(f"preprocess must be 'auto', None or a transformer, got {prep!r}")
                is_table = hasattr(X, "columns") or np.ndim(X) == 2
                prep = make_preprocessor(X) if (is_table and not isinstance(est, Pipeline)) else None
            models[name] = _SklearnModel(name, est, prep)
        elif callable(est):
            models[name] = _CallableModel(name, est)
        else:
            raise TypeError(
                f"estimator must be a scikit-learn classifier or a callable fit_predict_proba(X_train, y_train, X_test), "
                f"got {type(est).__name__}"
            )
    return models


def _default_name(est) -> str:
    if hasattr(est, "fit"):
        _, final = _final_step(est)
        return type(final).__name__
    return getattr(est, "__name__", type(est).__name__)
