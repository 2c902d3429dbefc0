"""SparkCorpus -> WordVectors (Spark ML's Word2Vec) and SentenceVectors (SIF / uSIF / mean).

The weighted means of the sentence vectors and their ``d x d`` Gram matrix
(whose eigenvectors are SIF's and uSIF's principal components) are computed
on Spark; the driver receives the Gram matrix and the ``n x d`` vectors the
site shows, and removes the components with ``sentence_vectors``' own
functions.
"""

from __future__ import annotations

import numpy as np

from embedder.model.word2vec import Word2VecParams
from embedder.model.sequences import GENSIM_MAX_SENTENCE
from embedder.model.sentence_vectors import (
    SIF_COMPONENTS,
    USIF_COMPONENTS,
    gram_components,
    remove_components,
    word_weights,
)
from embedder.values import SentenceVectors, WordVectors
from embedder.spark.sentences import SparkCorpus
from embedder.spark.session import broadcast, column, quiet_pandas

_FLOAT32_EPS = float(np.finfo(np.float32).eps)  # user_vectors' guard against a zero matrix


def train_word2vec(corpus: SparkCorpus, params: Word2VecParams, *, partitions: int = 1) -> WordVectors:
    """Train Spark ML's Word2Vec (skip-gram, hierarchical softmax) on the corpus.

    Rows follow ``corpus.sequences.token_ids``.  Sentences longer than
    ``GENSIM_MAX_SENTENCE`` are cut into pieces, as for gensim.  Spark keeps
    no output vectors, so ``output_vectors`` is None.
    """
    from pyspark.ml.feature import Word2Vec
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    spark_params = _spark_params(params, partitions)
    sentences = corpus.frame.select(F.transform("words", lambda w: w.cast("string")).alias("words"))
    with quiet_pandas():
        model = Word2Vec(inputCol="words", outputCol="vector", **spark_params).fit(sentences)
        table = model.getVectors().select(F.col("word").cast("long").alias("word"),
                                          vector_to_array("vector", "float32").alias("vector")).toArrow()
    codes = column(table, "word", np.int64)
    rows = np.searchsorted(corpus.words, codes)
    if len(codes) != len(corpus.words) or not np.array_equal(corpus.words[rows], codes):
        raise RuntimeError("Spark's Word2Vec vocabulary differs from the corpus's")  # a bug, not bad input
    vectors = np.empty((len(codes), params.vector_size), dtype=np.float32)
    vectors[rows] = np.asarray(table.column("vector").combine_chunks().flatten().to_numpy(),
                               dtype=np.float32).reshape(len(codes), params.vector_size)
    return WordVectors(ids=corpus.counts.token_ids, vectors=vectors, output_vectors=None,
                       settings=spark_settings(params, partitions))


def spark_settings(params: Word2VecParams, partitions: int = 1) -> dict:
    """What Spark's Word2Vec trains with, for the site and the model card (its names, not gensim's)."""
    return {"engine": "spark", "model": "pyspark.ml.feature.Word2Vec", "sg": 1, "hs": 1,
            **_spark_params(params, partitions)}


def _spark_params(params: Word2VecParams, partitions: int) -> dict:
    return {"vectorSize": params.vector_size, "windowSize": params.window, "stepSize": params.alpha,
            "maxIter": params.epochs, "seed": params.seed, "minCount": 1,
            "maxSentenceLength": GENSIM_MAX_SENTENCE, "numPartitions": partitions}


def spark_sentence_vectors(corpus: SparkCorpus, words: WordVectors, method: str = "sif", *,
                           alpha: float = 1e-3) -> SentenceVectors:
    """SIF, uSIF or mean vectors for every sentence, as ``sentence_vectors.sentence_vectors`` defines them.

    The weighted means ``(1/|s|) sum weight(w) v_w`` and their Gram matrix are
    computed on Spark; the weights, the components and their removal are
    ``sentence_vectors``' functions.
    """
    import pyarrow as pa
    from pyspark import StorageLevel
    from pyspark.ml.functions import array_to_vector, vector_to_array
    from pyspark.ml.stat import Summarizer
    from pyspark.sql import functions as F

    counts = corpus.counts
    if len(words.ids) != len(counts.token_ids) or not np.array_equal(words.ids, counts.token_ids):
        raise ValueError("word vectors do not follow the sentences' vocabulary")
    weights = word_weights(counts.token_counts(), method, alpha=alpha, mean_length=float(counts.lengths().mean()))
    weighted = weights.astype(np.float64)[:, None] * words.vectors.astype(np.float64)
    d = weighted.shape[1]
    rows = pa.FixedSizeListArray.from_arrays(pa.array(weighted.ravel()), d).cast(pa.list_(pa.float64()))
    table = pa.table({"word": corpus.words, "wv": rows})
    spark = corpus.frame.sparkSession
    with quiet_pandas():
        word_table = spark.createDataFrame(table).select("word", array_to_vector("wv").alias("wv"))
        means = (corpus.frame.select("sentence", F.explode("words").alias("word"))
                 .join(broadcast(word_table), "word")
                 .groupBy("sentence").agg(Summarizer.mean(F.col("wv")).alias("mean"))
                 .select("sentence", vector_to_array("mean", "float32").alias("mean"))
                 .persist(StorageLevel.MEMORY_AND_DISK))
        try:
            gram = _gram(means, d) if method in ("sif", "usif") else None
            collected = means.orderBy("sentence").toArrow()
        finally:
            means.unpersist()
    if not np.array_equal(column(collected, "sentence", np.int64), corpus.groups):
        raise RuntimeError("Spark's sentence vectors do not cover the corpus")  # a bug, not bad input
    matrix = np.asarray(collected.column("mean").combine_chunks().flatten().to_numpy(),
                        dtype=np.float32).reshape(len(corpus.groups), d)
    if method == "sif":
        _, components = gram_components(gram, SIF_COMPONENTS)
        matrix = remove_components(matrix, components)
    elif method == "usif":
        singular, components = gram_components(gram, min(USIF_COMPONENTS, d))
        matrix = remove_components(matrix, components, singular**2 / max(float((singular**2).sum()), _FLOAT32_EPS))
    return SentenceVectors(ids=counts.sentence_ids, vectors=matrix, method=method)


def _gram(means, d: int) -> np.ndarray:
    """``M.T @ M`` (float64) of the sentence means, summed on Spark: one ``d x d`` outer product per row."""
    from pyspark.ml.functions import array_to_vector
    from pyspark.ml.stat import Summarizer
    from pyspark.sql import functions as F

    outer = F.expr(f"transform(sequence(0, {d * d - 1}), k -> "
                   f"cast(mean[int(k div {d})] as double) * cast(mean[int(k % {d})] as double))")
    total = means.select(array_to_vector(outer).alias("outer")).agg(Summarizer.sum(F.col("outer")).alias("sum")).first()
    return np.asarray(total["sum"].toArray(), dtype=np.float64).reshape(d, d)
