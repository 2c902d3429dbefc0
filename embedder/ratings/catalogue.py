"""Dataset + ids -> the facts every page needs: where rows sit in the catalogue and the log, counts, who rated what."""

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
    inter = dataset.interactions
    counts = np.bincount(inter.item, minlength=len(dataset.movies))
    if inter.rating is None:
        return counts, None
    sums = np.bincount(inter.item, weights=inter.rating, minlength=len(dataset.movies))
    return counts, sums / np.maximum(counts, 1)


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
