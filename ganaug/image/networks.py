"""Generator and discriminator networks of :class:`~ganaug.image.ConditionalImageGAN`.

Both networks are DCGAN-shaped and work for any square size that is a multiple
of 4: the generator starts from a ``base x base`` feature map
(``base = size / 2**n_up``, see :func:`stage_plan`) and doubles the resolution
``n_up`` times with transposed convolutions; the discriminator mirrors it with
strided convolutions. Optional progressive growing keeps one ``to_rgb`` /
``from_rgb`` layer per resolution so training can start small and fade the
next resolution in (Karras et al., 2018).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganaug.core.layers import (
    AuxiliaryClassifierHead,
    ConditionEmbedding,
    InfoGANHead,
    MinibatchStdDev,
    ProjectionHead,
    maybe_spectral_norm,
)

__all__ = [
    "CONDITIONINGS",
    "ConditionalBatchNorm2d",
    "ImageDiscriminator",
    "ImageGenerator",
    "stage_plan",
    "stage_channels",
    "style_mapping",
]

#: discriminator conditioning schemes
CONDITIONINGS = ("projection", "acgan")


def stage_plan(size: int) -> tuple[int, int]:
    """Return ``(base, n_up)``: start resolution and number of doublings for ``size``.

    ``size`` must be a positive multiple of 4. Halving continues past the
    first two doublings while the start stays even and at least 8, so 28 ->
    (7, 2), 32 -> (4, 3), 64 -> (4, 4), 12 -> (3, 2).

    Examples
    --------
    >>> from ganaug.image.networks import stage_plan
    >>> stage_plan(28), stage_plan(32), stage_plan(64)
    ((7, 2), (4, 3), (4, 4))
    """
    if not isinstance(size, (int,)) or isinstance(size, bool) or size < 4 or size % 4:
        raise ValueError(f"image size must be a positive multiple of 4, got {size!r}")
    base, n_up = size // 4, 2
    while base % 2 == 0 and base >= 8:
        base //= 2
        n_up += 1
    return base, n_up


def stage_channels(width: int, stage: int, min_channels: int = 8) -> int:
    """Feature channels at ``stage`` (0 = lowest resolution): ``width / 2**stage``, at least ``min_channels``."""
    return max(min_channels, width // (2**stage))


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose scale and shift come from the class and, optionally, a style vector.

    ``y = BN(x) * (1 + gamma[label] + A w) + beta[label] + B w`` (de Vries et
    al., 2017 for the class part; the style part ``A w``, ``B w`` is a linear
    map of a style vector ``w`` shared by all classes, as in AdaIN). With
    ``n_classes=None`` the class part is left out, with ``style_dim=0`` the
    style part; with neither it is a plain affine ``BatchNorm2d``. Both parts
    start at zero, so a new layer is a plain batch norm.

    Examples
    --------
    >>> import torch
    >>> from ganaug.image.networks import ConditionalBatchNorm2d
    >>> bn = ConditionalBatchNorm2d(4, n_classes=3)
    >>> bn(torch.randn(5, 4, 2, 2), torch.tensor([0, 1, 2, 0, 1])).shape
    torch.Size([5, 4, 2, 2])
    >>> bn = ConditionalBatchNorm2d(4, n_classes=None, style_dim=6)
    >>> bn(torch.randn(5, 4, 2, 2), None, style=torch.randn(5, 6)).shape
    torch.Size([5, 4, 2, 2])
    """

    def __init__(self, num_features: int, n_classes: int | None, style_dim: int = 0) -> None:
        super().__init__()
        self.conditional = bool(n_classes)
        self.style_dim = int(style_dim)
        self.bn = nn.BatchNorm2d(num_features, affine=not (self.conditional or self.style_dim))
        if self.conditional:
            self.gamma = nn.Embedding(n_classes, num_features)
            self.beta = nn.Embedding(n_classes, num_features)
            nn.init.zeros_(self.gamma.weight)
            nn.init.zeros_(self.beta.weight)
        if self.style_dim:
            self.style_affine = nn.Linear(self.style_dim, 2 * num_features)
            nn.init.zeros_(self.style_affine.weight)
            nn.init.zeros_(self.style_affine.bias)

    def forward(self, x: Tensor, labels: Tensor | None, style: Tensor | None = None) -> Tensor:
        out = self.bn(x)
        if not (self.conditional or self.style_dim):
            return out
        scale, shift = 1.0, 0.0
        if self.conditional:
            scale = scale + self.gamma(labels.long())[:, :, None, None]
            shift = shift + self.beta(labels.long())[:, :, None, None]
        if self.style_dim:
            if style is None:
                raise ValueError("this batch norm is style-modulated: pass style=")
            g, b = self.style_affine(style).chunk(2, dim=1)
            scale = scale + g[:, :, None, None]
            shift = shift + b[:, :, None, None]
        return out * scale + shift


class _UpBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, n_classes: int | None, style_dim: int = 0) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False)
        self.bn = ConditionalBatchNorm2d(c_out, n_classes, style_dim)

    def forward(self, x: Tensor, labels: Tensor, style: Tensor | None = None) -> Tensor:
        return F.relu(self.bn(self.conv(x), labels, style))


def style_mapping(input_dim: int, style_dim: int) -> nn.Sequential:
    """Mapping network ``latent -> style``: two leaky-ReLU layers, shared by all classes."""
    return nn.Sequential(
        nn.Linear(input_dim, style_dim), nn.LeakyReLU(0.2), nn.Linear(style_dim, style_dim), nn.LeakyReLU(0.2),
    )


class ImageGenerator(nn.Module):
    """DCGAN-style conditional generator: ``(z, label) -> image`` in [-1, 1].

    The label enters twice: its embedding is concatenated to ``z``, and (with
    ``conditional_bn=True``) it sets the scale and shift of every batch norm.

    With ``style_dim > 0`` class and style are split: ``z`` first goes
    through a small mapping network to a style vector ``w``; ``w`` takes
    ``z``'s place next to the class embedding at the input and also sets the
    scale and shift of every batch norm, through weights shared by all
    classes. Whatever variation (stroke width, slant, size) the style
    learns from the common classes is then applied to the rare ones: the
    same ``z`` draws the same style in every class
    (:func:`~ganaug.image.plots.plot_style_grid` shows it). Combine it with
    ``conditional_bn=False`` to leave the class only the input embedding.

    Parameters
    ----------
    input_dim : int
        Width of the latent input (noise plus any InfoGAN codes).
    n_classes : int
        Number of classes (1 for an unconditional model).
    channels : int
        1 (grey) or 3 (RGB).
    size : int
        Output height and width, a multiple of 4.
    width : int, default=64
        Channels at the lowest resolution; halved at each doubling.
    embed_dim : int, default=16
        Size of the class embedding concatenated to ``z``.
    conditional_bn : bool, default=True
    progressive : bool, default=False
        Keep one output layer per resolution, for progressive growing.
    style_dim : int, default=0
        Width of the style vector (0: no style split).

    Examples
    --------
    >>> import torch
    >>> from ganaug.image.networks import ImageGenerator
    >>> g = ImageGenerator(input_dim=8, n_classes=3, channels=3, size=32, width=32)
    >>> g(torch.randn(2, 8), torch.tensor([0, 2])).shape
    torch.Size([2, 3, 32, 32])
    >>> g = ImageGenerator(8, 3, 1, 28, width=32, progressive=True)
    >>> g(torch.randn(2, 8), torch.tensor([0, 2]), stage=1, alpha=0.5).shape
    torch.Size([2, 1, 14, 14])
    >>> g = ImageGenerator(8, 3, 1, 28, width=32, conditional_bn=False, style_dim=16)
    >>> g(torch.randn(2, 8), torch.tensor([0, 2])).shape
    torch.Size([2, 1, 28, 28])
    """

    def __init__(
        self,
        input_dim: int,
        n_classes: int,
        channels: int,
        size: int,
        width: int = 64,
        embed_dim: int = 16,
        conditional_bn: bool = True,
        progressive: bool = False,
        style_dim: int = 0,
    ) -> None:
        super().__init__()
        if isinstance(style_dim, bool) or int(style_dim) != style_dim or style_dim < 0:
            raise ValueError(f"style_dim must be an int >= 0 (0: no style split), got {style_dim!r}")
        self.base, self.n_up = stage_plan(size)
        self.size = size
        self.channels = channels
        self.style_dim = int(style_dim)
        self.embedding = ConditionEmbedding(n_classes, embed_dim)
        self.mapping = style_mapping(input_dim, self.style_dim) if self.style_dim else None
        bn_classes = n_classes if conditional_bn else None
        c0 = stage_channels(width, 0)
        latent_width = self.style_dim or input_dim
        self.fc = nn.Linear(latent_width + embed_dim, c0 * self.base * self.base, bias=False)
        self.bn0 = ConditionalBatchNorm2d(c0, bn_classes, self.style_dim)
        self.blocks = nn.ModuleList(
            _UpBlock(stage_channels(width, s - 1), stage_channels(width, s), bn_classes, self.style_dim)
            for s in range(1, self.n_up + 1)
        )
        stages = range(self.n_up + 1) if progressive else [self.n_up]
        self.to_rgb = nn.ModuleDict({str(s): nn.Conv2d(stage_channels(width, s), channels, 3, padding=1) for s in stages})

    def resolution(self, stage: int) -> int:
        """Output size at growth ``stage`` (``n_up`` = full size)."""
        return self.base * 2**stage

    def forward(self, z: Tensor, labels: Tensor, stage: int | None = None, alpha: float = 1.0) -> Tensor:
        stage = self.n_up if stage is None else int(stage)
        if str(stage) not in self.to_rgb:
            raise ValueError(f"this generator was built without progressive growing: stage {stage} has no output layer")
        style = self.mapping(z) if self.mapping is not None else None
        h = self.fc(torch.cat([z if style is None else style, self.embedding(labels)], dim=1))
        h = F.relu(self.bn0(h.view(z.shape[0], -1, self.base, self.base), labels, style))
        prev = h
        for block in self.blocks[:stage]:
            prev = h
            h = block(h, labels, style)
        out = torch.tanh(self.to_rgb[str(stage)](h))
        if alpha < 1.0 and stage > 0:
            low = torch.tanh(self.to_rgb[str(stage - 1)](prev))
            out = torch.lerp(F.interpolate(low, scale_factor=2, mode="nearest"), out, float(alpha))
        return out


class ImageDiscriminator(nn.Module):
    """Conditional DCGAN-style discriminator with a projection or ACGAN head.

    Strided 4x4 convolutions halve the resolution down to the generator's
    start size, then a 3x3 convolution and global sum pooling give a feature
    vector ``h``. ``conditioning="projection"`` scores ``psi(h) + <embed(y), h>``
    (:class:`~ganaug.core.layers.ProjectionHead`); ``"acgan"`` scores
    ``psi(h)`` and predicts the class with an
    :class:`~ganaug.core.layers.AuxiliaryClassifierHead`. An
    :class:`~ganaug.core.layers.InfoGANHead` is added when InfoGAN codes are
    used, and an auxiliary classifier next to the projection head with
    ``aux_classifier=True``.

    ``forward`` returns ``(logits, extras)``; ``extras`` holds ``"class_logits"``
    (ACGAN) and ``"q"`` (InfoGAN) when present.

    Examples
    --------
    >>> import torch
    >>> from ganaug.image.networks import ImageDiscriminator
    >>> d = ImageDiscriminator(n_classes=3, channels=1, size=28, width=32, conditioning="acgan")
    >>> logits, extras = d(torch.randn(2, 1, 28, 28), torch.tensor([0, 1]))
    >>> logits.shape, extras["class_logits"].shape
    (torch.Size([2]), torch.Size([2, 3]))
    """

    def __init__(
        self,
        n_classes: int,
        channels: int,
        size: int,
        width: int = 64,
        conditioning: str = "projection",
        spectral_norm: bool = True,
        n_categorical: int = 0,
        n_continuous: int = 0,
        minibatch_std: bool = False,
        progressive: bool = False,
        aux_classifier: bool = False,
    ) -> None:
        super().__init__()
        if conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {list(CONDITIONINGS)}, got {conditioning!r}")
        self.base, self.n_up = stage_plan(size)
        self.conditioning = conditioning
        sn = bool(spectral_norm)
        stages = range(self.n_up + 1) if progressive else [self.n_up]
        self.from_rgb = nn.ModuleDict(
            {str(s): maybe_spectral_norm(nn.Conv2d(channels, stage_channels(width, s), 3, padding=1), sn) for s in stages}
        )
        # blocks[s - 1] takes resolution stage s down to s - 1
        self.blocks = nn.ModuleList(
            maybe_spectral_norm(nn.Conv2d(stage_channels(width, s), stage_channels(width, s - 1), 4, 2, 1), sn)
            for s in range(1, self.n_up + 1)
        )
        c0 = stage_channels(width, 0)
        self.mbstd = MinibatchStdDev() if minibatch_std else None
        self.final = maybe_spectral_norm(nn.Conv2d(c0 + int(minibatch_std), c0, 3, padding=1), sn)
        self.feature_dim = c0
        if conditioning == "projection":
            self.head = ProjectionHead(c0, n_classes, use_spectral_norm=sn)
        else:
            self.head = ProjectionHead(c0, None, use_spectral_norm=sn)
        has_aux = conditioning == "acgan" or aux_classifier
        self.aux = AuxiliaryClassifierHead(c0, n_classes) if has_aux else None
        self.q = InfoGANHead(c0, n_categorical, n_continuous) if (n_categorical or n_continuous) else None

    def features(self, x: Tensor, stage: int | None = None, alpha: float = 1.0) -> Tensor:
        """Feature vector ``h`` (N, feature_dim) of images at growth ``stage``."""
        stage = self.n_up if stage is None else int(stage)
        if str(stage) not in self.from_rgb:
            raise ValueError(f"this discriminator was built without progressive growing: stage {stage} has no input layer")
        h = F.leaky_relu(self.from_rgb[str(stage)](x), 0.2)
        if stage > 0:
            h = F.leaky_relu(self.blocks[stage - 1](h), 0.2)
            if alpha < 1.0:
                low = F.leaky_relu(self.from_rgb[str(stage - 1)](F.avg_pool2d(x, 2)), 0.2)
                h = torch.lerp(low, h, float(alpha))
            for s in range(stage - 1, 0, -1):
                h = F.leaky_relu(self.blocks[s - 1](h), 0.2)
        if self.mbstd is not None:
            h = self.mbstd(h)
        h = F.leaky_relu(self.final(h), 0.2)
        return h.sum(dim=(2, 3))

    def forward(self, x: Tensor, labels: Tensor | None = None, stage: int | None = None,
                alpha: float = 1.0) -> tuple[Tensor, dict]:
        h = self.features(x, stage, alpha)
        extras: dict[str, Tensor] = {}
        logits = self.head(h, labels) if self.conditioning == "projection" else self.head(h)
        if self.aux is not None:
            extras["class_logits"] = self.aux(h)
        if self.q is not None:
            extras["q"] = self.q(h)
        return logits, extras
