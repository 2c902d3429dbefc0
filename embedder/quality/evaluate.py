"""Leave-last-out evaluation: the split, the protocol, and the runner behind ``build.py evaluate``.

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
``scorers`` from ``baselines`` and ``recommend``); ``run`` puts it together
and returns a ``model_card.Report``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
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
    import pandas as pd
    from scipy.sparse import csr_matrix

    from embedder.model.sequences import SequenceParams, make_sequences

    history, _ = make_sequences(split.train, SequenceParams(min_length=1))
    catalogue = history.token_ids
    if not np.array_equal(history.sentence_ids, split.train.user_ids[split.users]):
        raise ValueError("every evaluated user must have training ratings")
    targets = pd.Index(catalogue).get_indexer(split.train.item_ids[split.targets])
    # Copies: scipy keeps the index arrays it is given, and sum_duplicates sorts them in place.
    X = csr_matrix((np.ones(len(history.tokens), dtype=np.float32), history.tokens.copy(), history.indptr.copy()),
                   shape=(len(history), len(catalogue)))
    X.sum_duplicates()
    X.data[:] = 1.0
    rows = pd.Index(dataset.movies.ids).get_indexer(catalogue)
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


@dataclass
class Timer:
    """Wall seconds of a block: ``with timer: ...`` then ``timer.seconds``."""

    seconds: float = 0.0
    _start: float = field(default=0.0, repr=False)

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds += time.perf_counter() - self._start
        return False


# --- the runner --------------------------------------------------------------


@dataclass(frozen=True)
class EvalOptions:
    """What ``run`` reports.

    split
        ``"test"`` (the figures to quote) or ``"val"`` (the split defaults are
        chosen on).  Baseline settings always come from val.
    repeats
        Word2Vec rows are trained with ``repeats`` seeds (``seed, seed+1, ...``)
        and reported as mean ± standard deviation over seeds.
    baselines
        Tune and report item-kNN and EASE (popularity is always there).
    """

    split: str = "test"
    repeats: int = 1
    baselines: bool = True


def run(dataset: Dataset, config, scoring=None, options: EvalOptions = EvalOptions(), *, say=lambda message: None):
    """Evaluate the build's embedder (with ``config``'s settings) and the baselines on one split.

    Parameters
    ----------
    dataset
        The full ratings log; the split is made here.
    config
        A ``BuildConfig``: its sentence, Word2Vec and SIF settings are the ones
        trained (with one worker thread, so ``--seed`` makes it deterministic).
    scoring
        The recommendation scoring to mark as the default row
        (``ScoringParams()`` when None).
    options
        Which split, how many seeds, whether to run the baselines.
    say
        Called with a short progress message before each slow step.

    Returns
    -------
    model_card.Report
    """
    from embedder.config import for_log
    from embedder.quality.model_card import Report
    from embedder.ratings.order import ordered_dataset
    from embedder.model.recommend import ScoringParams
    from embedder.quality.scorers import BaselineChoices, baseline_methods, tune_baselines

    dataset = ordered_dataset(dataset, getattr(config, "log_order", "auto"), seed=config.word2vec.seed)
    order = dataset.order
    config = for_log(config, order)
    scoring = (scoring or ScoringParams()).for_log(order.ordered)
    started = time.perf_counter()
    say(f"splitting: {order.protocol()}")
    val = make_task(dataset, leave_last_out(dataset.interactions, "val"))
    task = val if options.split == "val" else make_task(dataset, leave_last_out(dataset.interactions, "test"))
    choices = (tune_baselines(val, recency=order.ordered, say=say) if options.baselines else
               BaselineChoices(None, None, None, None, None, note="baselines not run (--no-baselines)"))
    similar: dict = {}
    rows = [_row(task, method, similar) for method in baseline_methods(task, choices, say=say)]
    seeds = [config.word2vec.seed + i for i in range(max(1, options.repeats))]
    runs = []
    for seed in seeds:
        say(f"word2vec seed {seed}")
        seeded: dict = {}
        runs.append([_row(task, method, seeded) for method in _embedder_methods(task, config, scoring, seed)])
    rows += _over_seeds(runs)
    return Report(
        dataset={"name": dataset.name, "ratings": len(dataset.interactions),
                 "users": len(dataset.interactions.user_ids), "movies": len(dataset.movies)},
        split={"name": task.split.name, "protocol": order.protocol(), "order": order.describe(), "ordered": order.ordered,
               "users": task.n_users, "catalogue": task.n_items, "anchors": len(task.anchors),
               "unseen_targets": int((task.targets < 0).sum()), "min_ratings": MIN_RATINGS,
               "min_anchor_ratings": MIN_ANCHOR_RATINGS},
        random_jaccard=random_jaccard(task),
        settings=_settings(config, scoring),
        tuned=choices.as_dict(),
        rows=rows,
        comparisons=_comparisons(rows),
        seeds=seeds,
        seconds=time.perf_counter() - started,
    )


def _embedder_methods(task: Task, config, scoring, seed: int) -> list:
    """Train the build's Word2Vec model on the split's training data and wrap its scorers."""
    from dataclasses import replace

    from embedder.model.word2vec import train_word_vectors
    from embedder.quality.scorers import item2vec_methods, users_as_words_methods
    from embedder.model.sequences import make_sequences
    from embedder.model.sentence_vectors import METHODS, sentence_vectors

    sequences, _ = make_sequences(task.split.train, config.sequences)
    with Timer() as timer:
        words = train_word_vectors(sequences, replace(config.word2vec, seed=seed, workers=1))
    vectors = {m: sentence_vectors(sequences, words, m, alpha=config.sif_alpha).vectors for m in METHODS}
    if config.sequences.orientation != "users":
        return users_as_words_methods(task, sequences, words, vectors, timer.seconds)
    if scoring.method != "ease":
        return item2vec_methods(task, sequences, words, vectors, scoring, timer.seconds)
    # EASE recommends (unordered logs): Word2Vec's io scoring is measured beside it, as it would score.
    from embedder.model.recommend import ScoringParams
    from embedder.quality.scorers import ease_method

    io = ScoringParams().for_log(False)
    methods = item2vec_methods(task, sequences, words, vectors, replace(io, method="io"), timer.seconds, default=False)
    return methods + [ease_method(task, sequences, scoring, config.site.min_support, seed=seed)]


def _row(task: Task, method, similar: dict):
    """Apply the protocol to one method (similar-movies figures computed once per model)."""
    from embedder.quality.model_card import Row

    figures = measure(task, rank_users(task, method.scores))
    sim = None
    if method.similarity is not None:
        if method.model not in similar:
            similar[method.model] = similar_figures(task, method.similarity)
        sim = similar[method.model]
    return Row(method=method.name, family=method.family, settings=method.settings, hr=figures.hr,
               hr_se=figures.hr_se, ndcg=figures.ndcg, coverage=figures.coverage,
               genre_jaccard=None if sim is None else sim.genre_jaccard,
               next_hr=None if sim is None else sim.next_hr, next_ndcg=None if sim is None else sim.next_ndcg,
               train_seconds=method.train_seconds, default=method.default, hits=figures.hits)


def _over_seeds(runs: list[list]) -> list:
    """Rows of several seeds -> one row per method: means, std over seeds, per-user hits averaged."""
    from dataclasses import replace

    if len(runs) == 1:
        return runs[0]
    out = []
    for rows in zip(*runs):
        mean = lambda name: float(np.mean([getattr(r, name) for r in rows]))
        opt = lambda name: None if rows[0].__dict__[name] is None else mean(name)
        hits = np.mean([r.hits for r in rows], axis=0)
        out.append(replace(rows[0], hr=mean("hr"), hr_se=standard_error(hits), ndcg=mean("ndcg"),
                           coverage=mean("coverage"), genre_jaccard=opt("genre_jaccard"), next_hr=opt("next_hr"),
                           next_ndcg=opt("next_ndcg"), train_seconds=mean("train_seconds"),
                           hr_std=float(np.std([r.hr for r in rows], ddof=1)),
                           ndcg_std=float(np.std([r.ndcg for r in rows], ddof=1)), hits=hits))
    return out


def _comparisons(rows: list) -> list[dict]:
    """The default scoring against EASE and EASE-recent (or popularity): paired bootstrap over users."""
    from embedder.quality.metrics import paired_bootstrap

    default = next((r for r in rows if r.default), None)
    references = ([r for r in rows if r.family == "baseline" and r.method.startswith("EASE")]
                  or [r for r in rows if r.method == "popularity"])
    out = []
    for ref in references if default is not None else []:
        diff, low, high = paired_bootstrap(default.hits, ref.hits)
        out.append({"a": default.method, "b": ref.method, "diff": round(diff, 5), "low": round(low, 5),
                    "high": round(high, 5), "ratio": round(default.hr / ref.hr, 3) if ref.hr else None})
    return out


def _settings(config, scoring) -> dict:
    """The training settings the evaluation used, as plain values."""
    from dataclasses import asdict

    w2v = dict(config.word2vec.settings())
    w2v["workers"] = 1
    return {"word2vec": w2v, "sequences": asdict(config.sequences), "user_vectors": config.sentence_method,
            "sif_alpha": config.sif_alpha, "recommendations": scoring.settings()}
