"""Building blocks shared by the three modalities' networks.

* :func:`spectral_norm` / :func:`maybe_spectral_norm` - Lipschitz control of the
  discriminator (Miyato et al., 2018).
* :class:`MinibatchDiscrimination` (Salimans et al., 2016) and
  :class:`MinibatchStdDev` (Karras et al., 2018) - let the discriminator see
  batch statistics, so a collapsed generator is easy to spot.
* :class:`ConditionEmbedding` (concatenation conditioning) and
  :class:`ProjectionHead` (projection discriminator, Miyato & Koyama, 2018).
* :class:`AuxiliaryClassifierHead` (ACGAN, Odena et al., 2017).
* :class:`InfoGANHead` and :func:`infogan_loss` (InfoGAN, Chen et al., 2016).
* :class:`FastDropout` - dropout whose CPU mask costs a quarter of
  ``nn.Dropout``'s (the mask, not the network, was a fifth of a tabular step).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "AuxiliaryClassifierHead",
    "ConditionEmbedding",
    "FastDropout",
    "InfoGANHead",
    "MinibatchDiscrimination",
    "MinibatchStdDev",
    "ProjectionHead",
    "infogan_loss",
    "maybe_spectral_norm",
    "sample_infogan_codes",
    "spectral_norm",
]


def _is_batched(x: Tensor) -> bool:
    """Whether ``x`` is wrapped by a functorch transform (``vmap``, ``grad``), where a fresh tensor cannot be filled at random."""
    try:
        return int(torch._C._functorch.maybe_get_level(x)) >= 0
    except AttributeError:  # pragma: no cover - a torch without functorch internals
        return False


class FastDropout(nn.Dropout):
    """Dropout with a cheap random mask on CPU; the same layer as ``nn.Dropout`` otherwise.

    On CPU, ``nn.Dropout`` draws one 32-bit random number per element, which
    for a 500 x 256 activation costs about twice a 256-wide linear layer. This
    layer draws 64-bit words and uses 7 random bytes of each, so it needs 7
    times fewer draws (about 3.5x faster forward and backward on 2 cores).
    An element is kept when its byte is at least ``round(256 p)``, so the
    drop probability is ``p`` rounded to a multiple of 1/256 (exact for 0.25
    and 0.5); kept elements are scaled by ``1 / (1 - p)`` with that rounded
    ``p``, as inverted dropout does. On other devices, and in evaluation mode,
    and inside ``torch.vmap`` (per-row gradients of the private GAN), it
    behaves like ``nn.Dropout``. It has no parameters, so a saved network
    loads into either layer.

    Parameters
    ----------
    p : float, default=0.5
        Drop probability, in [0, 1).

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.layers import FastDropout
    >>> _ = torch.manual_seed(0)
    >>> layer = FastDropout(0.25)
    >>> out = layer(torch.ones(100_000))
    >>> round(float((out == 0).float().mean()), 2), sorted({round(v, 4) for v in out.unique().tolist()})
    (0.25, [0.0, 1.3333])
    >>> layer.eval()(torch.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= float(p) < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p!r}")
        super().__init__(float(p))

    def forward(self, x: Tensor) -> Tensor:
        threshold = min(255, int(round(self.p * 256)))  # read here: ``p`` may change after construction
        if not self.training or threshold == 0:
            return x
        if x.device.type != "cpu" or _is_batched(x):  # inside vmap (per-row gradients): torch's own dropout
            return F.dropout(x, self.p, True)
        n = x.numel()
        words = torch.empty((n + 6) // 7, dtype=torch.int64).random_()  # uniform on [0, 2**63): 7 random bytes
        random_bytes = words.view(torch.uint8).view(-1, 8)[:, :7].reshape(-1)[:n].view(x.shape)
        mask = (random_bytes >= threshold).to(x.dtype).mul_(256.0 / (256 - threshold))
        return x * mask


def spectral_norm(module: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Wrap a layer with spectral normalisation of its weight.

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.layers import spectral_norm
    >>> layer = spectral_norm(torch.nn.Linear(4, 3))
    >>> layer(torch.randn(2, 4)).shape
    torch.Size([2, 3])
    """
    return nn.utils.parametrizations.spectral_norm(module, n_power_iterations=n_power_iterations)


def maybe_spectral_norm(module: nn.Module, enabled: bool) -> nn.Module:
    """Apply :func:`spectral_norm` when ``enabled``, else return the layer unchanged."""
    return spectral_norm(module) if enabled else module


class MinibatchDiscrimination(nn.Module):
    """Minibatch discrimination layer (Salimans et al., 2016).

    For each sample computes ``n_kernels`` features measuring how close it is to
    the other samples of the batch and appends them to its input features. A
    collapsed generator produces near-identical samples, which these features
    expose to the discriminator.

    Parameters
    ----------
    in_features : int
        Width of the incoming feature vector.
    n_kernels : int, default=16
        Number of closeness features appended.
    kernel_dim : int, default=8
        Dimension of each kernel's projection.
    group_size : int, optional
        Compare each sample only with the others of its group of this many
        consecutive samples (as :class:`MinibatchStdDev` does), instead of the
        whole batch. The cost is ``n_kernels * batch * group_size`` instead of
        ``n_kernels * batch ** 2``: a batch of 256 in groups of 64 is 4x
        cheaper. ``None`` (default), or a batch that does not divide evenly:
        the whole batch (Salimans et al.).

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.layers import MinibatchDiscrimination
    >>> MinibatchDiscrimination(10, n_kernels=4)(torch.randn(6, 10)).shape
    torch.Size([6, 14])
    >>> MinibatchDiscrimination(10, n_kernels=4, group_size=3)(torch.randn(6, 10)).shape
    torch.Size([6, 14])
    """

    def __init__(self, in_features: int, n_kernels: int = 16, kernel_dim: int = 8, group_size: int | None = None) -> None:
        super().__init__()
        if group_size is not None and (isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 2):
            raise ValueError(f"group_size must be an int >= 2 or None, got {group_size!r}")
        self.n_kernels = n_kernels
        self.kernel_dim = kernel_dim
        self.group_size = group_size
        self.T = nn.Parameter(torch.randn(in_features, n_kernels * kernel_dim) * 0.1)

    @property
    def out_features(self) -> int:
        return self.T.shape[0] + self.n_kernels

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        g = self.group_size if self.group_size is not None and n % self.group_size == 0 else n
        # (groups * kernels, g, C): every kernel of every group is one batch of cdist
        m = (x @ self.T).view(n // g, g, self.n_kernels, self.kernel_dim).transpose(1, 2)
        m = m.reshape(-1, g, self.kernel_dim)
        l1 = torch.cdist(m, m, p=1.0)  # (groups * kernels, g, g), no (N, N, K, C) intermediate
        closeness = torch.exp(-l1).sum(2) - 1.0  # exclude self (exp(0) = 1)
        closeness = closeness.view(n // g, self.n_kernels, g).transpose(1, 2).reshape(n, self.n_kernels)
        return torch.cat([x, closeness], dim=1)


class MinibatchStdDev(nn.Module):
    """Append the mean standard deviation over the (sub-)batch as an extra feature.

    Works on (N, F) vectors, (N, C, L) sequences and (N, C, H, W) images: the
    statistic is broadcast as one extra channel / feature.

    Parameters
    ----------
    group_size : int, default=4
        Statistics are computed within groups of this many samples (the whole
        batch when it does not divide evenly).

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.layers import MinibatchStdDev
    >>> MinibatchStdDev()(torch.randn(8, 3, 4, 4)).shape
    torch.Size([8, 4, 4, 4])
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        g = self.group_size if (self.group_size > 1 and n % self.group_size == 0) else n
        if g < 2:
            std = torch.zeros((n, 1) + x.shape[2:], dtype=x.dtype, device=x.device)
            return torch.cat([x, std], dim=1)
        y = x.reshape(g, -1, *x.shape[1:])  # (G, N/G, ...)
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()  # (N/G, ...)
        y = y.flatten(1).mean(dim=1)  # (N/G,)
        y = y.repeat(g)  # (N,) aligned with the reshape above
        y = y.view(n, 1, *([1] * (x.dim() - 2))).expand(n, 1, *x.shape[2:])
        return torch.cat([x, y], dim=1)


class ConditionEmbedding(nn.Module):
    """Class label to dense vector, for concatenation conditioning.

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.layers import ConditionEmbedding
    >>> emb = ConditionEmbedding(n_classes=3, dim=5)
    >>> emb(torch.tensor([0, 2])).shape
    torch.Size([2, 5])
    """

    def __init__(self, n_classes: int, dim: int) -> None:
        super().__init__()
        if n_classes < 1:
            raise ValueError(f"n_classes must be >= 1, got {n_classes}")
        self.embedding = nn.Embedding(n_classes, dim)

    def forward(self, labels: Tensor) -> Tensor:
        return self.embedding(labels.long())


class ProjectionHead(nn.Module):
    """Output of a projection discriminator: ``psi(h) + <embed(y), h>``.

    Parameters
    ----------
    in_features : int
        Width of the discriminator's final feature vector ``h``.
    n_classes : int
        Number of classes (0 or None for an unconditional head).
    use_spectral_norm : bool, default=True

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.layers import ProjectionHead
    >>> head = ProjectionHead(8, n_classes=3)
    >>> head(torch.randn(4, 8), torch.tensor([0, 1, 2, 0])).shape
    torch.Size([4])
    """

    def __init__(self, in_features: int, n_classes: int | None, use_spectral_norm: bool = True) -> None:
        super().__init__()
        self.linear = maybe_spectral_norm(nn.Linear(in_features, 1), use_spectral_norm)
        self.embedding = (
            maybe_spectral_norm(nn.Embedding(n_classes, in_features), use_spectral_norm)
            if n_classes
            else None
        )

    def forward(self, h: Tensor, labels: Tensor | None = None) -> Tensor:
        out = self.linear(h).squeeze(1)
        if self.embedding is not None:
            if labels is None:
                raise ValueError("this projection head is conditional: labels are required")
            out = out + (self.embedding(labels.long()) * h).sum(dim=1)
        return out


class AuxiliaryClassifierHead(nn.Module):
    """ACGAN auxiliary classifier: predicts the class from discriminator features.

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.layers import AuxiliaryClassifierHead
    >>> head = AuxiliaryClassifierHead(8, n_classes=3)
    >>> logits = head(torch.randn(4, 8))
    >>> float(head.loss(logits, torch.tensor([0, 1, 2, 0]))) > 0
    True
    """

    def __init__(self, in_features: int, n_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, n_classes)

    def forward(self, h: Tensor) -> Tensor:
        return self.linear(h)

    @staticmethod
    def loss(logits: Tensor, labels: Tensor) -> Tensor:
        return F.cross_entropy(logits, labels.long())


def sample_infogan_codes(
    n: int,
    n_categorical: int = 0,
    n_continuous: int = 0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Draw InfoGAN latent codes: one one-hot categorical code and uniform(-1, 1) continuous codes.

    Returns a tensor of shape ``(n, n_categorical + n_continuous)``.

    Examples
    --------
    >>> from ganaug.core.layers import sample_infogan_codes
    >>> c = sample_infogan_codes(5, n_categorical=3, n_continuous=2)
    >>> c.shape, bool((c[:, :3].sum(1) == 1).all())
    (torch.Size([5, 5]), True)
    """
    parts = []
    if n_categorical:
        idx = torch.randint(0, n_categorical, (n,), generator=generator, device=device)
        parts.append(F.one_hot(idx, n_categorical).float())
    if n_continuous:
        parts.append(torch.rand(n, n_continuous, generator=generator, device=device) * 2 - 1)
    if not parts:
        return torch.zeros(n, 0, device=device)
    return torch.cat(parts, dim=1)


class InfoGANHead(nn.Module):
    """Q network head of InfoGAN: recovers the latent codes from D's features.

    Outputs logits for the categorical code and a mean and log-std for each
    continuous code (a factored Gaussian).

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.layers import InfoGANHead, infogan_loss, sample_infogan_codes
    >>> head = InfoGANHead(8, n_categorical=3, n_continuous=2)
    >>> codes = sample_infogan_codes(4, 3, 2)
    >>> float(infogan_loss(head(torch.randn(4, 8)), codes, 3)) > -10
    True
    """

    def __init__(self, in_features: int, n_categorical: int = 0, n_continuous: int = 0) -> None:
        super().__init__()
        self.n_categorical = n_categorical
        self.n_continuous = n_continuous
        self.linear = nn.Linear(in_features, n_categorical + 2 * n_continuous)

    def forward(self, h: Tensor) -> Tensor:
        return self.linear(h)


def infogan_loss(q_out: Tensor, codes: Tensor, n_categorical: int) -> Tensor:
    """Negative variational lower bound on the mutual information I(c; G(z, c)).

    Cross-entropy for the categorical code plus Gaussian negative
    log-likelihood for the continuous codes (constants dropped).
    """
    loss = q_out.new_zeros(())
    if n_categorical:
        target = codes[:, :n_categorical].argmax(dim=1)
        loss = loss + F.cross_entropy(q_out[:, :n_categorical], target)
    n_cont = codes.shape[1] - n_categorical
    if n_cont:
        mean = q_out[:, n_categorical : n_categorical + n_cont]
        log_std = q_out[:, n_categorical + n_cont :].clamp(-5, 5)
        c = codes[:, n_categorical:]
        nll = log_std + 0.5 * ((c - mean) / log_std.exp()) ** 2
        loss = loss + nll.sum(dim=1).mean()
    return loss
