"""Vectors (+ which rows may be listed) -> top-k cosine neighbours of every row.

Every row gets a list; ``candidates`` limits who may appear in the lists
(the supported rows, see ``embedder.model.support``).  Two ways, one result type:

* **exact** (up to ``EXACT_LIMIT`` rows, or when asked): each chunk of rows
  is scored against all rows with one BLAS product, and one compiled pass
  per row keeps its best k (``kernels.top_k_rows``), ties to the lower row
  index, so the result is deterministic whatever the chunking.
* **hnsw** (above ``EXACT_LIMIT``): an HNSW graph (hnswlib) over the unit
  vectors, queried with every row.  On 59k movies and 162k users it is an
  several times faster than the exact scan; ``benchmarks/bench_scale.py``
  measures its recall@10 against the exact answer on sampled rows
  (``recall_at_k``), which must stay at or above 0.99.
"""

from __future__ import annotations

import numpy as np

from embedder.values import Neighbours

#: Catalogues up to this many rows get the exact scan by default.
EXACT_LIMIT = 60_000
METHODS = ("auto", "exact", "hnsw")
#: HNSW settings: graph degree, build-time and query-time beam widths.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 100
HNSW_EF = 80


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


def nearest(vectors: np.ndarray, k: int = 10, *, candidates: np.ndarray | None = None, method: str = "auto",
            threads: int = 2, chunk: int = 2048, seed: int = 0) -> Neighbours:
    """Top-``k`` cosine neighbours of every row, itself excluded, best first.

    ``candidates`` (a boolean mask over the rows; default all) says which
    rows may appear in the lists: every row gets a list, drawn from the
    candidates only (``embedder.model.support`` keeps barely-rated movies out of
    everyone's lists this way).  ``method`` is ``"exact"``, ``"hnsw"`` or
    ``"auto"`` (exact up to ``EXACT_LIMIT`` candidates).  ``threads`` > 1
    makes the HNSW graph depend on thread timing; pass 1 for byte-identical
    rebuilds.
    """
    if method not in METHODS:
        raise ValueError(f"unknown neighbours method {method!r}; choose from {', '.join(METHODS)}")
    pool = None if candidates is None or np.all(candidates) else np.flatnonzero(candidates)
    size = len(vectors) if pool is None else len(pool)
    # A row that is itself a candidate cannot list itself: with every row a candidate, k stays below n.
    k = min(k, size - 1 if pool is None or size == len(vectors) else size)
    if method == "hnsw" or (method == "auto" and size > EXACT_LIMIT):
        return hnsw_nearest(vectors, k, threads=threads, seed=seed, pool=pool)
    return exact_nearest(vectors, k, chunk=chunk, pool=pool)


def exact_nearest(vectors: np.ndarray, k: int, *, chunk: int = 2048, rows: np.ndarray | None = None,
                  pool: np.ndarray | None = None) -> Neighbours:
    """Exact top-``k`` of the given ``rows`` (default all) against the ``pool`` rows (default all), itself excluded.

    A row with fewer than ``k`` other pool rows is padded with -1 (score -inf).
    """
    from scipy.sparse import csr_matrix

    from embedder.model.kernels import top_k_rows

    unit = normalise(vectors)
    rows = np.arange(len(unit)) if rows is None else np.asarray(rows)
    pool = np.arange(len(unit)) if pool is None else np.asarray(pool)
    reference = unit[pool]
    # Where each row sits in the pool (-1: not a candidate), to exclude itself.
    place = np.full(len(unit), -1, dtype=np.int64)
    place[pool] = np.arange(len(pool))
    indices = np.empty((len(rows), k), dtype=np.int32)
    scores = np.empty((len(rows), k), dtype=np.float32)
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        block = unit[part] @ reference.T
        inside = place[part] >= 0
        itself = csr_matrix((np.ones(int(inside.sum()), dtype=bool), (np.flatnonzero(inside), place[part][inside])),
                            shape=block.shape)
        found, values = top_k_rows(block, k, itself)
        indices[start:start + len(part)] = np.where(found >= 0, pool[np.maximum(found, 0)], -1)
        scores[start:start + len(part)] = values
    return Neighbours(indices=indices, scores=scores)


def hnsw_nearest(vectors: np.ndarray, k: int, *, threads: int = 2, seed: int = 0, ef: int = HNSW_EF,
                 pool: np.ndarray | None = None, rows: np.ndarray | None = None) -> Neighbours:
    """Approximate top-``k`` of ``rows`` (default all) from an HNSW graph over the ``pool`` rows (default all).

    hnswlib's inner product of unit vectors; each row's own index is dropped.
    """
    import hnswlib

    unit = normalise(vectors)
    n, d = unit.shape
    pool = np.arange(n) if pool is None else np.asarray(pool)
    rows = np.arange(n) if rows is None else np.asarray(rows)
    index = hnswlib.Index(space="ip", dim=d)
    index.init_index(max_elements=len(pool), ef_construction=HNSW_EF_CONSTRUCTION, M=HNSW_M, random_seed=seed)
    index.set_num_threads(threads)
    index.add_items(unit[pool], pool)
    index.set_ef(max(ef, k + 1))
    labels, distances = index.knn_query(unit[rows], k=min(k + 1, len(pool)))
    labels = labels.astype(np.int64)
    if labels.shape[1] == k:  # the pool holds exactly k rows: pad, so that every row has one to drop
        labels = np.column_stack([labels, np.full(len(rows), -1)])
        distances = np.column_stack([distances, np.full(len(rows), np.inf)])
    # Drop each row's own index (usually first; a duplicate vector may come before it), else the last.
    own = labels == rows[:, None]
    own[~own.any(axis=1), -1] = True
    keep = ~own
    indices = labels[keep].reshape(len(rows), k).astype(np.int32)
    scores = (1.0 - distances[keep]).reshape(len(rows), k).astype(np.float32)
    return Neighbours(indices=indices, scores=np.where(indices >= 0, scores, -np.inf).astype(np.float32))


def nearest_in(vectors: np.ndarray, rows: np.ndarray, pool: np.ndarray, k: int, *, threads: int = 2,
               seed: int = 0) -> Neighbours:
    """Top-``k`` cosine neighbours of ``rows`` among the ``pool`` rows: exact up to ``EXACT_LIMIT`` pool rows, else HNSW."""
    k = min(k, len(pool))
    if len(pool) > EXACT_LIMIT:
        return hnsw_nearest(vectors, k, threads=threads, seed=seed, pool=pool, rows=rows)
    return exact_nearest(vectors, k, rows=rows, pool=pool)


def recall_at_k(approximate: Neighbours, exact: Neighbours, rows: np.ndarray) -> float:
    """Share of the exact top-k of ``rows`` that the approximate lists found.

    ``exact`` holds the lists of ``rows`` only (``exact_nearest(..., rows=rows)``).
    """
    found = [len(set(a.tolist()) & set(b.tolist())) for a, b in zip(approximate.indices[rows], exact.indices)]
    return float(np.sum(found) / exact.indices.size)
