"""BuildConfig -> EngineResult: the read, sentences, word2vec and user-vector stages on Spark, timed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from embedder.errors import ConfigError
from embedder.ratings.order import arrange, detect_order
from embedder.model.sequences import SequenceReport
from embedder.values import Dataset, SentenceVectors, Sequences, WordVectors
from embedder.spark.read import check_dataset, csv_layout, log_frame, read_ratings
from embedder.spark.sentences import group_sentences
from embedder.spark.session import SparkParams, spark_session
from embedder.spark.vectors import spark_sentence_vectors, train_word2vec
from embedder.timing import Stages


@dataclass(frozen=True)
class EngineResult:
    """What ``run_spark`` hands the pipeline, with the seconds each stage took."""

    dataset: Dataset
    sequences: Sequences
    report: SequenceReport
    words: WordVectors
    sentences: SentenceVectors
    timings: dict[str, float] = field(default_factory=dict)


def run_spark(data, params: SparkParams | None, training, *, progress: bool = False,
              warn: Callable[[str], None] = print) -> EngineResult:
    """Read ``data`` (a ``config.DataConfig``), group, train Word2Vec and make the user vectors on Spark.

    ``training`` is the build's ``config.TrainingConfig``.  A session this
    function starts is stopped at the end; one already running (a
    notebook's, a test's) is used as it is and left running.
    """
    from pyspark.sql import SparkSession

    params = params or SparkParams()
    stages = Stages()
    running = SparkSession.getActiveSession()
    spark, cached = running, []
    try:
        with stages.stage("read"):  # finding the data and starting Spark count as reading
            source = _locate(data, progress=progress, warn=warn)  # fails before Spark starts
            spark = running or spark_session(params, progress=progress)
            log = (log_frame(spark, source) if isinstance(source, Dataset)
                   else read_ratings(spark, source, strict=data.strict, name=data.dataset))
            cached.append(log.frame)
            order = detect_order(log.dataset.interactions, training.log_order, seed=training.seed,
                                 source=log.dataset.source)
        with stages.stage("sentences"):
            corpus = group_sentences(log, training.sequences, order.kind, seed=training.seed)
            cached.append(corpus.frame)
        with stages.stage("word2vec"):
            words = train_word2vec(corpus, training.word2vec, partitions=params.word2vec_partitions)
        with stages.stage("user vectors"):
            sentences = spark_sentence_vectors(corpus, words, training.sentence_method, alpha=training.sif_alpha)
    finally:
        for frame in cached:
            frame.unpersist()
        if running is None and spark is not None:
            spark.stop()
    return EngineResult(arrange(log.dataset, order), corpus.sequences, corpus.report, words, sentences, stages.timings)


def _locate(data, *, progress: bool, warn):
    """What ``sources.load_dataset`` would read: a checked ratings.csv folder or file, or the demo Dataset."""
    from embedder.ratings.demo import make_demo

    if data.ratings is not None:
        return csv_layout(data.ratings).ratings
    if data.dataset == "demo":
        return make_demo(seed=data.demo_seed)
    from embedder.ratings.sources import known_folder

    problems = check_dataset(data.dataset)
    if problems:
        raise ConfigError(problems[0])
    folder = known_folder(data, progress=progress, warn=warn)
    if folder is None:
        return make_demo(seed=data.demo_seed)
    return csv_layout(folder).ratings

