"""The runner behind ``build.py evaluate``: the build's embedder and the baselines on one split.

``run`` makes the val and test tasks (``evaluate``), tunes the baselines on
val and wraps them as methods (``scorers``), trains the build's Word2Vec
model with ``repeats`` seeds, applies the protocol to every method
(``evaluate.rank_users``, ``measure``, ``similar_figures``) and returns a
``model_card.Report``.  With Spark settings (``--engine spark``) it also
ships the same split's training ratings to Spark, where the Spark engine's
recommender is trained (``embedder.spark.evaluate``), and measures its lists
beside the local rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from embedder.model.recommend import ScoringParams
from embedder.quality.evaluate import (MIN_ANCHOR_RATINGS, MIN_RATINGS, Task, leave_last_out, make_task, measure,
                                       random_jaccard, rank_users, similar_figures)
from embedder.quality.metrics import paired_bootstrap, standard_error
from embedder.quality.model_card import Report, Row
from embedder.quality.scorers import (BaselineChoices, baseline_methods, ease_method, item2vec_methods, tune_baselines,
                                      users_as_words_methods)
from embedder.ratings.order import ordered_dataset
from embedder.spark.session import SparkParams
from embedder.timing import Timer
from embedder.values import Dataset

#: The Spark engine's row is named "spark: <model>".
SPARK_ROW = "spark: "


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
    spark
        Where Spark runs (``--engine spark``): the Spark engine's recommender
        is trained there on the same split and reported beside the local
        rows.  None: local rows only.
    """

    split: str = "test"
    repeats: int = 1
    baselines: bool = True
    spark: SparkParams | None = None


def run(dataset: Dataset, training, options: EvalOptions = EvalOptions(), *, say=lambda message: None):
    """Evaluate the build's embedder (trained with ``training``'s settings) and the baselines on one split.

    Parameters
    ----------
    dataset
        The full ratings log; the split is made here.
    training
        A ``config.TrainingConfig`` (``BuildConfig.training()``): its sentence,
        Word2Vec, SIF and recommendation settings are the ones trained (with
        one worker thread, so the seed makes it deterministic); its scoring is
        the default row.
    options
        Which split, how many seeds, whether to run the baselines.
    say
        Called with a short progress message before each slow step.

    Returns
    -------
    model_card.Report
    """
    dataset = ordered_dataset(dataset, training.log_order, seed=training.seed)
    order = dataset.order
    training = training.for_log(order.ordered)  # the "auto" settings made concrete for this log, as the build does
    with Timer() as timer:
        say(f"splitting: {order.protocol()}")
        val = make_task(dataset, leave_last_out(dataset.interactions, "val"))
        task = val if options.split == "val" else make_task(dataset, leave_last_out(dataset.interactions, "test"))
        choices = (tune_baselines(val, recency=order.ordered, say=say) if options.baselines else
                   BaselineChoices(None, None, None, None, None, note="baselines not run (--no-baselines)"))
        similar: dict = {}
        rows = [_row(task, method, similar) for method in baseline_methods(task, choices, say=say)]
        seeds = [training.seed + i for i in range(max(1, options.repeats))]
        runs = []
        for seed in seeds:
            say(f"word2vec seed {seed}")
            seeded: dict = {}
            runs.append([_row(task, method, seeded) for method in _embedder_methods(task, training, seed)])
        rows += _over_seeds(runs)
        if options.spark is not None:
            rows.append(_spark_row(task, dataset, training, options.spark, say))
        random_figure, comparisons = random_jaccard(task), _comparisons(rows)
    return Report(
        dataset={"name": dataset.name, "ratings": len(dataset.interactions),
                 "users": len(dataset.interactions.user_ids), "movies": len(dataset.movies)},
        split={"name": task.split.name, "protocol": order.protocol(), "order": order.describe(), "ordered": order.ordered,
               "users": task.n_users, "catalogue": task.n_items, "anchors": len(task.anchors),
               "unseen_targets": int((task.targets < 0).sum()), "min_ratings": MIN_RATINGS,
               "min_anchor_ratings": MIN_ANCHOR_RATINGS},
        random_jaccard=random_figure,
        settings=_settings(training),
        tuned=choices.as_dict(),
        rows=rows,
        comparisons=comparisons,
        seeds=seeds,
        seconds=timer.seconds,
    )


def _embedder_methods(task: Task, training, seed: int) -> list:
    """Train the build's Word2Vec model on the split's training data and wrap its scorers."""
    from embedder.model.sentence_vectors import METHODS, sentence_vectors
    from embedder.model.sequences import make_sequences
    from embedder.model.word2vec import train_word_vectors

    scoring = training.scoring
    sequences, _ = make_sequences(task.split.train, training.sequences)
    with Timer() as timer:
        words = train_word_vectors(sequences, replace(training.word2vec, seed=seed, workers=1))
    vectors = {m: sentence_vectors(sequences, words, m, alpha=training.sif_alpha).vectors for m in METHODS}
    if training.sequences.orientation != "users":
        return users_as_words_methods(task, sequences, words, vectors, timer.seconds)
    if scoring.method != "ease":
        return item2vec_methods(task, sequences, words, vectors, scoring, timer.seconds)
    # EASE recommends (unordered logs): Word2Vec's io scoring is measured beside it, as it would score.
    io = ScoringParams().for_log(False)
    methods = item2vec_methods(task, sequences, words, vectors, replace(io, method="io"), timer.seconds, default=False)
    return methods + [ease_method(task, sequences, scoring, training.min_support, seed=seed)]


def _spark_row(task: Task, dataset: Dataset, training, params: SparkParams, say) -> Row:
    """The Spark engine's recommender, trained on Spark on the task's training ratings, as a row (not seeded)."""
    from embedder.spark.evaluate import spark_picks

    picks = spark_picks(task, dataset, training, params, say=say)
    figures = measure(task, picks.ranking)
    return Row(method=SPARK_ROW + picks.name, family="recommender", settings=picks.settings, hr=figures.hr,
               hr_se=figures.hr_se, ndcg=figures.ndcg, coverage=figures.coverage, genre_jaccard=None, next_hr=None,
               next_ndcg=None, train_seconds=picks.seconds, hits=figures.hits)


def _row(task: Task, method, similar: dict):
    """Apply the protocol to one method (similar-movies figures computed once per model)."""
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
    """The default scoring against EASE and EASE-recent (or popularity), and the Spark row (if any) against the
    default: paired bootstrap over users."""
    default = next((r for r in rows if r.default), None)
    references = ([r for r in rows if r.family == "baseline" and r.method.startswith("EASE")]
                  or [r for r in rows if r.method == "popularity"])
    pairs = [(default, ref) for ref in references] if default is not None else []
    pairs += [(r, default) for r in rows if default is not None and r.method.startswith(SPARK_ROW)]
    out = []
    for a, b in pairs:
        diff, low, high = paired_bootstrap(a.hits, b.hits)
        out.append({"a": a.method, "b": b.method, "diff": round(diff, 5), "low": round(low, 5),
                    "high": round(high, 5), "ratio": round(a.hr / b.hr, 3) if b.hr else None})
    return out


def _settings(training) -> dict:
    """The training settings the evaluation used (``BuildConfig.training_settings``, one worker thread)."""
    return {**training.summary, "word2vec": {**training.word2vec.settings(), "workers": 1},  # gensim, as trained here
            "recommendations": training.scoring.settings()}
