"""SparkLog -> what the site needs of the whole log, aggregated on Spark: O(users + movies) values on the driver.

* ``timed_share``: ``order.timed_share`` (does the log have an order in time?).
* ``log_stats``: rating counts and sums per movie and per user, ratings per
  primary genre per user, the first and last timestamps (``LogStats``).
* ``latest_history``: each user's latest ``history`` ratings, the part of the
  log the explorer lists and the map's user regions are named from.
* ``cluster_dataset``: the three as the ``Dataset`` the site stages take.
"""

from __future__ import annotations

import numpy as np

from embedder.ratings.order import LogOrder
from embedder.values import Dataset, Interactions, LogStats
from embedder.spark.read import SparkLog
from embedder.spark.sentences import order_key
from embedder.spark.session import broadcast, column, quiet_pandas

#: How many of each user's latest ratings a Spark build brings to the driver (the explorer's rated lists).
HISTORY = 20


def timed_share(log: SparkLog) -> float | None:
    """The share of users with two or more ratings whose timestamps take two or more values (None: no timestamps)."""
    from pyspark.sql import functions as F

    if not log.has_timestamp:
        return None
    with quiet_pandas():
        users = log.frame.groupBy("user").agg(F.count(F.lit(1)).alias("n"), F.min("timestamp").alias("first"),
                                              F.max("timestamp").alias("last"))
        row = users.filter("n >= 2").agg(F.count(F.lit(1)).alias("multi"),
                                         F.count_if(F.col("first") < F.col("last")).alias("timed")).first()
    return float(row["timed"] / row["multi"]) if row["multi"] else 0.0


def log_stats(log: SparkLog, order: LogOrder, primary: np.ndarray, history: int = HISTORY) -> LogStats:
    """Counts and sums per movie and per user, ratings per primary genre per user, the dates: all made on Spark.

    ``primary`` is each movie's primary genre (aligned with ``log.item_ids``).
    """
    import pyarrow as pa
    from pyspark.sql import functions as F

    names, genre_of_movie = np.unique(np.asarray(primary).astype(str), return_inverse=True)
    n_users, n_items = len(log.user_ids), len(log.item_ids)
    rating = F.sum(F.col("rating").cast("double")).alias("sum") if log.has_rating else F.lit(None).alias("sum")
    spark = log.frame.sparkSession
    with quiet_pandas():
        by_movie = log.frame.groupBy("item").agg(F.count(F.lit(1)).alias("n"), rating).toArrow()
        by_user = log.frame.groupBy("user").agg(F.count(F.lit(1)).alias("n"), rating).toArrow()
        genres = spark.createDataFrame(pa.table({"item": np.arange(n_items, dtype=np.int32),
                                                 "genre": genre_of_movie.astype(np.int32)}))
        table = (log.frame.join(broadcast(genres), "item").groupBy("user", "genre").count().toArrow())
        span = (log.frame.agg(F.min("timestamp").alias("first"), F.max("timestamp").alias("last")).first()
                if order.kind == "time" else None)
    movie_counts, movie_sums = _dense(by_movie, "item", n_items, log.has_rating)
    user_counts, user_sums = _dense(by_user, "user", n_users, log.has_rating)
    user_genres = np.zeros((n_users, len(names)), dtype=np.int32)
    user_genres[column(table, "user", np.int64), column(table, "genre", np.int64)] = column(table, "count", np.int64)
    return LogStats(ratings=int(movie_counts.sum()), movie_counts=movie_counts, movie_sums=movie_sums,
                    user_counts=user_counts, user_sums=user_sums, genre_names=names, user_genres=user_genres,
                    history=int(history), first_time=None if span is None else int(span["first"]),
                    last_time=None if span is None else int(span["last"]))


def latest_history(log: SparkLog, order: LogOrder, history: int = HISTORY) -> Interactions:
    """Each user's latest ``history`` ratings (by the log's order), arranged as ``order.arrange`` arranges a log.

    ``time`` keeps timestamps and file order; ``file`` sets timestamps
    aside; ``none`` also puts the rows in a seeded random order, and its
    "latest" are a random part of each user's ratings.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    key = order_key(order.kind, order.seed or 0)
    latest = Window.partitionBy("user").orderBy(key.desc(), F.col("row").desc())
    with quiet_pandas():
        kept = (log.frame.withColumn("key", key).withColumn("age", F.row_number().over(latest))
                .filter(F.col("age") <= history))
        table = kept.orderBy("row" if order.kind != "none" else "key", "row").select(
            "user", "item", "rating", "timestamp").toArrow()
    return Interactions(user_ids=log.user_ids, item_ids=log.item_ids, user=column(table, "user", np.int32),
                        item=column(table, "item", np.int32),
                        rating=column(table, "rating", np.float32) if log.has_rating else None,
                        timestamp=column(table, "timestamp", np.int64) if order.kind == "time" else None)


def cluster_dataset(log: SparkLog, order: LogOrder, history: int = HISTORY) -> Dataset:
    """The Dataset of a log that stays on Spark: its latest ratings per user, the whole log's figures, its order."""
    from embedder.site.projector import primary_genres

    stats = log_stats(log, order, primary_genres(log.movies), history)
    return Dataset(name=log.name, source=log.source, interactions=latest_history(log, order, history),
                   movies=log.movies, users=log.users, notes=log.notes, order=order, stats=stats)


def _dense(table, key: str, n: int, has_rating: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-code counts (and rating sums) from a grouped table, 0 for codes with no rating."""
    codes = column(table, key, np.int64)
    counts = np.zeros(n, dtype=np.int64)
    counts[codes] = column(table, "n", np.int64)
    if not has_rating:
        return counts, None
    sums = np.zeros(n, dtype=np.float64)
    sums[codes] = column(table, "sum", np.float64)
    return counts, sums
