"""``--engine spark``: the heavy stages on Apache Spark, results as the usual typed values.

Spark reads and groups the log, trains Spark ML's Word2Vec and computes the
SIF / uSIF / mean sentence vectors; the coded log stays on Spark, and what
comes back to the driver are the vocabularies, the movies, the vectors and
the figures the site needs, so the neighbours, projector and site stages do
not change.

=================  ======================================================
``session``        SparkParams, starting a quiet session, checks
``files``          a path, URI or known dataset -> SparkInput (what Spark
                   reads, its format, the small files beside it)
``read``           DataConfig -> SparkLog (the coded log on Spark, the
                   vocabularies, movies, users and notes on the driver)
``sentences``      SparkLog -> SparkCorpus (sentence frame + counts)
``vectors``        SparkCorpus -> WordVectors (Spark ML Word2Vec),
                   SentenceVectors (SIF / uSIF / mean)
``figures``        SparkLog -> the whole log's figures for the site
``recommend``      SparkCorpus -> top-k recommendations per user
``pairs``          SparkCorpus -> movies rated close together
``evaluate``       a split's training ratings -> the recommender's picks
``engine``         DataConfig -> EngineResult: the stages, timed
=================  ======================================================

pyspark is imported inside functions only: importing this package is cheap.
"""

from embedder.spark.engine import EngineResult, run_spark
from embedder.spark.read import SparkLog, collect_interactions, input_problems, log_frame, read_log
from embedder.spark.sentences import SparkCorpus, group_sentences
from embedder.spark.session import INSTALL_HINT, SparkParams, missing_spark, spark_session
from embedder.spark.vectors import spark_sentence_vectors, train_word2vec

__all__ = ["EngineResult", "INSTALL_HINT", "SparkCorpus", "SparkLog", "SparkParams", "collect_interactions",
           "group_sentences", "input_problems", "log_frame", "missing_spark", "read_log", "run_spark",
           "spark_sentence_vectors", "spark_session", "train_word2vec"]
