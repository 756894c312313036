"""``TabularAugmenter``: balance a mixed-type table with a conditional tabular GAN."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from sklearn.base import OneToOneFeatureMixin

from ganaug.augment._labels import label_repr
from ganaug.augment.base import BaseAugmenter, register_augmenter
from ganaug.tabular.conditions import Conditions, ConditionSchema, ForcedLevels
from ganaug.tabular.constraints import ConstraintSet, describe_violations, infer_inequalities, parse_constraints
from ganaug.tabular.model import TabularGAN, category_positions
from ganaug.tabular.sampler import ConditionalSampler
from ganaug.tabular.transformer import TabularTransformer

__all__ = ["TabularAugmenter"]

_MODULE_PREFIX = "module."
_CHUNK_ROWS = 50_000
_BACKENDS = ("ganaug", "ctgan")
_VALIDATION = (None, "tstr", "augmented")


def _is_auto(constraints) -> bool:
    """Whether ``constraints`` asks for the inferred inequalities (the string ``"auto"``)."""
    return isinstance(constraints, str) and constraints == "auto"


@register_augmenter
class TabularAugmenter(OneToOneFeatureMixin, BaseAugmenter):
    """Balance a table with a conditional tabular GAN (imbalanced-learn sampler API).

    ``X`` is a pandas DataFrame of mixed types (numbers, integers, booleans,
    categories, text, datetimes; missing values allowed) or a 2-D array.
    Generated rows come back in the same container, column names, order and
    dtypes; missing values appear at about the training rate.

    Parameters
    ----------
    sampling_strategy : str, float, dict or callable, default="auto"
        As in imbalanced-learn: "auto", "minority", "not minority",
        "not majority", "all", a float ratio, a dict of counts or a callable.
    random_state : int, RandomState or Generator, optional
        One seed for everything (encoding, weights, batches, samples).
    epochs : int, default=300
        Training epochs; one epoch is ``n_rows // batch_size`` steps (as CTGAN).
    batch_size : int, default=500
        Rows per step; rounded down to a multiple of ``pac`` (at least ``pac``).
    loss : str, default="wgan-gp"
        Any loss of :func:`ganaug.core.available_losses`.
    trainer : None, dict or lightning.pytorch.Trainer, optional
        Lightning ``Trainer`` arguments (``accelerator``, ``devices``,
        ``strategy``, ``precision``, ``callbacks``...) or a ready ``Trainer``.
    backend : {"ganaug", "ctgan"}, default="ganaug"
        ``"ctgan"`` trains the classic ``ctgan.CTGAN`` (optional extra,
        BUSL-1.1 licence) behind the same API; it cannot be saved, and the
        ganaug-only options (``calibrate``, ``filter_synthetic``,
        ``classifier_weight``, ``validation``, ``pack_by_class``...) do not
        apply to it.
    embedding_dim : int, default=128
        Noise size.
    generator_dim, discriminator_dim : tuple of int, default=(256, 256)
        Widths of the residual generator and of the packed discriminator.
    pac : int, default=10
        Rows per discriminator input (PacGAN).
    dropout : float, default=0.5
        Dropout in the discriminator.
    lr_g, lr_d : float, default=2e-4
    n_critic : int, default=1
        Discriminator steps per generator step.
    gp_every : int, default=1
        Lazy gradient penalty (StyleGAN2's lazy regularisation): with
        ``loss="wgan-gp"`` the penalty is computed on every ``gp_every``-th
        discriminator step only, at ``gp_every`` times its weight, so its
        average strength is unchanged, and the skipped steps save its double
        backward, a large share of a step. 1 = every step (as WGAN-GP). Needs
        ``backend="ganaug"`` and no ``dp``; no effect with other losses.
    ema_decay : float or None, default=0.99
        Samples come from an exponential moving average of the generator's
        weights (per step). GAN training oscillates; on the bundled tables
        the average cuts the error of the generated marginals by about half.
    class_balance : float, default=0.5
        Training-by-sampling draws class ``c`` with probability proportional
        to ``n_c ** class_balance`` (1 = as in the data, 0 = all equally).
    pack_by_class : bool, default=True
        Every discriminator pack holds ``pac`` rows of one class, so the
        critic judges each class's joint distribution (with mixed packs it
        mostly judges the table as a whole).
    classifier_weight : float, default=1.0
        Weight of an auxiliary classifier loss: a small network learns the
        class from real rows, and the generator is pushed to make rows that
        it recognises as their class (class consistency, as in CTAB-GAN).
    twin_classifier : bool, default=True
        Add TAC-GAN's twin classifier (trained on generated rows) so that the
        classifier loss matches each class's distribution instead of
        pushing rows away from the class boundary.
    calibrate : bool, default=True
        After training, match each class's one-column marginals to the
        training rows (see :mod:`ganaug.tabular.calibration`): logit biases
        for levels, modes and missing rates, and quantile maps for values.
    filter_synthetic : bool, default=False
        Draw ``1 / (1 - filter_quantile)`` times the rows asked for and
        return those the trained discriminator finds most realistic: the
        lowest-scoring ``filter_quantile`` share of each class is rejected.
        Off by default: on the four bundled tables it moved minority PR-AUC
        by -0.025 to +0.018 (mean slightly lower) and costs 2-3x the
        sampling time; see ``docs/tabular.md``.
    filter_quantile : float, default=0.2
        Share of generated rows rejected by ``filter_synthetic``.
    validation : {None, "tstr", "augmented"}, default=None
        Model selection on usefulness (see :mod:`ganaug.tabular.validation`):
        ``validation_size`` of the rows (stratified) is held out from GAN
        training; every ``validation_interval`` epochs a small classifier is
        trained on synthetic rows (``"tstr"``) or on real plus synthetic rows
        (``"augmented"``) and scored on the held-out rows (average
        precision); the best epoch's weights are kept and training stops
        after ``patience`` checks without improvement.
    validation_size : float, default=0.2
    validation_interval : int, optional
        Epochs between checks; default ``max(1, epochs // 10)``.
    patience : int, default=3
    max_modes : int, default=10
        Gaussian modes per continuous column.
    discrete_threshold : int, default=10
        Numeric columns with at most this many distinct values are discrete.
    max_categories : int, default=50
        Levels kept per discrete column (top-k plus ``other``).
    dp : dict, optional
        Differential privacy (optional extra ``pip install ganaug[privacy]``):
        ``{"epsilon": 3.0, "delta": 1e-5, "max_grad_norm": 1.0}`` trains the
        discriminator with DP-SGD, see :mod:`ganaug.privacy.dp`; the epsilon
        spent is in ``privacy_``. Implies ``pac=1`` and no ``calibrate``.
    constraints : "auto", list or None, default="auto"
        Rules every generated row obeys, from :mod:`ganaug.tabular.constraints`
        (``Inequality``, ``Range``, ``FixedCombinations``, ``Positive``,
        ``Negative``, ``Custom``) or their JSON dicts such as
        ``{"type": "Inequality", "low": "Amount", "high": "Price"}``. Checked
        at ``fit`` (training rows that break one are refused before training);
        no row from ``sample``, ``fit_resample``, ``iter_samples`` or
        ``sample_to_file`` violates one. Saved with the model (except ``Custom``).
        ``"auto"`` (default): the inequalities that every training row obeys
        between correlated numeric columns
        (:func:`ganaug.tabular.constraints.infer_inequalities`, e.g.
        ``Amount <= Price`` on the credit table), learnt at ``fit`` and listed
        in ``constraints_``; the model learns ``high - low``, which keeps how
        the two columns move together (SDMetrics column pair trends on credit
        0.70 -> 0.96). ``None``: no constraints.
    max_tries : int, default=20
        Rounds of rejection sampling (constraints enforced by rejection, and
        conditions of :meth:`sample`) before giving up with a ``ValueError``
        that says which rules fail how often.

    Attributes
    ----------
    classes_, class_counts_ : ndarray
    transformer_ : TabularTransformer
        The fitted encoder (column types, modes, levels).
    module_ : TabularGAN
        The trained Lightning module (``backend="ganaug"``).
    history_ : list of dict
        Per-step losses and gradient norms.
    validation_scores_ : list of (epoch, score)
        With ``validation``: the usefulness checks; ``best_epoch_`` is the kept one.
    constraints_ : ConstraintSet
        The fitted constraints (which are reparametrised, what they learnt).

    Examples
    --------
    >>> from ganaug.augment.tabular import TabularAugmenter
    >>> from ganaug.datasets import load_hmda
    >>> X, y = load_hmda()
    >>> aug = TabularAugmenter(epochs=1, generator_dim=(32,), discriminator_dim=(32,), random_state=0)
    >>> X_res, y_res = aug.fit_resample(X, y)
    >>> y_res.value_counts().to_dict()
    {'no': 2095, 'yes': 2095}
    >>> X_res.dtypes.equals(X.dtypes), X_res.iloc[:len(X)].equals(X)
    (True, True)
    """

    _min_class_size = 2
    _unsaved_params = ("trainer", "constraints")

    def __init__(
        self,
        sampling_strategy="auto",
        random_state=None,
        epochs: int = 300,
        batch_size: int = 500,
        loss: str = "wgan-gp",
        trainer=None,
        backend: str = "ganaug",
        embedding_dim: int = 128,
        generator_dim=(256, 256),
        discriminator_dim=(256, 256),
        pac: int = 10,
        dropout: float = 0.5,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        n_critic: int = 1,
        gp_every: int = 1,
        ema_decay: float | None = 0.99,
        class_balance: float = 0.5,
        pack_by_class: bool = True,
        classifier_weight: float = 1.0,
        twin_classifier: bool = True,
        calibrate: bool = True,
        filter_synthetic: bool = False,
        filter_quantile: float = 0.2,
        validation: str | None = None,
        validation_size: float = 0.2,
        validation_interval: int | None = None,
        patience: int = 3,
        max_modes: int = 10,
        discrete_threshold: int = 10,
        max_categories: int = 50,
        dp: dict | None = None,
        constraints="auto",
        max_tries: int = 20,
    ):
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.epochs = epochs
        self.batch_size = batch_size
        self.loss = loss
        self.trainer = trainer
        self.backend = backend
        self.embedding_dim = embedding_dim
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.pac = pac
        self.dropout = dropout
        self.lr_g = lr_g
        self.lr_d = lr_d
        self.n_critic = n_critic
        self.gp_every = gp_every
        self.ema_decay = ema_decay
        self.class_balance = class_balance
        self.classifier_weight = classifier_weight
        self.twin_classifier = twin_classifier
        self.pack_by_class = pack_by_class
        self.calibrate = calibrate
        self.filter_synthetic = filter_synthetic
        self.filter_quantile = filter_quantile
        self.validation = validation
        self.validation_size = validation_size
        self.validation_interval = validation_interval
        self.patience = patience
        self.max_modes = max_modes
        self.discrete_threshold = discrete_threshold
        self.max_categories = max_categories
        self.dp = dp
        self.constraints = constraints
        self.max_tries = max_tries

    def __sklearn_tags__(self):
        from sklearn_compat.utils._tags import TargetTags

        from imblearn.utils._tags import InputTags, SamplerTags, Tags

        tags = Tags(estimator_type="sampler", target_tags=TargetTags(required=True), transformer_tags=None,
                    regressor_tags=None, classifier_tags=None, sampler_tags=SamplerTags())
        tags.input_tags = InputTags(two_d_array=True, dataframe=True, allow_nan=True, string=True, categorical=True,
                                    sparse=False)
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------ validation
    def _check_params(self) -> None:
        def positive_int(name):
            v = getattr(self, name)
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")

        for name in ("epochs", "batch_size", "embedding_dim", "pac", "n_critic", "gp_every", "patience", "max_modes",
                     "max_tries"):
            positive_int(name)
        for name in ("generator_dim", "discriminator_dim"):
            dims = getattr(self, name)
            if isinstance(dims, (str, bytes)) or not hasattr(dims, "__iter__") or not list(dims) or any(
                isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in dims
            ):
                raise ValueError(f"{name} must be a non-empty sequence of positive ints, got {dims!r}")
        if self.backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {list(_BACKENDS)}, got {self.backend!r}")
        if self.validation not in _VALIDATION:
            raise ValueError(f"validation must be None, 'tstr' or 'augmented', got {self.validation!r}")
        if not 0.0 < float(self.validation_size) < 1.0:
            raise ValueError(f"validation_size must be in (0, 1), got {self.validation_size!r}")
        if self.validation_interval is not None:
            positive_int("validation_interval")
        if not 0.0 <= float(self.filter_quantile) < 1.0:
            raise ValueError(f"filter_quantile must be in [0, 1), got {self.filter_quantile!r}")
        if not 0.0 <= float(self.class_balance) <= 1.0:
            raise ValueError(f"class_balance must be in [0, 1], got {self.class_balance!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.backend == "ctgan" and self.dp is not None:
            raise ValueError("dp needs backend='ganaug' (the ctgan backend has no DP training)")
        if self.backend == "ctgan" and self.validation is not None:
            raise ValueError("validation needs backend='ganaug' (CTGAN's training loop cannot be checkpointed)")
        if self.backend == "ctgan" and self.gp_every != 1:
            raise ValueError(f"gp_every={self.gp_every!r} needs backend='ganaug' (CTGAN computes the gradient "
                             "penalty at every step); use gp_every=1")
        if self.dp is not None and self.gp_every != 1:
            raise ValueError(f"gp_every={self.gp_every!r} cannot be combined with dp (the DP discriminator step "
                             "computes the penalty in every row's clipped gradient); use gp_every=1")
        if not _is_auto(self.constraints):
            parse_constraints(self.constraints)  # TypeError for a declaration that is not a constraint

    def _validate_X(self, X, reset: bool):
        frame, layout = TabularTransformer.to_frame(X)
        if len(frame) == 1:
            raise ValueError("X has 1 sample (n_samples = 1); a generative model needs at least 2 rows")
        if reset:
            self._check_params()
            self._checker().check_frame(frame)
            # constraints against the columns and the training rows, before anything trains
            declared = infer_inequalities(frame) if _is_auto(self.constraints) else self.constraints
            self.constraints_ = ConstraintSet.fit(declared, frame)
            self.input_layout_ = layout
        return frame

    def _checker(self) -> TabularTransformer:
        return TabularTransformer(max_modes=self.max_modes, discrete_threshold=self.discrete_threshold,
                                  max_categories=self.max_categories)

    # ------------------------------------------------------------------ fit
    def _effective_batch(self, n_rows: int) -> int:
        pac = int(self.pac)
        bs = max(pac, (int(self.batch_size) // pac) * pac)
        if n_rows < bs:  # small data: one step per epoch with all rows' worth of draws
            bs = max(pac, (n_rows // pac) * pac)
        return bs

    def _fit_generator(self, frame: pd.DataFrame, codes: np.ndarray, seed: int) -> None:
        n_classes = 1 if self.classes_ is None else len(self.classes_)
        self.n_features_in_ = frame.shape[1]
        if self.input_layout_["kind"] == "dataframe":
            self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.validation_scores_, self.best_epoch_ = [], None
        self._condition_schema = ConditionSchema.fit(frame, self.constraints_.replaced_columns)
        frame = self.constraints_.transform(frame)  # Inequality: the model learns high - low
        if self.backend == "ctgan":
            self._fit_ctgan(frame, codes, seed)
            return
        fit_frame, fit_codes, val = frame, codes, None
        if self.validation is not None:
            fit_frame, fit_codes, val = self._split_validation(frame, codes, seed)
        tt = TabularTransformer(max_modes=self.max_modes, discrete_threshold=self.discrete_threshold,
                                max_categories=self.max_categories, random_state=seed).fit(fit_frame)
        tt.layout_ = self.input_layout_  # decode to the caller's container (the frame is an internal view)
        encoded = tt.transform(fit_frame)
        sampler = ConditionalSampler(tt.discrete_codes(encoded), [s.width for s in tt.discrete_spans], fit_codes,
                                     n_classes, class_balance=float(self.class_balance))
        self.transformer_ = tt
        self._sampler = sampler
        self.module_ = self._build_module(tt, n_classes)
        from ganaug.tabular._loader import conditional_loader

        group = int(self.pac) if self.pack_by_class else 1
        loader = conditional_loader(encoded, fit_codes, sampler, self._effective_batch(len(fit_frame)), seed,
                                    group=group)
        if self.dp is not None:  # DP-SGD discriminator: ganaug.privacy.dp (optional extra ganaug[privacy])
            from ganaug.privacy.dp import make_private

            self.module_, loader, self._sampler = make_private(self, self.module_, encoded, fit_codes, n_classes, seed)
            sampler = self._sampler
        callbacks = []
        if val is not None:
            callbacks.append(self._utility_callback(tt, sampler, encoded, fit_codes, val, n_classes, seed))
        self._train(self.module_, loader, callbacks=callbacks)
        if val is not None:
            cb = callbacks[0]
            self.validation_scores_ = [(int(e), float(s)) for e, s in cb.scores]
            self.best_epoch_ = int(cb.best_epoch)
        self.module_.cpu().eval()
        self.privacy_ = None
        if self.dp is not None:
            from ganaug.privacy.dp import privacy_spent

            self.privacy_ = privacy_spent(self.module_)
        self.calibration_ = None
        if self.calibrate and self.dp is None:
            from ganaug.tabular.calibration import MarginalCalibration

            self.calibration_ = MarginalCalibration.fit(self.module_, tt, sampler, encoded, tt.feature_matrix(fit_frame),
                                                        fit_codes, n_classes, seed)

    def _build_module(self, tt: TabularTransformer, n_classes: int) -> TabularGAN:
        return TabularGAN(
            [(s.start, s.width, s.kind) for s in tt.spans], n_classes, category_positions(tt.discrete_spans),
            embedding_dim=int(self.embedding_dim), generator_dim=tuple(int(d) for d in self.generator_dim),
            discriminator_dim=tuple(int(d) for d in self.discriminator_dim), pac=int(self.pac),
            dropout=float(self.dropout), loss=self.loss, lr_g=float(self.lr_g), lr_d=float(self.lr_d),
            n_critic=int(self.n_critic), ema_decay=self.ema_decay, classifier_weight=float(self.classifier_weight),
            twin_classifier=bool(self.twin_classifier),
            gp_every=int(self.gp_every),
        )

    def _split_validation(self, frame, codes, seed):
        if self.classes_ is None:
            raise ValueError(f"validation={self.validation!r} scores synthetic rows by how well they predict y: "
                             "fit with labels, or use validation=None")
        counts = np.bincount(codes)
        small = np.flatnonzero(counts < 4)
        if small.size:
            c = small[0]
            raise ValueError(f"class {label_repr(self.classes_[c])} has {counts[c]} row(s); validation="
                             f"{self.validation!r} needs at least 4 rows per class (or use validation=None)")
        rng = np.random.default_rng(seed)
        val_mask = np.zeros(len(codes), dtype=bool)
        for c in range(len(counts)):  # loop over classes, not rows
            rows = np.flatnonzero(codes == c)
            k = max(1, int(round(len(rows) * float(self.validation_size))))
            val_mask[rng.choice(rows, size=min(k, len(rows) - 2), replace=False)] = True
        fit_idx, val_idx = np.flatnonzero(~val_mask), np.flatnonzero(val_mask)
        return (frame.iloc[fit_idx].reset_index(drop=True), codes[fit_idx],
                (frame.iloc[val_idx].reset_index(drop=True), codes[val_idx]))

    def _utility_callback(self, tt, sampler, encoded, fit_codes, val, n_classes, seed):
        from ganaug.tabular.validation import UtilityCheckpoint, _rows_with_generator

        val_frame, val_codes = val
        interval = self.validation_interval or max(1, int(self.epochs) // 10)
        return UtilityCheckpoint(
            lambda module, c, s: _rows_with_generator(module, c, sampler, s), tt, tt.encoded_features(encoded),
            fit_codes, tt.feature_matrix(val_frame), val_codes, n_classes, mode=self.validation, interval=interval,
            patience=int(self.patience), seed=seed,
        )

    def _fit_ctgan(self, frame, codes, seed) -> None:
        from ganaug.tabular.ctgan_backend import fit_ctgan

        use_gpu = isinstance(self.trainer, dict) and self.trainer.get("accelerator") in ("gpu", "cuda")
        self._ctgan, self._ctgan_meta = fit_ctgan(
            frame, codes, seed, epochs=int(self.epochs), batch_size=int(self.batch_size), pac=int(self.pac),
            embedding_dim=int(self.embedding_dim), generator_dim=self.generator_dim,
            discriminator_dim=self.discriminator_dim, lr_g=float(self.lr_g), lr_d=float(self.lr_d),
            n_critic=int(self.n_critic), discrete_threshold=int(self.discrete_threshold), use_gpu=use_gpu,
        )
        self.history_ = []

    # ------------------------------------------------------------- generate
    def sample(self, n_samples=None, random_state=None, conditions=None):
        """Generate synthetic rows, optionally with given feature values.

        Parameters
        ----------
        n_samples : int or dict
            An int draws that many rows with the class mix seen in training;
            a dict ``{class: count}`` draws exact counts per class. With a
            DataFrame of ``conditions`` it may be left out (one row per
            condition row, class mix as in training).
        random_state : int, optional
            Seed for this draw (see :meth:`BaseAugmenter.sample`).
        conditions : dict or DataFrame, optional
            Feature values every returned row has (see
            :mod:`ganaug.tabular.conditions`). A dict ``{column: value}``
            applies to every row: a scalar is an exact value (a category
            level, or a number), a pair ``(low, high)`` is the closed interval
            ``low <= x <= high`` (numeric and datetime columns). A DataFrame
            gives one row of exact values per requested row (NaN: no
            condition in that cell); row ``i`` of the result goes with row
            ``i`` of the conditions (rows are grouped by class, in class
            order, as without conditions). Exact values of discrete columns
            are produced by the generator's condition vector; numeric values
            and ranges by rejection (at most ``max_tries`` rounds). A column
            or value not seen in training is refused with a ``ValueError``.

        Returns
        -------
        X_new : same container as ``X`` in fit
        y_new : same container as ``y`` in fit (only when fitted with labels)

        Examples
        --------
        >>> from ganaug.augment.tabular import TabularAugmenter
        >>> from ganaug.datasets import load_credit
        >>> X, y = load_credit()
        >>> aug = TabularAugmenter(epochs=1, generator_dim=(32,), discriminator_dim=(32,), random_state=0)
        >>> aug = aug.fit(X, y)
        >>> X_new, y_new = aug.sample({"bad": 50}, conditions={"Home": "rent", "Amount": (1000, 2000)},
        ...                           random_state=0)
        >>> bool((X_new["Home"] == "rent").all()), bool(X_new["Amount"].between(1000, 2000).all())
        (True, True)
        >>> y_new.unique().tolist()
        ['bad']
        """
        if conditions is None:
            return super().sample(n_samples, random_state=random_state)
        from sklearn.utils.validation import check_is_fitted

        from ganaug.utils import limit_threads, seed_from_random_state

        check_is_fitted(self, "seed_")
        if self.backend == "ctgan":
            raise ValueError("sample(conditions=...) needs backend='ganaug' (the ctgan backend has no condition "
                             "vector this model can set)")
        if n_samples is None and isinstance(conditions, pd.DataFrame):
            n_samples = len(conditions)
        counts = self._resolve_counts(n_samples)
        codes = np.repeat(np.arange(len(counts)), counts)
        resolved = self._schema().resolve(conditions, len(codes), self.transformer_)
        seed = (
            int(self._sample_rng.integers(2**31 - 1)) if random_state is None else seed_from_random_state(random_state)
        )
        limit_threads()
        X_new = self._generate(codes, seed, conditions=resolved)
        if not self.labelled_:
            return X_new
        return X_new, self._label_format.build(self.classes_[codes])

    def _schema(self) -> ConditionSchema:
        schema = getattr(self, "_condition_schema", None)
        if schema is None:
            raise ValueError("this model has no record of its training ranges; refit it to sample with conditions")
        return schema

    def _generate(self, codes: np.ndarray, seed: int, conditions: Conditions | None = None):
        """The one generation path of every public method: constraints and conditions hold on every row."""
        from ganaug.tabular._rejection import draw_valid

        codes = np.asarray(codes, dtype=np.int64)
        rules = getattr(self, "constraints_", None)
        rules = None if rules is None or rules.empty else rules
        if rules is None and conditions is None:
            return self._draw(codes, seed)
        if not len(codes):
            return self._to_layout(self._draw_frame(codes, seed))
        forced = None if conditions is None else conditions.forced(self.transformer_, self._sampler)

        def draw(idx, s):
            return self._draw_frame(codes[idx], s, None if forced is None else forced.take(idx))

        def check(frame, idx):
            ok = np.ones(len(frame), dtype=bool) if rules is None else rules.is_valid(frame)
            return ok if conditions is None else ok & conditions.take(idx).is_valid(frame)

        def describe(frame, idx):
            pairs = [] if rules is None else rules.violations(frame)
            pairs += [] if conditions is None else conditions.take(idx).violations(frame)
            return describe_violations(pairs)

        frame = draw_valid(draw, check, describe, len(codes), seed, int(self.max_tries))
        return self._to_layout(frame)

    def _draw_frame(self, codes: np.ndarray, seed: int, forced: ForcedLevels | None = None) -> pd.DataFrame:
        """Rows as an internal DataFrame (arrays: columns 0..k-1), reparametrised columns rebuilt."""
        out = self._draw(codes, seed, forced)
        frame = out if isinstance(out, pd.DataFrame) else TabularTransformer.to_frame(out)[0]
        rules = getattr(self, "constraints_", None)
        return frame if rules is None else rules.inverse_transform(frame)

    def _draw(self, codes: np.ndarray, seed: int, forced: ForcedLevels | None = None):
        codes = np.asarray(codes, dtype=np.int64)
        if self.backend == "ctgan":
            from ganaug.tabular.ctgan_backend import sample_ctgan

            return self._to_layout(sample_ctgan(self._ctgan, self._ctgan_meta, codes, seed))
        rng = np.random.default_rng(seed)
        gen = torch.Generator().manual_seed(int(seed))
        parts = []
        for lo in range(0, max(len(codes), 1), _CHUNK_ROWS):
            chunk = codes[lo : lo + _CHUNK_ROWS]
            part = None if forced is None else forced.take(np.arange(lo, min(lo + _CHUNK_ROWS, len(codes))))
            encoded = self._encoded_rows(chunk, rng, gen, part)
            seed_inv = int(rng.integers(2**31 - 1))
            cal = getattr(self, "calibration_", None)
            value_map = None if cal is None else cal.value_map(chunk)
            if isinstance(encoded, tuple):
                parts.append(self.transformer_.inverse_from_parts(*encoded, random_state=seed_inv, value_map=value_map))
            else:
                parts.append(self.transformer_.inverse_transform(encoded, random_state=seed_inv, value_map=value_map))
        if len(parts) == 1:
            return parts[0]
        if isinstance(parts[0], pd.DataFrame):
            return pd.concat(parts, ignore_index=True)
        return np.concatenate(parts)

    def _encoded_rows(self, codes: np.ndarray, rng: np.random.Generator, gen: torch.Generator,
                      forced: ForcedLevels | None = None) -> np.ndarray:
        module = self.module_
        if not (self.filter_synthetic and float(self.filter_quantile) > 0 and len(codes)):
            cats = self._sampler.sample_conditions(codes, rng)
            if forced is not None:  # the generator is told the level (its training-by-sampling condition)
                cats = np.where(forced.cats >= 0, forced.cats, cats)
            alpha, choice = module.sample_rows(torch.as_tensor(codes), torch.as_tensor(cats), generator=gen, parts=True)
            alpha, choice = alpha.numpy(), choice.numpy()
            if forced is not None:  # and the decoded level is that level, whatever the softmax drew
                for j, _, _, level in forced.columns:
                    choice[:, j] = np.where(level >= 0, level, choice[:, j])
            return alpha, choice
        # discriminator filter: draw more, keep the most realistic share of each class
        keep_share = 1.0 - float(self.filter_quantile)
        counts = np.bincount(codes, minlength=len(self.class_counts_))
        extra = np.ceil(counts / keep_share).astype(np.int64)
        cand_codes = np.repeat(np.arange(len(counts)), extra)
        cats = self._sampler.sample_conditions(cand_codes, rng)
        cand_forced = None
        if forced is not None:  # candidates of class c are forced like the rows of class c, in order
            order = np.argsort(codes, kind="stable")
            starts_req = np.concatenate([[0], np.cumsum(counts)])[:-1]
            within = np.arange(len(cand_codes)) - np.repeat(np.concatenate([[0], np.cumsum(extra)])[:-1], extra)
            src = order[starts_req[cand_codes] + within % np.maximum(counts[cand_codes], 1)]
            cand_forced = forced.take(src)
            cats = np.where(cand_forced.cats >= 0, cand_forced.cats, cats)
        rows = module.sample_rows(torch.as_tensor(cand_codes), torch.as_tensor(cats), generator=gen)
        scores = self._critic_scores(rows, cand_codes, cats, rng)
        # within each class, best score first; class c's candidates start at starts[c]
        order = np.lexsort((-scores, cand_codes))
        starts = np.concatenate([[0], np.cumsum(extra)])[:-1]
        pos = np.empty(len(codes), dtype=np.int64)
        for c in np.unique(codes):  # loop over classes
            pos[codes == c] = order[starts[c] : starts[c] + counts[c]]
        kept = rows.numpy()[pos]
        if forced is not None:  # each kept row gets the level asked of the row it fills
            for _, start, width, level in forced.columns:
                sel = np.flatnonzero(level >= 0)
                kept[sel, start : start + width] = 0.0
                kept[sel, start + level[sel]] = 1.0
        return kept

    def _critic_scores(self, rows: torch.Tensor, codes: np.ndarray, cats: np.ndarray, rng: np.random.Generator,
                       repeats: int = 4) -> np.ndarray:
        """Mean critic score of each row over ``repeats`` random packings with other candidates."""
        pac = self.module_.pac
        n = len(codes)
        m = int(math.ceil(n / pac)) * pac
        total = np.zeros(n)
        for _ in range(repeats):  # a handful of shuffles, each one vectorised
            perm = rng.permutation(m) % n  # pad the last pack with repeats
            packs = rows[torch.as_tensor(perm)].reshape(-1, pac, rows.shape[1])
            c = torch.as_tensor(codes[perm]).reshape(-1, pac)
            k = torch.as_tensor(cats[perm]).reshape(-1, pac)
            s = self.module_.critic_scores(packs, c, k).numpy().astype(np.float64)
            total += np.bincount(perm, weights=np.repeat(s, pac), minlength=n) / np.bincount(perm, minlength=n)
        return total / repeats

    def _to_layout(self, df: pd.DataFrame):
        if self.input_layout_["kind"] == "ndarray":
            dtype = np.dtype(self.input_layout_["dtype"])
            return df.to_numpy().astype(dtype, copy=False) if len(df) else np.zeros((0, df.shape[1]), dtype=dtype)
        return df

    def _concat(self, X, X_new):
        if isinstance(X_new, pd.DataFrame):
            original = X.reset_index(drop=True) if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
            return pd.concat([original, X_new], ignore_index=True)
        original = np.asarray(X)
        return np.concatenate([original, X_new.astype(original.dtype, copy=False)])

    # ---------------------------------------------------------- persistence
    def _get_state(self) -> tuple[dict, dict]:
        if self.backend == "ctgan":
            raise ValueError("a backend='ctgan' model cannot be saved without pickle; use backend='ganaug' to save")
        cal_state, cal_tensors = (None, {}) if self.calibration_ is None else self.calibration_.get_state()
        state = {
            "calibration": cal_state,
            "input_layout": self.input_layout_,
            "n_features_in": int(self.n_features_in_),
            "transformer": self.transformer_.get_state(),
            "sampler": self._sampler.generation_state(),
            "module": dict(self.module_.hparams),
            "validation_scores": self.validation_scores_,
            "best_epoch": self.best_epoch_,
            "constraints": self.constraints_.get_state(),  # ValueError for a Custom constraint
            "conditions": self._condition_schema.get_state(),
        }
        tensors = {_MODULE_PREFIX + k: v for k, v in self.module_.weights().items()}
        tensors.update(cal_tensors)
        return state, tensors

    def _set_state(self, state: dict, tensors: dict) -> None:
        for name in ("generator_dim", "discriminator_dim"):  # JSON stored the tuples as lists
            if isinstance(getattr(self, name), list):
                setattr(self, name, tuple(getattr(self, name)))
        self.input_layout_ = state["input_layout"]
        self.n_features_in_ = int(state["n_features_in"])
        self.transformer_ = TabularTransformer.from_state(state["transformer"])
        if self.input_layout_["kind"] == "dataframe":
            self.feature_names_in_ = np.asarray([str(c) for c in self.transformer_.column_names], dtype=object)
        self._sampler = ConditionalSampler.for_generation(state["sampler"])
        weights = {k[len(_MODULE_PREFIX):]: v for k, v in tensors.items() if k.startswith(_MODULE_PREFIX)}
        self.module_ = TabularGAN.from_weights(state["module"], weights)
        self.calibration_ = None
        if state.get("calibration") is not None:
            from ganaug.tabular.calibration import MarginalCalibration

            self.calibration_ = MarginalCalibration.from_state(state["calibration"], tensors)
        self.validation_scores_ = [tuple(s) for s in state.get("validation_scores", [])]
        self.best_epoch_ = state.get("best_epoch")
        self.constraints_ = ConstraintSet.from_state(state.get("constraints") or {
            "constraints": [], "states": [], "reparametrised": [], "dtypes": []})
        if self.constraints is not None and not _is_auto(self.constraints):  # JSON stored declarations as dicts
            self.constraints = parse_constraints(self.constraints)
        names = list(self.transformer_.column_names)
        if state.get("conditions") is not None:
            self._condition_schema = ConditionSchema.from_state(state["conditions"], names)
        else:  # a model saved before conditions existed: training ranges from the encoder
            self._condition_schema = ConditionSchema.from_transformer(self.transformer_)

    def _json_params(self) -> dict:
        params = super()._json_params()  # constraints is in _unsaved_params: stored here as JSON dicts
        declared = self.constraints
        if _is_auto(declared):
            params["constraints"] = "auto"
        else:
            params["constraints"] = None if declared is None else [c.to_dict() for c in parse_constraints(declared)]
        return params
