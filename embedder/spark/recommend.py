"""SparkCorpus -> top-k recommendations per user, trained and scored on Spark: the movies rated next to the user's
latest ones.

Spark ML's Word2Vec trains with hierarchical softmax, so it has no output
vectors for the local engine's ``io`` scorer.  What ``io`` learns from --
which movies are rated within a few places of which -- is counted here
directly instead (``embedder.spark.pairs``):

* **pairs**: ``n(a, b)``, how often movies ``a`` and ``b`` are rated within
  ``window`` places of each other in one user's sentence;
* **similarity**: ``sim(a, b) = n(a, b) / (count(a)**alpha * count(b)**beta)``,
  and each movie keeps its ``neighbours`` most similar partners (ties to
  the lower code); only supported movies are partners;
* **score**: a user's score of movie ``b`` is ``sum_j w_j sim(j, b)`` over
  their ``last_k`` latest movies ``j``, the latest weighing 1, the one before
  ``decay``, then ``decay**2`` ... (normalised to sum to 1).  Movies the user
  rated are never picked; a user with fewer than ``k`` candidates gets the
  most-rated supported movies they have not rated (score 0) after them.
  "Because" is the rated movie ``j`` with the largest term ``w_j sim(j, b)``.

The settings were chosen on the val split of ml-latest-small and ml-100k
(each user's second-to-last rating held out); ``for_log`` gives them for logs
with and without an order.  On the test split (each user's last rating) the
lists reach the local ``io`` scorer's HR@10: 0.120 against 0.118 on
ml-latest-small, 0.222 against 0.216 on ml-100k; on the same logs without
their order, 0.75x the local EASE's (``build.py evaluate --engine spark``
prints both rows).  Everything runs as Spark SQL; only O(users x k) values
come to the driver.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from embedder.spark.pairs import co_occurrence, keep_top, rows_of, similarities, word_counts
from embedder.spark.session import broadcast, column, quiet_pandas

#: The most-rated movies a user's list is topped up from when their movies have too few partners (times k).
FILL = 4


@dataclass(frozen=True)
class PairParams:
    """The co-occurrence recommender's settings (see the module docstring).

    window
        Two movies rated within this many places of each other make a pair.
    neighbours
        Partners each movie keeps (its most similar).
    last_k
        Only the user's ``last_k`` latest movies are scored from (0: all).
    decay
        Weight of the ``g``-th latest movie relative to the latest: ``decay**g``.
    alpha, beta
        The exponents of ``count(a)`` (the user's movie) and ``count(b)``
        (the candidate) dividing ``n(a, b)``.
    """

    window: int = 10
    neighbours: int = 200
    last_k: int = 20
    decay: float = 0.7
    alpha: float = 0.75
    beta: float = 0.25

    @classmethod
    def for_log(cls, ordered: bool) -> "PairParams":
        """The measured settings for a log with an order, or without one (a random order: wider windows,
        every rated movie alike, less popularity)."""
        return cls() if ordered else cls(window=50, last_k=0, decay=1.0, beta=0.5)

    def describe(self) -> str:
        """One line for people: what scores the picks."""
        recent = ("all rated movies alike" if self.decay >= 1 else f"recent movies weighted {self.decay:g}^age")
        if self.last_k:
            recent += f", latest {self.last_k} only"
        return (f"how often each movie is rated within {self.window} places of the user's movies (co-occurrence "
                f"n / count^{self.alpha:g} · count^{self.beta:g}, {self.neighbours} partners per movie); {recent}")


@dataclass(frozen=True)
class SparkRecommendations:
    """Top-k movies per sentence (user) of a SparkCorpus.

    ``items[i]`` are vocabulary rows (indices into ``corpus.words``) for the
    user ``corpus.groups[i]``, best first, -1 where fewer; ``scores`` their
    scores (float32, 0 for padding and top-ups); ``because`` the vocabulary
    row of the user's rated movie that contributed most to each pick (-1
    for a top-up or padding).
    """

    items: np.ndarray
    scores: np.ndarray
    because: np.ndarray
    describe: str
    settings: dict


def spark_recommendations(corpus, *, ordered: bool, k: int = 10, supported: np.ndarray | None = None,
                          params: PairParams | None = None, rated=None, pairs=None) -> SparkRecommendations:
    """Train the co-occurrence recommender on Spark and return every user's top ``k``.

    Parameters
    ----------
    corpus
        A ``SparkCorpus`` in the users orientation; only ``frame``
        (``sentence``, ``words`` in sentence order, latest last), ``groups``
        and ``words`` are read.
    ordered
        Whether the log has an order (``LogOrder.ordered``): picks the
        default ``params``.
    k
        Picks per user.
    supported
        Optional bool per vocabulary row: only these movies may be picked.
    params
        The settings; ``PairParams.for_log(ordered)`` when None.
    rated
        Optional frame of ``(sentence, b)`` codes never to pick: each user's
        ratings the sentence filters left out (``--min-rating``) too.  By
        default the sentences' own words.
    pairs
        ``co_occurrence(corpus, params.window)`` when the caller has counted
        it already (the build's co-rated lists use the same pairs).

    Returns
    -------
    SparkRecommendations
        Rows follow ``corpus.groups``.  Collected to the driver: O(users x k)
        values; the pairs, O(movies x neighbours), stay on Spark.
    """
    params = params or PairParams.for_log(ordered)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    with quiet_pandas():
        allowed = None if supported is None else _allowed(corpus.frame.sparkSession, corpus.words, supported)
        table = _ranked(corpus, allowed, params, k, rated, pairs).toArrow()
    return _arrays(table, corpus, k, params)


def _allowed(spark, words: np.ndarray, supported: np.ndarray):
    """A one-column frame ``b`` of the supported movie codes (made from a pyarrow table: no Python on executors)."""
    import pyarrow as pa

    supported = np.asarray(supported, dtype=bool)
    if supported.shape != (len(words),):
        raise ValueError(f"supported has {supported.shape} values for {len(words)} words")
    return spark.createDataFrame(pa.table({"b": np.asarray(words, dtype=np.int64)[supported]}))


def _history(corpus, params: PairParams):
    """``(sentence, a, weight)``: each user's scored movies and their recency weights (summing to 1 per user)."""
    from pyspark.sql import functions as F

    rows = corpus.frame.select("sentence", F.size("words").alias("size"), F.posexplode("words").alias("pos", "a"))
    age = F.col("size") - 1 - F.col("pos")
    used = F.least(F.col("size"), F.lit(params.last_k)) if params.last_k else F.col("size")
    decay = float(params.decay)
    total = used.cast("double") if decay == 1 else (1 - F.pow(F.lit(decay), used)) / (1 - decay)
    weight = F.pow(F.lit(decay), age) / total
    if params.last_k:
        rows = rows.filter(age < params.last_k)
    return rows.select("sentence", F.col("a").cast("long").alias("a"), weight.alias("weight"))


def _ranked(corpus, allowed, params: PairParams, k: int, excluded=None, pairs=None):
    """``(sentence, b, score, because, rank)``: each user's ``k`` picks.

    One aggregation per (user, movie) gathers the score terms, the user's
    ratings (which rule a movie out) and the top-up candidates (the most-rated
    supported movies, score 0); one ranking per user orders them by score,
    then top-ups by popularity, then by code.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    counts = word_counts(corpus)
    pairs = co_occurrence(corpus, params.window) if pairs is None else pairs
    sims = similarities(pairs, counts, params.alpha, params.beta)
    popular = counts.select(F.col("word").alias("b"), F.col("count").alias("popularity"))
    if allowed is not None:
        sims = sims.join(broadcast(allowed), "b", "left_semi")
        popular = popular.join(broadcast(allowed), "b", "left_semi")
    partners = keep_top(sims, params.neighbours, "sim").select("a", "b", "sim")
    popular = popular.orderBy(F.desc("popularity"), F.asc("b")).limit(FILL * k)
    none = {name: F.lit(None).cast(kind).alias(name)
            for name, kind in (("term", "double"), ("a", "long"), ("popularity", "long"))}
    terms = _history(corpus, params).join(partners, "a").select(
        "sentence", "b", (F.col("weight") * F.col("sim")).alias("term"), "a", none["popularity"],
        F.lit(False).alias("rated"))
    if excluded is None:
        excluded = corpus.frame.select("sentence", F.explode("words").alias("b"))
    rated = excluded.select(
        F.col("sentence").cast("long"), F.col("b").cast("long"), none["term"], none["a"], none["popularity"], F.lit(True).alias("rated"))
    top_up = corpus.frame.select("sentence").crossJoin(broadcast(popular)).select(
        "sentence", "b", none["term"], none["a"], "popularity", F.lit(False).alias("rated"))
    best_term = F.max(F.when(F.col("term").isNotNull(), F.struct("term", (-F.col("a")).alias("neg"))))
    gathered = terms.unionByName(rated).unionByName(top_up).groupBy("sentence", "b").agg(
        F.sum("term").cast("float").alias("score"), best_term.alias("top"), F.max("popularity").alias("popularity"),
        F.max("rated").alias("rated"))
    candidates = gathered.filter(~F.col("rated")).select(
        "sentence", "b", F.coalesce("score", F.lit(0.0).cast("float")).alias("score"),
        F.coalesce(-F.col("top.neg"), F.lit(-1).cast("long")).alias("because"),
        F.when(F.col("top").isNull(), F.col("popularity")).otherwise(0).alias("fill"))
    order = Window.partitionBy("sentence").orderBy(F.desc("score"), F.desc("fill"), F.asc("b"))
    return (candidates.withColumn("rank", F.row_number().over(order)).filter(F.col("rank") <= k)
            .select("sentence", "b", "score", "because", "rank"))


def _arrays(table, corpus, k: int, params: PairParams) -> SparkRecommendations:
    """The collected picks as (users x k) arrays in the order of ``corpus.groups`` / ``corpus.words``."""
    groups, words = np.asarray(corpus.groups, dtype=np.int64), np.asarray(corpus.words, dtype=np.int64)
    items = np.full((len(groups), k), -1, dtype=np.int64)
    scores = np.zeros((len(groups), k), dtype=np.float32)
    because = np.full((len(groups), k), -1, dtype=np.int64)
    user, user_in = rows_of(groups, column(table, "sentence", np.int64))
    item, item_in = rows_of(words, column(table, "b", np.int64))
    cause_codes = column(table, "because", np.int64)
    cause, cause_in = rows_of(words, cause_codes)
    place = column(table, "rank", np.int64) - 1
    keep = user_in & item_in
    items[user[keep], place[keep]] = item[keep]
    scores[user[keep], place[keep]] = column(table, "score", np.float32)[keep]
    because[user[keep], place[keep]] = np.where(cause_in & (cause_codes >= 0), cause, -1)[keep]
    return SparkRecommendations(items=items, scores=scores, because=because, describe=params.describe(),
                                settings={"method": "co-occurrence", **asdict(params)})
