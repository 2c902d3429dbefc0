"""Dataset + ids -> the facts every page needs: where rows sit in the catalogue and the log, counts, who rated what."""

from __future__ import annotations

import numpy as np

from .values import Dataset, Interactions


def catalogue_rows(dataset: Dataset, ids: np.ndarray) -> np.ndarray:
    """Row of each id in ``dataset.movies`` (-1 where absent)."""
    import pandas as pd

    return pd.Index(np.asarray(dataset.movies.ids, dtype=object)).get_indexer(np.asarray(ids, dtype=object))


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
    import pandas as pd

    return pd.Index(np.asarray(dataset.interactions.user_ids, dtype=object)).get_indexer(np.asarray(ids, dtype=object))


def rated_matrix(interactions: Interactions, movie_ids: np.ndarray):
    """A binary sparse (log users x embedding movies) matrix: who rated which movie on the map."""
    import pandas as pd
    from scipy.sparse import csr_matrix

    column = pd.Index(np.asarray(movie_ids, dtype=object)).get_indexer(np.asarray(interactions.item_ids, dtype=object))
    cols = column[interactions.item]
    keep = cols >= 0
    matrix = csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.int32), (interactions.user[keep], cols[keep])),
        shape=(len(interactions.user_ids), len(movie_ids)),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix
