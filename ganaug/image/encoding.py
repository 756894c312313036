"""Raw image arrays to and from the networks' form: float tensors (N, C, H, W) in [-1, 1].

:func:`check_images` validates an image batch and finds its layout;
:class:`ImageEncoder` remembers the layout, dtype and value range of the
training images so that generated images come back exactly like them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["LAYOUTS", "ImageEncoder", "check_images"]

#: supported layouts of an image batch
LAYOUTS = ("NHW", "NCHW", "NHWC")


def _detect_layout(shape: tuple[int, ...], name: str) -> str:
    if len(shape) == 3:
        return "NHW"
    if len(shape) != 4:
        raise ValueError(
            f"{name} must be a batch of images shaped (N, H, W), (N, C, H, W) or (N, H, W, C); "
            f"got {len(shape)}-D shape {shape}"
        )
    _, a, b, c = shape
    nchw, nhwc = a in (1, 3), c in (1, 3)
    if nchw and nhwc:
        if b == c:
            return "NCHW"
        return "NHWC" if a == b else "NCHW"
    if nchw:
        return "NCHW"
    if nhwc:
        return "NHWC"
    raise ValueError(
        f"{name} has shape {shape}: no channel axis of size 1 or 3; expected (N, C, H, W) or (N, H, W, C) "
        "with C = 1 (grey) or 3 (RGB)"
    )


def _spatial(shape: tuple[int, ...], layout: str) -> tuple[int, int, int]:
    if layout == "NHW":
        return 1, shape[1], shape[2]
    if layout == "NCHW":
        return shape[1], shape[2], shape[3]
    return shape[3], shape[1], shape[2]


def check_images(X, layout: str | None = None, name: str = "X", allow_empty: bool = False) -> tuple[np.ndarray, str]:
    """Validate an image batch; return it as a numpy array with its layout.

    Parameters
    ----------
    X : array-like
        Images (N, H, W), (N, C, H, W) or (N, H, W, C), C in {1, 3}, square,
        size a multiple of 4, any real dtype (not bool), finite.
    layout : {"NHW", "NCHW", "NHWC"}, optional
        Force a layout instead of guessing it (4-D arrays whose shape fits
        both channel positions are read as (N, C, H, W)).
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    array : ndarray
    layout : str

    Raises
    ------
    TypeError
        Not numeric (or boolean) data.
    ValueError
        Wrong number of dimensions, no channel axis of size 1 or 3, not
        square, size not a multiple of 4, NaN or infinite values, empty.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.image.encoding import check_images
    >>> check_images(np.zeros((2, 32, 32, 3), np.uint8))[1]
    'NHWC'
    >>> check_images(np.zeros((2, 28, 30)))
    Traceback (most recent call last):
    ...
    ValueError: X must hold square images; got 28x30 (shape (2, 28, 30), layout NHW)
    """
    if isinstance(X, Tensor):
        X = X.detach().cpu().numpy()
    try:
        arr = np.asarray(X)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} cannot be read as a numeric array: {exc}") from None
    if arr.dtype == bool:
        raise TypeError(f"{name} is boolean; pass images as uint8 or float")
    if arr.dtype.kind not in "uif":
        try:
            arr = arr.astype(np.float64)
        except (ValueError, TypeError):
            raise TypeError(f"{name} must hold numeric pixel values, got dtype {arr.dtype}") from None
    shape = tuple(int(s) for s in arr.shape)
    if layout is None:
        layout = _detect_layout(shape, name)
    else:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {list(LAYOUTS)}, got {layout!r}")
        if arr.ndim != len(layout):
            raise ValueError(f"{name} has shape {shape}, which does not match layout {layout}")
    c, h, w = _spatial(shape, layout)
    if c not in (1, 3):
        raise ValueError(f"{name} has {c} channels (shape {shape}, layout {layout}); only 1 (grey) or 3 (RGB) work")
    if h != w:
        raise ValueError(f"{name} must hold square images; got {h}x{w} (shape {shape}, layout {layout})")
    if h % 4 or h == 0:
        raise ValueError(
            f"{name} has {h}x{w} images; the size must be a multiple of 4 (pad or resize, e.g. to {max(4, (h + 3) // 4 * 4)})"
        )
    if shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {shape})")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr.reshape(shape[0], -1)).all(axis=1)
        if bad.any():
            raise ValueError(
                f"{name} contains NaN or infinite values in {int(bad.sum())} image(s) (first: index {int(np.flatnonzero(bad)[0])})"
            )
    return arr, layout


def _default_range(arr: np.ndarray) -> tuple[float, float]:
    if arr.dtype == np.uint8:
        return 0.0, 255.0
    if arr.size == 0:
        return (0.0, 255.0) if arr.dtype.kind in "ui" else (0.0, 1.0)
    lo, hi = float(arr.min()), float(arr.max())
    if arr.dtype.kind in "ui":
        if lo >= 0 and hi <= 255:
            return 0.0, 255.0
    else:
        for a, b in ((0.0, 1.0), (-1.0, 1.0), (0.0, 255.0)):
            if lo >= a and hi <= b:
                return a, b
    if hi <= lo:
        hi = lo + 1.0
    return lo, hi


class ImageEncoder:
    """Converts image arrays to ``(N, C, H, W)`` float tensors in [-1, 1] and back.

    ``fit`` remembers the layout, the dtype and the value range: uint8 images
    use 0..255; other images the first of [0, 1], [-1, 1], [0, 255] that
    holds all values (else their min..max). ``inverse_transform`` returns the
    same layout and dtype, clipped to that range (integers rounded).

    Parameters
    ----------
    layout : {"NHW", "NCHW", "NHWC"}, optional
        Force the layout instead of guessing it.
    value_range : tuple of float, optional
        Force the range of pixel values.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.image.encoding import ImageEncoder
    >>> X = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3)).astype(np.uint8)
    >>> enc = ImageEncoder().fit(X)
    >>> t = enc.transform(X)
    >>> t.shape, float(t.min()) >= -1, enc.layout_
    (torch.Size([5, 3, 8, 8]), True, 'NHWC')
    >>> back = enc.inverse_transform(t)
    >>> back.dtype, bool((back == X).all())
    (dtype('uint8'), True)
    """

    def __init__(self, layout: str | None = None, value_range: tuple[float, float] | None = None) -> None:
        self.layout = layout
        self.value_range = value_range

    def fit(self, X) -> "ImageEncoder":
        arr, layout = check_images(X, self.layout)
        self.layout_ = layout
        self.dtype_ = arr.dtype
        self.channels_, self.size_, _ = _spatial(arr.shape, layout)
        if self.value_range is not None:
            lo, hi = (float(v) for v in self.value_range)
            if not hi > lo:
                raise ValueError(f"value_range must be (low, high) with high > low, got {self.value_range}")
            self.range_ = (lo, hi)
        else:
            self.range_ = _default_range(arr)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "layout_"):
            from ganaug.exceptions import NotFittedError

            raise NotFittedError("this ImageEncoder is not fitted yet; call fit(X) first")

    def to_nchw(self, X, name: str = "X") -> np.ndarray:
        """Validate ``X`` against the fitted layout and size; return a (N, C, H, W) view (no scaling)."""
        self._check_fitted()
        arr, layout = check_images(X, self.layout_, name=name, allow_empty=True)
        c, h, _ = _spatial(arr.shape, layout)
        if (c, h) != (self.channels_, self.size_):
            raise ValueError(
                f"{name} has {c}-channel {h}x{h} images (shape {arr.shape}); fitted on {self.channels_}-channel "
                f"{self.size_}x{self.size_} images in layout {self.layout_}"
            )
        if layout == "NHW":
            return arr[:, None]
        if layout == "NHWC":
            return arr.transpose(0, 3, 1, 2)
        return arr

    def transform(self, X) -> Tensor:
        """Images as a float32 tensor (N, C, H, W) scaled to [-1, 1]."""
        nchw = self.to_nchw(X)
        lo, hi = self.range_
        t = torch.from_numpy(np.ascontiguousarray(nchw, dtype=np.float32))
        # out of place: the tensor may share memory with the caller's array
        return (t - lo) * (2.0 / (hi - lo)) - 1.0

    def inverse_transform(self, t: Tensor) -> np.ndarray:
        """Tensor (N, C, H, W) in [-1, 1] back to the fitted layout, dtype and range."""
        self._check_fitted()
        if t.dim() != 4 or t.shape[1] != self.channels_:
            raise ValueError(f"expected a tensor (N, {self.channels_}, H, W), got shape {tuple(t.shape)}")
        lo, hi = self.range_
        x = (t.detach().float().cpu().clamp(-1.0, 1.0) + 1.0) * ((hi - lo) / 2.0) + lo
        if self.layout_ == "NHW":
            x = x[:, 0]
        elif self.layout_ == "NHWC":
            x = x.permute(0, 2, 3, 1)
        arr = x.contiguous().numpy()
        if self.dtype_.kind in "ui":
            info = np.iinfo(self.dtype_)
            arr = np.clip(np.rint(arr), max(lo, info.min), min(hi, info.max))
        return arr.astype(self.dtype_, copy=False)

    def to_json(self) -> dict:
        """Fitted state as JSON-able data."""
        self._check_fitted()
        return {
            "layout": self.layout_,
            "dtype": self.dtype_.str,
            "channels": int(self.channels_),
            "size": int(self.size_),
            "range": [float(self.range_[0]), float(self.range_[1])],
        }

    @classmethod
    def from_json(cls, state: dict) -> "ImageEncoder":
        enc = cls(layout=state["layout"])
        enc.layout_ = state["layout"]
        enc.dtype_ = np.dtype(state["dtype"])
        enc.channels_ = int(state["channels"])
        enc.size_ = int(state["size"])
        enc.range_ = (float(state["range"][0]), float(state["range"][1]))
        return enc
