"""Pictures of what an image augmenter generates: sample grids, latent interpolations and style grids."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

__all__ = ["image_grid", "plot_interpolation", "plot_samples", "plot_style_grid"]


def image_grid(images, ncol: int, pad: int = 1, value: float = 1.0) -> np.ndarray:
    """Tile images ``(N, C, H, W)`` with values in [0, 1] into one ``(rows*H, ncol*W[, 3])`` array.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.image.plots import image_grid
    >>> image_grid(np.zeros((6, 1, 4, 4)), ncol=3, pad=1).shape
    (9, 14)
    """
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim != 4:
        raise ValueError(f"image_grid expects (N, C, H, W), got shape {arr.shape}")
    n, c, h, w = arr.shape
    rows = max(1, -(-n // ncol))
    full = np.full((rows * ncol, c, h + pad, w + pad), value, dtype=np.float32)
    full[:n, :, :h, :w] = arr
    grid = full.reshape(rows, ncol, c, h + pad, w + pad).transpose(0, 3, 1, 4, 2)
    grid = grid.reshape(rows * (h + pad), ncol * (w + pad), c)[: rows * (h + pad) - pad, : ncol * (w + pad) - pad]
    return grid[..., 0] if c == 1 else grid


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _show_rows(grid: np.ndarray, row_labels: list[str], cell: int, pad: int, title: str | None, ax, figsize):
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([(cell + pad) * i + cell / 2 for i in range(len(row_labels))])
    ax.set_yticklabels(row_labels, fontsize=8)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def _classes(augmenter, classes) -> list:
    check_is_fitted(augmenter, "module_")
    known = [None] if augmenter.classes_ is None else list(augmenter.classes_)
    if classes is None:
        return known
    for c in classes:
        if c not in known:
            raise ValueError(f"unknown class {c!r}; known classes: {known}")
    return list(classes)


def _latents(augmenter, n: int, random_state: int) -> torch.Tensor:
    """``n`` latents (noise plus codes) of the augmenter's module, repeatable, with its truncation."""
    gen = torch.Generator().manual_seed(int(random_state))
    return augmenter.module_.sample_noise(n, generator=gen, truncation=augmenter.truncation, device="cpu")


def _class_codes(augmenter, classes: list) -> list[int]:
    """Class codes of ``classes`` (as returned by :func:`_classes`; ``[None]`` -> ``[0]``)."""
    return [0] if classes == [None] else [int(np.flatnonzero(augmenter.classes_ == c)[0]) for c in classes]


def _decode01(augmenter, z: torch.Tensor, codes) -> np.ndarray:
    """Images in [0, 1] for latents ``z`` and class codes ``codes`` (one per latent)."""
    labels = torch.as_tensor(np.asarray(codes), dtype=torch.long)
    return (augmenter.module_.decode(z, labels).cpu().numpy() + 1.0) / 2.0


def plot_samples(augmenter, per_class: int = 8, classes=None, random_state: int = 0, title: str | None = None,
                 ax=None):
    """Grid of generated images, one row per class.

    Parameters
    ----------
    augmenter : fitted ImageAugmenter
    per_class : int, default=8
        Images per row.
    classes : list, optional
        Classes to show (default: all).
    random_state : int, default=0
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Figure (save it with ``fig.savefig("samples.png")``).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.augment.image import ImageAugmenter
    >>> from ganaug.image.plots import plot_samples
    >>> X = np.random.default_rng(0).integers(0, 256, (20, 8, 8), dtype=np.uint8)
    >>> aug = ImageAugmenter(epochs=1, width=8, latent_dim=4, random_state=0).fit(X, np.arange(20) % 2)
    >>> fig = plot_samples(aug, per_class=4)
    >>> len(fig.axes[0].get_yticklabels())
    2
    """
    if int(per_class) < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    rows = _classes(augmenter, classes)
    enc = augmenter.encoder_
    if rows == [None]:
        X_new = augmenter.sample(int(per_class), random_state=random_state)
    else:
        X_new, _ = augmenter.sample({c: int(per_class) for c in rows}, random_state=random_state)
    images = (enc.transform(X_new).numpy() + 1.0) / 2.0
    grid = image_grid(images, ncol=int(per_class))
    labels = ["" if c is None else str(c) for c in rows]
    size = (min(12, 0.6 * per_class + 0.6), 0.6 * len(rows) + 0.5)
    return _show_rows(grid, labels, enc.size_, 1, title, ax, size)


def _slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    an, bn = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = torch.acos((an * bn).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


def plot_interpolation(augmenter, steps: int = 8, classes=None, random_state: int = 0, title: str | None = None,
                       ax=None):
    """Walk through latent space between two random latents (spherical interpolation), one row per class.

    Every row uses the same two latents, so a column shows one "style" in
    every class; smooth rows mean the generator learned a continuous latent
    space rather than memorised images.

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.augment.image import ImageAugmenter
    >>> from ganaug.image.plots import plot_interpolation
    >>> X = np.random.default_rng(0).integers(0, 256, (20, 8, 8), dtype=np.uint8)
    >>> aug = ImageAugmenter(epochs=1, width=8, latent_dim=4, random_state=0).fit(X, np.arange(20) % 2)
    >>> fig = plot_interpolation(aug, steps=5)
    >>> fig.axes[0].images[0].get_array().shape
    (17, 44)
    """
    if int(steps) < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    rows = _classes(augmenter, classes)
    z = _latents(augmenter, 2, random_state)
    t = torch.linspace(0, 1, int(steps)).unsqueeze(1)
    path = _slerp(z[0:1], z[1:2], t)  # (steps, input_dim)
    codes = _class_codes(augmenter, rows)
    z_all = path.repeat(len(codes), 1)
    images = _decode01(augmenter, z_all, np.repeat(codes, int(steps)))
    grid = image_grid(images, ncol=int(steps))
    names = ["" if c is None else str(c) for c in rows]
    size = (min(12, 0.6 * steps + 0.6), 0.6 * len(rows) + 0.5)
    return _show_rows(grid, names, augmenter.encoder_.size_, 1, title, ax, size)


def plot_style_grid(augmenter, n_latents: int = 6, classes=None, random_state: int = 0, title: str | None = None,
                    ax=None):
    """The same latents drawn in every class: one row per latent, one column per class.

    A row holds one latent ``z`` decoded with each class label. Where the
    generator splits class and style (``style_dim > 0``) a row keeps one
    style (stroke width, slant, size) across the classes, common and rare
    alike: the rare columns show whether they borrow the variation of the
    common ones or repeat their few training images.

    Parameters
    ----------
    augmenter : fitted ImageAugmenter
    n_latents : int, default=6
        Rows (latents) to draw.
    classes : list, optional
        Columns (default: all classes).
    random_state : int, default=0
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.augment.image import ImageAugmenter
    >>> from ganaug.image.plots import plot_style_grid
    >>> X = np.random.default_rng(0).integers(0, 256, (30, 8, 8), dtype=np.uint8)
    >>> aug = ImageAugmenter(epochs=1, width=8, latent_dim=4, style_dim=8, random_state=0)
    >>> fig = plot_style_grid(aug.fit(X, np.arange(30) % 3), n_latents=4)
    >>> fig.axes[0].images[0].get_array().shape
    (35, 26)
    """
    if isinstance(n_latents, bool) or int(n_latents) < 1:
        raise ValueError(f"n_latents must be >= 1, got {n_latents!r}")
    columns = _classes(augmenter, classes)
    n = int(n_latents)
    z = _latents(augmenter, n, random_state)
    codes = _class_codes(augmenter, columns)
    z_all = z.repeat_interleave(len(codes), dim=0)  # row-major: latent i, then every class
    images = _decode01(augmenter, z_all, np.tile(codes, n))
    grid = image_grid(images, ncol=len(codes))
    size = (min(12, 0.6 * len(codes) + 0.6), 0.6 * n + 0.8)
    fig = _show_rows(grid, [f"z{i}" for i in range(n)], augmenter.encoder_.size_, 1, title, ax, size)
    axis = fig.axes[0] if ax is None else ax
    cell = augmenter.encoder_.size_ + 1
    axis.set_xticks([cell * j + (cell - 1) / 2 for j in range(len(codes))])
    axis.set_xticklabels(["" if c is None else str(c) for c in columns], fontsize=8)
    return fig
