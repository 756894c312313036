"""TimeGAN's evaluation of synthetic series: discriminative and predictive scores, and a 2-D picture.

Both scores follow the protocol of Yoon et al. (2019) and their reference code:

* **discriminative score** - a post-hoc one-layer GRU (hidden size
  ``channels // 2``) learns to tell real from synthetic series on 80 % of each
  set (2000 Adam steps, batches of 128 of each); the score is
  ``|accuracy - 0.5|`` on the held-out 20 %. 0 is best.
* **predictive score** - "train on synthetic, test on real": a one-layer GRU
  trained on synthetic series (5000 Adam steps, batches of 128) predicts the
  last channel one step ahead from the other channels; the score is its mean
  absolute error on the real series. For one channel the series predicts its
  own next value. Lower is better; compare with ``predictive_score(real, real)``.

Inputs are ``(N, channels, length)`` (or ``(N, length)``) arrays, already scaled
the same way (TimeGAN min-max scales every channel to ``[0, 1]``); NaN padding
at the end marks variable lengths. Each score is repeated with fresh
classifiers and splits, and the mean, standard deviation and every value are
returned.

A note on memorisation: a generator that copies its training series scores a
perfect 0 discriminative score when the real series being compared are the
ones it trained on. Check :func:`nearest_distance` of synthetic series to the
training series against that of held-out real series.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ganaug.timeseries.encoding import check_series_array, lengths_to_mask

__all__ = [
    "RepeatedScore",
    "autocorrelation_gap",
    "autocorrelations",
    "discriminative_score",
    "nearest_distance",
    "plot_real_vs_synthetic",
    "predictive_score",
]


@dataclass(frozen=True)
class RepeatedScore:
    """A score repeated ``len(values)`` times: ``mean``, ``std`` (population) and ``values``.

    Examples
    --------
    >>> from ganaug.timeseries.metrics import RepeatedScore
    >>> s = RepeatedScore.of([0.1, 0.3])
    >>> str(s), float(s)
    ('0.200 ± 0.100', 0.2)
    """

    mean: float
    std: float
    values: tuple = field(default_factory=tuple)

    @classmethod
    def of(cls, values) -> "RepeatedScore":
        v = np.asarray(values, dtype=float)
        return cls(float(v.mean()), float(v.std()), tuple(float(x) for x in v))

    def __float__(self) -> float:
        return self.mean

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.std:.3f}"


def _prepare(X, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    X3, lengths, _ = check_series_array(X, what=what)
    values = np.nan_to_num(X3.astype(np.float32), nan=0.0).transpose(0, 2, 1)  # (N, L, C)
    return torch.from_numpy(np.ascontiguousarray(values)), torch.from_numpy(lengths)


def _check_pair(real, synthetic):
    r, rl = _prepare(real, "real")
    s, sl = _prepare(synthetic, "synthetic")
    if r.shape[1:] != s.shape[1:]:
        raise ValueError(
            f"real and synthetic series differ in (length, channels): {tuple(r.shape[1:])} vs {tuple(s.shape[1:])}"
        )
    return r, rl, s, sl


class _LastStepGRU(nn.Module):
    def __init__(self, in_dim: int, hidden: int) -> None:
        super().__init__()
        self.rnn = nn.GRU(in_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x, lengths):
        out, _ = self.rnn(x)
        last = out[torch.arange(x.shape[0]), lengths - 1]  # causal: padding never reaches it
        return self.head(last)[:, 0]


class _StepGRU(nn.Module):
    def __init__(self, in_dim: int, hidden: int) -> None:
        super().__init__()
        self.rnn = nn.GRU(in_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return torch.sigmoid(self.head(out))[..., 0]


def _split(n: int, test_size: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    perm = torch.randperm(n, generator=gen)
    n_test = max(1, int(round(n * test_size)))
    if n - n_test < 1:
        raise ValueError(f"need at least 2 series on each side for a train/test split, got {n}")
    return perm[n_test:], perm[:n_test]


def discriminative_score(
    real,
    synthetic,
    *,
    n_repeats: int = 5,
    iterations: int = 2000,
    batch_size: int = 128,
    hidden_dim: int | None = None,
    test_size: float = 0.2,
    lr: float = 1e-3,
    random_state: int | None = 0,
) -> RepeatedScore:
    """TimeGAN's discriminative score ``|accuracy - 0.5|`` of a post-hoc GRU, averaged over repeats.

    Parameters
    ----------
    real, synthetic : array-like of shape (N, channels, length) or (N, length)
        Scaled alike; NaN padding at the end for variable length.
    n_repeats : int, default=5
        Independent classifiers and splits.
    iterations : int, default=2000
        Adam steps per classifier.
    batch_size : int, default=128
        Real and synthetic series per step (each).
    hidden_dim : int, optional
        GRU size (default ``max(channels // 2, 1)``, as TimeGAN).
    test_size : float, default=0.2
        Held-out share of each set on which the accuracy is measured.
    lr : float, default=1e-3
    random_state : int, optional

    Returns
    -------
    RepeatedScore
        0 means indistinguishable, 0.5 means perfectly separated.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.metrics import discriminative_score
    >>> rng = np.random.default_rng(0)
    >>> real = rng.uniform(size=(200, 2, 8))
    >>> fake = rng.uniform(size=(200, 2, 8)) ** 3       # visibly different values
    >>> discriminative_score(real, fake, n_repeats=1, iterations=200, lr=0.02).mean > 0.3
    True
    >>> same = rng.uniform(size=(200, 2, 8))             # same distribution
    >>> discriminative_score(real, same, n_repeats=1, iterations=200, lr=0.02).mean < 0.1
    True
    """
    r, rl, s, sl = _check_pair(real, synthetic)
    if n_repeats < 1 or iterations < 1:
        raise ValueError(f"n_repeats and iterations must be >= 1, got {n_repeats}, {iterations}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    channels = r.shape[2]
    hidden = hidden_dim or max(channels // 2, 1)
    seed = 0 if random_state is None else int(random_state)
    scores = []
    with torch.enable_grad(), torch.random.fork_rng(devices=[]):
        for rep in range(n_repeats):
            gen = torch.Generator().manual_seed(seed * 1000 + rep)
            torch.manual_seed(seed * 1000 + rep)  # weight init; the caller's RNG state is restored after
            r_tr, r_te = _split(len(r), test_size, gen)
            s_tr, s_te = _split(len(s), test_size, gen)
            model = _LastStepGRU(channels, hidden)
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            bce = nn.BCEWithLogitsLoss()
            b_r, b_s = min(batch_size, len(r_tr)), min(batch_size, len(s_tr))
            target = torch.cat([torch.ones(b_r), torch.zeros(b_s)])
            for _ in range(iterations):
                ir = r_tr[torch.randperm(len(r_tr), generator=gen)[:b_r]]
                is_ = s_tr[torch.randperm(len(s_tr), generator=gen)[:b_s]]
                x = torch.cat([r[ir], s[is_]])
                lengths = torch.cat([rl[ir], sl[is_]])
                loss = bce(model(x, lengths), target)
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                pred_r = model(r[r_te], rl[r_te]) > 0
                pred_s = model(s[s_te], sl[s_te]) > 0
            acc = (pred_r.sum() + (~pred_s).sum()).item() / (len(r_te) + len(s_te))
            scores.append(abs(acc - 0.5))
    return RepeatedScore.of(scores)


def _predictive_io(x: torch.Tensor, lengths: torch.Tensor):
    """Inputs (steps 0..L-2, all channels but the last), targets (steps 1..L-1, last channel), mask."""
    channels = x.shape[2]
    inputs = x[:, :-1, : channels - 1] if channels > 1 else x[:, :-1, :]
    targets = x[:, 1:, channels - 1]
    mask = lengths_to_mask(lengths - 1, x.shape[1] - 1).to(x.dtype)
    return inputs, targets, mask


def predictive_score(
    real,
    synthetic,
    *,
    n_repeats: int = 3,
    iterations: int = 5000,
    batch_size: int = 128,
    hidden_dim: int | None = None,
    lr: float = 1e-3,
    random_state: int | None = 0,
) -> RepeatedScore:
    """TimeGAN's predictive score: train a GRU on ``synthetic``, mean absolute error on ``real``.

    Parameters
    ----------
    real, synthetic : array-like of shape (N, channels, length) or (N, length)
        Scaled alike (TimeGAN: min-max to [0, 1]; the predictor's output is a
        sigmoid); NaN padding at the end for variable length.
    n_repeats : int, default=3
    iterations : int, default=5000
        Adam steps on the synthetic series.
    batch_size : int, default=128
    hidden_dim : int, optional
        GRU size (default ``max(channels // 2, 1)``, as TimeGAN).
    lr : float, default=1e-3
    random_state : int, optional

    Returns
    -------
    RepeatedScore
        MAE on every real series (mean of per-series MAE); lower is better.
        ``predictive_score(real, real)`` gives the reference of real data.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.metrics import predictive_score
    >>> t = np.linspace(0, 6, 12)
    >>> real = 0.5 + 0.4 * np.sin(t[None, None, :] + np.random.default_rng(0).uniform(0, 6, (100, 1, 1)))
    >>> predictive_score(real, real, n_repeats=1, iterations=300).mean < 0.25
    True
    """
    r, rl, s, sl = _check_pair(real, synthetic)
    if n_repeats < 1 or iterations < 1:
        raise ValueError(f"n_repeats and iterations must be >= 1, got {n_repeats}, {iterations}")
    channels = r.shape[2]
    in_dim = channels - 1 if channels > 1 else 1
    hidden = hidden_dim or max(channels // 2, 1)
    s_in, s_out, s_mask = _predictive_io(s, sl)
    r_in, r_out, r_mask = _predictive_io(r, rl)
    seed = 0 if random_state is None else int(random_state)
    b = min(batch_size, len(s))
    scores = []
    with torch.enable_grad(), torch.random.fork_rng(devices=[]):
        for rep in range(n_repeats):
            gen = torch.Generator().manual_seed(seed * 1000 + rep)
            torch.manual_seed(seed * 1000 + rep)  # weight init; the caller's RNG state is restored after
            model = _StepGRU(in_dim, hidden)
            opt = torch.optim.Adam(model.parameters(), lr=lr)
            for _ in range(iterations):
                idx = torch.randperm(len(s), generator=gen)[:b]
                err = (model(s_in[idx]) - s_out[idx]).abs() * s_mask[idx]
                loss = err.sum() / s_mask[idx].sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                err = (model(r_in) - r_out).abs() * r_mask
                per_series = err.sum(1) / r_mask.sum(1)
            scores.append(float(per_series.mean()))
    return RepeatedScore.of(scores)


def autocorrelations(X, lags=5, on: str = "increments") -> np.ndarray:
    """Mean autocorrelation per lag and channel, over series: ``(len(lags), channels)``.

    For every series and channel the autocorrelation at lag ``k`` is
    ``sum_t(d_t d_{t+k}) / sum_t(d_t^2)`` (the usual biased estimator, within
    [-1, 1]) with ``d`` the centred one-step
    increments (``on="increments"``: how a series moves from step to step)
    or the centred values (``on="values"``: slow structure such as a daily
    period), over observed steps only (NaN padding is skipped). Series too
    short for a lag, or constant ones, count as missing for it.

    Parameters
    ----------
    X : array-like of shape (N, channels, length) or (N, length)
    lags : int or sequence of int, default=5
        ``1..lags`` or the given lags (each >= 1).
    on : {"increments", "values"}, default="increments"

    Returns
    -------
    ndarray of shape (n_lags, channels)

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.metrics import autocorrelations
    >>> walk = np.cumsum(np.random.default_rng(0).normal(size=(200, 1, 50)), axis=2)
    >>> autocorrelations(walk, lags=1, on="values").round(1).tolist()  # a random walk: strongly correlated values
    [[0.9]]
    """
    x3, _, _ = check_series_array(X, what="X")
    lag_list = list(range(1, int(lags) + 1)) if np.isscalar(lags) else [int(k) for k in lags]
    if not lag_list or min(lag_list) < 1:
        raise ValueError(f"lags must be a positive int or a non-empty sequence of ints >= 1, got {lags!r}")
    if on not in ("increments", "values"):
        raise ValueError(f"on must be 'increments' or 'values', got {on!r}")
    d = x3.astype(np.float64)
    if on == "increments":
        d = np.diff(d, axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = d - np.nanmean(d, axis=2, keepdims=True)
        var = np.nansum(d * d, axis=2)
        out = np.full((len(lag_list), x3.shape[1]), np.nan)
        for i, k in enumerate(lag_list):  # a loop over lags, not series or steps
            if k >= d.shape[2]:
                continue
            prod = d[:, :, k:] * d[:, :, :-k]
            has = np.isfinite(prod).any(axis=2)
            acf = np.where(has & (var > 1e-12), np.nansum(prod, axis=2) / var, np.nan)
            if np.isfinite(acf).any():
                out[i] = np.nanmean(acf, axis=0)
    return out


def autocorrelation_gap(real, synthetic, lags=5, on: str = "increments") -> float:
    """Mean absolute difference between the real and synthetic :func:`autocorrelations` (0 is best).

    What TimeGAN's two scores barely see: whether synthetic series move like
    real ones from step to step (``on="increments"``) or repeat their slow
    patterns (``on="values"`` with the period as a lag).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.metrics import autocorrelation_gap
    >>> rng = np.random.default_rng(0)
    >>> walk = np.cumsum(rng.normal(size=(300, 1, 40)), axis=2)
    >>> smooth = np.cumsum(np.cumsum(rng.normal(size=(300, 1, 40)), axis=2), axis=2)
    >>> autocorrelation_gap(walk, walk[::-1]) < 0.05 < autocorrelation_gap(walk, smooth)
    True
    """
    a = autocorrelations(real, lags, on)
    b = autocorrelations(synthetic, lags, on)
    if a.shape != b.shape:
        raise ValueError(f"real and synthetic differ in channels: {a.shape[1]} vs {b.shape[1]}")
    gap = np.abs(a - b)
    return float(np.nanmean(gap)) if np.isfinite(gap).any() else float("nan")


def nearest_distance(query, reference, chunk: int = 1024) -> np.ndarray:
    """Euclidean distance from every query series to its nearest reference series.

    Padding (NaN) counts as 0. Use it to look for memorisation: synthetic
    series much closer to the training series than held-out real series are
    copies, not new data.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.metrics import nearest_distance
    >>> ref = np.zeros((3, 1, 4)); ref[1] += 1
    >>> nearest_distance(np.full((1, 1, 4), 0.9), ref).round(3).tolist()
    [0.2]
    """
    q = np.nan_to_num(np.asarray(query, dtype=np.float64), nan=0.0).reshape(len(query), -1)
    ref = np.nan_to_num(np.asarray(reference, dtype=np.float64), nan=0.0).reshape(len(reference), -1)
    if q.shape[1] != ref.shape[1]:
        raise ValueError(f"query and reference series differ in size: {q.shape[1]} vs {ref.shape[1]} values")
    ref_sq = (ref**2).sum(1)
    out = np.empty(len(q))
    for start in range(0, len(q), chunk):
        block = q[start : start + chunk]
        d2 = (block**2).sum(1)[:, None] - 2.0 * block @ ref.T + ref_sq[None, :]
        out[start : start + chunk] = np.sqrt(np.maximum(d2.min(1), 0.0))
    return out


def plot_real_vs_synthetic(real, synthetic, method: str = "both", n: int = 1000, random_state: int = 0,
                           title: str | None = None):
    """PCA and/or t-SNE of real vs synthetic series, as in the TimeGAN paper's figures.

    Each series is reduced to its mean over channels per step (NaN padding
    ignored), ``n`` series of each set are drawn, PCA is fitted on the real
    ones and t-SNE on both together.

    Parameters
    ----------
    real, synthetic : array-like of shape (N, channels, length) or (N, length)
    method : {"pca", "tsne", "both"}, default="both"
    n : int, default=1000
    random_state : int, default=0
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, matplotlib
    >>> matplotlib.use("Agg")
    >>> from ganaug.timeseries.metrics import plot_real_vs_synthetic
    >>> rng = np.random.default_rng(0)
    >>> fig = plot_real_vs_synthetic(rng.random((50, 2, 6)), rng.random((50, 2, 6)), method="pca")
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if method not in ("pca", "tsne", "both"):
        raise ValueError(f"method must be 'pca', 'tsne' or 'both', got {method!r}")
    r3, _, _ = check_series_array(real, what="real")
    s3, _, _ = check_series_array(synthetic, what="synthetic")
    if r3.shape[1:] != s3.shape[1:]:
        raise ValueError(f"real and synthetic differ in (channels, length): {r3.shape[1:]} vs {s3.shape[1:]}")
    rng = np.random.default_rng(random_state)
    ri = rng.permutation(len(r3))[:n]
    si = rng.permutation(len(s3))[:n]
    fr = np.nan_to_num(np.nanmean(r3[ri].astype(np.float64), axis=1), nan=0.0)
    fs = np.nan_to_num(np.nanmean(s3[si].astype(np.float64), axis=1), nan=0.0)
    methods = ["pca", "tsne"] if method == "both" else [method]
    fig, axes = plt.subplots(1, len(methods), figsize=(5 * len(methods), 4.2), squeeze=False)
    for ax, m in zip(axes[0], methods):
        if m == "pca":
            pca = PCA(n_components=2, random_state=random_state).fit(fr)
            pr, ps = pca.transform(fr), pca.transform(fs)
        else:
            both = np.vstack([fr, fs])
            emb = TSNE(n_components=2, perplexity=min(40.0, max(5.0, len(both) / 10)), init="pca",
                       random_state=random_state).fit_transform(both)
            pr, ps = emb[: len(fr)], emb[len(fr) :]
        ax.scatter(pr[:, 0], pr[:, 1], s=6, alpha=0.4, c="tab:red", label="real")
        ax.scatter(ps[:, 0], ps[:, 1], s=6, alpha=0.4, c="tab:blue", label="synthetic")
        ax.set_title(f"{'PCA' if m == 'pca' else 't-SNE'}" + (f" - {title}" if title else ""))
        ax.legend(loc="best", markerscale=3)
    fig.tight_layout()
    return fig
