"""Dataset + ids -> the facts every page needs: where rows sit in the catalogue and the log, counts, who rated what.

Counts, means and dates come from the whole log: from ``Dataset.interactions``
on one machine, from ``Dataset.stats`` when the log stayed on a Spark cluster
(``interactions`` then holds each user's latest ratings only).
"""

from __future__ import annotations

import numpy as np

from embedder.values import Dataset, Interactions


def positions(vocabulary: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Position of each of ``ids`` in ``vocabulary`` (-1 where absent); ids compare as the strings they are."""
    import pandas as pd

    return pd.Index(np.asarray(vocabulary, dtype=object)).get_indexer(np.asarray(ids, dtype=object))


def catalogue_rows(dataset: Dataset, ids: np.ndarray) -> np.ndarray:
    """Row of each id in ``dataset.movies`` (-1 where absent)."""
    return positions(dataset.movies.ids, ids)


def movie_stats(dataset: Dataset) -> tuple[np.ndarray, np.ndarray | None]:
    """Rating count and mean rating per catalogue row (``movies.ids`` equals ``interactions.item_ids``)."""
    if dataset.stats is not None:
        return _count_mean(dataset.stats.movie_counts, dataset.stats.movie_sums)
    return _tally(dataset.interactions.item, dataset.interactions.rating, len(dataset.movies))


def log_user_stats(dataset: Dataset) -> tuple[np.ndarray, np.ndarray | None]:
    """Rating count and mean rating per log user (``interactions.user_ids``)."""
    if dataset.stats is not None:
        return _count_mean(dataset.stats.user_counts, dataset.stats.user_sums)
    return _tally(dataset.interactions.user, dataset.interactions.rating, len(dataset.interactions.user_ids))


def rating_counts_of(dataset: Dataset, user_ids: np.ndarray) -> np.ndarray:
    """How many ratings each of ``user_ids`` gave in the whole log (0 for a user absent from it)."""
    counts, _ = log_user_stats(dataset)
    rows = user_rows(dataset, user_ids)
    return np.where(rows >= 0, counts[np.maximum(rows, 0)], 0)


def user_genre_table(dataset: Dataset, primary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(names, table)``: each log user's rating count per primary genre (``primary``: one per catalogue row)."""
    names, genre_of_movie = np.unique(np.asarray(primary).astype(str), return_inverse=True)
    if dataset.stats is not None and np.array_equal(dataset.stats.genre_names, names):
        return names, dataset.stats.user_genres
    inter = dataset.interactions
    n_users = len(inter.user_ids)
    pair = inter.user.astype(np.int64) * len(names) + genre_of_movie[inter.item]
    return names, np.bincount(pair, minlength=n_users * len(names)).reshape(n_users, len(names))


def rating_count(dataset: Dataset) -> int:
    """How many ratings the whole log holds."""
    return int(dataset.stats.ratings) if dataset.stats is not None else len(dataset.interactions)


def time_range(dataset: Dataset) -> tuple[int, int] | None:
    """The first and last timestamps of the log (None when it has no order in time)."""
    if dataset.stats is not None:
        first, last = dataset.stats.first_time, dataset.stats.last_time
        return None if first is None or last is None else (int(first), int(last))
    ts = dataset.interactions.timestamp
    return None if ts is None or len(ts) == 0 else (int(ts.min()), int(ts.max()))


def _tally(codes: np.ndarray, ratings: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Ratings per code and their mean (None without ratings)."""
    counts = np.bincount(codes, minlength=n)
    if ratings is None:
        return counts, None
    return counts, np.bincount(codes, weights=ratings, minlength=n) / np.maximum(counts, 1)


def _count_mean(counts: np.ndarray, sums: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    counts = np.asarray(counts, dtype=np.int64)
    return counts, None if sums is None else np.asarray(sums, dtype=np.float64) / np.maximum(counts, 1)


def user_rows(dataset: Dataset, ids: np.ndarray) -> np.ndarray:
    """Row of each user id in ``dataset.interactions.user_ids`` (-1 where absent)."""
    return positions(dataset.interactions.user_ids, ids)


def rated_matrix(interactions: Interactions, movie_ids: np.ndarray):
    """A binary sparse (log users x embedding movies) matrix: who rated which movie on the map."""
    from scipy.sparse import csr_matrix

    column = positions(movie_ids, interactions.item_ids)
    cols = column[interactions.item]
    keep = cols >= 0
    matrix = csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.int32), (interactions.user[keep], cols[keep])),
        shape=(len(interactions.user_ids), len(movie_ids)),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix


def rated_by(rated, interactions: Interactions, user_ids: np.ndarray):
    """The rows of ``rated`` (log users x movies) for ``user_ids``, in their order; a user absent from the log rated nothing."""
    log_rows = positions(interactions.user_ids, user_ids)
    by_user = rated[np.maximum(log_rows, 0)]
    if (log_rows < 0).any():
        by_user = by_user.multiply((log_rows >= 0)[:, None].astype(np.int32)).tocsr()
    return by_user
