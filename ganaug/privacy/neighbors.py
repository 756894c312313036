"""Exact nearest-neighbour distances, batched: ``100k x 100k`` in bounded memory.

The screen is one matrix product per block (``|q|^2 + |r|^2 - 2 q.r`` in
float32, on torch's BLAS), a running ``topk`` per query block keeps a few
candidates, and the candidates' distances are then recomputed directly in
float64, so an exact copy comes out at distance 0 (the expanded formula alone
would leave rounding noise of about ``1e-3`` there).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["nearest_distances"]

#: extra candidates screened per query before the exact float64 recomputation
_SLACK = 2


def _check_matrix(a, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; encode missing values first")
    return arr


def nearest_distances(query, reference, k: int = 1, *, exclude_self: bool = False, query_block: int = 2048,
                      reference_block: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances from every query row to its ``k`` nearest reference rows.

    Parameters
    ----------
    query : array of shape (n_query, d)
    reference : array of shape (n_reference, d)
    k : int, default=1
        Neighbours per query row, nearest first.
    exclude_self : bool, default=False
        ``query`` *is* ``reference`` (same rows, same order): row ``i`` is not
        its own neighbour (leave-one-out distances). A duplicate of row ``i``
        elsewhere still counts, at distance 0.
    query_block, reference_block : int
        Block sizes; memory is about ``query_block * reference_block * 4`` bytes.

    Returns
    -------
    distances : ndarray of shape (n_query, k), float64
    indices : ndarray of shape (n_query, k), int64
        Row numbers in ``reference``.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.privacy.neighbors import nearest_distances
    >>> ref = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 0.0]])
    >>> d, i = nearest_distances(np.array([[0.0, 0.0], [3.0, 0.0]]), ref, k=2)
    >>> d.tolist(), i.tolist()
    ([[0.0, 5.0], [3.0, 4.0]], [[0, 1], [0, 1]])
    """
    q64 = _check_matrix(query, "query")
    r64 = _check_matrix(reference, "reference")
    if q64.shape[1] != r64.shape[1]:
        raise ValueError(f"query has {q64.shape[1]} features but reference has {r64.shape[1]}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    n_ref = r64.shape[0] - (1 if exclude_self else 0)
    if n_ref < k:
        raise ValueError(f"reference has {r64.shape[0]} rows; {k} neighbour(s) per query need more")
    if exclude_self and q64.shape[0] != r64.shape[0]:
        raise ValueError("exclude_self=True needs query and reference to be the same rows")
    nq = q64.shape[0]
    out_d = np.empty((nq, k), dtype=np.float64)
    out_i = np.empty((nq, k), dtype=np.int64)
    if nq == 0:
        return out_d, out_i
    # centre on the reference mean: smaller norms, less cancellation in the float32 screen
    centre = r64.mean(axis=0)
    q32 = torch.from_numpy((q64 - centre).astype(np.float32))
    r32 = torch.from_numpy((r64 - centre).astype(np.float32))
    r_sq = (r32 * r32).sum(1)
    n_cand = min(k + _SLACK + (1 if exclude_self else 0), r64.shape[0])
    q_t, r_t = torch.from_numpy(q64), torch.from_numpy(r64)
    with torch.no_grad():
        for lo in range(0, nq, query_block):
            qb = q32[lo : lo + query_block]
            q_sq = (qb * qb).sum(1, keepdim=True)
            best_d = torch.full((qb.shape[0], 0), float("inf"))
            best_i = torch.zeros((qb.shape[0], 0), dtype=torch.long)
            for rlo in range(0, r32.shape[0], reference_block):
                rb = r32[rlo : rlo + reference_block]
                d2 = (q_sq + r_sq[rlo : rlo + reference_block].unsqueeze(0)).addmm_(qb, rb.T, alpha=-2.0)
                if exclude_self:
                    rows = torch.arange(lo, lo + qb.shape[0])
                    local = rows - rlo
                    inside = (local >= 0) & (local < rb.shape[0])
                    d2[inside.nonzero().squeeze(1), local[inside]] = float("inf")
                m = min(n_cand, d2.shape[1])
                vals, idx = torch.topk(d2, m, dim=1, largest=False)
                best_d = torch.cat([best_d, vals], dim=1)
                best_i = torch.cat([best_i, idx + rlo], dim=1)
                if best_d.shape[1] > n_cand:
                    best_d, pos = torch.topk(best_d, n_cand, dim=1, largest=False)
                    best_i = best_i.gather(1, pos)
            # exact distances of the candidates, in float64
            cand = r_t[best_i]  # (b, n_cand, d)
            exact = (q_t[lo : lo + qb.shape[0]].unsqueeze(1) - cand).pow(2).sum(-1).sqrt()
            if exclude_self:
                exact = torch.where(best_i == torch.arange(lo, lo + qb.shape[0]).unsqueeze(1), float("inf"), exact)
            order = torch.argsort(exact, dim=1, stable=True)[:, :k]
            out_d[lo : lo + qb.shape[0]] = exact.gather(1, order).numpy()
            out_i[lo : lo + qb.shape[0]] = best_i.gather(1, order).numpy()
    return out_d, out_i
