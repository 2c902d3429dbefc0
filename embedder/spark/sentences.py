"""SparkLog -> SparkCorpus: ``make_sequences``' filters and order on Spark; only their counts come to the driver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from embedder.errors import DataError
from embedder.model.sequences import SequenceParams, SequenceReport
from embedder.values import CorpusCounts, Sequences
from embedder.spark.read import SparkLog
from embedder.spark.session import broadcast, column, quiet_pandas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


@dataclass(frozen=True)
class SparkCorpus:
    """Sentences on Spark, and what the driver needs of them: O(sentences + words) values.

    ``frame`` has ``sentence`` (a group code, ``user`` or ``item`` of the log)
    and ``words`` (an array of word codes, in sentence order); ``groups`` and
    ``words`` are the codes used, ascending: sentence row ``s`` is group
    ``groups[s]``, word row ``t`` is word ``words[t]``.  ``counts`` holds the
    ids, each sentence's length and each word's count, as
    ``Sequences.counts()`` would.
    """

    counts: CorpusCounts
    report: SequenceReport
    frame: DataFrame
    groups: np.ndarray
    words: np.ndarray


def group_sentences(log: SparkLog, params: SequenceParams, order: str = "time", seed: int = 0) -> SparkCorpus:
    """Group the log into sentences on Spark: ``make_sequences``' filters, order and counts.

    ``order`` is the log's (``embedder.ratings.order``): ``time`` sorts each sentence
    by (timestamp, file row), ``file`` by file row, ``none`` by a seeded hash
    of the file row -- a random order no accident of the file can leak into.
    The sentences stay on Spark (``SparkCorpus.frame``).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if params.orientation not in ("users", "movies"):
        raise ValueError(f"unknown orientation {params.orientation!r}")
    group, word = ("user", "item") if params.orientation == "users" else ("item", "user")
    group_ids, word_ids = (log.user_ids, log.item_ids) if group == "user" else (log.item_ids, log.user_ids)
    frame, low = log.frame, 0
    with quiet_pandas():
        if params.min_rating is not None and log.has_rating:
            low = frame.filter(F.col("rating") < params.min_rating).count()
            frame = frame.filter(F.col("rating") >= params.min_rating)
        rare = 0
        if params.min_count > 1:
            counts = frame.groupBy(word).count()
            rare = counts.filter(F.col("count") < params.min_count).agg(F.sum("count")).first()[0] or 0
            frequent = counts.filter(F.col("count") >= params.min_count).select(word)
            frame = frame.join(broadcast(frequent), word, "left_semi")
        key = order_key(order, seed)
        ordered = F.sort_array(F.collect_list(F.struct(key.alias("key"), "row", word)))
        grouped = frame.groupBy(F.col(group).alias("sentence")).agg(
            F.transform(ordered, lambda x: x[word]).alias("words"))
        grouped = grouped.persist(StorageLevel.MEMORY_AND_DISK)
        short = grouped.filter(F.size("words") < params.min_length).count()
        kept = grouped.filter(F.size("words") >= params.min_length).persist(StorageLevel.MEMORY_AND_DISK)
        sizes = kept.select("sentence", F.size("words").alias("n")).orderBy("sentence").toArrow()
        occurrences = (kept.select(F.explode("words").alias("word")).groupBy("word").count()
                       .orderBy("word").toArrow())
        grouped.unpersist()
    if sizes.num_rows == 0:
        kept.unpersist()
        raise DataError(
            "no sentences left after filtering",
            fix=f"lower --min-count ({params.min_count}), --min-length ({params.min_length}) or --min-rating",
        )
    groups, words = column(sizes, "sentence", np.int64), column(occurrences, "word", np.int64)
    counts = CorpusCounts(sentence_ids=group_ids[groups], sentence_lengths=column(sizes, "n", np.int64),
                          token_ids=word_ids[words], word_counts=column(occurrences, "count", np.int64))
    report = SequenceReport(dropped_low_ratings=int(low), dropped_rare_words=int(rare),
                            dropped_short_sentences=int(short))
    return SparkCorpus(counts, report, kept, groups, words)


def order_key(kind: str, seed: int = 0):
    """The column that orders a user's ratings (file row breaking ties): the timestamp, nothing, or a seeded hash."""
    from pyspark.sql import functions as F

    if kind == "time":
        return F.col("timestamp")
    if kind == "none":
        return F.xxhash64(F.col("row"), F.lit(int(seed)))
    return F.lit(0).cast("long")


def collect_sequences(corpus: SparkCorpus) -> Sequences:
    """The whole corpus as ``Sequences`` on the driver: for tests and small logs only (the build never calls it)."""
    table = corpus.frame.orderBy("sentence").toArrow()
    lists = table.column("words").combine_chunks()
    flat = np.asarray(lists.flatten().to_numpy(), dtype=np.int64)
    indptr = np.asarray(lists.offsets.to_numpy(), dtype=np.int64)
    return Sequences(sentence_ids=corpus.counts.sentence_ids, token_ids=corpus.counts.token_ids,
                     indptr=indptr - indptr[0], tokens=np.searchsorted(corpus.words, flat).astype(np.int32))
