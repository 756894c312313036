"""``GANAnomalyDetector``: pyod-style anomaly scores from a GAN trained on normal data."""

from __future__ import annotations

import numbers
import os
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from ganaug.anomaly._backends import BACKENDS, auto_epochs
from ganaug.anomaly._encoding import SeriesCodec, TableCodec, as_float_array, check_finite
from ganaug.anomaly.base import BaseDetector, check_contamination
from ganaug.exceptions import ModelFormatError
from ganaug.io import load_model_dir, save_model_dir, to_jsonable
from ganaug.utils import limit_threads, seed_everything, seed_from_random_state

__all__ = ["GANAnomalyDetector"]

SCORES = ("auto", "hybrid", "reconstruction", "discriminator", "neighbor")
#: classical members a table detector may add to its GAN (see ganaug.anomaly.classical)
MEMBERS = ("gan", "iforest", "ecod", "knn")
MODALITIES = ("auto", "tabular", "image", "series")
_COMPONENTS = ("residual", "feature", "discriminator", "neighbor")
#: defaults of the ``None`` ("auto") parameters for tables, chosen on ADBench sets outside the benchmark (see
#: docs/anomaly.md and pipelines/anomaly_dev_tuning.py): one GAN on a 1024-row subsample scored by the distance to
#: its generated samples, in an ensemble with an isolation forest and a nearest-neighbour scorer. The weights below
#: are those of ``score="hybrid"`` on tables (all four GAN components).
_TABLE_DEFAULTS = {"n_estimators": 1, "max_samples": 1024, "lambda_": 0.5, "discriminator_weight": 0.5,
                   "neighbor_weight": 0.5, "score": "neighbor", "members": ("gan", "iforest", "knn")}
#: images and series keep a single GAN on every item and the AnoGAN weighting (residual + 0.1 feature matching)
_OTHER_DEFAULTS = {"n_estimators": 1, "max_samples": None, "lambda_": 0.1, "discriminator_weight": 0.0,
                   "neighbor_weight": 0.0, "score": "hybrid", "members": ("gan",)}


def _count(value, name: str, low: int, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def _real(value, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= float(value) <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


class GANAnomalyDetector(BaseDetector):
    """Anomaly detector from a GAN trained on normal data, with pyod's interface.

    A GAN trained on normal data knows normality twice: its discriminator
    rejects what it has not seen, and its generator cannot reconstruct it.
    ``fit`` trains a ganaug GAN (``TabularGAN`` for tables,
    ``ConditionalImageGAN`` for images, ``RecurrentGAN`` on sliding windows of
    a series), then an encoder ``E`` into the generator's latent space with
    the GAN frozen (f-AnoGAN). Scoring is batched: ``z* = E(x)``, optionally
    refined by ``inversion_steps`` of the batched latent inversion of
    :func:`ganaug.core.latent.invert`; no per-sample optimisation loop.

    For tables the default is a small, fast ensemble (chosen on ADBench sets
    outside the benchmark, ``pipelines/anomaly_dev_tuning.py``): one GAN
    trained on a 1024-row subsample scores a row by its distance to the
    nearest of ``n_generated`` samples drawn from its generator (no encoder
    is trained), and two classical members, an isolation forest and a
    nearest-neighbour distance (:mod:`ganaug.anomaly.classical`), each see
    the same rows; every member's score is standardised by its median and
    interquartile range on the training rows and the score is their sum.
    :meth:`score_components` reports each member alone, so what the GAN
    adds stays visible. ``members=("gan",)`` and ``score="hybrid"`` give the
    GAN alone with all four components (``n_estimators`` bagged GANs).
    Images and series keep one GAN and the AnoGAN weighting.

    Parameters
    ----------
    contamination : float, default=0.1
        Expected share of anomalies, in (0, 0.5]; sets ``threshold_``.
    score : {"auto", "hybrid", "reconstruction", "discriminator", "neighbor"}, default="auto"
        The GAN member's score. ``"auto"``: ``"neighbor"`` for tables,
        ``"hybrid"`` for images and series. ``"reconstruction"``: residual ``||x - G(z*)||``; ``"discriminator"``:
        minus the discriminator's logit; ``"neighbor"``: mean residual to the
        ``k_neighbors`` nearest generated samples (a non-parametric
        inversion); ``"hybrid"`` (AnoGAN, extended):
        ``(1 - lambda_) * residual + lambda_ * feature-matching residual
        ||f(x) - f(G(z*))||`` (``f`` = the discriminator's last hidden layer)
        ``+ discriminator_weight * discriminator + neighbor_weight * neighbor``.
        Each component is first standardised by its median and interquartile
        range on the training data, so the weights mean what they say.
    modality : {"auto", "tabular", "image", "series"}, default="auto"
        ``"auto"``: 1-D input is a series, 2-D a table, 3-D ``(N, H, W)`` and
        4-D ``(N, C, H, W)`` / ``(N, H, W, C)`` images. A multivariate series
        ``(T, channels)`` needs ``modality="series"``.
    epochs : int, optional
        GAN training epochs; default: about 600 optimiser steps (300 for series).
    encoder_epochs : int, optional
        Encoder training epochs; default: about 300 steps (150 for series). 0 = no encoder
        (latents start from noise; then ``inversion_steps`` must be > 0).
    batch_size : int, optional
        Rows (images, windows) per step; default ``min(256, n)`` (64 windows for series). An explicit
        value larger than the training data is an error.
    latent_dim : int, default=32
        Latent size (tables, images); series use the recurrent generator's
        noise sequence.
    hidden_dim : int, default=64
        Width of the networks (tables: MLP width; images: generator base
        width; series: recurrent hidden size, 32 there unless set).
    lambda_ : float, optional
        Weight of the feature-matching term in ``"hybrid"`` (AnoGAN's lambda).
        Default (None): 0.5 for tables, 0.1 for images and series.
    discriminator_weight : float, optional
        Weight of the discriminator term in ``"hybrid"``. Default (None): 0.5
        for tables, 0 for images and series.
    kappa : float, default=1.0
        Weight of the feature term when training the encoder (f-AnoGAN).
    inversion_steps : int, default=0
        Batched Adam steps that refine ``E(x)`` by latent inversion.
    inversion_lr : float, default=0.05
    window : int, default=32
        Series: window length. Scores are per time step: the average, over
        every window covering a step, of that step's component.
    stride : int, default=1
        Series: stride between training windows (scoring uses every window).
    differences : bool, default=True
        Series: model the first differences as extra channels next to the
        values (jitter and jumps show in them; level shifts in the values).
    scoring_batch_size : int, default=4096
        Items scored at once.
    n_estimators : int, optional
        GANs in the bagged GAN member. Default (None): 1.
    max_samples : int or float, optional
        Training items per GAN, drawn without replacement (a float is a share
        of the training items). Default (None): 1024 for tables, every item for
        images and series. Training steps are counted on the subsample.
    neighbor_weight : float, optional
        Weight of the nearest-generated-sample term in ``"hybrid"``. Default
        (None): 0.5 for tables, 0 for images and series.
    n_generated : int, default=1024
        Samples each generator draws, once after training, for the neighbor
        component (re-drawn identically from the seed on :meth:`load`).
    k_neighbors : int, default=5
        Nearest generated samples averaged in the neighbor component.
    members : "auto" or sequence of str, default="auto"
        Tables: the ensemble's members, ``"gan"`` plus any of ``"iforest"``,
        ``"ecod"``, ``"knn"``; ``"auto"`` = ``("gan", "iforest", "knn")``
        for tables and ``("gan",)`` for images and series (the only choice
        there).
    gan_options : dict, optional
        Extra keyword arguments of the GAN module (``loss``, ``n_critic``,
        ``lr_g``, ``ema_decay``, ...).
    trainer : None, dict or lightning.pytorch.Trainer
        Lightning settings (accelerator, devices, precision, callbacks...).
    random_state : int, optional
        Seeds numpy, torch and Lightning: same seed, same scores.

    Attributes
    ----------
    decision_scores_ : ndarray of shape (n_samples,)
        Scores of the training data (per time step for a series).
    threshold_ : float
        The ``1 - contamination`` quantile of ``decision_scores_``.
    labels_ : ndarray of int
        0 / 1 labels of the training data.
    modality_ : str
    members_ : tuple of str
        The ensemble's members (``("gan", "iforest", "knn")`` for tables by default, ``("gan",)`` otherwise).
    decision_components_ : DataFrame
        Tables with several members: each member's standardised score of the
        training rows (the kNN member leaves each row out of its own
        neighbours); ``decision_scores_`` is their row sum.
    component_stats_ : dict
        Median and interquartile range of each raw component of the first GAN
        on the normal training data (``estimator_stats_``: one per GAN).
    n_estimators_, max_samples_ : int
        GANs trained and training items per GAN.
    n_train_ : int
        Rows (windows) the GAN was trained on (y == 0 rows when ``y`` is given).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.anomaly import GANAnomalyDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> det = GANAnomalyDetector(contamination=0.05, epochs=3, encoder_epochs=3, hidden_dim=16,
    ...                          random_state=0).fit(X)
    >>> det.decision_scores_.shape, bool(det.labels_.mean() <= 0.06)
    ((200,), True)
    >>> far = np.full((1, 4), 8.0)
    >>> bool(det.decision_function(far)[0] > det.decision_scores_.max())
    True
    >>> det.predict(far).tolist(), det.predict_proba(far).shape
    ([1], (1, 2))
    """

    def __init__(
        self,
        contamination: float = 0.1,
        score: str = "auto",
        modality: str = "auto",
        *,
        epochs: int | None = None,
        encoder_epochs: int | None = None,
        batch_size: int | None = None,
        latent_dim: int = 32,
        hidden_dim: int = 64,
        lambda_: float | None = None,
        discriminator_weight: float | None = None,
        kappa: float = 1.0,
        inversion_steps: int = 0,
        inversion_lr: float = 0.05,
        window: int = 32,
        stride: int = 1,
        differences: bool = True,
        scoring_batch_size: int = 4096,
        n_estimators: int | None = None,
        max_samples: int | float | None = None,
        neighbor_weight: float | None = None,
        n_generated: int = 1024,
        k_neighbors: int = 5,
        members="auto",
        gan_options: dict | None = None,
        trainer: Any = None,
        random_state: int | None = None,
    ) -> None:
        self.contamination = contamination
        self.score = score
        self.modality = modality
        self.epochs = epochs
        self.encoder_epochs = encoder_epochs
        self.batch_size = batch_size
        self.latent_dim = latent_dim
        self.hidden_dim = hidden_dim
        self.lambda_ = lambda_
        self.discriminator_weight = discriminator_weight
        self.kappa = kappa
        self.inversion_steps = inversion_steps
        self.inversion_lr = inversion_lr
        self.window = window
        self.stride = stride
        self.differences = differences
        self.scoring_batch_size = scoring_batch_size
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.neighbor_weight = neighbor_weight
        self.n_generated = n_generated
        self.k_neighbors = k_neighbors
        self.members = members
        self.gan_options = gan_options
        self.trainer = trainer
        self.random_state = random_state

    # ---------------------------------------------------------- validation
    def _check_params(self) -> None:
        check_contamination(self.contamination)
        if self.score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {self.score!r}")
        if self.modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}, got {self.modality!r}")
        _count(self.epochs, "epochs", 1, allow_none=True)
        _count(self.encoder_epochs, "encoder_epochs", 0, allow_none=True)
        _count(self.batch_size, "batch_size", 2, allow_none=True)
        _count(self.latent_dim, "latent_dim", 1)
        _count(self.hidden_dim, "hidden_dim", 4)
        _count(self.inversion_steps, "inversion_steps", 0)
        _count(self.window, "window", 2)
        _count(self.stride, "stride", 1)
        _count(self.scoring_batch_size, "scoring_batch_size", 1)
        _count(self.n_estimators, "n_estimators", 1, allow_none=True)
        _count(self.n_generated, "n_generated", 0)
        _count(self.k_neighbors, "k_neighbors", 1)
        if self.neighbor_weight is not None:
            _real(self.neighbor_weight, "neighbor_weight", 0.0, 1e6)
        ms = self.max_samples
        if ms is not None and (
            isinstance(ms, bool)
            or not isinstance(ms, numbers.Real)
            or (ms < 2 if isinstance(ms, numbers.Integral) else not 0.0 < float(ms) <= 1.0)
        ):
            raise ValueError(f"max_samples must be None, an int >= 2 or a float in (0, 1], got {ms!r}")
        if (self.neighbor_weight or 0) > 0 and self.n_generated == 0:
            raise ValueError("the neighbor score needs n_generated > 0 generated samples")
        if not (isinstance(self.members, str) and self.members == "auto"):
            if isinstance(self.members, str) or not hasattr(self.members, "__iter__"):
                raise ValueError(f"members must be 'auto' or a list of names from {MEMBERS}, got {self.members!r}")
            names = list(self.members)
            bad = [m for m in names if m not in MEMBERS]
            if bad or not names or len(set(names)) != len(names):
                raise ValueError(f"members must be distinct names from {MEMBERS} (at least one), got {self.members!r}")
        if self.lambda_ is not None:
            _real(self.lambda_, "lambda_", 0.0, 1.0)
        if self.discriminator_weight is not None:
            _real(self.discriminator_weight, "discriminator_weight", 0.0, 1e6)
        _real(self.kappa, "kappa", 0.0, 1e6)
        _real(self.inversion_lr, "inversion_lr", 1e-12, 1e3)
        if self.gan_options is not None and not isinstance(self.gan_options, dict):
            raise TypeError(f"gan_options must be a dict or None, got {type(self.gan_options).__name__}")

    def _resolve_modality(self, X) -> str:
        if self.modality != "auto":
            return self.modality
        ndim = X.ndim if isinstance(X, (np.ndarray, pd.DataFrame, pd.Series)) else np.ndim(np.asarray(X, dtype=object))
        if ndim == 1:
            return "series"
        if ndim == 2:
            return "tabular"
        if ndim in (3, 4):
            return "image"
        raise ValueError(f"X must be 1-D (a series), 2-D (a table) or 3-/4-D (images), got {ndim} dimensions")

    # -------------------------------------------------------------- encode
    def _encode(self, X, fitting: bool) -> np.ndarray:
        """Validated, encoded float32 array: rows ``(n, d)``, images ``(n, C, H, W)``, or series ``(T, C)``."""
        m = self.modality_
        if m == "tabular":
            if isinstance(X, pd.Series) or (not isinstance(X, pd.DataFrame) and np.ndim(X) != 2):
                raise ValueError(f"X must be 2-D (rows, features) for tabular data, got shape {np.shape(X)}")
            if len(X) == 0:
                raise ValueError("X is empty (0 rows)")
            if fitting:
                self._codec = TableCodec().fit(X)
            return self._codec.transform(X)
        if m == "image":
            from ganaug.image.encoding import ImageEncoder

            arr = np.asarray(X)
            if arr.ndim not in (3, 4):
                raise ValueError(f"images must be 3-D (N, H, W) or 4-D (N, C, H, W)/(N, H, W, C), got shape {arr.shape}")
            if arr.shape[0] == 0:
                raise ValueError("X is empty (0 images)")
            check_finite(as_float_array(arr, "X"), "X")
            if fitting:
                self._codec = ImageEncoder().fit(arr)
                x = self._codec.transform(arr)
                if x.shape[-1] != x.shape[-2] or x.shape[-1] % 4:
                    raise ValueError(f"images must be square with a side that is a multiple of 4, got "
                                     f"{tuple(x.shape[-2:])}")
                return x.numpy().astype(np.float32)
            return self._codec.transform(arr).numpy().astype(np.float32)
        # series: time along the first axis
        arr = as_float_array(X.to_numpy() if isinstance(X, (pd.DataFrame, pd.Series)) else X, "X")
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ValueError(f"a series must be 1-D (T,) or 2-D (T, channels), got shape {arr.shape}")
        check_finite(arr, "X")
        if fitting:
            self.n_channels_ = arr.shape[1]
        elif arr.shape[1] != self.n_channels_:
            raise ValueError(f"X has {arr.shape[1]} channels, but the detector was fitted on {self.n_channels_}")
        if self.differences:
            # first differences as extra channels: jitter and jumps stand out in them, level shifts in the values
            arr = np.concatenate([arr, np.diff(arr, axis=0, prepend=arr[:1])], axis=1)
        if fitting:
            self._codec = SeriesCodec().fit(arr)
        if arr.shape[0] < self.window:
            raise ValueError(f"the series has {arr.shape[0]} steps, fewer than window={self.window}")
        return self._codec.transform(arr)

    @staticmethod
    def _check_y(y, n: int) -> np.ndarray:
        yy = np.asarray(y)
        if yy.ndim != 1 or len(yy) != n:
            raise ValueError(f"y must be 1-D with one label per row ({n}), got shape {yy.shape}")
        try:
            yf = yy.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError("y must hold 0 (normal) and 1 (anomaly)") from None
        if not np.isin(yf, (0.0, 1.0)).all():
            bad = yy[~np.isin(yf, (0.0, 1.0))][0]
            raise ValueError(f"y must hold 0 (normal) and 1 (anomaly), found {bad!r}")
        return yf.astype(np.int64)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None) -> "GANAnomalyDetector":
        """Train the GAN and the encoder on ``X`` (only its ``y == 0`` rows when ``y`` is given).

        Parameters
        ----------
        X : array-like or DataFrame
            Table ``(n, d)``, images, or one series ``(T,)`` / ``(T, channels)``.
        y : array-like of 0/1, optional
            1 marks a known anomaly (per row, image, or time step). Known
            anomalies are kept out of training but still scored in
            ``decision_scores_``.
        """
        self._check_params()
        self.modality_ = self._resolve_modality(X)
        self.score_, self.members_ = self._resolve_score_and_members()
        data = self._encode(X, fitting=True)
        n = len(data)
        normal = np.ones(n, dtype=bool)
        if y is not None:
            normal = self._check_y(y, n) == 0
            if not normal.any():
                raise ValueError("y marks every row as an anomaly; at least some normal (y == 0) rows are needed")
        self.n_labelled_anomalies_ = int((~normal).sum())
        train = self._training_items(data, normal)
        if len(train) < 2:
            raise ValueError(f"only {len(train)} normal training item(s); GANAnomalyDetector needs at least 2")
        if self.batch_size is not None and self.batch_size > len(train):
            what = "windows" if self.modality_ == "series" else "rows"
            raise ValueError(f"the training data has {len(train)} {what}, fewer than batch_size={self.batch_size}; "
                             "lower batch_size (or leave it None)")
        n_est, n_sub = self._ensemble_size(len(train))
        batch = self.batch_size or min(64 if self.modality_ == "series" else 256, n_sub)
        if batch > n_sub:
            raise ValueError(f"batch_size={batch} is larger than max_samples={n_sub} rows per estimator")
        steps = (300, 150) if self.modality_ == "series" else (600, 300)
        epochs = self.epochs or auto_epochs(n_sub, batch, steps[0])
        enc_epochs = self.encoder_epochs if self.encoder_epochs is not None else auto_epochs(n_sub, batch, steps[1])
        if not self._needs_encoder():
            enc_epochs = 0
        seed = seed_from_random_state(self.random_state)
        self.seed_ = seed
        limit_threads()
        rng = np.random.default_rng(seed)
        self._backends = []
        for i in range(n_est):
            # estimator i: its own rows (without replacement, as IForest's subsamples) and its own seed
            rows = train if n_sub == len(train) else train[np.sort(rng.choice(len(train), n_sub, replace=False))]
            seed_everything(seed + i)
            be = BACKENDS[self.modality_](self._backend_params())
            be.fit(torch.as_tensor(rows), epochs=epochs, encoder_epochs=enc_epochs, batch_size=batch,
                   seed=seed + i, trainer=self.trainer)
            if self._needs_bank():
                be.make_bank(self.n_generated, seed + i)
            self._backends.append(be)
        self.history_ = self._backend.history
        self.n_train_ = len(train)
        self.n_estimators_ = n_est
        self.max_samples_ = n_sub
        # standardise each component of each estimator on all the normal training items
        self.estimator_stats_ = []
        for be in self._backends:
            stats = {}
            for k, v in self._raw_parts(train, be).items():
                # series: per position in the window (the first steps of a causal model are judged on less context)
                q1, med, q3 = np.percentile(v, [25, 50, 75], axis=0)
                iqr = np.where(q3 > q1, q3 - q1, np.maximum(np.std(v, axis=0), 1e-12))
                stats[k] = {"median": med.tolist(), "iqr": iqr.tolist()}
            self.estimator_stats_.append(stats)
        self.component_stats_ = self.estimator_stats_[0]
        if len(self.members_) > 1:
            train_scores = self._fit_members(train, seed)
            # training rows keep the scores each member gave them in fit (the kNN member leaves each row out of its
            # neighbours); only the other rows (known anomalies) are scored anew
            own = np.full(n, -1)
            own[normal] = np.arange(len(train))
            self.decision_components_ = pd.DataFrame(self._member_z(data, own, train_scores))
            self.decision_scores_ = self.decision_components_.to_numpy().sum(1)
        else:
            self._members, self.member_stats_ = {}, {}
            self.decision_scores_ = self._gan_score(data)
        self._process_decision_scores()
        return self

    def _resolve_score_and_members(self) -> tuple[str, tuple[str, ...]]:
        auto = _TABLE_DEFAULTS if self.modality_ == "tabular" else _OTHER_DEFAULTS
        score = auto["score"] if self.score == "auto" else self.score
        members = tuple(auto["members"]) if isinstance(self.members, str) else tuple(self.members)
        if "gan" not in members:
            raise ValueError(f"members must include 'gan' (the GAN is this detector's core), got {self.members!r}")
        if self.modality_ != "tabular" and members != ("gan",):
            raise ValueError(f"classical members {[m for m in members if m != 'gan']} are for tables only; "
                             f"{self.modality_} data takes members=('gan',) (or 'auto')")
        # checked on the resolved score: "auto" is "hybrid" for images and series
        if score == "neighbor" and self.n_generated == 0:
            raise ValueError("the neighbor score needs n_generated > 0 generated samples")
        if self.encoder_epochs == 0 and self.inversion_steps == 0 and score not in ("discriminator", "neighbor"):
            raise ValueError("encoder_epochs=0 needs inversion_steps > 0 to find latents for the reconstruction score")
        return score, members

    # ------------------------------------------------------------- members
    def _fit_members(self, train: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        """Fit the classical members, standardise every member on the training items; return their training scores."""
        from ganaug.anomaly.classical import SCORERS, robust_stats

        self._members = {}
        train_scores = {}
        for name in self.members_:
            if name == "gan":
                train_scores[name] = self._gan_score(train)
                continue
            scorer = SCORERS[name]()
            if "random_state" in scorer.get_params():
                scorer.set_params(random_state=seed)
            self._members[name] = scorer.fit(train)
            train_scores[name] = scorer.decision_scores_
        self.member_stats_ = {name: robust_stats(v) for name, v in train_scores.items()}
        return train_scores

    def _member_z(self, items: np.ndarray, own: np.ndarray | None = None,
                  train_scores: dict[str, np.ndarray] | None = None,
                  gan_raw: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Each member's score, standardised by its median and IQR on the training items.

        ``own[i] >= 0`` marks row ``i`` as training item ``own[i]``, whose score is taken from ``train_scores``;
        ``gan_raw`` is the GAN member's raw score of ``items`` when the caller already has it.
        """
        out = {}
        for name in self.members_:
            score = self._gan_score if name == "gan" else self._members[name].decision_function
            if name == "gan" and gan_raw is not None:
                raw = gan_raw
            elif own is None:
                raw = score(items)
            else:
                at = own >= 0
                raw = np.empty(len(items))
                raw[at] = train_scores[name][own[at]]
                if not at.all():
                    raw[~at] = score(items[~at])
            st = self.member_stats_[name]
            out[name] = (raw - st["median"]) / st["iqr"]
        return out

    def _gan_score(self, items: np.ndarray) -> np.ndarray:
        if self.modality_ != "series":
            return self._combine(self._components(items))
        return self._fold(self._combine(self._components(self._windows(items))), len(items))

    @property
    def _backend(self):
        """The first estimator's backend (the only one unless ``n_estimators > 1``)."""
        return self._backends[0]

    def _ensemble_size(self, n: int) -> tuple[int, int]:
        """(estimators, rows per estimator) for ``n`` training items."""
        tab = self.modality_ == "tabular"
        n_est = self.n_estimators if self.n_estimators is not None else (_TABLE_DEFAULTS["n_estimators"] if tab else 1)
        ms = self.max_samples
        if ms is None and tab:
            ms = _TABLE_DEFAULTS["max_samples"]
        if ms is None:
            n_sub = n
        elif isinstance(ms, numbers.Integral):
            n_sub = min(int(ms), n)
        else:
            n_sub = max(2, int(round(float(ms) * n)))
        return n_est, n_sub

    def _weights(self) -> dict[str, float]:
        """Weight of each standardised component in the score."""
        score = self.score_
        if score == "reconstruction":
            return {"residual": 1.0}
        if score == "discriminator":
            return {"discriminator": 1.0}
        if score == "neighbor":
            return {"neighbor": 1.0}
        auto = _TABLE_DEFAULTS if self.modality_ == "tabular" else _OTHER_DEFAULTS

        def get(name):
            value = getattr(self, name)
            return float(auto[name] if value is None else value)

        lam = get("lambda_")
        w = {"residual": 1.0 - lam, "feature": lam, "discriminator": get("discriminator_weight"),
             "neighbor": get("neighbor_weight")}
        return {k: v for k, v in w.items() if v > 0}

    def _needs_encoder(self) -> bool:
        w = self._weights()
        return "residual" in w or "feature" in w

    def _needs_bank(self) -> bool:
        return self.n_generated > 0 and "neighbor" in self._weights()

    def _backend_params(self) -> dict:
        hidden = self.hidden_dim
        if self.modality_ == "series" and hidden == 64:
            hidden = 32
        p = {"latent_dim": self.latent_dim, "hidden_dim": hidden, "kappa": self.kappa,
             "gan_options": dict(self.gan_options or {})}
        if self.modality_ == "tabular":
            p["spans"] = self._codec.spans
        return p

    def _training_items(self, data: np.ndarray, normal: np.ndarray) -> np.ndarray:
        if self.modality_ != "series":
            return data[normal]
        T = len(data)
        starts = np.arange(0, T - self.window + 1, self.stride)
        idx = starts[:, None] + np.arange(self.window)
        ok = normal[idx].all(axis=1)  # windows with a known anomaly stay out of training
        return data[idx[ok]]

    # -------------------------------------------------------------- scoring
    def _raw_parts(self, items: np.ndarray, backend) -> dict[str, np.ndarray]:
        return backend.parts(items, batch_size=self.scoring_batch_size, inversion_steps=self.inversion_steps,
                             inversion_lr=self.inversion_lr, seed=self.seed_, k_neighbors=self.k_neighbors)

    @staticmethod
    def _standardise(parts: dict[str, np.ndarray], stats: dict) -> dict[str, np.ndarray]:
        return {k: (v - np.asarray(stats[k]["median"])) / np.asarray(stats[k]["iqr"]) for k, v in parts.items()}

    def _components(self, items: np.ndarray) -> dict[str, np.ndarray]:
        """Standardised components, averaged over the estimators."""
        total: dict[str, np.ndarray] = {}
        for be, stats in zip(self._backends, self.estimator_stats_):
            for k, v in self._standardise(self._raw_parts(items, be), stats).items():
                total[k] = total[k] + v if k in total else v
        return {k: v / len(self._backends) for k, v in total.items()}

    def _combine(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        w = self._weights()
        if "feature" in w and "feature" not in parts:  # series: no feature component, its weight goes to the residual
            w["residual"] = w.get("residual", 0.0) + w.pop("feature")
        return sum(v * parts[k] for k, v in w.items())

    def _windows(self, data: np.ndarray) -> np.ndarray:
        """Every window of a series (stride 1), ``(T - window + 1, window, channels)``."""
        w = np.lib.stride_tricks.sliding_window_view(data, self.window, axis=0).transpose(0, 2, 1)
        return np.ascontiguousarray(w)

    def _fold(self, values: np.ndarray, T: int) -> np.ndarray:
        """Per-window-step values ``(n_windows, window)`` -> per time step: mean over the covering windows."""
        pos = (np.arange(values.shape[0])[:, None] + np.arange(self.window)).ravel()
        return np.bincount(pos, weights=values.ravel(), minlength=T) / np.bincount(pos, minlength=T)

    def _score_encoded(self, data: np.ndarray) -> np.ndarray:
        if len(self.members_) == 1:
            return self._gan_score(data)
        return sum(self._member_z(data).values())

    def decision_function(self, X) -> np.ndarray:
        """Anomaly score of each row (image, time step): higher = more abnormal."""
        check_is_fitted(self, ["decision_scores_", "threshold_", "labels_"])
        return self._score_encoded(self._encode(X, fitting=False))

    def score_components(self, X) -> pd.DataFrame:
        """Every part of the score of each row, side by side: each member alone, then the GAN's components.

        With several members (the table default), the columns ``gan``,
        ``iforest``, ``knn`` ... are each member's score standardised by its
        median and IQR on the training rows (the score is their sum); the
        columns ``residual``, ``feature``, ``discriminator``, ``neighbor`` are
        the GAN's own standardised components (those it computes). For a
        series, each component is averaged per time step as in
        :meth:`decision_function`.
        """
        check_is_fitted(self, ["decision_scores_"])
        data = self._encode(X, fitting=False)
        series = self.modality_ == "series"
        cols = {}
        parts = self._components(self._windows(data) if series else data)
        if len(self.members_) > 1:
            # the GAN member is the weighted sum of these parts: computed once, not again by _member_z
            gan = self._combine(parts)
            cols.update(self._member_z(data, gan_raw=self._fold(gan, len(data)) if series else gan))
        for k in _COMPONENTS:
            if k in parts:
                v = parts[k]
                cols[k] = self._fold(v, len(data)) if series else v
        return pd.DataFrame(cols)

    # ---------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted detector to a directory (JSON + safetensors, never pickle)."""
        check_is_fitted(self, ["decision_scores_"])
        params = {k: v for k, v in self.get_params().items() if k != "trainer"}
        config = {
            "estimator": "GANAnomalyDetector",
            "params": to_jsonable(params),
            "modality": self.modality_,
            "codec": self._codec.get_state() if self.modality_ != "image" else self._codec.to_json(),
            "estimators": [{"gan_kwargs": to_jsonable(be.gan_config()), "component_stats": st}
                           for be, st in zip(self._backends, self.estimator_stats_)],
            "max_samples": self.max_samples_,
            "seed": self.seed_,
            "n_train": self.n_train_,
            "n_labelled_anomalies": self.n_labelled_anomalies_,
            "threshold": self.threshold_,
            "n_channels": getattr(self, "n_channels_", None),
            "score": self.score_,
            "members": list(self.members_),
            "member_stats": self.member_stats_,
            "member_params": {k: to_jsonable(m.get_params()) for k, m in self._members.items()},
        }
        tensors = {f"est{i}.{k}": v for i, be in enumerate(self._backends) for k, v in be.tensors().items()}
        for name, member in self._members.items():
            tensors.update({f"member.{name}.{k}": torch.as_tensor(np.asarray(v)) for k, v in member.get_state().items()})
        tensors["decision_scores"] = torch.as_tensor(np.asarray(self.decision_scores_, dtype=np.float64))
        save_model_dir(path, config, tensors)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "GANAnomalyDetector":
        """Read a detector written by :meth:`save` (hashes checked, no pickle)."""
        config, tensors = load_model_dir(path)
        if config.get("estimator") != "GANAnomalyDetector":
            raise ModelFormatError(f"{str(path)!r} holds a {config.get('estimator')!r}, not a GANAnomalyDetector")
        params = dict(config["params"])
        if "estimators" not in config:  # written before the ensemble: one GAN, no neighbor term
            params.setdefault("n_estimators", 1)
            params.setdefault("neighbor_weight", 0.0)
        det = cls(**params)
        det.modality_ = config["modality"]
        # files written before the members: no "score" / "members" in the config, the GAN alone
        det.score_ = config.get("score", params.get("score", "hybrid"))
        if det.score_ == "auto":
            det.score_ = (_TABLE_DEFAULTS if det.modality_ == "tabular" else _OTHER_DEFAULTS)["score"]
        det.members_ = tuple(config.get("members", ["gan"]))
        if det.modality_ == "tabular":
            det._codec = TableCodec.from_state(config["codec"])
        elif det.modality_ == "series":
            det._codec = SeriesCodec.from_state(config["codec"])
        else:
            from ganaug.image.encoding import ImageEncoder

            det._codec = ImageEncoder.from_json(config["codec"])
        det.seed_ = int(config["seed"])
        det._backends, det.estimator_stats_ = [], []
        if "estimators" in config:
            estimators, prefixes = config["estimators"], [f"est{i}." for i in range(len(config["estimators"]))]
        else:  # written before the ensemble: one GAN, tensors without a prefix
            estimators = [{"gan_kwargs": config["gan_kwargs"], "component_stats": config["component_stats"]}]
            prefixes = [""]
        for i, (est, prefix) in enumerate(zip(estimators, prefixes)):
            be = BACKENDS[det.modality_](det._backend_params())
            be.restore(est["gan_kwargs"], {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
            if det._needs_bank():
                be.make_bank(det.n_generated, det.seed_ + i)  # the same draws as in fit
            det._backends.append(be)
            det.estimator_stats_.append(est["component_stats"])
        det.component_stats_ = det.estimator_stats_[0]
        det.n_estimators_ = len(det._backends)
        det.n_train_ = int(config["n_train"])
        det.max_samples_ = int(config.get("max_samples", det.n_train_))
        det.n_labelled_anomalies_ = int(config["n_labelled_anomalies"])
        det.history_ = []
        if config.get("n_channels") is not None:
            det.n_channels_ = int(config["n_channels"])
        det.member_stats_ = dict(config.get("member_stats", {}))
        det._members = det._load_members(config.get("member_params", {}), tensors)
        det.decision_scores_ = tensors["decision_scores"].numpy().astype(np.float64)
        det._process_decision_scores()
        return det

    def _load_members(self, params: dict, tensors: dict) -> dict:
        from ganaug.anomaly.classical import SCORERS

        out = {}
        for name in self.members_:
            if name == "gan":
                continue
            if name not in SCORERS:
                raise ModelFormatError(f"unknown detector member {name!r} in the saved model")
            prefix = f"member.{name}."
            state = {k[len(prefix):]: v.numpy() for k, v in tensors.items() if k.startswith(prefix)}
            out[name] = SCORERS[name].from_state(state, params.get(name))
        return out
