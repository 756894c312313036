"""``TimeSeriesAugmenter``: rebalance series classification data with a recurrent GAN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ganaug.augment.base import BaseAugmenter, register_augmenter
from ganaug.core.data import tensor_loader
from ganaug.timeseries.encoding import SeriesEncoder, make_windows
from ganaug.timeseries.lengths import check_length_smoothing, smoothed_length_table
from ganaug.timeseries.model import RecurrentGAN

__all__ = ["TimeSeriesAugmenter"]


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
    mode : {"rcgan", "timegan"}, default="timegan"
        RCGAN (recurrent conditional GAN) or TimeGAN-style (adds embedder,
        recovery and supervisor; better temporal dynamics, ~3x slower per step).
    cell : {"gru", "lstm"}, default="lstm"
        Recurrent cell of every network (on CPU PyTorch's LSTM runs about
        twice as fast as its GRU).
    hidden_dim : int, default=24
    num_layers : int, default=2
    noise_dim : int, optional
        Noise features per step (default ``max(n_channels, 8)``, half of them
        constant over the series).
    epochs : int, default=200
        Adversarial epochs (for TimeGAN: joint epochs, after pre-training).
    pretrain_epochs : int or (int, int), optional
        TimeGAN only: epochs of autoencoder pre-training and of supervisor
        pre-training (one int for both; default ``epochs // 2`` each).
    batch_size : int, default=128
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
        mode: str = "timegan",
        cell: str = "lstm",
        hidden_dim: int = 24,
        num_layers: int = 2,
        noise_dim: int | None = None,
        epochs: int = 200,
        pretrain_epochs: int | None = None,
        batch_size: int = 128,
        loss: str = "nonsaturating",
        lr_g: float = 1e-3,
        lr_d: float = 1e-3,
        n_critic: int = 1,
        ema_decay: float | None = None,
        gan_params: dict | None = None,
        length_smoothing="auto",
        sampling_strategy="auto",
        random_state=None,
        trainer=None,
    ) -> None:
        self.mode = mode
        self.cell = cell
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.noise_dim = noise_dim
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
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.trainer = trainer

    # ------------------------------------------------------------------ input
    def _validate_X(self, X, reset: bool):
        if reset:
            self._check_params()
            self.encoder_ = SeriesEncoder().fit(X)
        values, lengths = self.encoder_.transform(X)
        return values, lengths

    def _n_rows(self, X_internal) -> int:
        return len(X_internal[0])

    def _check_params(self) -> None:
        for name in ("epochs", "batch_size", "hidden_dim", "num_layers"):
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

    def from_series(self, series, window: int = 24, stride: int = 1) -> "TimeSeriesAugmenter":
        """Fit on sliding windows of one long series (the TimeGAN "stocks" setting).

        Parameters
        ----------
        series : DataFrame or array-like of shape (T,) or (T, channels)
            Time along the first axis; numeric columns only.
        window : int, default=24
        stride : int, default=1

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
        self.fit(windows)
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
                                     "lr_g", "lr_d", "n_critic", "ema_decay"})
        if clash:
            raise ValueError(f"gan_params {clash} are set by the augmenter itself; pass them as its own parameters")
        return RecurrentGAN(
            self.encoder_.n_channels_, self.encoder_.length_, n_classes, mode=self.mode, cell=self.cell,
            hidden_dim=self.hidden_dim, num_layers=self.num_layers, noise_dim=self.noise_dim,
            variable_length=self.encoder_.variable_length_, embedding_epochs=embedding, supervised_epochs=supervised,
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
        self.module_ = self._build_module(k)
        cond = RecurrentGAN.make_condition(torch.from_numpy(codes), torch.from_numpy(lengths))
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
        rng = np.random.default_rng(seed)
        lengths = self._draw_lengths(codes, rng)
        gen = torch.Generator().manual_seed(seed)
        cond = RecurrentGAN.make_condition(torch.from_numpy(codes), torch.from_numpy(lengths))
        values = self.module_.generate_samples(len(codes), cond, generator=gen)
        return self.encoder_.inverse_transform(values.detach().cpu().numpy(), lengths)

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
        }
        tensors = {f"module.{k}": v for k, v in self.module_.state_dict().items()}
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
        config = dict(state["module"])
        if "betas" in config:
            config["betas"] = tuple(config["betas"])
        self.module_ = RecurrentGAN(**config)
        self.module_.load_state_dict({k[len("module."):]: v for k, v in tensors.items() if k.startswith("module.")})
        self.module_.eval()
