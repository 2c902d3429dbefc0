"""Models -> the protocol's scorers: baselines (tuned on val) and the Word2Vec embedders.

``evaluate`` defines one protocol for any ``Method`` (``runner`` applies it):
a function from user rows to catalogue scores, and optionally an item
similarity for the "similar movies" figures.  This module makes those
functions for

* the baselines of ``baselines.py`` -- popularity, item-kNN, EASE and EASE
  with recency-weighted queries -- with their settings chosen on the val split
  (``tune_baselines``), by NDCG@10 (docs/quality.md);
* a trained Word2Vec model: ``item2vec_methods`` (words are movies) gives
  cosine rows for SIF, uSIF and mean user vectors and ``io`` rows (context .
  ``syn1neg``), the build's default recommendation scoring among them;
  ``users_as_words_methods`` (words are users) gives cosine rows against
  SIF / uSIF / mean movie vectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from embedder.quality import baselines
from embedder.quality.evaluate import Task, measure, rank_users
from embedder.model.recommend import ScoringParams, history_weights, score_words
from embedder.ratings.catalogue import positions
from embedder.timing import Timer
from embedder.values import Sequences, WordVectors

#: Settings tried on the val split.
EASE_LAMBDAS = (30.0, 100.0, 300.0, 1000.0)
RECENT_DECAYS = (0.5, 0.7, 0.8, 0.9, 0.95)
KNN_NEIGHBOURS = (5, 10, 20, 50, 0)  # 0: every item
KNN_SHRINKS = (0.0, 10.0)


@dataclass
class Method:
    """One row of the table: how to score users, and (optionally) items against items."""

    name: str
    family: str
    scores: Callable[[np.ndarray], np.ndarray]
    similarity: Callable[[np.ndarray], np.ndarray] | None = None
    train_seconds: float = 0.0
    settings: dict = field(default_factory=dict)
    default: bool = False
    model: str = ""  # rows of one model share their similar-movies figures


def recency_queries(task: Task, decay: float):
    """Sparse (users x catalogue) query rows weighting recent training movies more."""
    return history_weights(task.history, 0, decay)


# --- baselines ---------------------------------------------------------------


@dataclass(frozen=True)
class BaselineChoices:
    """Baseline settings chosen on the val split (``None``: skipped, catalogue too large)."""

    ease_lambda: float | None
    recent_lambda: float | None
    recent_decay: float | None
    knn_neighbours: int | None
    knn_shrink: float | None
    note: str = ""

    def as_dict(self) -> dict:
        """The choices as plain JSON values."""
        return {
            "ease": {"lambda": self.ease_lambda},
            "ease_recent": {"lambda": self.recent_lambda, "decay": self.recent_decay},
            "item_knn": {"neighbours": self.knn_neighbours, "shrink": self.knn_shrink},
            "chosen_on": "val",
            "criterion": "NDCG@10",
            "note": self.note,
        }


def _ndcg(task: Task, scores) -> float:
    return measure(task, rank_users(task, scores)).ndcg


def tune_baselines(task: Task, *, recency: bool = True, say=lambda message: None) -> BaselineChoices:
    """Choose EASE's lambda, EASE-recent's (lambda, decay) and item-kNN's settings on ``task`` (val).

    ``recency`` False (an unordered log, where "recent" means nothing) skips EASE-recent.
    """
    if task.n_items > baselines.EASE_MAX_ITEMS:
        return BaselineChoices(None, None, None, None, None,
                               note=f"EASE and item-kNN skipped: {task.n_items:,} movies need dense item x item matrices")
    G = baselines.gram(task.X)
    queries = {decay: recency_queries(task, decay) for decay in RECENT_DECAYS} if recency else {}
    full, recent = {}, {}
    lambdas, tried = list(EASE_LAMBDAS), []
    for _ in range(3):  # the grid, then up to two steps past an edge that won
        for lam in lambdas:
            say(f"val: EASE lambda={lam:g}")
            B = baselines.ease(G, lam)
            full[lam] = _ndcg(task, lambda rows: baselines.scores_from(task.X[rows], B))
            for decay, Q in queries.items():
                recent[lam, decay] = _ndcg(task, lambda rows: baselines.scores_from(Q[rows], B))
            B = None  # free it before the next inverse
            tried.append(lam)
        winners = {_best(full), *([_best(recent)[0]] if recent else [])}
        lambdas = sorted({lam * 3 if lam == max(tried) else lam / 3 for lam in winners if lam in (min(tried), max(tried))})
        lambdas = [lam for lam in lambdas if lam >= 1 and lam not in tried]
        if not lambdas:
            break
    knn = {}
    for shrink in KNN_SHRINKS:
        S = baselines.cosine_similarity(G, shrink)
        for n in KNN_NEIGHBOURS:
            say(f"val: item-kNN neighbours={n or 'all'} shrink={shrink:g}")
            Sk = baselines.keep_top_neighbours(S, n)
            knn[n, shrink] = _ndcg(task, lambda rows: baselines.scores_from(task.X[rows], Sk))
    ease_lambda = _best(full)
    recent_lambda, recent_decay = _best(recent) if recent else (None, None)
    knn_neighbours, knn_shrink = _best(knn)
    return BaselineChoices(ease_lambda, recent_lambda, recent_decay, knn_neighbours, knn_shrink)


def _best(figures: dict):
    """The key with the highest figure; ties go to the first tried."""
    return max(figures, key=lambda key: (figures[key], -list(figures).index(key)))


def baseline_methods(task: Task, choices: BaselineChoices, *, say=lambda message: None) -> list[Method]:
    """Popularity, item-kNN, EASE and EASE-recent on ``task``, with the chosen settings."""
    counts = baselines.popularity(task.X)
    methods = [Method("popularity", "baseline", lambda rows: np.broadcast_to(counts, (len(rows), task.n_items)),
                      similarity=lambda items: np.broadcast_to(counts, (len(items), task.n_items)),
                      settings={}, model="popularity")]
    if choices.ease_lambda is None:
        return methods
    G = baselines.gram(task.X)
    say("item-kNN")
    with Timer() as timer:
        S = baselines.cosine_similarity(G, choices.knn_shrink)
        Sk = baselines.keep_top_neighbours(S, choices.knn_neighbours)
    nb = choices.knn_neighbours or "all"
    methods.append(Method(f"item-kNN (cosine, {nb} neighbours, shrink {choices.knn_shrink:g})", "baseline",
                          lambda rows: baselines.scores_from(task.X[rows], Sk), similarity=lambda items: S[items],
                          train_seconds=timer.seconds, model="item-knn",
                          settings={"neighbours": choices.knn_neighbours, "shrink": choices.knn_shrink}))
    weights = {}
    for lam in dict.fromkeys(lam for lam in (choices.ease_lambda, choices.recent_lambda) if lam is not None):
        say(f"EASE lambda={lam:g}")
        with Timer() as timer:
            fitted = baselines.ease(G, lam)
        weights[lam] = (fitted, timer.seconds)
    B, seconds = weights[choices.ease_lambda]
    methods.append(Method(f"EASE (λ={choices.ease_lambda:g})", "baseline",
                          lambda rows: baselines.scores_from(task.X[rows], B), similarity=lambda items: B[items],
                          train_seconds=seconds, model=f"ease-{choices.ease_lambda:g}",
                          settings={"lambda": choices.ease_lambda}))
    if choices.recent_lambda is None:
        return methods
    Br, seconds = weights[choices.recent_lambda]
    Q = recency_queries(task, choices.recent_decay)
    methods.append(Method(f"EASE · recent (λ={choices.recent_lambda:g}, decay {choices.recent_decay:g})", "baseline",
                          lambda rows: baselines.scores_from(Q[rows], Br), similarity=lambda items: Br[items],
                          train_seconds=seconds, model=f"ease-{choices.recent_lambda:g}",
                          settings={"lambda": choices.recent_lambda, "decay": choices.recent_decay}))
    return methods


# --- Word2Vec embedders ------------------------------------------------------

def io_variants(default: ScoringParams) -> list[tuple[str, ScoringParams, bool]]:
    """The scorings measured beside the default, as (name, params, is_default).

    The whole profile through ``syn1neg`` without prior (the quality notes'
    "mean-io"), and the default without its recency, without its prior, and
    as it is; a variant equal to the default is listed once, as the default.
    """
    candidates = [
        ScoringParams("io", decay=1.0, last_k=0, prior=0.0),
        replace(default, method="io", decay=1.0, last_k=0),
        replace(default, method="io", prior=0.0),
        default,
    ]
    out = []
    for params in dict.fromkeys(candidates):
        out.append((scoring_name(params), params, params == default))
    return out


def scoring_name(params: ScoringParams) -> str:
    """A short name for a scoring: which movies make the context, and how they are scored."""
    recent = params.decay < 1 or params.last_k > 0
    context = ("recent" if recent else "mean") + (f" (last {params.last_k})" if params.last_k else "")
    if params.method == "cosine":
        return f"{context} · cosine"
    return f"{context} · syn1neg" + (" + prior" if params.prior else "")


class _Catalogue:
    """Maps a model's rows (words or sentences) onto the task's catalogue columns and users."""

    def __init__(self, task: Task, item_ids: np.ndarray, user_ids: np.ndarray):
        self.task = task
        self.cols = positions(task.catalogue, item_ids)  # model item row -> catalogue column
        self.user_rows = positions(user_ids, task.history.sentence_ids)  # task user -> model row

    def spread(self, scores: np.ndarray) -> np.ndarray:
        """(n, model items) -> (n, catalogue), -inf where the model has no vector."""
        out = np.full((len(scores), self.task.n_items), -np.inf, dtype=np.float32)
        ok = self.cols >= 0
        out[:, self.cols[ok]] = scores[:, ok]
        return out

    def users(self, matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Model rows of the task users ``rows`` (zeros for users the model has no row for)."""
        picked = self.user_rows[rows]
        out = np.zeros((len(rows), matrix.shape[1]), dtype=np.float32)
        out[picked >= 0] = matrix[picked[picked >= 0]]
        return out


def _unit(vectors: np.ndarray) -> np.ndarray:
    from embedder.model.neighbours import normalise

    return normalise(vectors)


def item_similarity(cat: _Catalogue, vectors: np.ndarray):
    """Cosine similarity between catalogue items, from one vector per model item."""
    unit = _unit(vectors)
    V = np.zeros((cat.task.n_items, vectors.shape[1]), dtype=np.float32)
    ok = cat.cols >= 0
    V[cat.cols[ok]] = unit[ok]
    scored = np.zeros(cat.task.n_items, dtype=bool)
    scored[cat.cols[ok]] = True

    def similarity(items: np.ndarray) -> np.ndarray:
        s = V[items] @ V.T
        s[:, ~scored] = -np.inf
        return s

    return similarity


def item2vec_methods(task: Task, sequences: Sequences, words: WordVectors, user_vectors: dict, scoring: ScoringParams,
                     seconds: float, label: str = "item2vec", *, default: bool = True) -> list[Method]:
    """Rows of a Word2Vec model whose words are movies: cosine user vectors, then io scorings.

    ``scoring``'s row is the build's default unless ``default`` is False
    (another recommender is the default, and ``scoring`` is what Word2Vec would use).
    """
    cat = _Catalogue(task, words.ids, sequences.sentence_ids)
    similarity = item_similarity(cat, words.vectors)
    unit_items = _unit(words.vectors)
    methods = []
    for method, vectors in user_vectors.items():
        unit_users = _unit(vectors)
        methods.append(Method(f"{label} · {_METHOD_NAMES[method]} · cosine", "item2vec",
                              lambda rows, u=unit_users: cat.spread(cat.users(u, rows) @ unit_items.T),
                              similarity=similarity, train_seconds=seconds, model=label,
                              settings={"user_vectors": method, "scoring": "cosine"}))
    for name, params, is_default in io_variants(scoring):
        is_default = is_default and default
        methods.append(io_method(task, sequences, words, params, f"{label} · {name}" + (" (default)" if is_default else ""),
                                 cat=cat, similarity=similarity, seconds=seconds, default=is_default, model=label))
    return methods


def io_method(task: Task, sequences: Sequences, words: WordVectors, params: ScoringParams, name: str, *,
              cat: _Catalogue | None = None, similarity=None, seconds: float = 0.0, default: bool = False,
              model: str = "item2vec") -> Method:
    """One recommendation scoring of a movie-word model (``recommend.score_words``) as a table row."""
    cat = cat or _Catalogue(task, words.ids, sequences.sentence_ids)
    counts = sequences.token_counts()
    contexts = np.asarray(history_weights(sequences, params.last_k, params.decay) @ words.vectors, dtype=np.float32)
    return Method(name, "item2vec", lambda rows: cat.spread(score_words(cat.users(contexts, rows), words, counts, params)),
                  similarity=similarity, train_seconds=seconds, default=default, model=model,
                  settings={"scoring": params.settings()})


def ease_method(task: Task, sequences: Sequences, params: ScoringParams, min_support: int, *, seed: int = 0,
                default: bool = True) -> Method:
    """The unordered logs' recommender (``embedder.model.ease``) as a table row: trained as the build trains it.

    The training sentences give the matrix and the supported movies (rated
    at least ``min_support`` times in them); lambda is chosen on a held-out
    rating of the *training* data, so the split's targets are never seen.
    """
    from embedder.model.ease import fit_ease
    from embedder.model.sequences import sentence_matrix

    history = sentence_matrix(sequences)
    with Timer() as timer:
        model = fit_ease(history, sequences.token_counts() >= min_support, lam=params.lam, seed=seed)
    cat = _Catalogue(task, sequences.token_ids, sequences.sentence_ids)
    cols = cat.cols[model.columns]
    users = cat.user_rows

    def scores(rows):  # the user's training movies (supported ones) times the weights
        picked = users[rows]
        out = np.full((len(rows), task.n_items), -np.inf, dtype=np.float32)
        part = model.scores(history[np.maximum(picked, 0)])
        part[picked < 0] = -np.inf
        out[:, cols] = part
        return out

    return Method(f"EASE · supported movies, λ={model.lam:g} from the training data" + (" (default)" if default else ""),
                  "recommender", scores, train_seconds=timer.seconds, default=default,
                  model="ease-supported", settings=model.settings())


def users_as_words_methods(task: Task, sequences: Sequences, words: WordVectors, movie_vectors: dict,
                           seconds: float, label: str = "users-as-words") -> list[Method]:
    """Rows of a Word2Vec model whose words are users: user word vectors against SIF/uSIF/mean movie vectors."""
    methods = []
    for method, vectors in movie_vectors.items():
        cat = _Catalogue(task, sequences.sentence_ids, words.ids)
        unit_movies, unit_users = _unit(vectors), _unit(words.vectors)
        methods.append(Method(f"{label} · {_METHOD_NAMES[method]} movies · cosine", "item2vec",
                              lambda rows, m=unit_movies, u=unit_users, c=cat: c.spread(c.users(u, rows) @ m.T),
                              similarity=item_similarity(cat, vectors), train_seconds=seconds,
                              model=f"{label}-{method}", settings={"movie_vectors": method, "scoring": "cosine"}))
    return methods


_METHOD_NAMES = {"sif": "SIF", "usif": "uSIF", "mean": "mean"}
