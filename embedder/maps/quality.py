"""Vectors + a 2-D map of them -> how much of the vectors' neighbourhoods the map keeps.

Two figures, over the supported points on the map (``embedder.model.support``):

* **genre Jaccard@10 on the map** against the vectors' own: for each anchor
  movie (rated at least ``ANCHOR_RATINGS`` times, with a genre), the mean
  Jaccard between its genres and those of its 10 nearest points *on the
  map*, next to the same figure for its 10 nearest *vectors* (cosine).  A
  map that keeps genre neighbourhoods scores close to the vectors (the goal
  is at least 0.9x); PCA of real data scores near random.
* **neighbourhood preservation**: the share of each point's 10 nearest
  vectors that are among its 10 nearest points on the map.

Both are means over at most ``SAMPLE`` seeded anchors, so they cost about a
second at 162k points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedder.quality.metrics import genre_jaccard, genre_matrix
from embedder.model.neighbours import nearest_in
from embedder.values import Neighbours

K = 10
#: Anchors of the genre figure: movies rated at least this often (the evaluation protocol, docs/quality.md).
ANCHOR_RATINGS = 10
SAMPLE = 5_000


@dataclass(frozen=True)
class MapQuality:
    """The figures of one side's map (``genre_map``/``genre_vectors`` are None for users)."""

    layout: str
    points: int
    anchors: int
    preservation: float
    genre_map: float | None = None
    genre_vectors: float | None = None
    seconds: float | None = None

    @property
    def genre_ratio(self) -> float | None:
        if self.genre_map is None or not self.genre_vectors:
            return None
        return self.genre_map / self.genre_vectors

    def describe(self, noun: str = "points") -> str:
        """One line: ``t-SNE of 3,650 movies: genre Jaccard@10 0.347 on the map, 0.379 in the vectors (0.92x); ...``."""
        from embedder.maps.layouts import LABELS

        text = f"{LABELS.get(self.layout, self.layout)} of {self.points:,} {noun}: "
        if self.genre_map is not None:
            text += (f"genre Jaccard@{K} {self.genre_map:.3f} on the map, {self.genre_vectors:.3f} in the vectors "
                     f"({self.genre_ratio:.2f}x); ")
        text += f"{self.preservation:.0%} of each point's {K} nearest vectors are among its {K} nearest on the map"
        if self.seconds is not None:
            text += f"; laid out in {self.seconds:.1f} s"
        return text


def map_quality(vectors: np.ndarray, coords: np.ndarray, rows: np.ndarray, *, layout: str = "tsne",
                genres=None, counts: np.ndarray | None = None, seed: int = 0, threads: int = 1,
                seconds: float | None = None, neighbours: Neighbours | None = None) -> MapQuality:
    """The figures of the map ``coords`` of ``vectors``, over the points ``rows``.

    ``genres`` (a genre tuple per row) and ``counts`` (ratings per row) make
    the genre figure, for movies; without them only preservation is measured.
    ``neighbours`` are every row's nearest vectors among ``rows`` when the
    caller has them already (the build's neighbour lists); with at least
    ``K`` of them a row, no search is made again.
    """
    rows = np.asarray(rows)
    k = min(K, len(rows) - 1)
    if k < 1:
        return MapQuality(layout, len(rows), 0, float("nan"), seconds=seconds)
    rng = np.random.default_rng(seed)
    sample = rows if len(rows) <= SAMPLE else np.sort(rng.choice(rows, SAMPLE, replace=False))
    if neighbours is not None and neighbours.indices.shape[1] >= k:
        vector_lists = np.asarray(neighbours.indices[sample, :k], dtype=np.int64)
    else:
        vector_lists = nearest_in(vectors, sample, rows, k, threads=threads, seed=seed).indices.astype(np.int64)
    map_lists = _map_neighbours(coords, rows, sample, k)
    preservation = float(np.mean([len(np.intersect1d(a[a >= 0], b)) / k for a, b in zip(vector_lists, map_lists)]))
    if genres is None or counts is None:
        return MapQuality(layout, len(rows), len(sample), preservation, seconds=seconds)
    matrix, _ = genre_matrix(genres)
    anchors = np.flatnonzero((np.asarray(counts)[sample] >= ANCHOR_RATINGS) & matrix[sample].any(axis=1))
    if len(anchors) == 0:
        return MapQuality(layout, len(rows), len(sample), preservation, seconds=seconds)
    # genre_jaccard indexes the lists by anchor row, and the lists hold genre rows.
    on_map = genre_jaccard(_as_rows(map_lists[anchors], sample[anchors], len(genres)), matrix, sample[anchors])
    in_vectors = genre_jaccard(_as_rows(vector_lists[anchors], sample[anchors], len(genres)), matrix, sample[anchors])
    return MapQuality(layout, len(rows), len(anchors), preservation, on_map, in_vectors, seconds)


def _map_neighbours(coords: np.ndarray, rows: np.ndarray, sample: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest of ``rows`` to each ``sample`` point on the map (itself left out), as row indices."""
    from scipy.spatial import cKDTree

    tree = cKDTree(np.asarray(coords, dtype=np.float64)[rows])
    _, found = tree.query(np.asarray(coords, dtype=np.float64)[sample], k=k + 1)
    found = rows[found]
    lists = np.empty((len(sample), k), dtype=np.int64)
    for i, (point, row) in enumerate(zip(sample, found)):
        others = row[row != point]
        lists[i] = others[:k]
    return lists


def _as_rows(lists: np.ndarray, anchors: np.ndarray, n: int) -> np.ndarray:
    """Lists of the anchors laid out as an ``(n, k)`` table indexed by row (what ``genre_jaccard`` reads)."""
    table = np.full((n, lists.shape[1]), -1, dtype=np.int64)
    table[anchors] = lists
    return table
