"""A split's training ratings -> the Spark recommender's top 10 per evaluated user (``evaluate --engine spark``).

The held-out ratings are chosen by the local protocol
(``embedder.quality.evaluate``); only the split's training ratings go to
Spark, where they are grouped into sentences (``sentences.group_sentences``)
and the recommender is trained and scores every user
(``recommend.spark_recommendations``), with the movies the build would
support.  Each user's top 10 comes back and is mapped onto the task's
catalogue columns, so the local metrics score it like every other row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from embedder.quality.evaluate import K, Task
from embedder.ratings.catalogue import positions
from embedder.spark.session import SparkParams
from embedder.timing import Timer
from embedder.values import Dataset


@dataclass(frozen=True)
class SparkPicks:
    """The Spark recommender's lists on a task: ``ranking`` is (task users x k) catalogue columns, best first,
    -1 where fewer; ``name`` a short name for the table; ``seconds`` the wall time of grouping, training and
    scoring on Spark."""

    ranking: np.ndarray
    name: str
    describe: str
    settings: dict
    seconds: float


def spark_picks(task: Task, dataset: Dataset, training, params: SparkParams | None = None, *,
                say=lambda message: None) -> SparkPicks:
    """Train the Spark recommender on ``task``'s training ratings and rank every evaluated user's movies.

    ``dataset`` is the arranged log the task was split from (its ``order``
    says whether recency counts); ``training`` is the evaluation's
    ``config.TrainingConfig``: its sentence filters (in the users
    orientation), seed and ``min_support`` are the build's.  A Spark session
    already running (a test's, a notebook's) is used and left running;
    otherwise one is started with ``params`` and stopped at the end.
    """
    from pyspark.sql import SparkSession

    from embedder.spark.session import spark_session

    running = SparkSession.getActiveSession()
    say("spark: starting" if running is None else "spark: using the running session")
    spark = running or spark_session(params or SparkParams())
    try:
        return _picks(spark, task, dataset, training, say)
    finally:
        if running is None:
            spark.stop()


def _picks(spark, task: Task, dataset: Dataset, training, say) -> SparkPicks:
    from embedder.spark.pairs import collect_counts
    from embedder.spark.read import log_frame
    from embedder.spark.recommend import spark_recommendations
    from embedder.spark.sentences import group_sentences

    order = dataset.order
    say("spark: shipping the training ratings")
    log = log_frame(spark, replace(dataset, interactions=task.split.train))
    cached = [log.frame]
    try:
        with Timer() as timer:
            say("spark: grouping sentences")
            corpus = group_sentences(log, replace(training.sequences, orientation="users"), order.kind,
                                     seed=training.seed)
            cached.append(corpus.frame)
            supported = collect_counts(corpus) >= training.min_support
            say("spark: co-occurrence recommender")
            recs = spark_recommendations(corpus, ordered=order.ordered, k=K, supported=supported)
    finally:
        for frame in cached:
            frame.unpersist()
    return SparkPicks(ranking=_ranking(task, dataset, corpus, recs.items), name=_name(recs.settings),
                      describe=recs.describe,
                      settings={**recs.settings, "min_support": training.min_support}, seconds=timer.seconds)


def _name(settings: dict) -> str:
    """The row's name: the model, which of the user's movies it scores from, its window."""
    which = f"latest {settings['last_k']}" if settings["last_k"] else "all rated movies"
    if settings["decay"] < 1:
        which += f" weighted {settings['decay']:g}^age"
    return f"co-occurrence · {which} (window {settings['window']})"


def _ranking(task: Task, dataset: Dataset, corpus, items: np.ndarray) -> np.ndarray:
    """Vocabulary rows of ``corpus`` per sentence -> catalogue columns per task user (-1 where none)."""
    from embedder.spark.pairs import rows_of

    item_ids = dataset.interactions.item_ids[np.asarray(corpus.words, dtype=np.int64)[np.maximum(items, 0)]]
    columns = np.where(items >= 0, positions(task.catalogue, item_ids.ravel()).reshape(items.shape), -1)
    rows, inside = rows_of(np.asarray(corpus.groups, dtype=np.int64), task.split.users.astype(np.int64))
    ranking = np.full((task.n_users, items.shape[1]), -1, dtype=np.int64)
    ranking[inside] = columns[rows[inside]]
    return ranking
