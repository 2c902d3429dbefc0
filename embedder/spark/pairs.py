"""SparkCorpus -> movie pairs on Spark: how often two movies are rated close together, and each movie's nearest.

A pair is two movies rated within ``window`` places of each other in one
user's sentence -- the same windows Word2Vec learns from.  Everything here is
Spark SQL (array and window functions): the executors need no Python.  Only
``top_pairs`` and ``word_counts`` bring anything to the driver, O(movies x k)
and O(movies) values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from embedder.spark.session import broadcast, column, quiet_pandas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def co_occurrence(corpus, window: int) -> DataFrame:
    """``(a, b, n)``: how often movie codes ``a != b`` appear within ``window`` places of each other in one
    sentence, both directions (``n(a, b) == n(b, a)``).

    ``corpus`` is a ``SparkCorpus``: only its ``frame`` (``sentence``,
    ``words``) is read.  Each sentence makes at most ``window`` pairs per
    word, built with array functions, so a long sentence costs
    O(length x window), never O(length^2).
    """
    from pyspark.sql import functions as F

    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    words = F.col("words")
    size = F.size(words)

    def at(gap):  # (words[i], words[i + gap]) for every i that has a partner gap places later
        count = F.greatest(size - gap, F.lit(0))
        return F.transform(F.slice(words, F.lit(1), count),
                           lambda a, i: F.struct(a.alias("a"), F.element_at(words, i + gap + 1).alias("b")))

    pairs = F.flatten(F.transform(F.sequence(F.lit(1), F.lit(int(window))), at))
    found = (corpus.frame.select(F.explode(pairs).alias("p"))
             .select(F.col("p.a").cast("long").alias("a"), F.col("p.b").cast("long").alias("b"))
             .filter(F.col("a") != F.col("b")))
    one_way = (found.select(F.least("a", "b").alias("a"), F.greatest("a", "b").alias("b"))
               .groupBy("a", "b").agg(F.count(F.lit(1)).alias("n")))
    return one_way.unionByName(one_way.select(F.col("b").alias("a"), F.col("a").alias("b"), "n"))


def word_counts(corpus) -> DataFrame:
    """``(word, count)``: how many times each movie code occurs in the sentences (its rating count)."""
    from pyspark.sql import functions as F

    return (corpus.frame.select(F.explode("words").alias("word")).select(F.col("word").cast("long"))
            .groupBy("word").agg(F.count(F.lit(1)).alias("count")))


def collect_counts(corpus) -> np.ndarray:
    """Each vocabulary row's rating count (order of ``corpus.words``): O(movies) values."""
    with quiet_pandas():
        table = word_counts(corpus).toArrow()
    out = np.zeros(len(corpus.words), dtype=np.int64)
    rows, inside = rows_of(corpus.words, column(table, "word", np.int64))
    out[rows[inside]] = column(table, "count", np.int64)[inside]
    return out


def similarities(pairs, counts, alpha: float, beta: float) -> DataFrame:
    """``(a, b, n, sim)`` with ``sim = n / (count(a)**alpha * count(b)**beta)``.

    ``counts`` is ``word_counts``' frame.  ``alpha = 1, beta = 0`` is the
    share of ``a``'s ratings that have ``b`` close by (``p(b | a)``);
    ``0.5, 0.5`` the cosine of the two movies' pair counts; a small
    ``beta`` keeps some of ``b``'s popularity in the score.
    """
    from pyspark.sql import functions as F

    left = broadcast(counts.select(F.col("word").alias("a"), F.col("count").alias("count_a")))
    right = broadcast(counts.select(F.col("word").alias("b"), F.col("count").alias("count_b")))
    sim = F.col("n") / (F.pow(F.col("count_a"), float(alpha)) * F.pow(F.col("count_b"), float(beta)))
    return pairs.join(left, "a").join(right, "b").select("a", "b", "n", sim.alias("sim"))


def keep_top(frame, k: int, by: str = "n") -> DataFrame:
    """The rows of ``frame`` with the ``k`` largest ``by`` per ``a`` (ties to the lower ``b``), with their ``rank``
    (1 = largest).  Runs on Spark; nothing is collected."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    order = Window.partitionBy("a").orderBy(F.desc(by), F.asc("b"))
    return frame.withColumn("rank", F.row_number().over(order)).filter(F.col("rank") <= k)


def top_pairs(pairs, words: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per vocabulary row (order of ``words``), the ``k`` partners with the largest ``n``, as vocabulary rows.

    Returns ``(partners, counts)``, each ``(len(words), k)`` int64: partners
    best first, ties to the lower row, -1 padded; their ``n``, 0 padded.
    Collected to the driver: O(movies x k) values.  Pairs naming a code not
    in ``words`` are left out.
    """
    words = np.asarray(words, dtype=np.int64)
    with quiet_pandas():
        table = keep_top(pairs, k, "n").select("a", "b", "n", "rank").toArrow()
    partners = np.full((len(words), k), -1, dtype=np.int64)
    counts = np.zeros((len(words), k), dtype=np.int64)
    a, a_in = rows_of(words, column(table, "a", np.int64))
    b, b_in = rows_of(words, column(table, "b", np.int64))
    rank = column(table, "rank", np.int64) - 1
    keep = a_in & b_in
    # Ranks count every partner on Spark; a partner outside ``words`` would leave a gap: close it up.
    order = np.lexsort((rank[keep], a[keep]))
    a, b, n = a[keep][order], b[keep][order], column(table, "n", np.int64)[keep][order]
    starts = np.searchsorted(a, a, side="left")
    place = np.arange(len(a)) - starts
    partners[a, place] = b
    counts[a, place] = n
    return partners, counts


def rows_of(words: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``codes`` in the sorted ``words`` and whether each is there at all."""
    rows = np.searchsorted(words, codes)
    inside = rows < len(words)
    inside[inside] = words[rows[inside]] == codes[inside]
    return np.minimum(rows, max(len(words) - 1, 0)), inside
