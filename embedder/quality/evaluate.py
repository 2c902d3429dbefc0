"""Leave-last-out evaluation: the split and the protocol behind ``build.py evaluate``.

The protocol:

* users with at least ``MIN_RATINGS`` ratings; each user's ratings sorted by
  (timestamp, file row) -- in the log as ``embedder.ratings.order`` arranged it, so
  on an unordered log the rows are in a seeded random order and "last" is a
  random rating (random leave-one-out);
* **test** split: every user's last-rated movie is held out, the rest is
  training data; **val** split: the test movie is removed as well and the
  second-to-last movie is the target.  Defaults and baseline settings are
  chosen on val only;
* candidates: every movie in the training data (the catalogue) minus the
  user's own training movies -- a full ranking, no sampled negatives.  A
  target never seen in training is a miss for every method;
* figures: HR@10, NDCG@10, catalogue coverage@10; "similar movies": the genre
  Jaccard@10 of the neighbours of every movie with >= 10 training ratings
  (against the exact random expectation), and the next-item HR@10 when users
  are ranked by similarity to their last training movie.

``leave_last_out`` and ``make_task`` build the data; ``rank_users``,
``measure`` and ``similar_figures`` apply the protocol to any scorer (made by
``scorers`` from ``baselines`` and ``recommend``); ``runner.run`` puts it
together and returns a ``model_card.Report``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from embedder.quality.metrics import (
    coverage,
    genre_jaccard,
    genre_matrix,
    hit_rate,
    ndcg,
    random_genre_jaccard,
    rows_per_block,
    standard_error,
    target_ranks,
    top_k,
)
from embedder.ratings.catalogue import catalogue_rows, positions
from embedder.values import Dataset, Interactions, Sequences

#: Users with fewer ratings are left out of the evaluation altogether.
MIN_RATINGS = 5
#: Movies with at least this many training ratings are the genre-Jaccard anchors.
MIN_ANCHOR_RATINGS = 10
#: List length of every figure.
K = 10


@dataclass(frozen=True)
class Split:
    """A training log and one held-out movie per evaluated user.

    ``train`` keeps the full log's vocabularies (codes are unchanged) and its
    file order; ``users`` are user codes (ascending) and ``targets`` the held-out
    item code of each.
    """

    name: str
    train: Interactions
    users: np.ndarray
    targets: np.ndarray


def leave_last_out(interactions: Interactions, holdout: str = "test", min_ratings: int = MIN_RATINGS) -> Split:
    """Hold out each user's last-rated movie (``"test"``) or the one before it (``"val"``).

    Ratings are ordered by (timestamp, file row); users with fewer than
    ``min_ratings`` ratings are dropped.  For ``"val"`` the test movie is
    removed from training too.  A training row with the same (user, movie) as
    the target -- possible only in a log with repeated ratings -- is dropped, so
    a held-out pair is never in training.
    """
    if holdout not in ("test", "val"):
        raise ValueError(f"holdout must be 'test' or 'val', got {holdout!r}")
    n = len(interactions)
    rows = np.arange(n)
    user = interactions.user.astype(np.int64)
    keys = (rows, user) if interactions.timestamp is None else (rows, interactions.timestamp, user)
    order = np.lexsort(keys)
    counts = np.bincount(user, minlength=len(interactions.user_ids))
    ordered_user = user[order]
    ends = np.cumsum(counts)[ordered_user]
    from_end = ends - 1 - np.arange(n)
    eligible = counts[ordered_user] >= min_ratings
    skip = 0 if holdout == "test" else 1
    target_rows = order[eligible & (from_end == skip)]
    train_rows = order[eligible & (from_end > skip)]
    target_rows = target_rows[np.argsort(user[target_rows], kind="stable")]
    users, targets = user[target_rows], interactions.item[target_rows].astype(np.int64)
    target_of = np.full(len(interactions.user_ids), -1, dtype=np.int64)
    target_of[users] = targets
    train_rows = np.sort(train_rows)
    train_rows = train_rows[interactions.item[train_rows] != target_of[user[train_rows]]]
    return Split(name=holdout, train=_subset(interactions, train_rows), users=users, targets=targets)


def _subset(log: Interactions, rows: np.ndarray) -> Interactions:
    return Interactions(
        user_ids=log.user_ids,
        item_ids=log.item_ids,
        user=log.user[rows],
        item=log.item[rows],
        rating=None if log.rating is None else log.rating[rows],
        timestamp=None if log.timestamp is None else log.timestamp[rows],
    )


@dataclass(frozen=True)
class Task:
    """A split made ready for scoring: everything in catalogue columns.

    ``history`` has one time-ordered sentence per evaluated user (row ``r`` is
    ``split.users[r]``) whose tokens are catalogue columns; ``catalogue`` holds
    the item ids of those columns.  ``targets`` is -1 where the held-out movie
    never occurs in training.  ``X`` is the binary users x catalogue matrix.
    """

    split: Split
    history: Sequences
    catalogue: np.ndarray
    targets: np.ndarray
    X: object
    counts: np.ndarray
    genres: np.ndarray
    anchors: np.ndarray

    @property
    def n_users(self) -> int:
        return len(self.history)

    @property
    def n_items(self) -> int:
        return len(self.catalogue)

    def last_items(self, k: int = 1) -> np.ndarray:
        """The catalogue column of each user's ``k``-th most recent training movie."""
        return self.history.tokens[self.history.indptr[1:] - k]


def make_task(dataset: Dataset, split: Split, min_anchor_ratings: int = MIN_ANCHOR_RATINGS) -> Task:
    """Index a split by catalogue column (the movies present in its training data)."""
    from embedder.model.sequences import SequenceParams, make_sequences, sentence_matrix

    history, _ = make_sequences(split.train, SequenceParams(min_length=1))
    catalogue = history.token_ids
    if not np.array_equal(history.sentence_ids, split.train.user_ids[split.users]):
        raise ValueError("every evaluated user must have training ratings")
    targets = positions(catalogue, split.train.item_ids[split.targets])
    X = sentence_matrix(history)
    rows = catalogue_rows(dataset, catalogue)
    genres, _ = genre_matrix([dataset.movies.genres[r] if r >= 0 else () for r in rows])
    counts = history.token_counts()
    anchors = np.flatnonzero((counts >= min_anchor_ratings) & genres.any(axis=1))
    return Task(split=split, history=history, catalogue=catalogue, targets=targets.astype(np.int64), X=X,
                counts=counts, genres=genres, anchors=anchors)


# --- applying the protocol to a scorer ---------------------------------------

#: user rows -> (rows x catalogue) scores
Scorer = Callable[[np.ndarray], np.ndarray]
#: catalogue columns -> (columns x catalogue) similarities
Similarity = Callable[[np.ndarray], np.ndarray]


def rank_users(task: Task, scorer: Scorer, k: int = K, chunk: int | None = None) -> np.ndarray:
    """Every user's top-k catalogue columns, their training movies excluded."""
    chunk = chunk or rows_per_block(task.n_items)
    ranking = np.empty((task.n_users, k), dtype=np.int64)
    for start in range(0, task.n_users, chunk):
        rows = np.arange(start, min(start + chunk, task.n_users))
        ranking[rows] = top_k(scorer(rows), k, exclude=task.X[rows])
    return ranking


@dataclass
class Figures:
    """The figures of one method on one split (per-user hits kept for intervals)."""

    hr: float
    ndcg: float
    coverage: float
    hits: np.ndarray
    gains: np.ndarray

    @property
    def hr_se(self) -> float:
        """Standard error of HR@k over users."""
        return standard_error(self.hits)


def measure(task: Task, ranking: np.ndarray, k: int = K) -> Figures:
    """HR@k, NDCG@k and coverage@k of a ranking."""
    ranks = target_ranks(ranking, task.targets)
    hits, gains = hit_rate(ranks, k), ndcg(ranks, k)
    return Figures(hr=float(hits.mean()), ndcg=float(gains.mean()), coverage=coverage(ranking, task.n_items),
                   hits=hits, gains=gains)


@dataclass
class SimilarFigures:
    """"Similar movies" figures of one item similarity."""

    genre_jaccard: float
    next_hr: float
    next_ndcg: float


def similar_figures(task: Task, similarity: Similarity, k: int = K, chunk: int | None = None) -> SimilarFigures:
    """Genre Jaccard@k of the anchors' neighbours and next-item HR/NDCG@k by similarity to the last movie."""
    from scipy.sparse import csr_matrix

    chunk = chunk or rows_per_block(task.n_items)
    anchors = task.anchors
    neighbours = np.full((task.n_items, k), -1, dtype=np.int64)
    for start in range(0, len(anchors), chunk):
        block = anchors[start:start + chunk]
        itself = csr_matrix((np.ones(len(block), dtype=bool), (np.arange(len(block)), block)),
                            shape=(len(block), task.n_items))
        neighbours[block] = top_k(similarity(block), k, exclude=itself)
    jaccard = genre_jaccard(neighbours, task.genres, anchors)
    last = task.last_items()
    ranking = np.empty((task.n_users, k), dtype=np.int64)
    for start in range(0, task.n_users, chunk):
        rows = np.arange(start, min(start + chunk, task.n_users))
        ranking[rows] = top_k(similarity(last[rows]), k, exclude=task.X[rows])
    ranks = target_ranks(ranking, task.targets)
    return SimilarFigures(genre_jaccard=jaccard, next_hr=float(hit_rate(ranks, k).mean()),
                          next_ndcg=float(ndcg(ranks, k).mean()))


def random_jaccard(task: Task) -> float:
    """The genre Jaccard@k random neighbours would get (its exact expectation)."""
    return random_genre_jaccard(task.genres, task.anchors)
