"""Compiled inner loops (numba) for the selections that numpy can only do with full sorts.

At MovieLens-25M size the build ranks 162k users against 59k movies and
counts co-ratings over 25M ratings.  numpy's ``argpartition`` costs several
nanoseconds per score and the co-rating product allocates billions of
entries; these loops make one pass each, in parallel over rows, with no
temporary arrays.  Every function here is exact and deterministic: ties go to
the lower column, whatever the thread count.

numba is imported (and the loops compiled, or loaded from numba's on-disk
cache) the first time one of them is called, never at import time.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def top_k_rows(scores: np.ndarray, k: int, exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best columns of every row, best first; ties go to the lower column.

    NaN counts as ``-inf``: still a candidate, ranked last by column.
    ``exclude`` is an optional scipy sparse (rows x columns) matrix of
    entries that are not candidates.  Rows with fewer than ``k`` candidates
    are padded with column -1 (and score -inf).

    Returns ``(columns int64, scores)``, both ``(rows, k)``.
    """
    scores = np.ascontiguousarray(scores)
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    rows = scores.shape[0]
    if exclude is None:
        indptr, indices = np.zeros(rows + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    else:
        indptr, indices = _sorted_csr(exclude)
    return _compiled()["top_k"](scores, int(k), indptr, indices)


def co_rated_counts(by_movie, by_user, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per movie, the ``k`` movies most often rated by the same users, and those counts.

    ``by_movie`` is a (movies x users) and ``by_user`` a (users x movies)
    binary CSR matrix of the same ratings.  Ties go to the lower movie row;
    rows are padded with -1 (count 0).  The cost is the sum over users of
    their rating count squared, one counter increment each.
    """
    n = by_movie.shape[0]
    blocks = max(1, min(n, 256))
    return _compiled()["co_rated"](by_movie.indptr.astype(np.int64), by_movie.indices.astype(np.int32),
                                   by_user.indptr.astype(np.int64), by_user.indices.astype(np.int32), n, int(k), blocks)


def best_match(items: np.ndarray, rated, unit: np.ndarray) -> np.ndarray:
    """For each (user, item) of ``items``, the user's rated row with the highest dot product.

    ``rated`` is a (users x movies) CSR matrix, ``unit`` the movie vectors;
    ties go to the lower movie row; -1 where the item is -1 or the user rated
    nothing.
    """
    indptr, indices = _sorted_csr(rated)
    return _compiled()["best_match"](np.ascontiguousarray(items, dtype=np.int64), indptr, indices,
                                     np.ascontiguousarray(unit, dtype=np.float32))


def best_weight(items: np.ndarray, rated, weights: np.ndarray, position: np.ndarray) -> np.ndarray:
    """For each (user, item) of ``items``, the user's rated row whose weight towards the item is largest.

    ``weights`` is square over the rows ``position`` maps to (``position[row]``
    is -1 for a row it does not cover); the weight of rated row ``j`` towards
    item ``r`` is ``weights[position[j], position[r]]``.  Ties go to the lower
    rated row; -1 where the item is -1 or uncovered, or no rated row is covered.
    """
    indptr, indices = _sorted_csr(rated)
    return _compiled()["best_weight"](np.ascontiguousarray(items, dtype=np.int64), indptr, indices,
                                      np.ascontiguousarray(weights, dtype=np.float32),
                                      np.ascontiguousarray(position, dtype=np.int64))


def _sorted_csr(matrix) -> tuple[np.ndarray, np.ndarray]:
    matrix = matrix.tocsr()
    if not matrix.has_sorted_indices or not matrix.data.all():
        matrix = matrix.copy()
        matrix.eliminate_zeros()  # an explicitly stored False is not an entry
        matrix.sort_indices()
    return matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64)


@lru_cache(maxsize=None)
def _compiled() -> dict:
    """Compile (or load from numba's cache) the loops, once per process."""
    from numba import njit, prange

    @njit(cache=True, parallel=True)
    def top_k(scores, k, indptr, indices):
        rows, cols = scores.shape
        out = np.full((rows, k), -1, dtype=np.int64)
        best = np.full((rows, k), -np.inf, dtype=scores.dtype)
        for r in prange(rows):
            filled = 0
            threshold = -np.inf  # the k-th best so far, once k are kept
            c = 0
            p = indptr[r]
            while c < cols:
                # The run of columns up to the next excluded one, with no per-column exclusion test.
                stop = indices[p] if p < indptr[r + 1] else cols
                for j in range(c, stop):
                    v = scores[r, j]
                    if filled == k and not v > threshold:  # also skips NaN
                        continue
                    if v != v:
                        v = -np.inf
                    # Insert after every kept entry with a score >= v (they have lower columns).
                    pos = filled if filled < k else k - 1
                    while pos > 0 and best[r, pos - 1] < v:
                        best[r, pos] = best[r, pos - 1]
                        out[r, pos] = out[r, pos - 1]
                        pos -= 1
                    best[r, pos] = v
                    out[r, pos] = j
                    if filled < k:
                        filled += 1
                    if filled == k:
                        threshold = best[r, k - 1]
                c = max(c, stop + 1)
                p += 1
        return out, best

    @njit(cache=True, parallel=True)
    def co_rated(m_indptr, m_users, u_indptr, u_items, n, k, blocks):
        out = np.full((n, k), -1, dtype=np.int32)
        counts = np.zeros((n, k), dtype=np.int32)
        per = (n + blocks - 1) // blocks
        for b in prange(blocks):
            counter = np.zeros(n, dtype=np.int32)
            touched = np.empty(n, dtype=np.int32)
            for m in range(b * per, min(n, (b + 1) * per)):
                t = 0
                for p in range(m_indptr[m], m_indptr[m + 1]):
                    u = m_users[p]
                    for q in range(u_indptr[u], u_indptr[u + 1]):
                        j = u_items[q]
                        if counter[j] == 0:
                            touched[t] = j
                            t += 1
                        counter[j] += 1
                filled = 0
                for s in range(t):
                    j = touched[s]
                    v = counter[j]
                    counter[j] = 0
                    if j == m:
                        continue
                    if filled == k and (v < counts[m, k - 1] or (v == counts[m, k - 1] and j > out[m, k - 1])):
                        continue
                    pos = filled if filled < k else k - 1
                    while pos > 0 and (counts[m, pos - 1] < v or (counts[m, pos - 1] == v and out[m, pos - 1] > j)):
                        counts[m, pos] = counts[m, pos - 1]
                        out[m, pos] = out[m, pos - 1]
                        pos -= 1
                    counts[m, pos] = v
                    out[m, pos] = j
                    if filled < k:
                        filled += 1
        return out, counts

    # fastmath lets the d-long dot products vectorise (sums in another order: ties of the
    # last float bit may pick another rated movie, the same on every run of one machine).
    @njit(cache=True, parallel=True, fastmath=True)
    def best_match(items, indptr, indices, unit):
        users, k = items.shape
        d = unit.shape[1]
        out = np.full((users, k), -1, dtype=np.int64)
        for u in prange(users):
            for s in range(k):
                r = items[u, s]
                if r < 0:
                    continue
                best = -np.inf
                pick = -1
                for p in range(indptr[u], indptr[u + 1]):
                    j = indices[p]
                    dot = np.float32(0.0)
                    for t in range(d):
                        dot += unit[r, t] * unit[j, t]
                    if pick < 0 or dot > best:
                        best = dot
                        pick = j
                out[u, s] = pick
        return out

    @njit(cache=True, parallel=True)
    def best_weight(items, indptr, indices, weights, position):
        users, k = items.shape
        out = np.full((users, k), -1, dtype=np.int64)
        for u in prange(users):
            for s in range(k):
                r = items[u, s]
                if r < 0 or position[r] < 0:
                    continue
                c = position[r]
                best = -np.inf
                pick = -1
                for p in range(indptr[u], indptr[u + 1]):
                    j = indices[p]
                    a = position[j]
                    if a < 0:
                        continue
                    w = weights[a, c]
                    if pick < 0 or w > best:
                        best = w
                        pick = j
                out[u, s] = pick
        return out

    return {"top_k": top_k, "co_rated": co_rated, "best_match": best_match, "best_weight": best_weight}
