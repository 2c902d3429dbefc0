"""Sentences + vectors' ids -> which movies and users have enough ratings to be trusted.

A Word2Vec vector is only as good as the number of times its word was seen.
A movie rated once or twice gets a few gradient steps from a random start:
its vector is noise, and noise lands anywhere -- including in the similar
lists of famous films (on ml-latest-small, 22% of the similar-movie slots of
the 100 most-rated movies held movies rated fewer than 5 times).

The rule: a point is *supported* when it was rated at least ``min_ratings``
times in the training sentences.  Supported points alone are candidates in
neighbour lists, are fitted by the map's layout, make its regions and fill
the projector's tensors.  The rest stay findable everywhere (search, deep
links, their own pages), get a list of their nearest supported points, and
are placed on the map beside the nearest of them.

Why a fixed count of 5 (``benchmarks/bench_map.py`` prints the figures): on
ml-latest-small, ml-100k and a long-tail log (ml-latest-small without 70% of
its users) genre Jaccard@10 of the lists peaks at 5 ratings (0.379, 0.403,
0.310, against 0.363, 0.387, 0.301 with every movie listed) and higher
counts lose it again.  Shrinking similarities by support (``n / (n + 1)``)
scores the same on those logs but hides no point from the map or the
projector; a count that grows with the log has no reason to: a vector's
evidence is its own count, whatever the log's size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedder.ratings.catalogue import positions
from embedder.values import CorpusCounts, Sequences

#: Ratings a movie (or user) needs before its vector is trusted (see the module docstring).
DEFAULT_MIN_RATINGS = 5
#: Below this many supported points the rule is off: a map or a list needs something to show.
MIN_SUPPORTED = 10


@dataclass(frozen=True)
class Support:
    """Per side, the rating count of each embedding row and whether it is supported.

    ``movies``/``users`` are boolean masks aligned with the movie and user
    embeddings' rows; ``movie_counts``/``user_counts`` the ratings each row
    was trained on.  ``min_ratings`` is the rule; ``off`` names the sides
    where it was switched off because too few points pass it.
    """

    min_ratings: int
    movies: np.ndarray
    users: np.ndarray
    movie_counts: np.ndarray
    user_counts: np.ndarray
    off: tuple[str, ...] = ()

    def mask(self, side: str) -> np.ndarray:
        """The mask of ``"movies"`` or ``"users"``."""
        return self.movies if side == "movies" else self.users

    def counts(self, side: str) -> np.ndarray:
        return self.movie_counts if side == "movies" else self.user_counts

    def describe(self) -> str:
        """One line for the summary, the index page and the model card."""
        parts = []
        for side in ("movies", "users"):
            mask = self.mask(side)
            if side in self.off:
                parts.append(f"all {len(mask):,} {side} (too few have {self.min_ratings} ratings: the rule is off)")
            else:
                parts.append(f"{int(mask.sum()):,} of {len(mask):,} {side}")
        return (f"points rated at least {self.min_ratings} times make the neighbour lists, the map and the projector: "
                + "; ".join(parts))


def everyone(n_movies: int, n_users: int) -> Support:
    """No rule: every row supported (``--min-support 1``, and injected vectors without sentences)."""
    return Support(1, np.ones(n_movies, dtype=bool), np.ones(n_users, dtype=bool),
                   np.zeros(n_movies, dtype=np.int64), np.zeros(n_users, dtype=np.int64))


def support(sequences: Sequences | CorpusCounts, movie_ids: np.ndarray, user_ids: np.ndarray, *, orientation: str = "users",
            min_ratings: int = DEFAULT_MIN_RATINGS) -> Support:
    """Which rows of the movie and user embeddings were rated at least ``min_ratings`` times.

    In the ``users`` orientation movies are the sentences' words (their count
    is how often they occur) and users the sentences (their length); in the
    ``movies`` orientation the other way round.  Rows whose id is not in the
    sentences count 0.  A side where fewer than ``MIN_SUPPORTED`` rows pass
    keeps every row (and says so in ``off``).
    """
    words = _counts(sequences.token_ids, sequences.token_counts())
    sentences = _counts(sequences.sentence_ids, sequences.lengths())
    movie_lookup, user_lookup = (words, sentences) if orientation == "users" else (sentences, words)
    movie_counts, user_counts = movie_lookup(movie_ids), user_lookup(user_ids)
    masks, off = [], []
    for side, counts in (("movies", movie_counts), ("users", user_counts)):
        mask = counts >= min_ratings
        if mask.sum() < min(MIN_SUPPORTED, len(mask)):
            mask, _ = np.ones(len(counts), dtype=bool), off.append(side)
        masks.append(mask)
    return Support(int(min_ratings), masks[0], masks[1], movie_counts, user_counts, tuple(off))


def _counts(ids: np.ndarray, counts: np.ndarray):
    """A function from ids to their counts (0 for unknown ids)."""
    counts = np.asarray(counts, dtype=np.int64)

    def lookup(wanted: np.ndarray) -> np.ndarray:
        rows = positions(ids, wanted)
        return np.where(rows >= 0, counts[np.maximum(rows, 0)], 0)

    return lookup
