"""Training-by-sampling for the conditional tabular GAN, vectorised.

Every training row is drawn together with a condition, as in CTGAN, but with
the class label in front:

1. a class ``c`` with probability proportional to ``count_c ** class_balance``
   (``class_balance=1``: as in the data; ``0``: every class equally often);
2. a discrete column ``j`` uniformly;
3. a level ``k`` of column ``j`` among the rows of class ``c``, with
   probability proportional to ``log(1 + count)`` (rare levels are seen often
   enough to be learnt);
4. a real row with class ``c`` and level ``k`` in column ``j``.

All four steps are array operations over the whole batch: the rows of every
(class, column, level) bucket are stored contiguously (one ``argsort``), the
level draw is one ``searchsorted`` on a cumulative table whose blocks are
offset by their block number, and the row draw is ``start + floor(u * count)``.
No Python loop over rows (CTGAN's sampler loops over the batch in Python).

At generation time only step 3 is used, with the level frequencies as in the
data, so the generated table keeps the original marginals of each class.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ConditionalSampler"]


class ConditionalSampler:
    """Draws (row, condition) pairs for training and conditions for generation.

    Parameters
    ----------
    codes : ndarray of int, shape (n, n_discrete)
        Level index of each discrete column for every training row.
    n_levels : sequence of int
        Number of levels (one-hot width) of each discrete column.
    classes : ndarray of int, shape (n,)
        Class code ``0..n_classes-1`` of every row.
    n_classes : int
    class_balance : float in [0, 1], default=0.5
        Class ``c`` is drawn with probability proportional to
        ``count_c ** class_balance``: 1 = as in the data, 0 = all classes equally often.

    Attributes
    ----------
    n_categories : int
        Total number of levels over the discrete columns (the width of the
        level part of the conditional vector).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.tabular.sampler import ConditionalSampler
    >>> codes = np.array([[0], [1], [1], [0], [1], [1]])
    >>> s = ConditionalSampler(codes, [2], classes=np.array([0, 0, 0, 0, 1, 1]), n_classes=2)
    >>> rows, cats = s.sample_training(1000, np.random.default_rng(0))
    >>> bool(np.all(codes[rows, 0] == cats))  # every row has the level it was drawn for
    True
    """

    def __init__(self, codes: np.ndarray, n_levels, classes: np.ndarray, n_classes: int, class_balance: float = 0.5):
        codes = np.asarray(codes, dtype=np.int64)
        classes = np.asarray(classes, dtype=np.int64)
        if codes.ndim != 2 or codes.shape[0] != classes.shape[0]:
            raise ValueError(f"codes must be (n, n_discrete) with n = len(classes); got {codes.shape} and {classes.shape}")
        if not 0.0 <= float(class_balance) <= 1.0:
            raise ValueError(f"class_balance must be in [0, 1], got {class_balance}")
        n, n_disc = codes.shape
        self.n_rows = n
        self.n_classes = int(n_classes)
        self.n_discrete = n_disc
        self.n_levels = np.asarray(list(n_levels), dtype=np.int64)
        #: first global category id of each discrete column
        self.level_offsets = np.concatenate([[0], np.cumsum(self.n_levels)])[:-1].astype(np.int64)
        self.n_categories = int(self.n_levels.sum())
        C = self.n_classes

        class_counts = np.bincount(classes, minlength=C).astype(np.float64)
        w = np.where(class_counts > 0, class_counts ** float(class_balance), 0.0)
        self.class_probs = w / w.sum()
        self.class_counts = class_counts
        # rows grouped by class (used when there are no discrete columns)
        self._class_order = np.argsort(classes, kind="stable")
        self._class_start = np.concatenate([[0], np.cumsum(class_counts)])[:-1].astype(np.int64)
        self._class_count = class_counts.astype(np.int64)

        if n_disc == 0:
            return
        # buckets: for column j, class c, level k -> id base_j + c * K_j + k (contiguous per (c, j))
        self._bucket_base = np.concatenate([[0], np.cumsum(C * self.n_levels)])[:-1].astype(np.int64)
        n_buckets = int((C * self.n_levels).sum())
        keys = self._bucket_base[None, :] + classes[:, None] * self.n_levels[None, :] + codes  # (n, J)
        flat = keys.T.reshape(-1)  # column-major: all rows of column 0, then column 1...
        self._order = np.argsort(flat, kind="stable") % n  # row id of each sorted entry
        counts = np.bincount(flat, minlength=n_buckets).astype(np.int64)
        self._bucket_count = counts
        self._bucket_start = np.concatenate([[0], np.cumsum(counts)])[:-1].astype(np.int64)
        # block (c, j) = the K_j buckets of class c in column j; block id = c * J + j
        bucket_col = np.repeat(np.arange(n_disc), C * self.n_levels)
        bucket_class = np.concatenate([np.repeat(np.arange(C), K) for K in self.n_levels]) if n_disc else np.zeros(0, int)
        block = bucket_class * n_disc + bucket_col
        self._bucket_block = block
        self._bucket_level = np.concatenate([np.tile(np.arange(K), C) for K in self.n_levels])
        self._bucket_col = bucket_col
        # buckets sorted by block so that every block is one contiguous range
        self._by_block = np.argsort(block, kind="stable")
        sorted_block = block[self._by_block]
        self._cdf_log = self._block_cdf(np.log1p(counts[self._by_block]), sorted_block)
        self._cdf_freq = self._block_cdf(counts[self._by_block].astype(np.float64), sorted_block)

    @staticmethod
    def _block_cdf(weights: np.ndarray, block: np.ndarray) -> np.ndarray:
        """Cumulative probabilities within each block, offset by the block id (monotone overall)."""
        totals = np.bincount(block, weights=weights)
        p = weights / np.where(totals[block] > 0, totals[block], 1.0)
        csum = np.cumsum(p)
        first = np.concatenate([[True], block[1:] != block[:-1]])
        start_of_block = np.maximum.accumulate(np.where(first, np.arange(len(block)), 0))
        before = np.where(start_of_block > 0, csum[start_of_block - 1], 0.0)
        within = csum - before
        # rounding can leave the last entry of a block a hair under 1
        last = np.concatenate([block[1:] != block[:-1], [True]])
        within[last & (totals[block] > 0)] = 1.0
        return block + within

    def _draw_bucket(self, cls: np.ndarray, col: np.ndarray, rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
        block = cls * self.n_discrete + col
        u = rng.random(len(cls))
        u = np.minimum(u, 1.0 - 1e-12)
        pos = np.searchsorted(cdf, block + u, side="right")
        pos = np.minimum(pos, len(cdf) - 1)
        return self._by_block[pos]

    def category_of(self, bucket: np.ndarray) -> np.ndarray:
        """Global category id (offset of the column + level) of buckets."""
        return self.level_offsets[self._bucket_col[bucket]] + self._bucket_level[bucket]

    def sample_training(self, n: int, rng: np.random.Generator, group: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, categories)`` for ``n`` training samples; categories are -1 without discrete columns.

        ``group`` > 1 draws one class per run of ``group`` consecutive samples
        (a discriminator pack then holds rows of one class, so it can judge
        the class's distribution, not only single rows).
        """
        group = max(1, int(group))
        n_groups = -(-n // group)
        cls = np.repeat(rng.choice(self.n_classes, size=n_groups, p=self.class_probs), group)[:n]
        if self.n_discrete == 0:
            u = rng.random(n)
            rows = self._class_order[self._class_start[cls] + np.floor(u * self._class_count[cls]).astype(np.int64)]
            return rows, np.full(n, -1, dtype=np.int64)
        col = rng.integers(0, self.n_discrete, size=n)
        bucket = self._draw_bucket(cls, col, rng, self._cdf_log)
        u = rng.random(n)
        rows = self._order[self._bucket_start[bucket] + np.floor(u * self._bucket_count[bucket]).astype(np.int64)]
        return rows, self.category_of(bucket)

    def sample_conditions(self, classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Level conditions for generating rows of the given classes (data frequencies); -1 if none."""
        classes = np.asarray(classes, dtype=np.int64)
        if self.n_discrete == 0:
            return np.full(len(classes), -1, dtype=np.int64)
        col = rng.integers(0, self.n_discrete, size=len(classes))
        bucket = self._draw_bucket(classes, col, rng, self._cdf_freq)
        return self.category_of(bucket)

    # ---------------------------------------------------------- persistence
    def generation_state(self) -> dict:
        """What :meth:`sample_conditions` needs after loading: level counts per class and column."""
        if self.n_discrete == 0:
            return {"n_levels": [], "n_classes": self.n_classes, "counts": []}
        return {"n_levels": self.n_levels.tolist(), "n_classes": self.n_classes,
                "counts": self._bucket_count.tolist()}

    @classmethod
    def for_generation(cls, state: dict) -> "ConditionalSampler":
        """A sampler that can only draw generation conditions, rebuilt from :meth:`generation_state`."""
        n_levels = [int(k) for k in state["n_levels"]]
        C = int(state["n_classes"])
        counts = np.asarray(state["counts"], dtype=np.int64)
        # synthesise one code row per (class, level) bucket with its count as a weight:
        # build the object directly instead of expanding rows
        obj = cls.__new__(cls)
        obj.n_classes, obj.n_discrete = C, len(n_levels)
        obj.n_levels = np.asarray(n_levels, dtype=np.int64)
        obj.level_offsets = np.concatenate([[0], np.cumsum(obj.n_levels)])[:-1].astype(np.int64)
        obj.n_categories = int(obj.n_levels.sum())
        if obj.n_discrete == 0:
            return obj
        bucket_col = np.repeat(np.arange(obj.n_discrete), C * obj.n_levels)
        bucket_class = np.concatenate([np.repeat(np.arange(C), K) for K in obj.n_levels])
        block = bucket_class * obj.n_discrete + bucket_col
        obj._bucket_count = counts
        obj._bucket_col = bucket_col
        obj._bucket_level = np.concatenate([np.tile(np.arange(K), C) for K in obj.n_levels])
        obj._by_block = np.argsort(block, kind="stable")
        sorted_block = block[obj._by_block]
        obj._cdf_freq = cls._block_cdf(counts[obj._by_block].astype(np.float64), sorted_block)
        obj._cdf_log = cls._block_cdf(np.log1p(counts[obj._by_block]), sorted_block)
        return obj
