"""``utility_report``: does augmentation help this model on this data?

The report trains the same downstream model on every training fold in
several ways (arms) and scores each on the untouched test fold:

- baselines: no resampling; no resampling with a decision threshold tuned for
  minority F1 by inner cross-validation on the training fold; class weights
  (``class_weight="balanced"`` or balanced ``sample_weight``); random
  oversampling; SMOTE, SMOTE-NC or SMOTEN by column dtypes;
- augmenters: ganaug's ``TabularAugmenter`` with and without its
  discriminator filter and ``ctgan.CTGAN`` by default, or any samplers given.

Resampling happens inside each training fold only; a test fold is taken from
the caller's data by index and never passes through a sampler.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import precision_recall_curve
from sklearn.model_selection import StratifiedKFold

from ganaug.evaluate._metrics import resolve_metrics, weighted_metrics
from ganaug.evaluate._models import as_models
from ganaug.evaluate._preprocess import column_kinds
from ganaug.evaluate.samplers import CTGANSampler, RandomOversampler, SMOTESampler, _take, smote_variant
from ganaug.utils import seed_from_random_state

__all__ = ["BASELINES", "Arm", "AugmenterVariants", "default_augmenters", "utility_report"]

#: baseline arm keys, in report order
BASELINES: tuple[str, ...] = ("none", "tuned_threshold", "class_weight", "random_oversampling", "smote")


@dataclass
class Arm:
    """One way of training the downstream model.

    ``family`` is ``"baseline"`` (the simple alternatives) or ``"augmenter"``
    (what the report is asked to judge); ``kind`` is ``"plain"``, ``"tuned"``,
    ``"weighted"`` or ``"resample"``.
    """

    name: str
    family: str
    kind: str
    sampler: Any = None
    description: str = ""
    group: str | None = None  # arms of one AugmenterVariants share a fitted augmenter per fold
    params: dict = field(default_factory=dict)


class AugmenterVariants:
    """Several report arms from one augmenter fitted once per fold.

    The augmenter is fitted on the training fold once; each variant then sets
    its parameters and draws the rows ``sampling_strategy`` asks for with
    ``sample``. Use it for parameters read at sampling time only (for
    ``TabularAugmenter``: ``filter_synthetic``, ``filter_quantile``), so that
    the comparison isolates their effect from the randomness of GAN training
    and the GAN is trained once instead of once per variant. Every variant's
    ``sample_time`` includes the shared fit.

    Parameters
    ----------
    augmenter : BaseAugmenter
        Anything with ``fit(X, y)``, ``sample({label: count}, random_state=...)``,
        ``set_params`` and a ``sampling_strategy`` parameter.
    variants : dict
        ``{arm name: {parameter: value}}``.

    Examples
    --------
    >>> from ganaug.augment.tabular import TabularAugmenter
    >>> from ganaug.evaluate import AugmenterVariants
    >>> v = AugmenterVariants(TabularAugmenter(epochs=5), {"plain": {}, "filtered": {"filter_synthetic": True}})
    >>> list(v.variants)
    ['plain', 'filtered']
    """

    def __init__(self, augmenter, variants: dict):
        for method in ("fit", "sample", "set_params"):
            if not hasattr(augmenter, method):
                raise TypeError(f"AugmenterVariants needs an augmenter with {method}(); {type(augmenter).__name__} has none")
        if not isinstance(variants, dict) or not variants:
            raise ValueError("variants must be a non-empty dict {arm name: {parameter: value}}")
        self.augmenter = augmenter
        self.variants = {str(k): dict(v) for k, v in variants.items()}


@dataclass
class _FoldPred:
    index: np.ndarray  # positions of the test rows in X
    y: np.ndarray  # class codes
    pred: np.ndarray  # predicted class codes
    score: np.ndarray  # positive-class score (binary) or one column per class
    threshold: float | None = None


@dataclass
class _RunState:
    preds: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    synthetic: dict = field(default_factory=dict)
    histories: dict = field(default_factory=dict)


def _derive(base: int, *keys: int) -> int:
    """A seed derived from the report's seed and some integer keys (stable, order-sensitive)."""
    return int(np.random.SeedSequence([base, *keys]).generate_state(1)[0] % (2**31 - 1))


def _lab(value) -> str:
    """repr of a class label without numpy's wrapper (``'yes'``, not ``np.str_('yes')``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _arm_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def _is_table(X) -> bool:
    return isinstance(X, pd.DataFrame) or np.ndim(X) == 2


def default_augmenters(X=None, *, epochs=None, ctgan=True, ctgan_epochs=100, trainer=None) -> dict:
    """The augmenter arms a report uses when ``augmenters=None``.

    ``"ganaug"`` and ``"ganaug + filter"`` (one ``TabularAugmenter`` per fold,
    sampled without and with ``filter_synthetic``, see
    :class:`AugmenterVariants`) when ganaug's tabular augmenter is available,
    and ``"CTGAN"`` (:class:`CTGANSampler`) when the optional ctgan extra is
    installed. Only for tables; other data gets an empty dict.

    Parameters
    ----------
    X : DataFrame or array, optional
        The data (only its shape is read).
    epochs : int, optional
        GAN epochs for ganaug (its own default when None).
    ctgan : bool, default=True
        Include the CTGAN arm when ctgan is installed.
    ctgan_epochs : int, default=100
    trainer : dict, optional
        Lightning ``Trainer`` arguments for ganaug; default hides its progress bar.

    Examples
    --------
    >>> from ganaug.evaluate import default_augmenters
    >>> arms = default_augmenters(ctgan=False)
    >>> list(arms["ganaug"].variants)
    ['ganaug', 'ganaug + filter']
    """
    if X is not None and not _is_table(X):
        return {}
    arms: dict = {}
    try:
        from ganaug.augment.tabular import TabularAugmenter
    except ImportError:
        TabularAugmenter = None
    if TabularAugmenter is not None:
        params = TabularAugmenter().get_params(deep=False)
        wanted: dict = {"trainer": trainer if trainer is not None else {"enable_progress_bar": False}}
        if epochs is not None:
            wanted["epochs"] = int(epochs)
        base = {k: v for k, v in wanted.items() if k in params}
        if "filter_synthetic" in params:
            # one GAN per fold, sampled without and with the discriminator filter
            arms["ganaug"] = AugmenterVariants(
                TabularAugmenter(**base),
                {"ganaug": {"filter_synthetic": False}, "ganaug + filter": {"filter_synthetic": True}},
            )
        else:
            arms["ganaug"] = TabularAugmenter(**base)
    if ctgan and importlib.util.find_spec("ctgan") is not None:
        arms["CTGAN"] = CTGANSampler(epochs=ctgan_epochs)
    return arms


def _baseline_arms(baselines, X, binary: bool, notes: list) -> list[Arm]:
    if baselines is None or baselines == "all":
        keys = list(BASELINES)
        explicit = False
    else:
        keys = [baselines] if isinstance(baselines, str) else list(baselines)
        unknown = [k for k in keys if k not in BASELINES]
        if unknown:
            raise ValueError(f"unknown baseline(s) {unknown}; choose from {list(BASELINES)}")
        explicit = True
    arms = []
    for key in BASELINES:
        if key not in keys:
            continue
        if key == "none":
            arms.append(Arm("none", "baseline", "plain", description="the model on the training fold as it is"))
        elif key == "tuned_threshold":
            if not binary:
                notes.append("tuned threshold skipped: it is defined for two classes only")
                continue
            arms.append(Arm("tuned threshold", "baseline", "tuned",
                            description="no resampling; decision threshold maximising minority F1 on inner-CV "
                                        "predictions of the training fold"))
        elif key == "class_weight":
            arms.append(Arm("class weights", "baseline", "weighted",
                            description="class_weight='balanced' or balanced sample_weight"))
        elif key == "random_oversampling":
            arms.append(Arm("random oversampling", "baseline", "resample", RandomOversampler(),
                            "imbalanced-learn RandomOverSampler to equal class counts"))
        elif key == "smote":
            if not _is_table(X):
                if explicit:
                    raise ValueError("the SMOTE baseline needs a 2-D table; drop it from baselines for images or series")
                notes.append("SMOTE skipped: the data is not a 2-D table")
                continue
            variant = smote_variant(X)
            arms.append(Arm(variant, "baseline", "resample", SMOTESampler(),
                            f"imbalanced-learn {variant.replace('-', '')} after imputing missing values"))
    return arms


def _augmenter_arms(augmenters, X, taken: set) -> list[Arm]:
    if augmenters is None:
        augmenters = default_augmenters(X)
    if isinstance(augmenters, dict):
        items = list(augmenters.items())
    else:
        if not isinstance(augmenters, (list, tuple)):
            augmenters = [augmenters]
        items = [(type(a).__name__, a) for a in augmenters]
    arms = []
    for name, sampler in items:
        if not isinstance(name, str):
            raise TypeError(f"augmenter names must be strings, got {name!r}")
        if isinstance(sampler, AugmenterVariants):
            for vname, params in sampler.variants.items():
                if vname in taken:
                    raise ValueError(f"arm name {vname!r} is used twice")
                taken.add(vname)
                shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
                arms.append(Arm(vname, "augmenter", "resample", sampler.augmenter,
                                f"{type(sampler.augmenter).__name__}({shown}), fitted once per fold with the other "
                                f"variants of {name!r}", group=name, params=params))
            continue
        if not hasattr(sampler, "fit_resample"):
            raise TypeError(f"augmenter {name!r} ({type(sampler).__name__}) has no fit_resample(X, y) method")
        if name in taken:
            raise ValueError(f"arm name {name!r} is used twice; pass augmenters as a dict with distinct names")
        taken.add(name)
        arms.append(Arm(name, "augmenter", "resample", sampler, f"{type(sampler).__name__}"))
    return arms


def _check_labels(X, y):
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"y must be 1-dimensional; got a DataFrame with {y.shape[1]} columns")
        y = y.iloc[:, 0]
    y_arr = np.asarray(y)
    if y_arr.ndim != 1:
        raise ValueError(f"y must be 1-dimensional, got shape {y_arr.shape}")
    try:
        n = len(X)
    except TypeError:
        raise TypeError(f"X must be a DataFrame or an array, got {type(X).__name__}") from None
    if n == 0:
        raise ValueError("X is empty (0 rows)")
    if n != y_arr.shape[0]:
        raise ValueError(f"X has {n} rows but y has {y_arr.shape[0]} labels")
    if pd.isna(pd.Series(y_arr)).any():
        raise ValueError(f"y has {int(pd.isna(pd.Series(y_arr)).sum())} missing label(s)")
    if y_arr.dtype == object:
        y_arr = y_arr.astype(str) if all(isinstance(v, str) for v in y_arr[:1000]) else y_arr
    classes, codes, counts = np.unique(y_arr, return_inverse=True, return_counts=True)
    if classes.size < 2:
        raise ValueError(
            f"y has only one class ({_lab(classes[0])}); a utility report compares classifiers and needs two or more"
        )
    return y_arr, classes, codes.astype(np.int64), counts


def _make_splits(cv, codes: np.ndarray, classes: np.ndarray, counts: np.ndarray, seed: int):
    if isinstance(cv, (bool, np.bool_)):
        raise TypeError("cv must be an int, a scikit-learn splitter or a list of (train, test) index pairs")
    if isinstance(cv, (int, np.integer)):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds, got {cv}")
        smallest = int(np.argmin(counts))
        if cv > counts[smallest]:
            raise ValueError(
                f"cv={cv} folds need at least {cv} rows of every class, but class {_lab(classes[smallest])} has "
                f"{counts[smallest]}; lower cv to at most {counts[smallest]}"
            )
        splitter = StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=seed)
        desc = f"{int(cv)}-fold stratified cross-validation (shuffled)"
        splits = list(splitter.split(np.zeros(codes.size), codes))
    elif hasattr(cv, "split"):
        splits = list(cv.split(np.zeros((codes.size, 1)), codes))
        desc = f"{type(cv).__name__} ({len(splits)} splits)"
    else:
        try:
            splits = [(np.asarray(tr), np.asarray(te)) for tr, te in cv]
        except (TypeError, ValueError):
            raise TypeError("cv must be an int, a scikit-learn splitter or a list of (train, test) index pairs") from None
        desc = f"{len(splits)} given train/test splits"
    if not splits:
        raise ValueError("cv produced no splits")
    for i, (tr, te) in enumerate(splits):
        tr = np.asarray(tr)
        te = np.asarray(te)
        if np.intersect1d(tr, te).size:
            raise ValueError(f"split {i}: training and test rows overlap")
        present = np.bincount(codes[tr], minlength=classes.size)
        if present.min() < 2:
            c = int(np.argmin(present))
            raise ValueError(f"split {i}: the training part has {present[c]} row(s) of class {_lab(classes[c])}; needs 2+")
        if np.bincount(codes[te], minlength=classes.size).min() < 1:
            c = int(np.argmin(np.bincount(codes[te], minlength=classes.size)))
            raise ValueError(f"split {i}: the test part has no row of class {_lab(classes[c])}; use stratified splits")
    return [(np.asarray(tr), np.asarray(te)) for tr, te in splits], desc


def _tune_threshold(model, X_tr, y_tr, classes, pos, seed, inner_cv) -> float:
    """Threshold maximising minority F1 on out-of-fold scores within the training fold."""
    skf = StratifiedKFold(n_splits=inner_cv, shuffle=True, random_state=seed)
    oof = np.empty(y_tr.shape[0])
    for itr, iva in skf.split(np.zeros(y_tr.shape[0]), y_tr):
        score, _ = model.fit_score(_take(X_tr, itr), y_tr[itr], _take(X_tr, iva), classes, pos, False, seed)
        oof[iva] = score
    precision, recall, thresholds = precision_recall_curve(y_tr == classes[pos], oof)
    f1 = np.zeros_like(precision)
    np.divide(2 * precision * recall, precision + recall, out=f1, where=(precision + recall) > 0)
    return float(thresholds[int(np.argmax(f1[:-1]))])


def _predict(score: np.ndarray, threshold: float | None, pos: int, tuned: bool) -> np.ndarray:
    if score.ndim == 2:
        return np.argmax(score, axis=1)
    hit = score >= threshold if tuned else score > threshold
    return np.where(hit, pos, 1 - pos)


#: keywords a synthetic metric may accept to get the labels of the three sets
LABEL_KEYWORDS = ("y_train", "y_synthetic", "y_test")


def _wants_labels(func) -> bool:
    """Whether a ``synthetic_metrics`` callable accepts the label keywords (all three, or ``**kwargs``)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: call them the old way
        return False
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return True
    named = {p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
    return all(k in named for k in LABEL_KEYWORDS)


def _progress_enabled(progress) -> bool:
    """Same rule as ``ganaug.core.trainer.progress_bar_default`` (a terminal, or ``GANAUG_PROGRESS``),
    without importing Lightning just to read it."""
    if isinstance(progress, str):
        return progress  # "lines": validated by _progress.progress_bar
    if progress is not None:
        return bool(progress)
    forced = os.environ.get("GANAUG_PROGRESS")
    if forced is not None:
        return forced.strip().lower() not in ("0", "false", "no", "off", "")
    return sys.stderr.isatty()


def utility_report(
    estimator,
    X,
    y,
    augmenters=None,
    cv=5,
    metrics=None,
    random_state=None,
    *,
    baselines="all",
    pos_label=None,
    preprocess="auto",
    inner_cv=3,
    n_boot=1000,
    confidence=0.95,
    progress=None,
    synthetic_metrics=None,
):
    """Measure whether augmentation helps a downstream model, against the strongest simple alternatives.

    Every arm (see the module docstring) trains the model on each training
    fold and is scored on the untouched test fold. Differences to the best
    baseline are paired (same folds, same test rows) and get a bootstrap
    confidence interval; the report ends in a computed verdict.

    Parameters
    ----------
    estimator : classifier, callable, or dict of them
        A scikit-learn classifier with ``predict_proba`` or
        ``decision_function`` (cloned for every fit), or a callable
        ``fit_predict_proba(X_train, y_train, X_test)`` returning
        probabilities of shape ``(n_test, n_classes)`` in sorted class order
        (images, series, any framework; if it accepts ``sample_weight`` the
        class-weight arm is run, if it accepts ``random_state`` it gets a
        seed). A dict ``{name: model}`` evaluates several models on the same
        folds and the same synthetic data.
    X : DataFrame or array
        Raw features: a mixed-type table with NaN is fine (see ``preprocess``);
        any array indexable along its first axis for callables.
    y : array-like of shape (n_samples,)
        Class labels.
    augmenters : None, sampler, list or dict of samplers
        Objects with ``fit_resample(X, y)`` (original rows first). ``None``:
        :func:`default_augmenters`. ``[]``: baselines only.
    cv : int, splitter or list of (train, test), default=5
        An int means stratified, shuffled K-fold seeded from ``random_state``.
        A splitter such as ``StratifiedShuffleSplit`` gives repeated hold-out.
    metrics : list of str, optional
        Subset of ``f1`` (minority F1), ``pr_auc``, ``roc_auc``,
        ``balanced_accuracy``, ``precision``, ``recall``, ``accuracy``,
        ``macro_f1``; all by default. ``fit_time``, ``sample_time`` and
        ``n_synthetic`` are always recorded.
    random_state : int, optional
        One seed for folds, samplers, models and the bootstrap: the same
        seed gives the same report (timings aside).
    baselines : "all" or list of str
        Keys from :data:`BASELINES`.
    pos_label : label, optional
        The class of interest; default the rarest class.
    preprocess : "auto", None or transformer
        ``"auto"`` puts one-hot encoding, imputation and scaling (fitted on
        each training fold only) in front of a bare scikit-learn estimator;
        a Pipeline or a callable is used as given.
    inner_cv : int, default=3
        Folds inside each training fold for the tuned threshold.
    n_boot : int, default=1000
        Bootstrap replicates for the confidence intervals.
    confidence : float, default=0.95
    progress : bool, "lines" or None
        A tqdm bar over arms and folds; default only in a terminal.
        ``"lines"``: one plain line per arm and fold (what runs, fits done,
        seconds so far) on stderr, for pipes and logs.
    synthetic_metrics : dict, optional
        ``{name: f(X_train, X_synthetic, X_test) -> float}`` computed for every
        resampling arm and fold that added rows (for example privacy metrics
        such as the distance to the closest training record, with the test
        fold as the holdout; see :func:`ganaug.privacy.privacy_metrics`).
        A callable that also accepts the keywords ``y_train``, ``y_synthetic``
        and ``y_test`` (or ``**kwargs``) gets the labels of the three sets
        too, so that it can compare like with like (synthetic minority rows
        with fresh minority rows); others get the three sets only.
        Reported as mean ± std, without intervals.

    Returns
    -------
    UtilityReport

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from ganaug.datasets import load_hmda
    >>> from ganaug.evaluate import utility_report
    >>> X, y = load_hmda()
    >>> rep = utility_report(LogisticRegression(max_iter=500), X, y, augmenters=[], cv=3, random_state=0,
    ...                      baselines=["none", "class_weight"], metrics=["f1", "pr_auc"], n_boot=200)
    >>> sorted(rep.results["arm"].unique())
    ['class weights', 'none']
    >>> print(rep.verdict())  # doctest: +ELLIPSIS
    LogisticRegression: ...
    """
    from ganaug.evaluate.report import UtilityReport  # report imports this module (no import cycle)

    y_arr, classes, codes, counts = _check_labels(X, y)
    n_classes = classes.size
    if pos_label is None:
        pos = int(np.argmin(counts))
    else:
        matches = np.flatnonzero(classes == pos_label)
        if matches.size == 0:
            raise ValueError(f"pos_label {pos_label!r} is not a class of y; classes are {classes.tolist()}")
        pos = int(matches[0])
    names = resolve_metrics(metrics, n_classes)
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise ValueError(f"n_boot must be an int >= 100, got {n_boot!r}")
    if not 0.5 <= float(confidence) < 1:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence!r}")
    synthetic_metrics = dict(synthetic_metrics or {})
    for key, func in synthetic_metrics.items():
        if not isinstance(key, str) or not callable(func):
            raise TypeError("synthetic_metrics must map names (str) to callables f(X_train, X_synthetic, X_test)")
        if key in names or key in ("fit_time", "sample_time", "n_synthetic"):
            raise ValueError(f"synthetic metric name {key!r} clashes with a built-in metric")
    synthetic_metrics = {key: (func, _wants_labels(func)) for key, func in synthetic_metrics.items()}
    if not isinstance(inner_cv, (int, np.integer)) or inner_cv < 2:
        raise ValueError(f"inner_cv must be an int >= 2, got {inner_cv!r}")
    if _is_table(X) and isinstance(X, pd.DataFrame):
        column_kinds(X)  # unsupported dtypes fail here, before any training

    base = seed_from_random_state(random_state)
    models = as_models(estimator, preprocess, X)
    splits, cv_desc = _make_splits(cv, codes, classes, counts, _derive(base, 1))

    state = _RunState()
    arms = _baseline_arms(baselines, X, n_classes == 2, state.notes)
    arms += _augmenter_arms(augmenters, X, {a.name for a in arms})
    if not arms:
        raise ValueError("no arm to evaluate: give baselines or augmenters")
    for arm in arms:  # a variant's sampling_strategy fails here, not after its GAN has trained
        if arm.group is not None and "sampling_strategy" in arm.params:
            from imblearn.utils import check_sampling_strategy

            try:
                check_sampling_strategy(arm.params["sampling_strategy"], y_arr, "over-sampling")
            except ValueError as exc:
                raise ValueError(f"arm {arm.name!r}: sampling_strategy={arm.params['sampling_strategy']!r}: {exc}") from None
    tuned = [a for a in arms if a.kind == "tuned"]
    if tuned:
        smallest_train = min(int(np.bincount(codes[tr], minlength=n_classes).min()) for tr, _ in splits)
        if smallest_train < inner_cv:
            arms = [a for a in arms if a.kind != "tuned"]
            state.notes.append(
                f"tuned threshold skipped: a training fold has {smallest_train} rows of a class, fewer than inner_cv={inner_cv}"
            )
    for model in models.values():
        if not model.supports_weights and any(a.kind == "weighted" for a in arms):
            state.notes.append(f"class weights skipped for {model.name}: it takes neither class_weight nor sample_weight")

    from ganaug.evaluate._progress import progress_bar

    bar = progress_bar(len(splits) * len(arms), _progress_enabled(progress))
    try:
        for fold, (tr, te) in enumerate(splits):
            _run_fold(fold, tr, te, X, y_arr, classes, pos, arms, models, names, base, inner_cv, state, bar,
                      synthetic_metrics, len(splits))
    finally:
        bar.close()

    results = pd.DataFrame(state.rows, columns=["model", "arm", "fold", "metric", "value"])
    return UtilityReport(
        results=results,
        arms=[(a.name, a.family, a.kind, a.description) for a in arms],
        models=list(models),
        predictions=state.preds,
        classes=classes,
        pos=pos,
        metrics=names,
        n_samples=int(codes.size),
        class_counts=counts,
        cv_description=cv_desc,
        seed=base,
        n_boot=int(n_boot),
        confidence=float(confidence),
        notes=state.notes,
        synthetic=state.synthetic,
        histories=state.histories,
        data=(X, y_arr, splits),
    )


def _run_fold(fold, tr, te, X, y_arr, classes, pos, arms, models, names, base, inner_cv, state, bar, synthetic_metrics,
              n_folds):
    X_tr, y_tr = _take(X, tr), y_arr[tr]
    X_te = _take(X, te)
    y_te_codes = np.searchsorted(classes, y_arr[te])
    n_classes = classes.size
    plain_cache: dict = {}
    groups: dict = {}
    model_seed = _derive(base, 2, fold)

    def plain(model):
        if model.name not in plain_cache:
            t0 = time.perf_counter()
            score, thr = model.fit_score(X_tr, y_tr, X_te, classes, pos, False, model_seed)
            plain_cache[model.name] = (score, thr, time.perf_counter() - t0)
        return plain_cache[model.name]

    for arm in arms:
        bar.set_postfix_str(f"fold {fold + 1}/{n_folds}, {arm.name}")
        X_fit, y_fit, sample_time, n_syn, extra = X_tr, y_tr, 0.0, 0, {}
        if arm.kind == "resample":
            X_fit, y_fit, sample_time, n_syn = _resample(arm, fold, X_tr, y_tr, classes, base, state, groups)
            if n_syn > 0 and synthetic_metrics:
                X_syn = _take(X_fit, np.arange(y_tr.shape[0], y_fit.shape[0]))
                labels = {"y_train": y_tr, "y_synthetic": np.asarray(y_fit)[y_tr.shape[0]:], "y_test": y_arr[te]}
                extra = {key: float(func(X_tr, X_syn, X_te, **(labels if wants else {})))
                         for key, (func, wants) in synthetic_metrics.items()}
        for model in models.values():
            if arm.kind == "weighted" and not model.supports_weights:
                continue
            if arm.kind == "plain":
                score, thr, fit_time = plain(model)
            elif arm.kind == "tuned":
                score, _, fit_time = plain(model)
                t0 = time.perf_counter()
                thr = _tune_threshold(model, X_tr, y_tr, classes, pos, _derive(base, 3, fold), inner_cv)
                fit_time += time.perf_counter() - t0
            else:
                t0 = time.perf_counter()
                score, thr = model.fit_score(X_fit, y_fit, X_te, classes, pos, arm.kind == "weighted", model_seed)
                fit_time = time.perf_counter() - t0
            pred = _predict(score, thr, pos, arm.kind == "tuned")
            values = weighted_metrics(y_te_codes, pred, score, pos, n_classes, names)
            for name in names:
                state.rows.append((model.name, arm.name, fold, name, float(values[name][0])))
            state.rows.append((model.name, arm.name, fold, "fit_time", fit_time))
            state.rows.append((model.name, arm.name, fold, "sample_time", sample_time))
            state.rows.append((model.name, arm.name, fold, "n_synthetic", float(n_syn)))
            for key, value in extra.items():
                state.rows.append((model.name, arm.name, fold, key, value))
            state.preds.setdefault((model.name, arm.name), []).append(_FoldPred(te, y_te_codes, pred, score, thr))
        bar.update(1)


def _seeded_clone(sampler, seed: int):
    sampler = clone(sampler, safe=False)
    if hasattr(sampler, "get_params") and sampler.get_params(deep=False).get("random_state", 0) is None:
        sampler.set_params(random_state=seed)
    return sampler


def _resample_variant(arm, fold, X_tr, y_tr, base, groups):
    """Fit the group's augmenter once per fold, then sample this variant's rows from it."""
    from imblearn.utils import check_sampling_strategy

    if arm.group not in groups:
        aug = _seeded_clone(arm.sampler, _derive(base, 4, fold, _arm_key(arm.group)))
        aug.set_params(**arm.params)
        t0 = time.perf_counter()
        aug.fit(X_tr, y_tr)
        groups[arm.group] = (aug, time.perf_counter() - t0)
    aug, fit_seconds = groups[arm.group]
    aug.set_params(**arm.params)
    strategy = check_sampling_strategy(aug.get_params()["sampling_strategy"], y_tr, "over-sampling")
    wanted = {k: int(v) for k, v in strategy.items() if int(v) > 0}
    t0 = time.perf_counter()
    if wanted:
        X_new, y_new = aug.sample(wanted, random_state=_derive(base, 6, fold, _arm_key(arm.group)))
    else:
        X_new, y_new = _take(X_tr, np.arange(0)), y_tr[:0]
    seconds = fit_seconds + time.perf_counter() - t0
    if isinstance(X_tr, pd.DataFrame):
        X_res = pd.concat([X_tr.reset_index(drop=True), pd.DataFrame(X_new).reset_index(drop=True)], ignore_index=True)
    else:
        X_res = np.concatenate([np.asarray(X_tr), np.asarray(X_new)])
    return aug, X_res, np.concatenate([y_tr, np.asarray(y_new).astype(y_tr.dtype, copy=False)]), seconds


def _resample(arm, fold, X_tr, y_tr, classes, base, state, groups):
    if arm.group is not None:
        first_of_group = arm.group not in groups
        sampler, X_res, y_res, sample_time = _resample_variant(arm, fold, X_tr, y_tr, base, groups)
        keep_history = first_of_group
    else:
        sampler = _seeded_clone(arm.sampler, _derive(base, 4, fold, _arm_key(arm.name)))
        t0 = time.perf_counter()
        X_res, y_res = sampler.fit_resample(X_tr, y_tr)
        sample_time = time.perf_counter() - t0
        keep_history = True
    y_res = np.asarray(y_res)
    if len(X_res) != y_res.shape[0]:
        raise ValueError(f"arm {arm.name!r}: fit_resample returned {len(X_res)} rows but {y_res.shape[0]} labels")
    if y_res.dtype != y_tr.dtype:
        try:
            y_res = y_res.astype(y_tr.dtype)
        except (TypeError, ValueError):
            pass
    unknown = np.setdiff1d(np.unique(y_res), classes)
    if unknown.size:
        raise ValueError(f"arm {arm.name!r}: fit_resample returned unknown class(es) {unknown.tolist()}")
    n_syn = y_res.shape[0] - y_tr.shape[0]
    if fold == 0 and n_syn > 0:
        new = np.arange(y_tr.shape[0], y_res.shape[0])
        state.synthetic[arm.name] = (_take(X_res, new), y_res[new])
    if fold == 0 and keep_history:
        history = getattr(sampler, "history_", None)
        if history:
            state.histories[arm.group or arm.name] = list(history)
    return X_res, y_res, sample_time, n_syn
