"""Ratings -> the arrays the TensorFlow models train on (numpy only, no TensorFlow).

Every model exports vectors for given rows: ``movie_ids`` (the site's movie
embedding rows, so the sprite and metadata are shared) and ``user_ids``.
Ratings of movies outside ``movie_ids`` are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from embedder.ratings.catalogue import positions
from embedder.values import Interactions, Movies

#: "Toy Story (1995)" -> "Toy Story"; also "(1995-1998)" ranges of series.
_YEAR_SUFFIX = re.compile(r"\s*\(\d{4}(?:[-\u2013]\d{0,4})?\)\s*$")
#: "Usual Suspects, The" -> "The Usual Suspects" (MovieLens moves articles to the end).
_ARTICLE_SUFFIX = re.compile(r"^(.*), (The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)$", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)


@dataclass(frozen=True)
class Histories:
    """Each user's rated movies in time order, as CSR rows over catalogue columns.

    Row ``u`` is ``interactions.user_ids[u]``; ``items[indptr[u]:indptr[u+1]]``
    are columns into ``movie_ids`` ordered by (timestamp, file row), and
    ``ratings`` (None without a rating column) follows ``items``.
    """

    user_ids: np.ndarray
    movie_ids: np.ndarray
    indptr: np.ndarray
    items: np.ndarray
    ratings: np.ndarray | None

    def lengths(self) -> np.ndarray:
        return np.diff(self.indptr)


def histories(interactions: Interactions, movie_ids) -> Histories:
    """Group the log by user, in time order, keeping only the movies of ``movie_ids``."""
    movie_ids = np.asarray(movie_ids)
    column = positions(movie_ids, interactions.item_ids)[interactions.item]
    rows = np.flatnonzero(column >= 0)
    user = interactions.user[rows].astype(np.int64)
    keys = (rows, user) if interactions.timestamp is None else (rows, interactions.timestamp[rows], user)
    order = rows[np.lexsort(keys)]
    counts = np.bincount(interactions.user[order], minlength=len(interactions.user_ids))
    indptr = np.zeros(len(interactions.user_ids) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Histories(
        user_ids=np.asarray(interactions.user_ids),
        movie_ids=movie_ids,
        indptr=indptr,
        items=column[order].astype(np.int64),
        ratings=None if interactions.rating is None else interactions.rating[order].astype(np.float32),
    )


def windows(h: Histories, users: np.ndarray, ends: np.ndarray, length: int) -> np.ndarray:
    """For each (user, end): the ``length`` movies before position ``end`` of their history, as ids + 1.

    Right-aligned, 0-padded on the left (0 is the padding id the models mask).
    ``end`` counts from the start of the user's history (exclusive).
    """
    users = np.asarray(users, dtype=np.int64)
    stop = h.indptr[users] + np.asarray(ends, dtype=np.int64)
    pos = stop[:, None] - length + np.arange(length)[None, :]
    valid = pos >= h.indptr[users][:, None]
    ids = np.where(valid, h.items[np.clip(pos, 0, max(len(h.items) - 1, 0))] + 1, 0) if len(h.items) else np.zeros(pos.shape, np.int64)
    return ids.astype(np.int32)


def genre_matrix(movies: Movies, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Multi-hot genres (float32) of catalogue ``rows``; placeholder genres ("unknown", "(no genres listed)") dropped."""
    from embedder.ratings.genres import NO_GENRE

    listed = [[g for g in movies.genres[r] if g not in NO_GENRE] for r in rows]
    names = sorted({g for movie in listed for g in movie})
    index = {g: j for j, g in enumerate(names)}
    matrix = np.zeros((len(rows), len(names)), dtype=np.float32)
    for i, movie in enumerate(listed):
        for g in movie:
            matrix[i, index[g]] = 1.0
    return matrix, names


def year_features(years: np.ndarray) -> np.ndarray:
    """``(standardised year, year known)`` per movie; unknown years (0) sit at the mean."""
    years = np.asarray(years, dtype=np.float64)
    known = years > 0
    mean = years[known].mean() if known.any() else 0.0
    std = years[known].std() if known.sum() > 1 else 1.0
    z = np.where(known, (years - mean) / (std or 1.0), 0.0)
    return np.column_stack([z, known.astype(np.float64)]).astype(np.float32)


def title_words(title: str, movie_id: str | None = None) -> list[str]:
    """A title's words, lower-cased: the year suffix dropped, a trailing ", The" moved back.

    A placeholder title (``"movie <id>"``, given by the readers to items the
    movies file does not list) has no words.
    """
    text = str(title).strip()
    if movie_id is not None and text == f"movie {movie_id}":
        return []
    text = _YEAR_SUFFIX.sub("", text)
    # "City of Lost Children, The (Cité des enfants perdus, La)": the first part is the English title.
    match = _ARTICLE_SUFFIX.match(text.split(" (")[0])
    if match:
        text = f"{match.group(2)} {match.group(1)}" + text[len(text.split(" (")[0]):]
    return [w.lower() for w in _WORD.findall(text)]


def top_k_unseen(scores: np.ndarray, k: int, seen_rows: list[np.ndarray]) -> np.ndarray:
    """Each row's ``k`` best columns, best first, excluding ``seen_rows[i]``; ties to the lower column."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    for i, seen in enumerate(seen_rows):
        scores[i, seen] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(scores, part, axis=1)
    return np.take_along_axis(part, _row_order(part, values), axis=1)


def _row_order(part: np.ndarray, values: np.ndarray) -> np.ndarray:
    n, k = part.shape
    rows = np.repeat(np.arange(n), k)
    flat = np.lexsort((part.ravel(), -values.ravel(), rows))
    return (flat - rows * k).reshape(n, k)
