"""DataConfig -> EngineResult: the training stages on Spark, timed; only O(movies + users x k) values reach the driver.

The log, its sentences and every per-rating step stay on the cluster.  The
driver receives the vocabularies and the movies table, the vectors, the
figures of the whole log (``figures``), each user's latest ratings for the
explorer, the recommendations (``recommend``) and the co-rated lists
(``pairs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from embedder.model.recommender import Recommender
from embedder.model.sequences import SequenceReport
from embedder.model.support import DEFAULT_MIN_RATINGS, support
from embedder.ratings.order import decide_order
from embedder.values import CoRated, CorpusCounts, Dataset, SentenceVectors, WordVectors
from embedder.spark.figures import cluster_dataset, timed_share
from embedder.spark.read import read_log
from embedder.spark.sentences import SparkCorpus, group_sentences
from embedder.spark.session import SparkParams, spark_session
from embedder.spark.vectors import spark_sentence_vectors, train_word2vec
from embedder.timing import Stages

#: Co-rated lists of a Spark build count two movies when one person rated them within this many ratings of each other.
CORATED_WINDOW = 10
#: Why a Spark build recommends with the co-occurrence model (``docs/spark.md`` has the figures).
WHY = ("the default of --engine spark: Spark's Word2Vec keeps no output vectors, and this model, trained on the "
       "cluster, ranked held-out movies as well as the one-machine default")


@dataclass(frozen=True)
class EngineResult:
    """What ``run_spark`` hands the pipeline, with the seconds each stage took.

    ``dataset`` holds each user's latest ratings and the whole log's figures
    (``Dataset.stats``); ``counts`` the sentences' lengths and word counts.
    ``recommender`` and ``co_rated`` are None with ``--orientation movies``.
    """

    dataset: Dataset
    counts: CorpusCounts
    report: SequenceReport
    words: WordVectors
    sentences: SentenceVectors
    recommender: Recommender | None = None
    co_rated: CoRated | None = None
    timings: dict[str, float] = field(default_factory=dict)


def run_spark(data, params: SparkParams | None, training, *, min_support: int = DEFAULT_MIN_RATINGS,
              progress: bool = False, warn: Callable[[str], None] = print) -> EngineResult:
    """Read ``data`` (a ``config.DataConfig``), group, train and aggregate on Spark.

    ``training`` is the build's ``config.TrainingConfig``; ``min_support``
    the support rule the recommendations follow.  A session this function
    starts is stopped at the end; one already running (a notebook's, a
    test's) is used as it is and left running.
    """
    from pyspark.sql import SparkSession

    params = params or SparkParams()
    stages = Stages()
    running = SparkSession.getActiveSession()
    spark, cached = running, []
    try:
        with stages.stage("read"):  # starting Spark counts as reading
            spark = running or spark_session(params, progress=progress)
            log = read_log(spark, data, progress=progress, warn=warn)
            cached.append(log.frame)
            order = decide_order(lambda: timed_share(log), training.log_order, seed=training.seed, source=log.source)
        with stages.stage("sentences"):
            corpus = group_sentences(log, training.sequences, order.kind, seed=training.seed)
            cached.append(corpus.frame)
        with stages.stage("word2vec"):
            words = train_word2vec(corpus, training.word2vec, partitions=params.word2vec_partitions)
        with stages.stage("user vectors"):
            sentences = spark_sentence_vectors(corpus, words, training.sentence_method, alpha=training.sif_alpha)
        with stages.stage("log figures"):
            dataset = cluster_dataset(log, order)
        recommender = co_rated = None
        if training.sequences.orientation == "users":
            with stages.stage("recommendations"):
                every = None  # the sentences hold every rating unless --min-rating left some out
                if training.sequences.min_rating is not None:
                    every = log.frame.selectExpr("user AS sentence", "item AS b")
                recommender, co_rated = _lists(corpus, words, sentences, order.ordered, min_support, every)
    finally:
        for frame in cached:
            frame.unpersist()
        if running is None and spark is not None:
            spark.stop()
    return EngineResult(dataset, corpus.counts, corpus.report, words, sentences, recommender, co_rated,
                        stages.timings)


def _lists(corpus: SparkCorpus, words: WordVectors, sentences: SentenceVectors, ordered: bool, min_support: int,
           rated=None) -> tuple[Recommender, CoRated]:
    """The explorer's recommendations and co-rated lists, trained and counted on the cluster (``rated``: the
    ``(sentence, b)`` codes never to recommend, when the sentences do not hold them all)."""
    from pyspark import StorageLevel

    from embedder.site.explorer_lists import CORATED_K, RECOMMENDATIONS_K
    from embedder.spark.pairs import co_occurrence, top_pairs
    from embedder.spark.recommend import PairParams, spark_recommendations

    trusted = support(corpus.counts, words.ids, sentences.ids, min_ratings=min_support)
    params = PairParams.for_log(ordered)
    pairs = co_occurrence(corpus, CORATED_WINDOW).persist(StorageLevel.MEMORY_AND_DISK)  # counted once, used twice
    try:
        picks = spark_recommendations(corpus, ordered=ordered, k=RECOMMENDATIONS_K, supported=trusted.movies,
                                      params=params, rated=rated,
                                      pairs=pairs if params.window == CORATED_WINDOW else None)
        indices, counts = top_pairs(pairs, corpus.words, CORATED_K)
    finally:
        pairs.unpersist()
    recommender = Recommender(lambda rated: (picks.items, picks.scores, picks.because), picks.describe, WHY,
                              picks.settings)
    return recommender, CoRated(indices, counts, CORATED_WINDOW)
