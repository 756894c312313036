"""Fast in-memory loaders: whole batches sliced from tensors, no per-row collate."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

__all__ = ["TensorBatchDataset", "tensor_loader"]


class TensorBatchDataset(Dataset):
    """Dataset whose ``__getitem__`` takes a *list of indices* and returns sliced tensors.

    Used with a ``BatchSampler`` and ``batch_size=None`` so a batch is one
    vectorised index operation instead of a Python loop over rows.
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("at least one tensor is required")
        n = tensors[0].shape[0]
        for t in tensors:
            if t.shape[0] != n:
                raise ValueError(f"tensors differ in length: {[int(x.shape[0]) for x in tensors]}")
        self.tensors = tensors

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        idx = torch.as_tensor(index, dtype=torch.long)
        out = tuple(t[idx] for t in self.tensors)
        return out[0] if len(out) == 1 else out


def tensor_loader(
    *tensors: Tensor,
    batch_size: int,
    shuffle: bool = True,
    drop_last: bool = True,
    seed: int | None = None,
) -> DataLoader:
    """A ``DataLoader`` over in-memory tensors that yields whole batches.

    ``drop_last`` is ignored (kept False) when the data is smaller than one
    batch, so tiny data still trains. ``seed`` fixes the shuffling order.

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.data import tensor_loader
    >>> loader = tensor_loader(torch.arange(10.0), torch.arange(10), batch_size=4, seed=0)
    >>> [tuple(b[0].shape) for b in loader]
    [(4,), (4,)]
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    ds = TensorBatchDataset(*tensors)
    if shuffle:
        gen = torch.Generator()
        if seed is not None:
            gen.manual_seed(seed)
        base = RandomSampler(ds, generator=gen)
    else:
        base = SequentialSampler(ds)
    drop = drop_last and len(ds) >= batch_size
    sampler = BatchSampler(base, batch_size=batch_size, drop_last=drop)
    return DataLoader(ds, sampler=sampler, batch_size=None)
