"""Diagnostics for the two classic GAN failures: mode collapse and vanishing gradients.

* :func:`mode_coverage` - which known modes the samples cover and the share of
  samples near any mode (the mixture-of-Gaussians protocol of Metz et al. 2017).
* :func:`diversity_ratio` - spread of the synthetic data relative to the real
  data (mean nearest-neighbour distance); far below 1 means collapse.
* :func:`diagnose_training` - reads a module's history and flags a vanishing
  generator gradient, a discriminator that wins outright, and divergence.
* :func:`plot_training_curves` - losses and gradient norms per epoch.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["mode_coverage", "diversity_ratio", "diagnose_training", "plot_training_curves"]


def mode_coverage(samples, centers, std: float, min_share: float = 0.01, n_std: float = 3.0) -> dict:
    """Count covered modes and high-quality samples.

    A mode is covered when at least ``min_share`` of the samples lie within
    ``n_std * std`` of it; a sample is high quality when it lies within that
    radius of any mode.

    Returns
    -------
    dict with ``modes_covered`` (int), ``n_modes``, ``high_quality`` (share in
    [0, 1]) and ``per_mode_share`` (array).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.core.diagnostics import mode_coverage
    >>> centers = np.array([[0.0, 0.0], [5.0, 5.0]])
    >>> r = mode_coverage(np.zeros((10, 2)), centers, std=0.1)
    >>> r["modes_covered"], r["high_quality"]
    (1, 1.0)
    """
    x = np.asarray(samples, dtype=float)
    c = np.asarray(centers, dtype=float)
    d = np.sqrt(((x[:, None, :] - c[None, :, :]) ** 2).sum(-1))  # (n, k)
    nearest = d.argmin(1)
    close = d[np.arange(len(x)), nearest] <= n_std * std
    share = np.bincount(nearest[close], minlength=len(c)) / max(len(x), 1)
    return {
        "modes_covered": int((share >= min_share).sum()),
        "n_modes": len(c),
        "high_quality": float(close.mean()) if len(x) else 0.0,
        "per_mode_share": share,
    }


def _mean_nn_distance(x: np.ndarray, ref: np.ndarray | None = None, chunk: int = 2048) -> float:
    ref_ = x if ref is None else ref
    out = []
    ref_sq = (ref_**2).sum(1)
    for s in range(0, len(x), chunk):
        xb = x[s : s + chunk]
        d2 = (xb**2).sum(1)[:, None] + ref_sq[None, :] - 2 * xb @ ref_.T
        if ref is None:
            idx = np.arange(s, s + len(xb))
            d2[np.arange(len(xb)), idx] = np.inf
        out.append(np.sqrt(np.maximum(d2.min(1), 0.0)))
    return float(np.concatenate(out).mean())


def diversity_ratio(real, fake, max_samples: int = 2000, random_state: int = 0) -> float:
    """Mean nearest-neighbour distance within ``fake`` divided by the same within ``real``.

    About 1 when the synthetic data is as spread out as the real data; well
    below 1 (say < 0.5) is the signature of mode collapse. Both inputs are
    flattened to 2-D and subsampled to ``max_samples`` rows (equal counts).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.core.diagnostics import diversity_ratio
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(500, 2))
    >>> collapsed = rng.normal(scale=0.05, size=(500, 2))
    >>> diversity_ratio(real, collapsed) < 0.2
    True
    """
    rng = np.random.default_rng(random_state)
    r = np.asarray(real, dtype=float).reshape(len(real), -1)
    f = np.asarray(fake, dtype=float).reshape(len(fake), -1)
    n = min(len(r), len(f), max_samples)
    if n < 2:
        raise ValueError("diversity_ratio needs at least 2 real and 2 synthetic samples")
    r = r[rng.choice(len(r), n, replace=False)]
    f = f[rng.choice(len(f), n, replace=False)]
    return _mean_nn_distance(f) / max(_mean_nn_distance(r), 1e-12)


def diagnose_training(history: Sequence[dict], window: float = 0.1, vanish_ratio: float = 1e-2) -> dict:
    """Flag common training failures from a GAN module's per-step history.

    Parameters
    ----------
    history : list of dict
        ``GANModule.history``.
    window : float, default=0.1
        Share of the run used as "start" and "end".
    vanish_ratio : float, default=1e-2
        The generator gradient is called vanishing when its median norm at the
        end is below this fraction of its median at the start.

    Returns
    -------
    dict with booleans ``vanishing_generator_gradient``,
    ``discriminator_wins`` (D loss near 0 at the end, for the probabilistic
    losses), the start/end medians, and a list of ``messages``.

    Examples
    --------
    >>> from ganaug.core.diagnostics import diagnose_training
    >>> hist = [{"g_loss": 1.0, "d_loss": 1.0, "grad_norm_g": 1.0 / (i + 1) ** 2} for i in range(100)]
    >>> diagnose_training(hist)["vanishing_generator_gradient"]
    True
    """
    g_norms = np.array([h["grad_norm_g"] for h in history if "grad_norm_g" in h], dtype=float)
    d_loss = np.array([h["d_loss"] for h in history if "d_loss" in h], dtype=float)
    out: dict = {"messages": []}
    if len(g_norms) >= 10:
        k = max(1, int(len(g_norms) * window))
        start, end = float(np.median(g_norms[:k])), float(np.median(g_norms[-k:]))
        out["grad_norm_g_start"], out["grad_norm_g_end"] = start, end
        out["vanishing_generator_gradient"] = bool(start > 0 and end < vanish_ratio * start)
        if out["vanishing_generator_gradient"]:
            out["messages"].append(
                f"generator gradient norm fell from {start:.3g} to {end:.3g}: vanishing gradients; "
                "try loss='nonsaturating', 'wgan-gp' or 'hinge', or a weaker discriminator"
            )
    else:
        out["vanishing_generator_gradient"] = False
    if len(d_loss) >= 10:
        k = max(1, int(len(d_loss) * window))
        end_d = float(np.median(d_loss[-k:]))
        out["d_loss_end"] = end_d
        out["discriminator_wins"] = bool(0 <= end_d < 0.05)
        if out["discriminator_wins"]:
            out["messages"].append(
                f"discriminator loss ~{end_d:.3g}: the discriminator separates real from fake "
                "perfectly; consider label smoothing, instance noise or spectral norm"
            )
    else:
        out["discriminator_wins"] = False
    return out


def plot_training_curves(history: Sequence[dict], ax=None, title: str | None = None):
    """Plot losses (left axis) and gradient norms (right axis, log scale) per epoch.

    Parameters
    ----------
    history : list of dict
        ``GANModule.history`` or its :meth:`~ganaug.core.GANModule.epoch_history`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    epochs = np.array([h.get("epoch", i) for i, h in enumerate(history)], dtype=float)
    uniq = np.unique(epochs)

    def per_epoch(key: str) -> np.ndarray:
        vals = np.array([h.get(key, np.nan) for h in history], dtype=float)
        return np.array([np.nanmean(vals[epochs == e]) if np.isfinite(vals[epochs == e]).any() else np.nan for e in uniq])

    for key, style in (("d_loss", "-"), ("g_loss", "--")):
        ax.plot(uniq, per_epoch(key), style, label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax2 = ax.twinx()
    for key, color in (("grad_norm_d", "tab:green"), ("grad_norm_g", "tab:red")):
        v = per_epoch(key)
        if np.isfinite(v).any():
            ax2.plot(uniq, v, ":", color=color, label=key)
    ax2.set_yscale("log")
    ax2.set_ylabel("gradient norm")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=7, loc="upper right")
    if title:
        ax.set_title(title, fontsize=9)
    return ax
