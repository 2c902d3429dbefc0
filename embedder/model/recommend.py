"""Word vectors + users' histories -> ranked movie recommendations.

Two ways to score a movie ``i`` for a user whose (time-ordered) rated movies
are ``j_1 .. j_n``:

``io`` (the default): the skip-gram objective itself.  SGNS trains the input
    vector ``v_j`` of a movie and the output vector ``u_i`` (gensim's
    ``syn1neg``) of the movies rated around it so that, at its optimum,
    ``v_j . u_i = log p(i | j) - log q(i) - log k``, where ``q`` is the
    negative-sampling distribution (``count ** ns_exponent``).  The score is
    the user's context vector (a recency-weighted mean of the input vectors
    of the movies they rated) against every output vector, plus ``prior *
    log(count_i)``: with ``prior = ns_exponent`` that adds back the
    ``log q(i)`` the model was trained to leave out, so the sum is an average
    ``log p(i | j)`` -- the probability of rating ``i`` next to the user's
    recent movies.  The default prior, 0.6, ranked best on the val split
    (docs/quality.md).
``cosine``: the cosine between a user vector (the same weighted mean of input
    vectors, or a SIF / uSIF vector passed in) and each movie's input vector,
    the design the map started from.  It ignores popularity and measures
    poorly (docs/quality.md).

On an unordered log (``embedder.ratings.order``) neither has recency to work with,
and ``ease`` -- EASE over the supported movies (``embedder.model.ease``) -- ranks
best there; ``auto``, the default, means ``io`` on ordered logs and ``ease``
on unordered ones (``ScoringParams.for_log``).

``recommend`` is what the site calls at build time; ``context_vectors`` and
``score_words`` are the building blocks ``evaluate`` measures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from embedder.model.sequences import sentence_matrix
from embedder.quality.metrics import rows_per_block, top_k
from embedder.values import Sequences, WordVectors

SCORINGS = ("auto", "io", "cosine", "ease")


@dataclass(frozen=True)
class ScoringParams:
    """How users are scored against movies (defaults measured: docs/quality.md).

    method
        ``"io"``: context vector . output vectors (``syn1neg``) + prior;
        ``"cosine"``: cosine of the context vector and the input vectors;
        ``"ease"``: EASE over the supported movies (``embedder.model.ease``);
        ``"auto"``: ``io`` on ordered logs, ``ease`` on unordered ones.
    decay
        The context is a weighted mean of the user's rated movies, the most
        recent weighing 1, the one before ``decay``, then ``decay**2``...;
        ``1.0`` is the plain mean.  Users rate in sessions, so the last few
        movies say most about the next one.
    last_k
        Only the last ``last_k`` rated movies count (``0``: all of them).
    prior
        Weight of ``log(rating count)`` added to ``io`` scores;
        ``ns_exponent`` would restore exactly the popularity that negative
        sampling took out of the dot products.
    lam
        EASE's lambda (``ease`` only); None chooses it on held-out ratings.
    """

    method: str = "auto"
    decay: float = 0.6
    last_k: int = 0
    prior: float = 0.6
    lam: float | None = None

    def settings(self) -> dict:
        """The settings as a plain dict (for the site and the report)."""
        if self.method == "ease":
            return {"method": "ease", "lambda": self.lam}
        out = asdict(self)
        del out["lam"]
        return out

    def for_log(self, ordered: bool) -> "ScoringParams":
        """The concrete scoring for a log that is (or is not) ordered.

        ``auto`` becomes ``io`` or ``ease``; on an unordered log recency means
        nothing, so every movie counts alike (``decay`` 1, ``last_k`` 0).
        """
        method = self.method if self.method != "auto" else ("io" if ordered else "ease")
        if ordered:
            return replace(self, method=method)
        return replace(self, method=method, decay=1.0, last_k=0)

    def describe(self) -> str:
        """One line for people: what the scorer does."""
        if self.method == "ease":
            return "EASE item-item weights over the supported movies" + (f" (λ={self.lam:g})" if self.lam else "")
        if self.method == "cosine":
            what = "cosine between the user's context vector and each movie's input vector"
        else:
            what = "user context · output vectors (syn1neg)" + (f" + {self.prior:g}·log(rating count)" if self.prior else "")
        recency = "all rated movies equally" if self.decay >= 1 else f"recent movies weighted {self.decay:g}^age"
        if self.last_k:
            recency += f", last {self.last_k} only"
        return f"{what}; context: {recency}"


@dataclass(frozen=True)
class Recommendations:
    """Top-k movies per user: ``items[u]`` index ``movie_ids``, best first; -1 (score 0) pads a
    user with fewer than k unrated movies."""

    user_ids: np.ndarray
    movie_ids: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    params: ScoringParams


def history_weights(sequences: Sequences, last_k: int = 0, decay: float = 1.0):
    """A sparse ``(sentences x words)`` matrix of recency weights that sum to 1 per row.

    The last word of a sentence weighs 1, the one before ``decay``, then
    ``decay**2`` ...; words further back than ``last_k`` weigh 0 (``last_k=0``
    keeps all).  ``decay=1, last_k=0`` is the plain mean.  A word repeated in a
    sentence counts once per occurrence.
    """
    from scipy.sparse import csr_matrix

    lengths = sequences.lengths()
    ends = np.repeat(sequences.indptr[1:], lengths)
    age = ends - 1 - np.arange(len(sequences.tokens))
    weights = np.power(float(decay), age.astype(np.float64)) if decay != 1 else np.ones(len(age))
    if last_k > 0:
        weights[age >= last_k] = 0.0
    sentence = np.repeat(np.arange(len(sequences)), lengths)
    totals = np.bincount(sentence, weights=weights, minlength=len(sequences))
    weights = weights / np.where(totals > 0, totals, 1.0)[sentence]
    keep = weights > 0
    return csr_matrix(
        (weights[keep].astype(np.float32), (sentence[keep], sequences.tokens[keep])),
        shape=(len(sequences), len(sequences.token_ids)),
    )


def context_vectors(sequences: Sequences, words: WordVectors, last_k: int = 0, decay: float = 1.0) -> np.ndarray:
    """Each user's context: the recency-weighted mean input vector of their movies."""
    _check_aligned(sequences, words)
    return np.asarray(history_weights(sequences, last_k, decay) @ words.vectors, dtype=np.float32)


def score_io(contexts: np.ndarray, words: WordVectors, counts: np.ndarray, prior: float) -> np.ndarray:
    """``contexts . syn1neg + prior * log(count)``: one row of scores per context."""
    if words.output_vectors is None:
        raise ValueError("io scoring needs the model's output vectors (syn1neg)")
    scores = contexts.astype(np.float32) @ words.output_vectors.T
    if prior:
        scores += np.float32(prior) * np.log(np.maximum(counts, 1)).astype(np.float32)[None, :]
    return scores


def score_cosine(user_vectors: np.ndarray, words: WordVectors) -> np.ndarray:
    """Cosine between each user vector and each word's input vector."""
    from embedder.model.neighbours import normalise

    return normalise(user_vectors) @ normalise(words.vectors).T


def score_words(contexts: np.ndarray, words: WordVectors, counts: np.ndarray, params: ScoringParams) -> np.ndarray:
    """Scores of every word (movie) for each context row, by ``params.method`` (``auto``: ``io``)."""
    if params.method not in ("auto", "io", "cosine"):
        raise ValueError(f"scoring {params.method!r} does not score word vectors; choose io or cosine")
    if params.method == "cosine":
        return score_cosine(contexts, words)
    return score_io(contexts, words, counts, params.prior)


def recommend(sequences: Sequences, words: WordVectors, k: int = 10, *, params: ScoringParams | None = None,
              users: np.ndarray | None = None, exclude=None, chunk: int | None = None) -> Recommendations:
    """Top-``k`` movies for users, with the default scoring; already-rated movies excluded.

    Parameters
    ----------
    sequences
        The build's sentences in the default orientation (a sentence per user,
        its movies in time order), as ``make_sequences`` returns them.
    words
        The Word2Vec model trained on them (``train_word_vectors``): input
        vectors and output vectors ``syn1neg``, rows following
        ``sequences.token_ids``.
    k
        Recommendations per user.
    params
        Scoring settings; ``ScoringParams()`` (the measured default) when None.
    users
        Sentence rows to recommend for (all users when None).
    exclude
        Optional sparse ``(len(users) x movies)`` matrix of further movies not
        to recommend (e.g. ratings the sentence filters dropped); the movies in
        each user's sentence are always excluded.
    chunk
        Users scored per matrix product (default: about 4 million scores at a
        time, which bounds memory on large catalogues).

    Returns
    -------
    Recommendations
        ``items[r]`` are indices into ``movie_ids`` (= ``sequences.token_ids``)
        for user ``user_ids[r]``, best first.
    """
    params = params or ScoringParams()
    if params.method == "auto":  # a caller that did not say: the scorer of an ordered log
        params = params.for_log(True)
    rows = np.arange(len(sequences)) if users is None else np.asarray(users)
    contexts = context_vectors(sequences, words, params.last_k, params.decay)
    counts = sequences.token_counts()
    chunk = chunk or rows_per_block(len(sequences.token_ids))
    everyone = sentence_matrix(sequences, dtype=bool)
    if params.method == "io" and chunk < len(rows) and exclude is None:
        return _recommend_pruned(sequences, words, k, params, rows, contexts, counts, chunk, everyone)
    items = np.empty((len(rows), k), dtype=np.int64)
    scores = np.empty((len(rows), k), dtype=np.float32)
    for start in range(0, len(rows), chunk):
        block = rows[start:start + chunk]
        s = score_words(contexts[block], words, counts, params)
        rated = everyone[block]
        if exclude is not None:
            rated = rated + exclude[start:start + len(block)].astype(bool)
        top = top_k(s, k, exclude=rated)
        items[start:start + len(block)] = top
        scores[start:start + len(block)] = np.where(top >= 0, np.take_along_axis(s, np.maximum(top, 0), axis=1), 0.0)
    return Recommendations(user_ids=sequences.sentence_ids[rows], movie_ids=sequences.token_ids, items=items,
                           scores=scores, params=params)


#: Movies with the largest prior scored for everyone first, to bound what the rest can reach.
HEAD = 2048


def _recommend_pruned(sequences: Sequences, words: WordVectors, k: int, params: ScoringParams, rows: np.ndarray,
                      contexts: np.ndarray, counts: np.ndarray, chunk: int, everyone) -> Recommendations:
    """The same top-k as scoring every movie, for catalogues too big to score whole (``io`` only).

    A movie's score ``c . u_i + b_i`` is at most ``|c| |u_i| + b_i``.  Every
    user is first scored against the ``HEAD`` movies of largest prior ``b``;
    the k-th best unrated one, ``t``, is a score the user's list reaches.  In
    a block of users (sorted by ``t``), a movie whose bound stays below the
    block's smallest ``t`` for the block's longest context cannot enter any
    of their lists, so only the others are scored.  Exact, ties included.
    """
    from embedder.model.kernels import top_k_rows

    n_items = len(sequences.token_ids)
    prior = np.float32(params.prior) * np.log(np.maximum(counts, 1)).astype(np.float32)
    output = words.output_vectors
    head = np.sort(np.lexsort((np.arange(n_items), -prior))[: min(HEAD, n_items)])
    size = np.linalg.norm(output.astype(np.float64), axis=1)
    ctx = contexts[rows].astype(np.float32)
    reach = np.linalg.norm(ctx.astype(np.float64), axis=1)
    threshold = np.full(len(rows), -np.inf)
    step = max(1, chunk * n_items // max(len(head), 1))
    for start in range(0, len(rows), step):
        part = slice(start, start + step)
        s = ctx[part] @ output[head].T + prior[head]
        _, best = top_k_rows(s, k, everyone[rows[part]][:, head])
        threshold[part] = best[:, -1]
    order = np.argsort(-threshold, kind="stable")
    items = np.empty((len(rows), k), dtype=np.int64)
    scores = np.empty((len(rows), k), dtype=np.float32)
    for start in range(0, len(rows), chunk):
        block = order[start:start + chunk]
        floor = threshold[block].min()
        if np.isfinite(floor):
            # Bounds in float64 with a margin for float32 rounding of the real scores.
            bound = reach[block].max() * size + prior
            columns = np.flatnonzero(bound >= floor - 1e-3 * (1.0 + abs(floor)))
        else:
            columns = np.arange(n_items)
        s = ctx[block] @ output[columns].T + prior[columns]
        found, values = top_k_rows(s, k, everyone[rows[block]][:, columns])
        items[block] = np.where(found >= 0, columns[np.maximum(found, 0)], -1)
        scores[block] = np.where(found >= 0, values, 0.0)
    return Recommendations(user_ids=sequences.sentence_ids[rows], movie_ids=sequences.token_ids, items=items,
                           scores=scores, params=params)


def _check_aligned(sequences: Sequences, words: WordVectors) -> None:
    if len(words.ids) != len(sequences.token_ids) or not np.array_equal(words.ids, sequences.token_ids):
        raise ValueError("word vectors do not follow the sentences' vocabulary")
