"""Recurrent building block of every time-series network (generator, discriminator, TimeGAN parts)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["SequenceNet", "RECURRENT_CELLS"]

RECURRENT_CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}


class SequenceNet(nn.Module):
    """Stacked unidirectional GRU/LSTM with a per-step linear head.

    Every step's input is ``[x_t, class embedding, position, attributes]``
    (the last three only when configured). The network is causal: the output
    at step ``t`` depends on inputs up to ``t`` only, so padding at the end of
    a series can never change the outputs at its observed steps.

    Parameters
    ----------
    in_dim, out_dim : int
        Features per step in and out.
    hidden_dim : int, default=24
    num_layers : int, default=2
    cell : {"gru", "lstm"}, default="gru"
    n_classes : int, default=0
        Classes of the condition (0 = unconditional).
    cond_dim : int, default=8
        Size of the class embedding.
    position : bool, default=False
        Append ``t / (length - 1)`` as a feature (for variable-length series).
    attr_dim : int, default=0
        Size of a static per-series conditioning vector (encoded attributes,
        see :mod:`ganaug.timeseries.attributes`) appended to every step's
        input; 0 = none.
    activation : {"sigmoid", None}, default=None
        Output activation.
    projection : bool, default=False
        Add ``<embed(y), h_t>`` to a one-dimensional output (projection
        discriminator, Miyato & Koyama, 2018): a direct class signal per step.

    Examples
    --------
    >>> import torch
    >>> from ganaug.timeseries.networks import SequenceNet
    >>> net = SequenceNet(3, 2, hidden_dim=8, n_classes=2, activation="sigmoid")
    >>> net(torch.randn(4, 10, 3), labels=torch.tensor([0, 1, 1, 0])).shape
    torch.Size([4, 10, 2])
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        hidden_dim: int = 24,
        num_layers: int = 2,
        cell: str = "gru",
        n_classes: int = 0,
        cond_dim: int = 8,
        position: bool = False,
        activation: str | None = None,
        projection: bool = False,
        attr_dim: int = 0,
    ) -> None:
        super().__init__()
        if cell not in RECURRENT_CELLS:
            raise ValueError(f"cell must be one of {sorted(RECURRENT_CELLS)}, got {cell!r}")
        if activation not in (None, "sigmoid"):
            raise ValueError(f"activation must be 'sigmoid' or None, got {activation!r}")
        self.embedding = nn.Embedding(n_classes, cond_dim) if n_classes > 1 else None
        self.position = bool(position)
        if int(attr_dim) < 0:
            raise ValueError(f"attr_dim must be >= 0, got {attr_dim}")
        self.attr_dim = int(attr_dim)
        width = in_dim + (cond_dim if self.embedding is not None else 0) + int(self.position) + self.attr_dim
        self.rnn = RECURRENT_CELLS[cell](width, hidden_dim, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_dim, out_dim)
        self.activation = activation
        self.projection = nn.Embedding(n_classes, hidden_dim) if (projection and n_classes > 1) else None
        if self.projection is not None:
            if out_dim != 1:
                raise ValueError(f"projection needs out_dim=1, got {out_dim}")
            nn.init.normal_(self.projection.weight, std=0.02)

    def forward(self, x: Tensor, labels: Tensor | None = None, lengths: Tensor | None = None,
                attributes: Tensor | None = None) -> Tensor:
        n, length, _ = x.shape
        parts = [x]
        if self.embedding is not None:
            if labels is None:
                raise ValueError("this network is conditional: class labels are required")
            parts.append(self.embedding(labels.long())[:, None, :].expand(n, length, -1))
        if self.position:
            steps = torch.arange(length, device=x.device, dtype=x.dtype)[None, :]
            denom = (lengths.to(x.dtype) - 1).clamp_min(1.0)[:, None] if lengths is not None else max(length - 1, 1)
            parts.append((steps / denom).clamp(max=1.0)[..., None].expand(n, length, 1))
        if self.attr_dim:
            if attributes is None or attributes.shape != (n, self.attr_dim):
                got = None if attributes is None else tuple(attributes.shape)
                raise ValueError(f"this network is conditioned on attributes: pass a ({n}, {self.attr_dim}) "
                                 f"tensor, got {got}")
            parts.append(attributes.to(x.dtype)[:, None, :].expand(n, length, -1))
        h, _ = self.rnn(torch.cat(parts, dim=-1) if len(parts) > 1 else x)
        out = self.head(h)
        if self.projection is not None:
            out = out + (self.projection(labels.long())[:, None, :] * h).sum(-1, keepdim=True)
        return torch.sigmoid(out) if self.activation == "sigmoid" else out
