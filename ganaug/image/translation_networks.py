"""Networks of the image-to-image translation GANs (pix2pix and CycleGAN).

* :class:`UNetGenerator` - encoder/decoder with skip connections (pix2pix,
  Isola et al., 2017).
* :class:`ResnetGenerator` - two stride-2 convolutions, residual blocks, two
  transposed convolutions (CycleGAN, Zhu et al., 2017, after Johnson et al.).
* :class:`PatchDiscriminator` - PatchGAN: a fully convolutional discriminator
  that outputs one logit per overlapping image patch.
* :class:`ImagePool` - the history of generated images the CycleGAN
  discriminators are trained on (Shrivastava et al., 2017).

Every generator is fully convolutional and keeps the geometry of its input:
an ``(N, C_in, H, W)`` batch of any ``H, W`` gives ``(N, C_out, H, W)``
(inputs are padded by edge replication to a multiple of the network's total
stride and the output is cropped back), so a model trained on 28x28 digits
also runs on 64x64 scenes and keeps their boxes in place.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganaug.core.layers import maybe_spectral_norm

__all__ = [
    "ImagePool",
    "PatchDiscriminator",
    "ResnetGenerator",
    "UNetGenerator",
    "auto_patch_layers",
    "auto_unet_depth",
    "patch_grid_size",
    "patch_receptive_field",
]

#: receptive field of the original PatchGAN relative to its 256-pixel images
PATCH_FRACTION = 70 / 256
_MIN_SIDE = 8


def _norm_layer(norm: str, channels: int) -> nn.Module:
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'instance', 'batch' or 'none', got {norm!r}")


def _check_input(x: Tensor, channels: int, who: str) -> None:
    if x.dim() != 4:
        raise ValueError(f"{who} expects a 4-D batch (N, C, H, W), got shape {tuple(x.shape)}")
    if x.shape[1] != channels:
        raise ValueError(f"{who} was built for {channels} channel(s), got shape {tuple(x.shape)}")


def _pad_to_multiple(x: Tensor, multiple: int) -> tuple[Tensor, int, int]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, h, w


def auto_unet_depth(height: int, width: int, max_depth: int = 7) -> int:
    """Number of stride-2 levels of a :class:`UNetGenerator` for an image size.

    The bottleneck is about 4x4: ``ceil(log2(min(H, W))) - 2``, between 1 and
    ``max_depth``.

    Examples
    --------
    >>> from ganaug.image.translation_networks import auto_unet_depth
    >>> auto_unet_depth(28, 28), auto_unet_depth(32, 32), auto_unet_depth(256, 256)
    (3, 3, 6)
    """
    side = min(int(height), int(width))
    return int(min(max(math.ceil(math.log2(max(side, 2))) - 2, 1), max_depth))


def patch_receptive_field(n_layers: int) -> int:
    """Receptive field (pixels) of one logit of a :class:`PatchDiscriminator`.

    ``n_layers`` stride-2 4x4 convolutions followed by two stride-1 4x4
    convolutions see ``9 * 2**n_layers - 2`` pixels: 16, 34, 70 (the "70x70
    PatchGAN"), 142 for 1, 2, 3, 4 layers.

    Examples
    --------
    >>> from ganaug.image.translation_networks import patch_receptive_field
    >>> [patch_receptive_field(n) for n in (1, 2, 3)]
    [16, 34, 70]
    """
    if n_layers < 0:
        raise ValueError(f"n_layers must be >= 0, got {n_layers}")
    return 9 * 2**n_layers - 2


def patch_grid_size(height: int, width: int, n_layers: int) -> tuple[int, int]:
    """Height and width of the logit grid a :class:`PatchDiscriminator` returns.

    Each stride-2 layer halves the size (rounding down) and each of the two
    final stride-1 layers removes one pixel: ``(H // 2**n - 2, W // 2**n - 2)``.

    Examples
    --------
    >>> from ganaug.image.translation_networks import patch_grid_size
    >>> patch_grid_size(28, 28, 1), patch_grid_size(32, 32, 1), patch_grid_size(256, 256, 3)
    ((12, 12), (14, 14), (30, 30))
    """
    f = 2**n_layers
    return int(height) // f - 2, int(width) // f - 2


def auto_patch_layers(height: int, width: int) -> int:
    """PatchGAN depth whose receptive field scales the 70x70-on-256 design to this size.

    Picks ``n_layers >= 1`` whose :func:`patch_receptive_field` is nearest (in
    ratio) to ``70/256 * min(H, W)`` while the logit grid stays at least 1x1:
    16 pixels for 28..~90-pixel images, 34 around 128, 70 at 256.

    Examples
    --------
    >>> from ganaug.image.translation_networks import auto_patch_layers
    >>> auto_patch_layers(28, 28), auto_patch_layers(128, 128), auto_patch_layers(256, 256)
    (1, 2, 3)
    """
    side = min(int(height), int(width))
    if side < _MIN_SIDE:
        raise ValueError(f"images must be at least {_MIN_SIDE}x{_MIN_SIDE} pixels, got {height}x{width}")
    target = PATCH_FRACTION * side
    best, best_gap = 1, math.inf
    n = 1
    while side // 2**n >= 3:
        gap = abs(math.log(patch_receptive_field(n) / target))
        if gap < best_gap:
            best, best_gap = n, gap
        n += 1
    return best


class UNetGenerator(nn.Module):
    """U-Net generator with skip connections (pix2pix).

    ``depth`` stride-2 4x4 convolutions (LeakyReLU 0.2, normalisation from the
    second level on) down to a small bottleneck, then transposed convolutions
    back up, each level concatenated with the encoder features of the same
    size; ``tanh`` output in [-1, 1]. Dropout in the inner half of the decoder
    is the generator's noise source (pix2pix); it is off in ``eval()`` mode.

    Parameters
    ----------
    in_channels, out_channels : int
    base_channels : int, default=32
        Channels of the first level; doubled per level up to ``8 * base_channels``.
    depth : int, default=3
        Number of stride-2 levels (see :func:`auto_unet_depth`). Inputs are padded
        to a multiple of ``2**depth`` and the output cropped back.
    norm : {"instance", "batch", "none"}, default="instance"
    dropout : float, default=0.5

    Examples
    --------
    >>> import torch
    >>> from ganaug.image.translation_networks import UNetGenerator
    >>> g = UNetGenerator(1, 3, base_channels=8, depth=3)
    >>> g(torch.randn(2, 1, 28, 28)).shape
    torch.Size([2, 3, 28, 28])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        base_channels: int = 32,
        depth: int = 3,
        norm: str = "instance",
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.in_channels, self.out_channels, self.depth = int(in_channels), int(out_channels), int(depth)
        ch = [min(base_channels * 2**i, 8 * base_channels) for i in range(depth)]
        downs = []
        prev = in_channels
        for i, c in enumerate(ch):
            use_norm = 0 < i < depth - 1
            layers: list[nn.Module] = [nn.Conv2d(prev, c, 4, 2, 1, bias=not use_norm or norm == "none")]
            if use_norm:
                layers.append(_norm_layer(norm, c))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            downs.append(nn.Sequential(*layers))
            prev = c
        self.downs = nn.ModuleList(downs)
        ups = []
        n_dropout = depth // 2
        for j, i in enumerate(range(depth - 1, 0, -1)):  # decoder levels that end in a skip
            c_in = ch[i] if i == depth - 1 else 2 * ch[i]
            layers = [nn.ConvTranspose2d(c_in, ch[i - 1], 4, 2, 1, bias=norm == "none"), _norm_layer(norm, ch[i - 1]),
                      nn.ReLU(inplace=True)]
            if dropout > 0 and j < n_dropout:
                layers.append(nn.Dropout(dropout))
            ups.append(nn.Sequential(*layers))
        self.ups = nn.ModuleList(ups)
        last_in = ch[0] if depth == 1 else 2 * ch[0]
        self.head = nn.Sequential(nn.ConvTranspose2d(last_in, out_channels, 4, 2, 1), nn.Tanh())

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_channels, type(self).__name__)
        x, h, w = _pad_to_multiple(x, 2**self.depth)
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        skips.pop()  # the bottleneck itself
        for up in self.ups:
            x = torch.cat([up(x), skips.pop()], dim=1)
        return self.head(x)[..., :h, :w]


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=norm == "none"), _norm_layer(norm, channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=norm == "none"), _norm_layer(norm, channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """ResNet-block generator (CycleGAN).

    7x7 convolution, ``n_down`` stride-2 convolutions, ``n_blocks`` residual
    blocks, ``n_down`` transposed convolutions, 7x7 convolution, ``tanh``.

    Parameters
    ----------
    in_channels, out_channels : int
    base_channels : int, default=32
    n_blocks : int, default=6
        CycleGAN uses 6 blocks for 128-pixel images and 9 for 256.
    n_down : int, default=2
    norm : {"instance", "batch", "none"}, default="instance"

    Examples
    --------
    >>> import torch
    >>> from ganaug.image.translation_networks import ResnetGenerator
    >>> g = ResnetGenerator(3, 1, base_channels=8, n_blocks=1)
    >>> g(torch.randn(2, 3, 30, 26)).shape
    torch.Size([2, 1, 30, 26])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        base_channels: int = 32,
        n_blocks: int = 6,
        n_down: int = 2,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        if n_blocks < 0 or n_down < 0:
            raise ValueError(f"n_blocks and n_down must be >= 0, got {n_blocks} and {n_down}")
        self.in_channels, self.out_channels, self.n_down = int(in_channels), int(out_channels), int(n_down)
        bias = norm == "none"
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, base_channels, 7, bias=bias),
                                   _norm_layer(norm, base_channels), nn.ReLU(inplace=True)]
        c = base_channels
        for _ in range(n_down):
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1, bias=bias), _norm_layer(norm, 2 * c), nn.ReLU(inplace=True)]
            c *= 2
        layers += [_ResidualBlock(c, norm) for _ in range(n_blocks)]
        for _ in range(n_down):
            layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=bias), _norm_layer(norm, c // 2),
                       nn.ReLU(inplace=True)]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_channels, type(self).__name__)
        x, h, w = _pad_to_multiple(x, 2**self.n_down)
        return self.net(x)[..., :h, :w]


class PatchDiscriminator(nn.Module):
    """PatchGAN discriminator: one logit per overlapping patch.

    ``n_layers`` stride-2 4x4 convolutions (channels doubling from
    ``base_channels`` up to ``8 * base_channels``), then a stride-1 4x4
    convolution and a 4x4 convolution to one channel. Each logit sees
    :func:`patch_receptive_field` pixels; the output of an ``(N, C, H, W)``
    batch is ``(N, 1, H // 2**n_layers - 2, W // 2**n_layers - 2)``
    (:func:`patch_grid_size`).

    Parameters
    ----------
    in_channels : int
        For pix2pix, input and output channels together (the discriminator
        judges the concatenated pair).
    base_channels : int, default=32
    n_layers : int, default=3
        3 is the 70x70 PatchGAN; :func:`auto_patch_layers` scales it to the image size.
    norm : {"instance", "batch", "none"}, default="instance"
    spectral_norm : bool, default=False
        Spectral normalisation of every convolution.

    Examples
    --------
    >>> import torch
    >>> from ganaug.image.translation_networks import PatchDiscriminator
    >>> d = PatchDiscriminator(2, base_channels=8, n_layers=1)
    >>> d(torch.randn(4, 2, 28, 28)).shape
    torch.Size([4, 1, 12, 12])
    """

    def __init__(
        self,
        in_channels: int,
        base_channels: int = 32,
        n_layers: int = 3,
        norm: str = "instance",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if n_layers < 0:
            raise ValueError(f"n_layers must be >= 0, got {n_layers}")
        self.in_channels, self.n_layers = int(in_channels), int(n_layers)
        sn = bool(spectral_norm)
        layers: list[nn.Module] = []
        prev = in_channels
        for i in range(n_layers):
            c = min(base_channels * 2**i, 8 * base_channels)
            layers.append(maybe_spectral_norm(nn.Conv2d(prev, c, 4, 2, 1, bias=i == 0 or norm == "none"), sn))
            if i > 0:
                layers.append(_norm_layer(norm, c))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            prev = c
        c = min(base_channels * 2**n_layers, 8 * base_channels)
        layers += [maybe_spectral_norm(nn.Conv2d(prev, c, 4, 1, 1, bias=norm == "none"), sn), _norm_layer(norm, c),
                   nn.LeakyReLU(0.2, inplace=True), maybe_spectral_norm(nn.Conv2d(c, 1, 4, 1, 1), sn)]
        self.net = nn.Sequential(*layers)

    @property
    def receptive_field(self) -> int:
        return patch_receptive_field(self.n_layers)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, self.in_channels, type(self).__name__)
        gh, gw = patch_grid_size(x.shape[-2], x.shape[-1], self.n_layers)
        if gh < 1 or gw < 1:
            raise ValueError(
                f"images of {x.shape[-2]}x{x.shape[-1]} pixels are too small for a PatchGAN with "
                f"n_layers={self.n_layers} (needs at least {3 * 2**self.n_layers} pixels a side)"
            )
        return self.net(x)


class ImagePool:
    """History of generated images, as in CycleGAN (pool of 50).

    :meth:`query` returns a batch of the same size: while the pool is filling,
    the new images themselves; afterwards each image is, with probability 1/2,
    swapped for a random stored one (which it replaces in the pool). The
    discriminator thus sees older fakes too and oscillates less. Vectorised:
    one index operation per batch. Randomness comes from torch's global
    generator (seeded by the augmenter) or the ``generator`` given.

    Parameters
    ----------
    size : int, default=50
        0 disables the pool (``query`` returns its input).

    Examples
    --------
    >>> import torch
    >>> from ganaug.image.translation_networks import ImagePool
    >>> pool = ImagePool(size=4)
    >>> out = pool.query(torch.zeros(3, 1, 2, 2)); out = pool.query(torch.ones(3, 1, 2, 2))
    >>> out.shape, len(pool)
    (torch.Size([3, 1, 2, 2]), 4)
    """

    def __init__(self, size: int = 50) -> None:
        if size < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = int(size)
        self._images: Tensor | None = None
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def reset(self) -> None:
        self._images, self._count = None, 0

    @torch.no_grad()
    def query(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if self.size == 0:
            return images
        images = images.detach()
        n = images.shape[0]
        if self._images is None or self._images.shape[1:] != images.shape[1:] or self._images.device != images.device:
            self._images = images.new_empty((self.size, *images.shape[1:]))
            self._count = 0
        n_fill = min(n, self.size - self._count)
        if n_fill:
            self._images[self._count : self._count + n_fill] = images[:n_fill]
            self._count += n_fill
        rest = images[n_fill:]
        if rest.shape[0] == 0:
            return images
        dev = generator.device if generator is not None else images.device
        swap = torch.rand(rest.shape[0], generator=generator, device=dev).to(images.device) < 0.5
        k = int(swap.sum())
        out = rest.clone()
        if k:
            # distinct slots, so no two images of the batch write the same slot
            slots = torch.randperm(self.size, generator=generator, device=dev)[:k].to(images.device)
            idx = swap.nonzero().squeeze(1)
            if k > self.size:  # batch larger than the pool: swap only `size` of them
                idx = idx[: self.size]
            out[idx] = self._images[slots]
            self._images[slots] = rest[idx]
        return torch.cat([images[:n_fill], out], dim=0)
