"""What the explorer shows per movie and per user: co-rated lists, recommendations, hints, genre facets.

Everything here is vectorised or compiled: recommendation scores come from
BLAS products in chunks; co-rated counts, the top-k selections and the
"because you rated" hints from the one-pass loops of ``kernels``.
``embedder.site.explorer`` encodes the results into the explorer's files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedder.model.neighbours import normalise
from embedder.ratings.catalogue import rated_by
from embedder.ratings.genres import OTHER
from embedder.values import Interactions

CORATED_K = 10
#: Co-rated counts take each person's latest this-many ratings: the few people who rated
#: thousands of movies would otherwise dominate every list (and 3/4 of the work at ML-25M size).
CORATED_HISTORY = 1_000
RECOMMENDATIONS_K = 10
#: Scores of one dense block (users x movies) in the chunked recommendation products (16 MB of float32).
BLOCK = 4_000_000
#: A user's facet when they rated nothing.
NO_FACET = 255


@dataclass(frozen=True)
class UserLists:
    """Per user (embedding order): rated movie rows, recommendations, scores and hints."""

    rated: list
    rated_total: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    because: np.ndarray


# --- ratings: who rated what, co-rated lists ---------------------------------------------------


def latest_ratings(interactions: Interactions, limit: int) -> tuple[Interactions, bool]:
    """The log with each user's ``limit`` latest ratings only (timestamp, then file order); and whether any was cut."""
    counts = np.bincount(interactions.user, minlength=len(interactions.user_ids))
    heavy = np.flatnonzero(counts[interactions.user] > limit)
    if len(heavy) == 0:
        return interactions, False
    users = interactions.user[heavy]
    times = interactions.timestamp[heavy] if interactions.timestamp is not None else np.zeros(len(heavy), np.int64)
    heavy = heavy[np.lexsort((heavy, times, users))]  # by user, oldest first
    users = interactions.user[heavy]
    position = np.arange(len(heavy)) - np.searchsorted(users, users, side="left")
    age = counts[users] - 1 - position  # 0 for a user's newest rating
    keep = np.ones(len(interactions), dtype=bool)
    keep[heavy[age >= limit]] = False
    return Interactions(interactions.user_ids, interactions.item_ids, interactions.user[keep], interactions.item[keep],
                        None if interactions.rating is None else interactions.rating[keep],
                        None if interactions.timestamp is None else interactions.timestamp[keep]), True


def co_rated(rated, k: int = CORATED_K) -> tuple[np.ndarray, np.ndarray]:
    """Per movie, the ``k`` movies most often rated by the same people, with those counts.

    ``rated`` is a binary (users x movies) sparse matrix.  The counts are
    those of ``rated.T @ rated``, but never materialised: a compiled loop
    (``kernels.co_rated_counts``) counts each movie's co-ratings in one
    reusable array and keeps the top ``k`` exactly, ties to the lower movie
    row.  Rows are padded with -1 (count 0) when fewer than ``k`` movies
    share a rater.
    """
    from embedder.model.kernels import co_rated_counts

    rated = rated.tocsr()
    n = rated.shape[1]
    k = min(k, max(n - 1, 0))
    if k == 0:
        return np.full((n, 0), -1, dtype=np.int32), np.zeros((n, 0), dtype=np.int32)
    return co_rated_counts(rated.T.tocsr(), rated, k)


# --- users: recommendations --------------------------------------------------------------------

#: How recommendations are scored (shown on the page).
SCORING = "cosine of the user's vector and each movie's vector; movies they rated are left out"


def user_lists(rated_log, interactions: Interactions, user_ids, user_vectors, movie_vectors,
               recommend=None) -> UserLists:
    """Rated movies, top recommendations and "because you rated" hints of every user on the map.

    ``rated_log`` says who rated which movie (log users x embedding movies);
    ``recommend`` is the site's recommender (see ``ExplorerInput.recommend``),
    None for the cosine of the user and movie vectors (``recommendations``).
    """
    rated = rated_by(rated_log, interactions, user_ids)
    rated.sort_indices()
    hints = None
    if recommend is not None:
        items, scores, hints = recommend(rated)
    else:
        items, scores = recommendations(user_vectors, movie_vectors, rated, RECOMMENDATIONS_K)
    if hints is None:
        hints = because(items, rated, movie_vectors)
    lists = np.split(rated.indices.astype(np.int64), rated.indptr[1:-1])
    return UserLists(rated=lists, rated_total=np.diff(rated.indptr), items=items, scores=scores, because=hints)


def recommendations(user_vectors, movie_vectors, rated, k: int = RECOMMENDATIONS_K) -> tuple[np.ndarray, np.ndarray]:
    """The site's recommender: top-``k`` movies per user, movies they rated excluded.

    Scores are the cosine of the user vector and each movie vector (the two
    embeddings share a space).  This is the one call to swap for a better
    scorer (``embedder.model.recommend``): it must return ``(items, scores)``, both
    (users x k), items as movie rows best first and -1 where a user has
    fewer than ``k`` unrated movies.
    """
    from embedder.model.kernels import top_k_rows

    users = normalise(np.asarray(user_vectors, dtype=np.float32))
    movies = normalise(np.asarray(movie_vectors, dtype=np.float32))
    n_users, n_movies = len(users), len(movies)
    k = min(k, n_movies)
    items = np.full((n_users, k), -1, dtype=np.int64)
    scores = np.zeros((n_users, k), dtype=np.float32)
    step = max(1, BLOCK // max(n_movies, 1))
    for start in range(0, n_users, step):
        stop = min(n_users, start + step)
        block = users[start:stop] @ movies.T
        part, values = top_k_rows(block, k, rated[start:stop])
        valid = np.isfinite(values)
        items[start:stop] = np.where(valid, part, -1)
        scores[start:stop] = np.where(valid, values, 0)
    return items, scores


def because(items: np.ndarray, rated, movie_vectors) -> np.ndarray:
    """For each recommendation, the user's rated movie most similar to it (cosine); -1 when none.

    Ties go to the lower movie row; one compiled pass over each user's rated
    movies per recommendation slot (``kernels.best_match``).
    """
    from embedder.model.kernels import best_match

    return best_match(items, rated, normalise(np.asarray(movie_vectors, dtype=np.float32)))


# --- genres -------------------------------------------------------------------------------


def top_facets(rated_rows: list, masks: np.ndarray, n_facets: int, names: list[str]) -> np.ndarray:
    """Each user's most-rated named genre facet (``Other`` only when nothing else); ``NO_FACET`` when none."""
    from scipy.sparse import csr_matrix

    lengths = np.array([len(r) for r in rated_rows], dtype=np.int64)
    cols = np.concatenate(rated_rows) if len(rated_rows) and lengths.sum() else np.empty(0, dtype=np.int64)
    users = csr_matrix((np.ones(len(cols), dtype=np.float32), (np.repeat(np.arange(len(rated_rows)), lengths), cols)),
                       shape=(len(rated_rows), len(masks)))
    bits = ((masks[:, None].astype(np.int64) >> np.arange(n_facets)) & 1).astype(np.float32)
    table = np.asarray(users @ bits)
    if OTHER in names and n_facets > 1:
        other = names.index(OTHER)
        named = np.delete(table, other, axis=1).max(axis=1)
        table[:, other] = np.where(named > 0, -1, table[:, other])  # Other only when no named genre
    best = table.argmax(axis=1) if n_facets else np.zeros(len(rated_rows), dtype=np.int64)
    return np.where(lengths > 0, best, NO_FACET).astype(np.uint8)


# --- support -------------------------------------------------------------------------------------


def rare_points(supported: np.ndarray | None, n: int) -> np.ndarray:
    """True for the points rated too rarely to be trusted (none when no support rule applies)."""
    return np.zeros(n, dtype=bool) if supported is None else ~np.asarray(supported, dtype=bool)
