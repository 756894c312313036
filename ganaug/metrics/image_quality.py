"""Full-reference image quality: SSIM, PSNR and mean absolute error, per image.

Used to judge image-to-image translation against a known target on a
held-out split. Vectorised: every image of a batch is filtered at once by a
separable Gaussian convolution (torch), no loop over images.

* :func:`ssim` - structural similarity (Wang, Bovik, Sheikh & Simoncelli, 2004):
  11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, computed on the
  positions where the window fits inside the image (no padding), averaged
  over positions and channels. This is the definition of
  ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
  use_sample_covariance=False)``; torchmetrics'
  ``structural_similarity_index_measure`` gives the same map but also averages
  reflection-padded border positions, which raises scores on small images
  with empty borders such as MNIST.
* :func:`psnr` - peak signal-to-noise ratio in dB.
* :func:`mean_absolute_error` - L1 distance per image, in units of ``data_range``.

Images are ``(H, W)``, ``(N, H, W)`` or ``(N, C, H, W)`` (``channel_axis=-1``
for ``(N, H, W, C)``), numpy arrays or tensors, both arguments the same shape.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["mean_absolute_error", "psnr", "ssim"]


def _as_batch(x, y, channel_axis: int | None, data_range) -> tuple[torch.Tensor, torch.Tensor, float]:
    def arr(v, name):
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu().numpy()
        a = np.asarray(v)
        if a.dtype == object or a.dtype.kind not in "uif":
            raise TypeError(f"{name} must hold numbers, got dtype {a.dtype}")
        return a

    a, b = arr(x, "x"), arr(y, "y")
    if a.shape != b.shape:
        raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
    if a.ndim not in (2, 3, 4):
        raise ValueError(f"images must be (H, W), (N, H, W) or (N, C, H, W), got shape {a.shape}")
    if data_range is None:
        if a.dtype.kind in "ui" and b.dtype.kind in "ui":
            data_range = 255.0 if max(int(a.max(initial=0)), int(b.max(initial=0))) <= 255 else float(np.iinfo(a.dtype).max)
        else:
            raise ValueError("data_range is required for float images (e.g. 1.0 for [0, 1], 2.0 for [-1, 1])")
    data_range = float(data_range)
    if not data_range > 0:
        raise ValueError(f"data_range must be > 0, got {data_range}")
    if a.ndim == 4 and channel_axis not in (None, 1):
        a, b = np.moveaxis(a, channel_axis, 1), np.moveaxis(b, channel_axis, 1)
    if a.ndim == 2:
        a, b = a[None, None], b[None, None]
    elif a.ndim == 3:
        a, b = a[:, None], b[:, None]
    ta = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))
    tb = torch.from_numpy(np.ascontiguousarray(b, dtype=np.float64))
    if not (torch.isfinite(ta).all() and torch.isfinite(tb).all()):
        raise ValueError("x and y must not contain NaN or infinite values")
    return ta, tb, data_range


def _gaussian_filter(t: torch.Tensor, win: int, sigma: float) -> torch.Tensor:
    """Valid (unpadded) separable Gaussian filter of (M, 1, H, W)."""
    r = torch.arange(win, dtype=t.dtype) - (win - 1) / 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    g = g / g.sum()
    t = F.conv2d(t, g.view(1, 1, 1, win))
    return F.conv2d(t, g.view(1, 1, win, 1))


def ssim(x, y, data_range: float | None = None, *, win_size: int = 11, sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03, channel_axis: int | None = None) -> np.ndarray | float:
    """Structural similarity of each image pair.

    Parameters
    ----------
    x, y : array-like or Tensor
        Images of the same shape ``(H, W)``, ``(N, H, W)`` or ``(N, C, H, W)``.
    data_range : float, optional
        Max minus min of the pixel scale (255 for uint8, the default for
        integer images; required for float images).
    win_size : int, default=11
        Odd side of the Gaussian window; reduced to the largest odd size
        that fits smaller images (at least 3).
    sigma : float, default=1.5
    k1, k2 : float, default=0.01, 0.03
    channel_axis : int, optional
        Axis of the channels of a 4-D input (default 1; -1 for ``(N, H, W, C)``).

    Returns
    -------
    ndarray of shape (N,), or float for one ``(H, W)`` image
        1 for identical images; lower is less similar (can be negative).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.metrics.image_quality import ssim
    >>> rng = np.random.default_rng(0)
    >>> a = rng.integers(0, 256, (2, 32, 32)).astype(np.uint8)
    >>> ssim(a, a).tolist()
    [1.0, 1.0]
    >>> bool(ssim(a, 255 - a).mean() < 0.1)
    True
    """
    single = np.ndim(x) == 2
    a, b, rng = _as_batch(x, y, channel_axis, data_range)
    n, c, h, w = a.shape
    if win_size < 3 or win_size % 2 == 0:
        raise ValueError(f"win_size must be an odd int >= 3, got {win_size}")
    side = min(h, w)
    win = min(win_size, side if side % 2 else side - 1)
    if win < 3:
        raise ValueError(f"images of {h}x{w} pixels are too small for SSIM (need at least 3x3)")
    c1, c2 = (k1 * rng) ** 2, (k2 * rng) ** 2
    a, b = a.reshape(n * c, 1, h, w), b.reshape(n * c, 1, h, w)
    # one filtering pass over the five moment images of every pair
    stack = torch.cat([a, b, a * a, b * b, a * b], dim=0)
    mu_a, mu_b, e_aa, e_bb, e_ab = _gaussian_filter(stack, win, sigma).split(n * c, dim=0)
    var_a, var_b, cov = e_aa - mu_a**2, e_bb - mu_b**2, e_ab - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    out = s.reshape(n, c, -1).mean(dim=(1, 2)).numpy()
    return float(out[0]) if single else out


def psnr(x, y, data_range: float | None = None, *, channel_axis: int | None = None) -> np.ndarray | float:
    """Peak signal-to-noise ratio ``10 log10(data_range^2 / MSE)`` of each image pair, in dB.

    Identical images give ``inf``.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.metrics.image_quality import psnr
    >>> round(psnr(np.zeros((8, 8)), np.full((8, 8), 0.1), data_range=1.0), 6)
    20.0
    """
    single = np.ndim(x) == 2
    a, b, rng = _as_batch(x, y, channel_axis, data_range)
    mse = ((a - b) ** 2).flatten(1).mean(dim=1)
    out = (10 * torch.log10(rng**2 / mse)).numpy()  # identical images: mse 0 -> inf
    return float(out[0]) if single else out


def mean_absolute_error(x, y, data_range: float | None = None, *, channel_axis: int | None = None) -> np.ndarray | float:
    """Mean absolute pixel difference of each image pair, divided by ``data_range`` (0 = identical, 1 = opposite).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.metrics.image_quality import mean_absolute_error
    >>> mean_absolute_error(np.zeros((1, 8, 8), np.uint8), np.full((1, 8, 8), 51, np.uint8)).tolist()
    [0.2]
    """
    single = np.ndim(x) == 2
    a, b, rng = _as_batch(x, y, channel_axis, data_range)
    out = ((a - b).abs().flatten(1).mean(dim=1) / rng).numpy()
    return float(out[0]) if single else out
