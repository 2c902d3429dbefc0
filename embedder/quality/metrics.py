"""Rankings -> quality figures: HR@k, NDCG@k, coverage, genre Jaccard, paired intervals.

Everything here is plain numpy on integer item indices, so every figure can be
checked by hand on a tiny ranking (``tests/quality/test_metrics.py``).  A ranking is an
``(n_users, k)`` int array of item indices, best first, ``-1`` where a user had
fewer than ``k`` candidates.  Ties in a score are broken towards the lower item
index, everywhere, so every figure is deterministic.
"""

from __future__ import annotations

import numpy as np

#: Rank of a target that is not in the top k.
MISS = -1
#: Scores held in memory at once when ranking in blocks of rows (about 64 MB of float32): large
#: blocks keep BLAS and the compiled top-k busy (at 59k movies, a block is ~280 users).
BLOCK = 16_000_000


def rows_per_block(n_items: int) -> int:
    """How many rows of ``n_items`` scores fit in one block."""
    return max(1, BLOCK // max(n_items, 1))


def top_k(scores: np.ndarray, k: int, exclude=None) -> np.ndarray:
    """The ``k`` best columns of every row, best first; ties go to the lower index.

    Parameters
    ----------
    scores
        ``(n_rows, n_items)`` float array.  ``-inf`` (or NaN) marks an item the
        method cannot score: it is still a candidate, ranked last, by index.
    k
        How many to keep.
    exclude
        Optional ``(n_rows, n_items)`` boolean array or scipy sparse matrix of
        items that are not candidates (a user's already-rated movies).  They
        never appear; a row with fewer than ``k`` candidates is padded with -1.

    Returns
    -------
    np.ndarray
        ``(n_rows, k)`` int64 item indices.
    """
    from embedder.model.kernels import top_k_rows

    scores = np.asarray(scores)
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    n_rows, n_items = scores.shape
    out = np.full((n_rows, int(k)), MISS, dtype=np.int64)
    kk = min(int(k), n_items)
    if n_rows == 0 or kk == 0:
        return out
    if exclude is not None and not hasattr(exclude, "tocsr"):
        from scipy.sparse import csr_matrix

        exclude = csr_matrix(np.asarray(exclude, dtype=bool))
    # One compiled pass per row (embedder.model.kernels): excluded items skipped, ties to the lower index.
    out[:, :kk], _ = top_k_rows(scores, kk, exclude)
    return out


def target_ranks(ranking: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """0-based position of each row's target in its ranking, ``MISS`` when absent (or the target is -1)."""
    ranking = np.asarray(ranking)
    targets = np.asarray(targets)
    found = (ranking == targets[:, None]) & (targets[:, None] >= 0)
    return np.where(found.any(axis=1), found.argmax(axis=1), MISS)


def hit_rate(ranks: np.ndarray, k: int) -> np.ndarray:
    """Per-user HR@k (= recall@k with one held-out item): 1.0 when the target is in the top k."""
    ranks = np.asarray(ranks)
    return ((ranks >= 0) & (ranks < k)).astype(np.float64)


def ndcg(ranks: np.ndarray, k: int) -> np.ndarray:
    """Per-user NDCG@k with one relevant item: ``1 / log2(rank + 2)`` when it is in the top k."""
    ranks = np.asarray(ranks)
    hit = (ranks >= 0) & (ranks < k)
    return np.where(hit, 1.0 / np.log2(np.where(hit, ranks, 0) + 2.0), 0.0)


def coverage(ranking: np.ndarray, n_items: int) -> float:
    """Share of the catalogue that appears in at least one user's list."""
    shown = np.unique(ranking[ranking >= 0])
    return len(shown) / n_items if n_items else 0.0


def genre_matrix(genres, n_items: int | None = None):
    """Movies' genre tuples -> a boolean ``(n_movies, n_genres)`` matrix and the genre names."""
    names = sorted({g for movie in genres for g in movie})
    column = {name: j for j, name in enumerate(names)}
    matrix = np.zeros((len(genres) if n_items is None else n_items, len(names)), dtype=bool)
    for i, movie in enumerate(genres):
        for g in movie:
            matrix[i, column[g]] = True
    return matrix, names


def _jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Jaccard of two boolean arrays of genre rows (0 when both are empty)."""
    inter = (a & b).sum(axis=-1)
    union = (a | b).sum(axis=-1)
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0)


def genre_jaccard(neighbours: np.ndarray, genres: np.ndarray, anchors: np.ndarray) -> float:
    """Mean Jaccard between each anchor's genres and those of its listed neighbours.

    ``neighbours[i]`` lists item indices (``-1`` entries are skipped);
    ``genres`` is the boolean genre matrix; ``anchors`` the rows to average over.
    """
    anchors = np.asarray(anchors)
    if len(anchors) == 0:
        return float("nan")
    lists = np.asarray(neighbours)[anchors]
    valid = lists >= 0
    scores = _jaccard(genres[anchors][:, None, :], genres[np.where(valid, lists, 0)])
    per_anchor = np.where(valid, scores, 0.0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
    return float(per_anchor.mean())


def random_genre_jaccard(genres: np.ndarray, anchors: np.ndarray, candidates: np.ndarray | None = None) -> float:
    """The exact expected genre Jaccard of neighbours drawn uniformly at random.

    For each anchor, the mean Jaccard against every other candidate movie,
    averaged over anchors: what a random "neighbour" list scores on average.
    """
    anchors = np.asarray(anchors)
    candidates = np.arange(len(genres)) if candidates is None else np.asarray(candidates)
    g = genres.astype(np.float64)
    sizes = g.sum(axis=1)
    total = 0.0
    for start in range(0, len(anchors), 1024):
        block = anchors[start:start + 1024]
        inter = g[block] @ g[candidates].T
        union = sizes[block][:, None] + sizes[candidates][None, :] - inter
        jac = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
        self_pair = block[:, None] == candidates[None, :]
        jac[self_pair] = 0.0
        others = len(candidates) - self_pair.sum(axis=1)
        total += float((jac.sum(axis=1) / np.maximum(others, 1)).sum())
    return total / len(anchors) if len(anchors) else float("nan")


def standard_error(values: np.ndarray) -> float:
    """Standard error of a mean of per-user values."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return float("nan")
    return float(values.std(ddof=1) / np.sqrt(len(values)))


def paired_bootstrap(a: np.ndarray, b: np.ndarray, *, n: int = 2000, seed: int = 0, level: float = 0.95):
    """Mean of ``a - b`` and its percentile bootstrap interval, resampling users.

    ``a`` and ``b`` are per-user values of two methods on the same users, so
    the interval accounts for their correlation (most users are missed by both).
    """
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if len(diff) == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(n)
    for start in range(0, n, 256):
        stop = min(start + 256, n)
        draws = rng.integers(0, len(diff), size=(stop - start, len(diff)))
        means[start:stop] = diff[draws].mean(axis=1)
    tail = (1 - level) / 2
    return float(diff.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))
