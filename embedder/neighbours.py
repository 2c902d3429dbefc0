"""Vectors -> top-k cosine neighbours of every row.

Two ways, one result type:

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

from .values import Neighbours

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


def nearest(vectors: np.ndarray, k: int = 10, *, method: str = "auto", threads: int = 2, chunk: int = 2048,
            seed: int = 0) -> Neighbours:
    """Top-``k`` cosine neighbours of every row, itself excluded, best first.

    ``method`` is ``"exact"``, ``"hnsw"`` or ``"auto"`` (exact up to
    ``EXACT_LIMIT`` rows).  ``threads`` > 1 makes the HNSW graph depend on
    thread timing; pass 1 for byte-identical rebuilds.
    """
    if method not in METHODS:
        raise ValueError(f"unknown neighbours method {method!r}; choose from {', '.join(METHODS)}")
    n = len(vectors)
    k = min(k, n - 1)
    if method == "hnsw" or (method == "auto" and n > EXACT_LIMIT):
        return hnsw_nearest(vectors, k, threads=threads, seed=seed)
    return exact_nearest(vectors, k, chunk=chunk)


def exact_nearest(vectors: np.ndarray, k: int, *, chunk: int = 2048, rows: np.ndarray | None = None) -> Neighbours:
    """Exact top-``k`` of the given ``rows`` (default all) against all rows, itself excluded."""
    from scipy.sparse import csr_matrix

    from .kernels import top_k_rows

    unit = normalise(vectors)
    rows = np.arange(len(unit)) if rows is None else np.asarray(rows)
    indices = np.empty((len(rows), k), dtype=np.int32)
    scores = np.empty((len(rows), k), dtype=np.float32)
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        block = unit[part] @ unit.T
        itself = csr_matrix((np.ones(len(part), dtype=bool), (np.arange(len(part)), part)), shape=block.shape)
        found, values = top_k_rows(block, k, itself)
        indices[start:start + len(part)] = found
        scores[start:start + len(part)] = values
    return Neighbours(indices=indices, scores=scores)


def hnsw_nearest(vectors: np.ndarray, k: int, *, threads: int = 2, seed: int = 0, ef: int = HNSW_EF) -> Neighbours:
    """Approximate top-``k`` from an HNSW graph (hnswlib, inner product of unit vectors)."""
    import hnswlib

    unit = normalise(vectors)
    n, d = unit.shape
    index = hnswlib.Index(space="ip", dim=d)
    index.init_index(max_elements=n, ef_construction=HNSW_EF_CONSTRUCTION, M=HNSW_M, random_seed=seed)
    index.set_num_threads(threads)
    index.add_items(unit, np.arange(n))
    index.set_ef(max(ef, k + 1))
    labels, distances = index.knn_query(unit, k=k + 1)
    # Drop each row's own index (usually first; a duplicate vector may come before it).
    own = labels == np.arange(n)[:, None]
    own[~own.any(axis=1), -1] = True
    keep = ~own
    indices = labels[keep].reshape(n, k).astype(np.int32)
    scores = (1.0 - distances[keep]).reshape(n, k).astype(np.float32)
    return Neighbours(indices=indices, scores=scores)


def recall_at_k(approximate: Neighbours, exact: Neighbours, rows: np.ndarray) -> float:
    """Share of the exact top-k of ``rows`` that the approximate lists found.

    ``exact`` holds the lists of ``rows`` only (``exact_nearest(..., rows=rows)``).
    """
    found = [len(set(a.tolist()) & set(b.tolist())) for a, b in zip(approximate.indices[rows], exact.indices)]
    return float(np.sum(found) / exact.indices.size)
