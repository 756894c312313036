"""``TimeSeriesAugmenter``: rebalance series classification data with a recurrent GAN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from imblearn.utils import check_sampling_strategy
from sklearn.utils.validation import check_is_fitted

from ganaug._labels import label_repr, squeeze_labels
from ganaug.augment.base import BaseAugmenter, register_augmenter
from ganaug.augment.tabular import TabularAugmenter
from ganaug.core.data import tensor_loader
from ganaug.timeseries.attributes import (
    AUTO_MIN_LENGTH,
    AttributeEncoder,
    check_attribute_frame,
    range_denormalize,
    range_normalize,
    series_ranges,
    use_range_normalization,
)
from ganaug.timeseries.encoding import SeriesEncoder, check_series_array, make_windows
from ganaug.timeseries.lengths import check_length_smoothing, smoothed_length_table
from ganaug.timeseries.model import RecurrentGAN
from ganaug.utils import limit_threads, seed_everything, seed_from_random_state

__all__ = ["TimeSeriesAugmenter"]

#: defaults of the attribute model (a TabularAugmenter), overridden by ``attribute_params``
_ATTRIBUTE_DEFAULTS = {"epochs": 300}
#: TabularAugmenter parameters the series augmenter sets itself
_ATTRIBUTE_OWN = ("random_state", "sampling_strategy")
#: trainer settings passed on to the attribute model (devices, not callbacks or checkpoints)
_ATTRIBUTE_TRAINER_KEYS = ("accelerator", "devices", "enable_progress_bar")
_ATTRIBUTE_PREFIX = "attributes."


@register_augmenter
class TimeSeriesAugmenter(BaseAugmenter):
    """Synthesize series of rare classes (or more windows of one series) with :class:`~ganaug.timeseries.RecurrentGAN`.

    ``X`` is ``(n_series, n_channels, length)`` as in aeon/sktime, or
    ``(n_series, length)`` for one channel; whatever comes in goes out
    (``fit_resample`` and ``sample`` keep the layout and float dtype).
    Variable-length series are padded with NaN at the end; synthetic series
    get the same padding after a length drawn from a smoothed distribution of
    their class's training lengths (``length_smoothing``), not copied from
    the training series. Every channel is min-max scaled on the training data.

    Parameters
    ----------
    mode : {"rcgan", "timegan"}, default="rcgan"
        RCGAN (recurrent conditional GAN, with the moment loss on values and
        increments) or TimeGAN-style (adds embedder, recovery and supervisor;
        about 3x slower per step). On TimeGAN's stocks windows the RCGAN
        default scored better than TimeGAN mode in a fifth of the time
        (docs/timeseries.md).
    cell : {"gru", "lstm"}, default="lstm"
        Recurrent cell of every network (on CPU PyTorch's LSTM runs about
        twice as fast as its GRU).
    hidden_dim : int, default=24
    num_layers : int, default=1
    noise_dim : int, optional
        Noise features per step (default ``max(n_channels, 8)``, half of them
        constant over the series).
    steps_per_output : int, default=1
        Steps emitted per recurrent step (DoppelGANger's batch generation,
        Lin et al., 2020): the recurrent networks run ``ceil(length /
        steps_per_output)`` steps, and the discriminator judges chunks of
        ``steps_per_output`` steps. Use 5-50 for series of hundreds or
        thousands of steps; must not exceed the series' length.
    epochs : int, default=250
        Adversarial epochs (for TimeGAN: joint epochs, after pre-training).
    pretrain_epochs : int or (int, int), optional
        TimeGAN only: epochs of autoencoder pre-training and of supervisor
        pre-training (one int for both; default ``epochs // 2`` each).
    batch_size : int, default=256
        Series per batch (at most the number of series); larger batches
        make an epoch cheaper on CPU, where the recurrent steps cost per
        call more than per series.
    loss : str, default="nonsaturating"
        Any :func:`ganaug.available_losses` name.
    lr_g, lr_d : float, default=1e-3
    n_critic : int, default=1
    ema_decay : float, optional
        Sample from an exponential moving average of the generator.
    gan_params : dict, optional
        Further :class:`~ganaug.timeseries.RecurrentGAN` arguments (``cond_dim``,
        ``gamma``, ``moment_weight``, ``supervised_weight``, ``lr_e``,
        ``betas``, ``real_label``, ``instance_noise``, ``loss_options``...).
    length_smoothing : "auto" or float, default="auto"
        How synthetic lengths of variable-length series are drawn: a training
        length of the class plus rounded Gaussian noise of this bandwidth (in
        steps), within the class's length range widened by two bandwidths
        (see :mod:`ganaug.timeseries.lengths`). ``"auto"``: Silverman's rule
        per class, at least one step. ``0``: copy the training lengths (their
        empirical distribution), which lets a membership attack recognise
        training series by their length. No effect on fixed-length data.
    range_normalization : "auto" or bool, default="auto"
        DoppelGANger's auto-normalisation: scale every series by its own
        per-channel min and max (to ``[0, 1]``) and generate each series'
        (min, max) per channel as extra numeric attributes with the attribute
        model, which put the scale back. ``"auto"``: on only when the padded
        length is at least 100 steps and, in some channel, the largest
        per-series range is more than 10 times the smallest
        (:func:`ganaug.timeseries.attributes.use_range_normalization`); short
        windows keep the one global per-channel scaling. The choice made is in
        ``range_normalization_``.
    attribute_params : dict, optional
        :class:`~ganaug.augment.tabular.TabularAugmenter` arguments of the
        attribute model, which is trained when ``fit`` gets ``attributes`` or
        range normalisation is on. Defaults: ``epochs=300`` and
        ``batch_size=min(500, n_series // 2)`` (at least 2 steps per epoch:
        on a table of ~100 series, 300 one-step epochs did not yet learn how
        the range columns depend on a categorical attribute, 600 steps did),
        the rest as TabularAugmenter's; its ``random_state`` comes from this
        augmenter's.
    sampling_strategy : str, float, dict or callable, default="auto"
        As in imbalanced-learn.
    random_state : int, optional
    trainer : dict or lightning.pytorch.Trainer, optional
        Trainer arguments (``accelerator``, ``devices``, ``precision``,
        ``callbacks``...) or a ready Trainer. With a ready Trainer its
        ``max_epochs`` must cover pre-training plus ``epochs``.

    Attributes
    ----------
    encoder_ : SeriesEncoder
        Per-channel scaling and layout.
    module_ : RecurrentGAN
        The trained networks (use them for anomaly scores or latent inversion).
    length_counts_ : ndarray of shape (n_classes, length + 1)
        Observed lengths per class.
    length_probs_ : ndarray of shape (n_classes, length + 1)
        Probability of each synthetic length per class (``length_counts_``
        smoothed by ``length_smoothing``).
    attribute_columns_ : list of str or None
        Columns of the ``attributes`` given to ``fit`` (None without them).
    attribute_model_ : TabularAugmenter or None
        Model of the per-series attributes (and of the per-series ranges when
        ``range_normalization_``), conditioned on the class.
    attribute_encoder_ : AttributeEncoder or None
        Attributes -> the static vector the recurrent networks see at every step.
    range_normalization_ : bool
        Whether every series was scaled by its own range.
    classes_, class_counts_, history_, seed_

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.augment.timeseries import TimeSeriesAugmenter
    >>> rng = np.random.default_rng(0)
    >>> t = np.linspace(0, 6.3, 16)
    >>> X = np.concatenate([np.sin(t + rng.uniform(0, 6, (40, 1))), np.sign(np.sin(t + rng.uniform(0, 6, (8, 1))))])
    >>> y = np.array([0] * 40 + [1] * 8)
    >>> aug = TimeSeriesAugmenter(mode="rcgan", epochs=2, hidden_dim=8, random_state=0)
    >>> X_res, y_res = aug.fit_resample(X, y)
    >>> X_res.shape, np.bincount(y_res).tolist()
    ((80, 16), [40, 40])
    """

    def __init__(
        self,
        mode: str = "rcgan",
        cell: str = "lstm",
        hidden_dim: int = 24,
        num_layers: int = 1,
        noise_dim: int | None = None,
        steps_per_output: int = 1,
        epochs: int = 250,
        pretrain_epochs: int | None = None,
        batch_size: int = 256,
        loss: str = "nonsaturating",
        lr_g: float = 1e-3,
        lr_d: float = 1e-3,
        n_critic: int = 1,
        ema_decay: float | None = None,
        gan_params: dict | None = None,
        length_smoothing="auto",
        range_normalization="auto",
        attribute_params: dict | None = None,
        sampling_strategy="auto",
        random_state=None,
        trainer=None,
    ) -> None:
        self.mode = mode
        self.cell = cell
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.noise_dim = noise_dim
        self.steps_per_output = steps_per_output
        self.epochs = epochs
        self.pretrain_epochs = pretrain_epochs
        self.batch_size = batch_size
        self.loss = loss
        self.lr_g = lr_g
        self.lr_d = lr_d
        self.n_critic = n_critic
        self.ema_decay = ema_decay
        self.gan_params = gan_params
        self.length_smoothing = length_smoothing
        self.range_normalization = range_normalization
        self.attribute_params = attribute_params
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.trainer = trainer

    # ------------------------------------------------------------------ input
    def _validate_X(self, X, reset: bool):
        if reset:
            self._check_params()
            X = self._prepare_fit(X)
            self.encoder_ = SeriesEncoder().fit(X)
        elif getattr(self, "range_normalization_", False):
            X3, _, was_2d = self.encoder_.check(X)
            X = self._normalized(X3, *series_ranges(X3), was_2d)
        values, lengths = self.encoder_.transform(X)
        if reset:
            longest = int(lengths.max()) if len(lengths) else 0
            if min(self.encoder_.length_, longest) < self.steps_per_output:
                raise ValueError(f"steps_per_output={self.steps_per_output} is longer than the series: padded length "
                                 f"{self.encoder_.length_}, longest observed length {longest}")
        return values, lengths

    def _n_rows(self, X_internal) -> int:
        return len(X_internal[0])

    def _check_params(self) -> None:
        for name in ("epochs", "batch_size", "hidden_dim", "num_layers", "steps_per_output"):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        pre = self.pretrain_epochs
        parts = list(pre) if isinstance(pre, (tuple, list)) else [pre]
        if pre is not None and (
            len(parts) not in (1, 2)
            or any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 0 for p in parts)
        ):
            raise ValueError(f"pretrain_epochs must be None, an int >= 0 or a pair of them, got {pre!r}")
        if self.mode not in ("rcgan", "timegan"):
            raise ValueError(f"mode must be 'rcgan' or 'timegan', got {self.mode!r}")
        check_length_smoothing(self.length_smoothing)
        rn = self.range_normalization
        if not (isinstance(rn, (bool, np.bool_)) or (isinstance(rn, str) and rn == "auto")):
            raise ValueError(f"range_normalization must be 'auto', True or False, got {rn!r}")
        self._attribute_settings()  # refuses a bad attribute_params before anything trains

    def _attribute_settings(self) -> dict:
        """TabularAugmenter arguments of the attribute model (without ``random_state``)."""
        extra = self.attribute_params
        if extra is None:
            extra = {}
        if not isinstance(extra, dict):
            raise TypeError(f"attribute_params must be a dict of TabularAugmenter arguments, got {type(extra).__name__}")
        own = sorted(set(extra) & set(_ATTRIBUTE_OWN))
        if own:
            raise ValueError(f"attribute_params {own} are set by the augmenter itself (random_state flows from its "
                             "own random_state; attributes are drawn per class as the series are)")
        unknown = sorted(set(extra) - set(TabularAugmenter().get_params()))
        if unknown:
            raise ValueError(f"attribute_params {unknown} are not TabularAugmenter arguments")
        settings = {**_ATTRIBUTE_DEFAULTS, **extra}
        if "trainer" not in settings and isinstance(self.trainer, dict):
            settings["trainer"] = {k: v for k, v in self.trainer.items() if k in _ATTRIBUTE_TRAINER_KEYS} or None
        return settings

    def _prepare_fit(self, X):
        """Check the attributes against ``X``, decide on range normalisation; returns the series to encode."""
        attributes = self.__dict__.pop("_attributes_in", None)
        option = self.range_normalization
        off = isinstance(option, (bool, np.bool_)) and not option
        self._fit_extras = {"attributes": None, "ranges": None}
        self.range_normalization_ = False
        if attributes is None and off:
            return X
        X3, _, was_2d = check_series_array(X)
        if attributes is not None:
            self._fit_extras["attributes"] = check_attribute_frame(attributes, len(X3))
        if off or (isinstance(option, str) and X3.shape[2] < AUTO_MIN_LENGTH):
            return X  # "auto" is off for short series: no need to look at their ranges
        lo, hi = series_ranges(X3)
        self.range_normalization_ = use_range_normalization(self.range_normalization, lo, hi, X3.shape[2])
        if not self.range_normalization_:
            return X
        self._fit_extras["ranges"] = (lo, hi)
        return self._normalized(X3, lo, hi, was_2d)

    @staticmethod
    def _normalized(X3: np.ndarray, lo: np.ndarray, hi: np.ndarray, was_2d: bool) -> np.ndarray:
        """Series scaled by their own ranges, in the caller's layout (float dtype kept)."""
        dtype = X3.dtype if X3.dtype.kind == "f" else np.dtype(np.float64)
        out = range_normalize(X3, lo, hi).astype(dtype, copy=False)
        return out[:, 0, :] if was_2d else out

    def fit(self, X, y=None, attributes=None):
        """Learn a generative model of the series ``X`` (per class of ``y``, with per-series ``attributes``).

        Parameters
        ----------
        X : array-like of shape (n_series, n_channels, length) or (n_series, length)
            Series, NaN-padded at the end when their lengths differ.
        y : array-like of shape (n_series,), optional
            Class labels; without them the model is unconditional.
        attributes : DataFrame, optional
            One row per series, in the order of ``X``: static facts about each
            series (categorical, boolean, text, numeric or datetime columns;
            missing values allowed). They are modelled first, by a
            :class:`~ganaug.augment.tabular.TabularAugmenter` conditioned on
            the class, and the series are generated conditioned on them
            (DoppelGANger, Lin et al., 2020). :meth:`sample` then returns the
            attributes of every new series too, and accepts ``conditions``.

        Returns
        -------
        self

        Examples
        --------
        >>> import pandas as pd
        >>> from ganaug.augment.timeseries import TimeSeriesAugmenter
        >>> from ganaug.datasets import load_gunpoint
        >>> X, y, _, _ = load_gunpoint()
        >>> level = pd.DataFrame({"level": pd.cut(X.mean(axis=(1, 2)), 2, labels=["low", "high"])})
        >>> aug = TimeSeriesAugmenter(mode="rcgan", epochs=1, hidden_dim=8, num_layers=1,
        ...                           attribute_params={"epochs": 1}, random_state=0)
        >>> aug = aug.fit(X, y, attributes=level)
        >>> X_new, y_new, A_new = aug.sample({"2": 4}, conditions={"level": "high"}, random_state=0)
        >>> X_new.shape, A_new["level"].tolist()
        ((4, 1, 150), ['high', 'high', 'high', 'high'])
        """
        if attributes is not None and not isinstance(attributes, pd.DataFrame):
            raise TypeError(f"attributes must be a pandas DataFrame with one row per series, got "
                            f"{type(attributes).__name__}")
        self._attributes_in = attributes
        try:
            return super().fit(X, y)
        finally:
            self.__dict__.pop("_attributes_in", None)
            self.__dict__.pop("_fit_extras", None)

    def fit_resample(self, X, y, attributes=None):
        """Fit, then add synthetic series until ``sampling_strategy`` is met.

        Parameters
        ----------
        X : array-like of shape (n_series, n_channels, length) or (n_series, length)
        y : array-like of shape (n_series,)
        attributes : DataFrame, optional
            One row per series (see :meth:`fit`).

        Returns
        -------
        X_resampled, y_resampled
            Without ``attributes``: as :meth:`BaseAugmenter.fit_resample`.
        X_resampled, y_resampled, attributes_resampled
            With ``attributes``: the original series, labels and attribute
            rows first, then the synthetic ones (the attribute table has the
            training columns and dtypes and a fresh RangeIndex).
        """
        if attributes is None:
            return super().fit_resample(X, y)
        if y is None:
            raise ValueError("fit_resample needs class labels y; use fit(X, attributes=...) and sample(n) without labels")
        self._check_strategy_early(y)
        self.fit(X, y, attributes=attributes)
        if len(self.classes_) < 2:
            raise ValueError(f"y has only one class ({label_repr(self.classes_[0])}); fit_resample balances classes "
                             "and needs at least two")
        y_values = self.classes_[np.repeat(np.arange(len(self.classes_)), self.class_counts_)]
        self.sampling_strategy_ = check_sampling_strategy(self.sampling_strategy, y_values, self._sampling_type)
        wanted = {k: int(v) for k, v in self.sampling_strategy_.items() if int(v) > 0}
        X_new, y_new, A_new = self.sample(wanted, random_state=self.seed_)
        y_original = squeeze_labels(y)
        if self._label_format.kind != "series":
            y_original = np.asarray(y_original)
        A_res = pd.concat([attributes.reset_index(drop=True), A_new], ignore_index=True)
        return self._concat(X, X_new), self._label_format.concat(y_original, y_new), A_res

    def from_series(self, series, window: int = 24, stride: int = 1, attributes=None) -> "TimeSeriesAugmenter":
        """Fit on sliding windows of one long series (the TimeGAN "stocks" setting).

        Parameters
        ----------
        series : DataFrame or array-like of shape (T,) or (T, channels)
            Time along the first axis; numeric columns only.
        window : int, default=24
        stride : int, default=1
        attributes : DataFrame, optional
            One row per window, in window order (window ``i`` starts at step
            ``i * stride``; there are ``(T - window) // stride + 1`` of them),
            as ``attributes`` of :meth:`fit`.

        Returns
        -------
        self
            Fitted without labels: ``sample(n)`` returns ``n`` new windows of
            shape ``(n, channels, window)``.

        Examples
        --------
        >>> from ganaug.augment.timeseries import TimeSeriesAugmenter
        >>> from ganaug.datasets import load_stocks
        >>> stocks = load_stocks(window=None).iloc[:200]
        >>> aug = TimeSeriesAugmenter(mode="rcgan", epochs=1, hidden_dim=8, random_state=0)
        >>> aug.from_series(stocks, window=24, stride=4).sample(5).shape
        (5, 6, 24)
        """
        windows = make_windows(series, window=window, stride=stride)
        if isinstance(attributes, pd.DataFrame) and len(attributes) != len(windows):
            raise ValueError(f"attributes has {len(attributes)} row(s) but from_series made {len(windows)} windows "
                             f"(window={window}, stride={stride}); give one attribute row per window")
        self.fit(windows, attributes=attributes)
        self.series_columns_ = list(map(str, series.columns)) if isinstance(series, pd.DataFrame) else None
        return self

    # --------------------------------------------------------------- training
    def _pretrain(self) -> tuple[int, int]:
        """(embedding epochs, supervised epochs)."""
        if self.mode != "timegan":
            return 0, 0
        pre = self.pretrain_epochs
        if pre is None:
            return self.epochs // 2, self.epochs // 2
        if isinstance(pre, (tuple, list)):
            return int(pre[0]), int(pre[1])
        return int(pre), int(pre)

    def _build_module(self, n_classes: int) -> RecurrentGAN:
        embedding, supervised = self._pretrain()
        extra = dict(self.gan_params or {})
        if not isinstance(self.gan_params or {}, dict):
            raise TypeError(f"gan_params must be a dict of RecurrentGAN arguments, got {type(self.gan_params).__name__}")
        clash = sorted(set(extra) & {"n_channels", "seq_len", "n_classes", "mode", "cell", "hidden_dim", "num_layers",
                                     "noise_dim", "variable_length", "embedding_epochs", "supervised_epochs", "loss",
                                     "lr_g", "lr_d", "n_critic", "ema_decay", "steps_per_output"})
        if clash:
            raise ValueError(f"gan_params {clash} are set by the augmenter itself; pass them as its own parameters")
        if "attr_dim" in extra:
            raise ValueError("gan_params ['attr_dim'] is set by the augmenter itself (from the attributes given to fit)")
        encoder = getattr(self, "attribute_encoder_", None)
        if encoder is not None:  # only then: without attributes the networks are exactly as before
            extra["attr_dim"] = encoder.n_features_
        return RecurrentGAN(
            self.encoder_.n_channels_, self.encoder_.length_, n_classes, mode=self.mode, cell=self.cell,
            hidden_dim=self.hidden_dim, num_layers=self.num_layers, noise_dim=self.noise_dim,
            variable_length=self.encoder_.variable_length_, embedding_epochs=embedding, supervised_epochs=supervised,
            steps_per_output=int(self.steps_per_output),
            loss=self.loss, lr_g=self.lr_g, lr_d=self.lr_d, n_critic=self.n_critic, ema_decay=self.ema_decay,
            **extra,
        )

    def _fit_generator(self, X_internal, codes: np.ndarray, seed: int) -> None:
        values, lengths = X_internal
        k = len(self.class_counts_)
        counts = np.zeros((k, self.encoder_.length_ + 1), dtype=np.int64)
        np.add.at(counts, (codes, lengths), 1)
        self.length_counts_ = counts
        self.length_probs_ = smoothed_length_table(lengths, codes, k, self.encoder_.length_, self.length_smoothing)
        encoded = self._fit_attribute_model(codes, seed)
        self.module_ = self._build_module(k)
        cond = RecurrentGAN.make_condition(torch.from_numpy(codes), torch.from_numpy(lengths),
                                           None if encoded is None else torch.from_numpy(encoded))
        loader = tensor_loader(torch.from_numpy(values), cond, batch_size=min(self.batch_size, len(values)),
                               seed=seed)
        self._train(self.module_, loader, max_epochs=self.epochs + sum(self._pretrain()))
        self.module_.eval()

    # -------------------------------------------------------------- sampling
    def _draw_lengths(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A length per synthetic series, from its class's row of ``length_probs_`` (seeded by ``rng``)."""
        lengths = np.full(len(codes), self.encoder_.length_, dtype=np.int64)
        for c in np.unique(codes):  # a loop over classes, not samples
            idx = np.flatnonzero(codes == c)
            p = self.length_probs_[c]
            lengths[idx] = rng.choice(len(p), size=len(idx), p=p)
        return lengths

    def _generate(self, codes: np.ndarray, seed: int):
        return self._generate_full(codes, seed)[0]

    def _generate_full(self, codes: np.ndarray, seed: int, conditions=None):
        """(series, user attributes or None, full attribute table or None) for ``codes``, seeded by ``seed``.

        The full table also holds the per-series range columns (range normalisation).
        """
        rng = np.random.default_rng(seed)
        lengths = self._draw_lengths(codes, rng)
        gen = torch.Generator().manual_seed(seed)
        table = encoded = None
        if getattr(self, "attribute_model_", None) is not None:
            table = self._draw_attributes(codes, int(rng.integers(2**31 - 1)), conditions)
            encoded = torch.from_numpy(self.attribute_encoder_.transform(table))
        cond = RecurrentGAN.make_condition(torch.from_numpy(codes), torch.from_numpy(lengths), encoded)
        values = self.module_.generate_samples(len(codes), cond, generator=gen).detach().cpu().numpy()
        if not getattr(self, "range_normalization_", False):
            X_new = self.encoder_.inverse_transform(values, lengths)
        else:
            X3 = self.encoder_.inverse_transform(values, lengths, squeeze=False)
            lo, hi = self._drawn_ranges(table)
            X3 = range_denormalize(X3, lo, hi).astype(self.encoder_.dtype_, copy=False)
            X_new = np.ascontiguousarray(X3[:, 0, :] if self.encoder_.was_2d_ else X3)
        columns = getattr(self, "attribute_columns_", None)
        user = None if columns is None else table[columns]
        return X_new, user, table

    def sample(self, n_samples=None, random_state=None, conditions=None):
        """Generate synthetic series (with their attributes when fitted with ``attributes``).

        Parameters
        ----------
        n_samples : int or dict
            An int draws that many series with the class mix seen in
            training; a dict ``{class: count}`` draws exact counts per class.
            May be left out with a DataFrame of ``conditions`` (one series per
            condition row).
        random_state : int, optional
            Seed for this draw (see :meth:`BaseAugmenter.sample`).
        conditions : dict or DataFrame, optional
            Only for a model fitted with ``attributes``: attribute values every
            drawn series has, with the meanings of
            :meth:`TabularAugmenter.sample <ganaug.augment.tabular.TabularAugmenter.sample>`
            (``{"device": "router"}`` an exact level or number,
            ``{"size": (10, 20)}`` a closed range, a DataFrame one row per
            series). The attributes are drawn under the condition, then the
            series for them. A column or value not seen in training is
            refused with a ``ValueError``.

        Returns
        -------
        X_new : same layout and dtype as ``X`` in fit
        y_new : same container as ``y`` in fit (only when fitted with labels)
        attributes_new : DataFrame (only when fitted with ``attributes``)
            One row per series: the training columns and dtypes.
            Order: ``(X_new, y_new, attributes_new)``, or
            ``(X_new, attributes_new)`` for a model fitted without labels.
        """
        check_is_fitted(self, "seed_")
        columns = getattr(self, "attribute_columns_", None)
        if conditions is not None:
            self._check_conditions(conditions)
        if columns is None:
            return super().sample(n_samples, random_state=random_state)
        if n_samples is None and isinstance(conditions, pd.DataFrame):
            n_samples = len(conditions)
        counts = self._resolve_counts(n_samples)
        seed = (
            int(self._sample_rng.integers(2**31 - 1)) if random_state is None else seed_from_random_state(random_state)
        )
        codes = np.repeat(np.arange(len(counts)), counts)
        limit_threads()
        X_new, A_new, _ = self._generate_full(codes, seed, conditions)
        if not self.labelled_:
            return X_new, A_new
        return X_new, self._label_format.build(self.classes_[codes]), A_new

    # ------------------------------------------------------------- attributes
    def _range_columns(self, n_channels: int) -> list[tuple[str, str]]:
        return [(f"__range_min_{c}__", f"__range_max_{c}__") for c in range(n_channels)]

    def _fit_attribute_model(self, codes: np.ndarray, seed: int) -> np.ndarray | None:
        """Train the attribute model on the fit's attributes (and ranges); returns their encoding or None."""
        extras = getattr(self, "_fit_extras", None) or {"attributes": None, "ranges": None}
        frame, ranges = extras["attributes"], extras["ranges"]
        self.attribute_columns_ = None if frame is None else [str(c) for c in frame.columns]
        self.range_columns_ = None
        self.attribute_model_ = self.attribute_encoder_ = None
        if frame is None and ranges is None:
            return None
        table = frame.copy() if frame is not None else pd.DataFrame(index=pd.RangeIndex(len(codes)))
        if ranges is not None:
            names = self._range_columns(ranges[0].shape[1])
            clash = sorted({n for pair in names for n in pair} & set(table.columns))
            if clash:
                raise ValueError(f"attribute columns {clash} clash with the per-series range columns of "
                                 "range_normalization; rename them")
            for c, (lo_name, hi_name) in enumerate(names):
                table[lo_name] = ranges[0][:, c]
                table[hi_name] = ranges[1][:, c]
            self.range_columns_ = [list(pair) for pair in names]
        labelled = self.classes_ is not None and len(self.classes_) > 1
        settings = self._attribute_settings()
        if "batch_size" not in (self.attribute_params or {}):
            settings["batch_size"] = int(min(500, max(10, len(codes) // 2)))
        model = TabularAugmenter(random_state=seed, **settings)
        model.fit(table, codes if labelled else None)
        self.attribute_model_ = model
        self.attribute_encoder_ = AttributeEncoder().fit(table)
        seed_everything(seed)  # the series networks start from the same seed as without an attribute model
        return self.attribute_encoder_.transform(table)

    def _draw_attributes(self, codes: np.ndarray, seed: int, conditions=None) -> pd.DataFrame:
        """One attribute row per entry of ``codes`` (its class), drawn by the attribute model."""
        model = self.attribute_model_
        if model.labelled_:
            counts = np.bincount(codes, minlength=len(self.class_counts_))
            request = {int(c): int(m) for c, m in enumerate(counts) if m}
            frame = model.sample(request, random_state=seed, conditions=conditions)[0]
        else:
            frame = model.sample(len(codes), random_state=seed, conditions=conditions)
        frame = frame.reset_index(drop=True)
        order = np.argsort(codes, kind="stable")  # drawn class by class; put each row at its series
        if not np.array_equal(order, np.arange(len(codes))):
            frame = frame.iloc[np.argsort(order)].reset_index(drop=True)
        return frame

    def _drawn_ranges(self, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per-series (min, max) per channel from a drawn attribute table (a swapped pair is put in order)."""
        lo = table[[pair[0] for pair in self.range_columns_]].to_numpy(dtype=np.float64)
        hi = table[[pair[1] for pair in self.range_columns_]].to_numpy(dtype=np.float64)
        return np.minimum(lo, hi), np.maximum(lo, hi)

    def _check_conditions(self, conditions) -> None:
        columns = getattr(self, "attribute_columns_", None)
        if columns is None:
            raise ValueError("conditions restrict the drawn attributes, but this model was fitted without attributes; "
                             "fit(X, y, attributes=DataFrame) to sample with conditions")
        if isinstance(conditions, dict):
            names = list(conditions)
        elif isinstance(conditions, pd.DataFrame):
            names = list(conditions.columns)
        else:
            raise TypeError(f"conditions must be a dict {{column: value}} or a DataFrame, got "
                            f"{type(conditions).__name__}")
        unknown = [c for c in names if c not in columns]
        if unknown:
            raise ValueError(f"conditions name unknown attribute column {unknown[0]!r}; the attribute columns are "
                             f"{columns}")

    def _concat(self, X, X_new):
        X_arr = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
        return np.concatenate([X_arr, X_new.astype(np.result_type(X_arr.dtype, X_new.dtype), copy=False)])

    # ------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict, dict]:
        state = {
            "encoder": self.encoder_.to_json(),
            "module": self.module_.config(),
            "length_counts": self.length_counts_.tolist(),
            "length_probs": self.length_probs_.tolist(),
            "series_columns": getattr(self, "series_columns_", None),
            "range_normalization": bool(getattr(self, "range_normalization_", False)),
            "attributes": None,
        }
        tensors = {f"module.{k}": v for k, v in self.module_.state_dict().items()}
        model = getattr(self, "attribute_model_", None)
        if model is not None:
            nested, nested_tensors = _nested_state(model)
            state["attributes"] = {
                "columns": self.attribute_columns_,
                "range_columns": self.range_columns_,
                "encoder": self.attribute_encoder_.to_json(),
                "model": nested,
            }
            tensors.update({_ATTRIBUTE_PREFIX + k: v for k, v in nested_tensors.items()})
        return state, tensors

    def _set_state(self, state: dict, tensors: dict) -> None:
        self.encoder_ = SeriesEncoder.from_json(state["encoder"])
        self.length_counts_ = np.asarray(state["length_counts"], dtype=np.int64)
        if state.get("length_probs") is not None:
            self.length_probs_ = np.asarray(state["length_probs"], dtype=np.float64)
        else:  # saved before length smoothing: rebuild the table from the counts
            codes, lengths = np.nonzero(self.length_counts_)
            reps = self.length_counts_[codes, lengths]
            self.length_probs_ = smoothed_length_table(np.repeat(lengths, reps), np.repeat(codes, reps),
                                                       len(self.length_counts_), self.encoder_.length_,
                                                       self.length_smoothing)
        self.series_columns_ = state.get("series_columns")
        self.range_normalization_ = bool(state.get("range_normalization", False))
        attributes = state.get("attributes")
        self.attribute_columns_ = self.range_columns_ = None
        self.attribute_model_ = self.attribute_encoder_ = None
        if attributes is not None:
            self.attribute_columns_ = attributes["columns"]
            self.range_columns_ = attributes["range_columns"]
            self.attribute_encoder_ = AttributeEncoder.from_json(attributes["encoder"])
            self.attribute_model_ = _nested_load(attributes["model"], {
                k[len(_ATTRIBUTE_PREFIX):]: v for k, v in tensors.items() if k.startswith(_ATTRIBUTE_PREFIX)})
        config = dict(state["module"])
        if "betas" in config:
            config["betas"] = tuple(config["betas"])
        self.module_ = RecurrentGAN(**config)
        self.module_.load_state_dict({k[len("module."):]: v for k, v in tensors.items() if k.startswith("module.")})
        self.module_.eval()


# ------------------------------------------------------------ nested model state
def _nested_state(model: TabularAugmenter) -> tuple[dict, dict]:
    """A fitted TabularAugmenter as (JSON-able dict, tensors), the parts its own ``save`` writes (no history)."""
    return model._saved_config(history=False)


def _nested_load(d: dict, tensors: dict) -> TabularAugmenter:
    """Inverse of :func:`_nested_state` (what ``BaseAugmenter.load`` does with a model directory)."""
    return TabularAugmenter._from_saved_config(d, tensors)
