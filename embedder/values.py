"""The typed values that pass from one pipeline stage to the next.

Reading the pipeline left to right::

    ratings/ (sources, readers, demo, order)  ->  Dataset
    model/sequences                           ->  Sequences        (one "sentence" per user, or per movie)
                                                  CorpusCounts     (their lengths and word counts only)
    model/word2vec                            ->  WordVectors      (gensim Word2Vec over the sentences)
    model/sentence_vectors                    ->  SentenceVectors  (SIF / uSIF / mean over the sentences)
    pipeline                                  ->  Side             (an embedding as the site shows it)
    model/neighbours                          ->  Neighbours       (top-k cosine)
    maps/                                     ->  Maps             (layouts, regions, picture)
    site/                                     ->  {relative path: bytes}
    output                                    ->  the files on disk, swapped in atomically

Every value is a frozen dataclass of numpy arrays and plain Python values, so a
stage can be fed a precomputed upstream result (tests inject fixed vectors).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Movies:
    """The item catalogue: one row per movie, aligned arrays.

    ``ids`` are strings exactly as they appear in the files (``"0114709"``
    keeps its zeros).  ``years`` is 0 where unknown.  ``genres`` holds a tuple
    of genre names per movie (empty when unknown).  ``links`` maps a link kind
    (``"imdb"``, ``"tmdb"``) to an array of ids, ``""`` where missing.
    """

    ids: np.ndarray
    titles: np.ndarray
    years: np.ndarray
    genres: tuple[tuple[str, ...], ...]
    links: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Users:
    """Optional user attributes (ml-100k ``u.user``: age, gender, occupation).

    ``attributes`` maps a column name to a string array aligned with ``ids``.
    """

    ids: np.ndarray
    attributes: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Interactions:
    """The ratings log as integer codes, in file order.

    ``user`` and ``item`` index into ``user_ids`` and ``item_ids`` (string
    vocabularies).  ``rating`` and ``timestamp`` are ``None`` when the log has
    no such column.  Row order is the file's order, which breaks timestamp ties.
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray | None
    timestamp: np.ndarray | None

    def __len__(self) -> int:
        return len(self.user)


@dataclass(frozen=True)
class Dataset:
    """Everything read from the input, before any modelling.

    ``movies`` covers every item in ``interactions`` (items missing from the
    movies file get a placeholder title).  ``notes`` are the counted warnings
    produced while reading (skipped rows, duplicates, ...), one line each.
    ``order`` is the ``embedder.order.LogOrder`` the rows were arranged in
    (None until ``order.arrange`` has decided whether the log is ordered).
    ``stats`` is set when the log stayed on a Spark cluster: ``interactions``
    then holds each user's latest ``stats.history`` ratings only, and
    ``stats`` the exact figures of the whole log (``ratings.catalogue`` reads
    either).
    """

    name: str
    source: str
    interactions: Interactions
    movies: Movies
    users: Users | None = None
    notes: tuple[str, ...] = ()
    order: object | None = None
    stats: LogStats | None = None


@dataclass(frozen=True)
class LogStats:
    """The figures of a whole log whose rows stay on a cluster: O(users + movies) values.

    Arrays follow the log's codes (``Interactions.user_ids``/``item_ids``).
    ``movie_sums``/``user_sums`` are None when the log has no ratings;
    ``first_time``/``last_time`` when it has no order in time.
    ``user_genres`` counts each user's ratings per primary genre
    (``genre_names``, sorted), as the projector colours users.  ``history``
    is how many of each user's latest ratings ``Dataset.interactions`` keeps.
    """

    ratings: int
    movie_counts: np.ndarray
    movie_sums: np.ndarray | None
    user_counts: np.ndarray
    user_sums: np.ndarray | None
    genre_names: np.ndarray
    user_genres: np.ndarray
    history: int
    first_time: int | None = None
    last_time: int | None = None


@dataclass(frozen=True)
class Sequences:
    """Sentences in CSR form: sentence ``s`` is ``tokens[indptr[s]:indptr[s+1]]``.

    ``tokens`` index into ``token_ids``; ``sentence_ids`` names each sentence.
    In the default orientation a sentence is a user and tokens are movies.
    """

    sentence_ids: np.ndarray
    token_ids: np.ndarray
    indptr: np.ndarray
    tokens: np.ndarray

    def __len__(self) -> int:
        return len(self.sentence_ids)

    def lengths(self) -> np.ndarray:
        return np.diff(self.indptr)

    def token_counts(self) -> np.ndarray:
        return np.bincount(self.tokens, minlength=len(self.token_ids))

    def counts(self) -> CorpusCounts:
        """How long each sentence is and how often each word occurs (no tokens)."""
        return CorpusCounts(self.sentence_ids, self.lengths(), self.token_ids, self.token_counts())


@dataclass(frozen=True)
class CorpusCounts:
    """What the support rule, SIF's weights and the summary need of the sentences: no tokens, O(sentences + words).

    It answers ``len``, ``lengths()`` and ``token_counts()`` as ``Sequences``
    does; the Spark engine makes it without bringing the sentences to the driver.
    """

    sentence_ids: np.ndarray
    sentence_lengths: np.ndarray
    token_ids: np.ndarray
    word_counts: np.ndarray

    def __len__(self) -> int:
        return len(self.sentence_ids)

    def lengths(self) -> np.ndarray:
        return np.asarray(self.sentence_lengths, dtype=np.int64)

    def token_counts(self) -> np.ndarray:
        return np.asarray(self.word_counts, dtype=np.int64)


@dataclass(frozen=True)
class WordVectors:
    """Word2Vec input vectors (and output vectors ``syn1neg``) per token id."""

    ids: np.ndarray
    vectors: np.ndarray
    output_vectors: np.ndarray | None = None
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SentenceVectors:
    """One vector per sentence (SIF / uSIF / mean)."""

    ids: np.ndarray
    vectors: np.ndarray
    method: str = "sif"


@dataclass(frozen=True)
class Neighbours:
    """Top-k cosine neighbours: ``indices[i]`` are row indices, best first."""

    indices: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class CoRated:
    """Per movie row, the ``k`` movies most often rated by the same people (-1 padded), and how many rated both.

    ``window`` None: anywhere in a person's history; else within that many
    ratings of each other (the Spark engine's count, made on the cluster).
    """

    indices: np.ndarray
    counts: np.ndarray
    window: int | None = None


@dataclass
class Side:
    """One embedding as the site shows it: which side (``"movies"`` or ``"users"``), its rows and vectors.

    ``slug`` names the tensor's files (``movies``, ``users_softmax`` ...), ``name``
    is its title (``movies · word2vec``), ``how`` one line on how it was made.
    ``ids`` follow the rows (None for an extra embedder's tensor, whose rows
    are those of the Word2Vec side of the same name).
    """

    side: str
    slug: str
    name: str
    how: str
    ids: np.ndarray | None
    vectors: np.ndarray
