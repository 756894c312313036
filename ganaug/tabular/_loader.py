"""DataLoader for training-by-sampling: whole batches drawn by :class:`ConditionalSampler`."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ganaug.tabular.sampler import ConditionalSampler

__all__ = ["conditional_loader"]


class _EncodedRows(Dataset):
    """Indexed by an ``(B, 2)`` array of ``(row, category)``: returns ``(x, class, category)`` batches."""

    def __init__(self, encoded: torch.Tensor, classes: torch.Tensor) -> None:
        self.encoded = encoded
        self.classes = classes

    def __len__(self) -> int:
        return self.encoded.shape[0]

    def __getitem__(self, item):
        idx = torch.as_tensor(np.asarray(item), dtype=torch.long)
        rows = idx[:, 0]
        return self.encoded[rows], self.classes[rows], idx[:, 1]


class _BatchDraws(Sampler):
    """Yields ``steps`` batches per epoch, drawn at once (vectorised) from a seeded stream."""

    def __init__(self, sampler: ConditionalSampler, batch_size: int, steps: int, seed: int, group: int = 1) -> None:
        self.sampler = sampler
        self.group = int(group)
        self.batch_size = int(batch_size)
        self.steps = int(steps)
        self.seed = int(seed)
        self.epoch = 0

    def __len__(self) -> int:
        return self.steps

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning before each epoch: a resumed run draws the same batches as an uninterrupted one."""
        self.epoch = int(epoch)

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        rows, cats = self.sampler.sample_training(self.steps * self.batch_size, rng, group=self.group)
        pairs = np.stack([rows, cats], axis=1).reshape(self.steps, self.batch_size, 2)
        yield from pairs


def conditional_loader(
    encoded: np.ndarray, classes: np.ndarray, sampler: ConditionalSampler, batch_size: int, seed: int,
    steps: int | None = None, group: int = 1,
) -> DataLoader:
    """Loader of ``max(1, n // batch_size)`` conditional batches per epoch (CTGAN's epoch length).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.tabular._loader import conditional_loader
    >>> from ganaug.tabular.sampler import ConditionalSampler
    >>> codes = np.array([[0], [1]] * 10); y = np.array([0, 1] * 10)
    >>> s = ConditionalSampler(codes, [2], y, 2)
    >>> x, c, k = next(iter(conditional_loader(np.eye(2)[codes[:, 0]], y, s, batch_size=4, seed=0)))
    >>> tuple(x.shape), tuple(c.shape), tuple(k.shape)
    ((4, 2), (4,), (4,))
    """
    n = len(encoded)
    steps = max(1, n // batch_size) if steps is None else int(steps)
    ds = _EncodedRows(torch.as_tensor(encoded, dtype=torch.float32), torch.as_tensor(classes, dtype=torch.long))
    return DataLoader(ds, sampler=_BatchDraws(sampler, batch_size, steps, seed, group), batch_size=None)
