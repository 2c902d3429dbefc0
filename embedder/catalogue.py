"""Per-movie facts every page needs: where an embedding's rows sit in the catalogue, and rating counts."""

from __future__ import annotations

import numpy as np

from .values import Dataset


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
