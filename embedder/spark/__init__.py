"""``--engine spark``: the heavy stages on Apache Spark, results as the usual typed values.

Spark reads and groups the log, trains Spark ML's Word2Vec and computes the
SIF / uSIF / mean sentence vectors; what comes back to the driver is the same
``Dataset``, ``Sequences``, ``WordVectors`` and ``SentenceVectors`` the local
engine makes, so the neighbours, projector and site stages do not change.

=================  ======================================================
``session``        SparkParams, starting a quiet session, checks
``read``           ratings.csv -> SparkLog (Dataset + the coded log)
``sentences``      SparkLog -> SparkCorpus (Sequences + sentence frame)
``vectors``        SparkCorpus -> WordVectors (Spark ML Word2Vec),
                   SentenceVectors (SIF / uSIF / mean)
``engine``         BuildConfig -> EngineResult: the four stages, timed
=================  ======================================================

pyspark is imported inside functions only: importing this package is cheap.
"""

from embedder.spark.engine import EngineResult, run_spark
from embedder.spark.read import CSV_DATASETS, SparkLog, check_dataset, log_frame, read_ratings
from embedder.spark.sentences import SparkCorpus, group_sentences
from embedder.spark.session import INSTALL_HINT, SparkParams, missing_spark, spark_session
from embedder.spark.vectors import spark_sentence_vectors, train_word2vec

__all__ = ["CSV_DATASETS", "EngineResult", "INSTALL_HINT", "SparkCorpus", "SparkLog", "SparkParams", "check_dataset",
           "group_sentences", "log_frame", "missing_spark", "read_ratings", "run_spark", "spark_sentence_vectors",
           "spark_session", "train_word2vec"]
