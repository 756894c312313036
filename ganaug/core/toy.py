"""The 2-D ring of Gaussians and a small MLP GAN: the standard mode-collapse testbed.

Used by ``pipelines/mode_collapse.py``, the core tests and the docs to show
what each loss and trick does (Metz et al., 2017, "Unrolled GANs").
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from ganaug.core.layers import MinibatchDiscrimination, maybe_spectral_norm
from ganaug.core.module import GANModule

__all__ = ["MLPGAN", "ring_centers", "ring_of_gaussians"]


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """Centres of ``n_modes`` Gaussians evenly spaced on a circle.

    Examples
    --------
    >>> from ganaug.core.toy import ring_centers
    >>> ring_centers(4, radius=1.0).round(6).tolist()
    [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0]]
    """
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)


def ring_of_gaussians(
    n: int, n_modes: int = 8, radius: float = 2.0, std: float = 0.02, random_state: int | None = None
) -> np.ndarray:
    """Draw ``n`` points from an equal-weight mixture of Gaussians on a ring.

    Examples
    --------
    >>> from ganaug.core.toy import ring_of_gaussians
    >>> ring_of_gaussians(100, random_state=0).shape
    (100, 2)
    """
    rng = np.random.default_rng(random_state)
    centers = ring_centers(n_modes, radius)
    modes = rng.integers(0, n_modes, size=n)
    return (centers[modes] + rng.normal(scale=std, size=(n, 2))).astype(np.float32)


class MLPGAN(GANModule):
    """A small fully connected GAN for vector data.

    Parameters
    ----------
    data_dim : int, default=2
    hidden : int, default=128
        Width of the hidden layers (two per network).
    spectral_norm : bool, default=False
        Spectral normalisation on every discriminator layer.
    minibatch_discrimination : bool, default=False
        Add a :class:`~ganaug.core.layers.MinibatchDiscrimination` layer
        before the discriminator's output.
    minibatch_group_size : int, optional
        ``group_size`` of that layer: compare samples within groups of this
        many instead of the whole batch (cheaper; ``None``: whole batch).
    **gan_options
        Passed to :class:`~ganaug.core.module.GANModule` (``loss``,
        ``n_critic``, ``lr_g``, ``unrolled_steps``, ``ema_decay``...).

    Examples
    --------
    >>> from ganaug.core.toy import MLPGAN
    >>> gan = MLPGAN(loss="hinge", spectral_norm=True, latent_dim=2)
    >>> gan.generate_samples(3).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        data_dim: int = 2,
        hidden: int = 128,
        spectral_norm: bool = False,
        minibatch_discrimination: bool = False,
        minibatch_group_size: int | None = None,
        latent_dim: int = 2,
        **gan_options,
    ) -> None:
        super().__init__(latent_dim=latent_dim, **gan_options)
        self.generator = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, data_dim),
        )
        sn = spectral_norm
        layers: list[nn.Module] = [
            maybe_spectral_norm(nn.Linear(data_dim, hidden), sn),
            nn.LeakyReLU(0.2),
            maybe_spectral_norm(nn.Linear(hidden, hidden), sn),
            nn.LeakyReLU(0.2),
        ]
        width = hidden
        if minibatch_discrimination:
            mbd = MinibatchDiscrimination(hidden, n_kernels=8, kernel_dim=4, group_size=minibatch_group_size)
            layers.append(mbd)
            width = mbd.out_features
        layers.append(maybe_spectral_norm(nn.Linear(width, 1), sn))
        self.discriminator = nn.Sequential(*layers)

    def discriminate(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        return self.discriminator(x).squeeze(-1)
