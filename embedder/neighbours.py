"""Vectors -> top-k cosine neighbours, in chunks of BLAS matrix products."""

from __future__ import annotations

import numpy as np

from .values import Neighbours


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


def nearest(vectors: np.ndarray, k: int = 10, *, chunk: int = 2048) -> Neighbours:
    """Exact top-``k`` cosine neighbours of every row, itself excluded.

    Each chunk of rows is scored against all rows with one matrix product.
    Instead of partitioning every row, the row is cut into k groups: the
    smallest of the k group maxima is reached by at least k entries, so it
    bounds the k-th best score from below, at the cost of one max-reduction.
    Only the few entries at or above it (a few dozen per row) are sorted, by
    score and then by lower row index.  The result is exact.
    """
    n = len(vectors)
    k = min(k, n - 1)
    unit = normalise(vectors)
    indices = np.empty((n, k), dtype=np.int32)
    scores = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        block = unit[start:stop] @ unit.T
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        kth = _kth_lower_bound(block, k)
        rows, cols = np.nonzero(block >= kth[:, None])
        values = block[rows, cols]
        order = np.lexsort((cols, -values, rows))
        rows, cols, values = rows[order], cols[order], values[order]
        # Keep the first k entries of each row (ties at the k-th score can add more).
        first = np.searchsorted(rows, np.arange(stop - start))
        take = (first[:, None] + np.arange(k)).ravel()
        indices[start:stop] = cols[take].reshape(-1, k)
        scores[start:stop] = values[take].reshape(-1, k)
    return Neighbours(indices=indices, scores=scores)


def _kth_lower_bound(block: np.ndarray, k: int) -> np.ndarray:
    """Per row, a score that at least k entries of the row reach."""
    width = block.shape[1] // k
    groups = block[:, : width * k].reshape(len(block), k, width)
    return groups.max(axis=2).min(axis=1)
