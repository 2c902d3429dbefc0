"""MovieLens ``ratings.csv`` -> a SparkLog: the Dataset on the driver, the coded log on Spark.

The file is read as text, so every row keeps its physical line number: it
breaks timestamp ties (file order, as locally) and locates bad rows.
Malformed rows and duplicate ratings give the same notes as the local reader
(``--strict``: the same error); ids are coded in first-appearance order; the
movies come from the local reader's own functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embedder.errors import ConfigError, DataError
from embedder.ratings.formats import Check, Tally, plural, settle, shown
from embedder.ratings.logs import FIX_MALFORMED
from embedder.values import Dataset, Interactions
from embedder.spark.session import broadcast, column, quiet_pandas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: The known datasets whose layout the Spark reader takes (``ratings.csv`` with this header).
CSV_DATASETS = ("ml-latest-small", "ml-latest", "ml-20m", "ml-25m", "ml-32m")
HEADER = "userId,movieId,rating,timestamp"
_NOT_CSV = (f"the spark engine reads MovieLens ratings.csv layouts (header {HEADER}: "
            f"{', '.join(CSV_DATASETS)}) and --dataset demo; use --engine local for other formats")
# The local reader's patterns (formats.py), so both engines accept the same cells.
_NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"
_INTEGER = r"^-?\d{1,18}$"


@dataclass(frozen=True)
class SparkLog:
    """A ratings log on both sides: ``dataset`` on the driver, ``frame`` on Spark.

    ``frame`` has one row per rating of ``dataset.interactions``, with columns
    ``row`` (file order), ``user`` and ``item`` (the same integer codes),
    ``rating`` (float, NaN when the log has none) and ``timestamp`` (long, 0
    when it has none).
    """

    dataset: Dataset
    frame: DataFrame


def check_dataset(name: str | None) -> list[str]:
    """The problem when a known ``--dataset`` is not in a layout the Spark reader takes."""
    if name is None or name == "demo" or name in CSV_DATASETS:
        return []
    return [f"--dataset {name}: {_NOT_CSV}"]


def read_ratings(spark, path, *, strict: bool = False, name: str | None = None) -> SparkLog:
    """Read a MovieLens ``ratings.csv`` (or the folder holding it) on Spark.

    The Dataset equals what ``readers.read_dataset`` makes of the same files:
    ids as strings coded in first-appearance order, rows in file order, the
    latest of duplicate ratings kept, the same notes; the movies come from the
    local reader.  Anything but a ``ratings.csv`` with its header is a ConfigError.
    """
    from pyspark import StorageLevel

    from embedder.ratings.side_tables import align_movies, read_catalogue  # the local reader's own steps

    layout = csv_layout(path)
    with quiet_pandas():
        rows, notes = _parse(spark, layout.ratings, strict)
        ranked = _rank_duplicates(rows).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            kept, dup_notes = _drop_duplicates(ranked, layout.ratings, strict)
            (user_ids, user_codes), (item_ids, item_codes) = _first_appearance(spark, kept)
            frame = (kept.join(broadcast(user_codes), "user").drop("user").withColumnRenamed("code", "user")
                     .join(broadcast(item_codes), "item").drop("item").withColumnRenamed("code", "item")
                     .select("row", "user", "item", "rating", "timestamp")
                     .persist(StorageLevel.MEMORY_AND_DISK))
            table = frame.orderBy("row").toArrow()
        finally:
            ranked.unpersist()
    interactions = Interactions(
        user_ids=user_ids, item_ids=item_ids,
        user=column(table, "user", np.int32), item=column(table, "item", np.int32),
        rating=column(table, "rating", np.float32), timestamp=column(table, "timestamp", np.int64))
    catalogue, links, movie_notes = read_catalogue(layout, strict)
    movies, align_notes = align_movies(item_ids, catalogue, links, layout.movies)
    dataset = Dataset(name=name or layout.name, source=str(layout.ratings), interactions=interactions,
                      movies=movies, notes=notes + dup_notes + movie_notes + align_notes)
    return SparkLog(dataset, frame)


def log_frame(spark, dataset: Dataset) -> SparkLog:
    """Ship an in-memory Dataset (the demo, a test's) to Spark as a SparkLog."""
    import pyarrow as pa

    inter = dataset.interactions
    n = len(inter)
    table = pa.table({
        "row": np.arange(1, n + 1, dtype=np.int64),
        "user": inter.user.astype(np.int32), "item": inter.item.astype(np.int32),
        "rating": np.full(n, np.nan, np.float32) if inter.rating is None else inter.rating.astype(np.float32),
        "timestamp": np.zeros(n, np.int64) if inter.timestamp is None else inter.timestamp.astype(np.int64),
    })
    with quiet_pandas():
        return SparkLog(dataset, spark.createDataFrame(table))


def csv_layout(path):
    """The local reader's layout of ``path``, if it is a ratings.csv with its header; else ConfigError."""
    from embedder.ratings.file_layout import find_layout

    layout = find_layout(Path(path))
    if layout.ratings.name != "ratings.csv":
        raise ConfigError(f"{layout.ratings.name}: {_NOT_CSV}")
    with open(layout.ratings, encoding="utf-8", errors="replace") as handle:
        first = handle.readline().strip().lstrip("\ufeff")
    if not first:
        raise DataError("the file is empty", path=layout.ratings, line=1)
    if first.replace(" ", "") != HEADER:
        raise ConfigError(f"{layout.ratings}: the first line is not {HEADER}; {_NOT_CSV}")
    return layout


def _lines(spark, path: Path):
    """The file as ``(line, value)`` rows, ``line`` the physical line number (from 1), on any number of splits.

    Each split is read in order by one task, so ``monotonically_increasing_id``
    counts up through it; its start offset orders the splits.  Small frames
    are made from pyarrow tables: the executors never need a Python worker.
    """
    import pyarrow as pa
    from pyspark.sql import functions as F

    text = spark.read.text(str(path)).select(
        "value", F.col("_metadata.file_block_start").alias("block"), F.monotonically_increasing_id().alias("id"))
    blocks = text.groupBy("block").agg(F.min("id").alias("first"), F.count(F.lit(1)).alias("n")).toArrow()
    blocks = blocks.sort_by("block")
    sizes = column(blocks, "n", np.int64)
    starts = blocks.append_column("start", pa.array(np.cumsum(sizes) - sizes + 1)).select(["block", "first", "start"])
    return text.join(broadcast(spark.createDataFrame(starts)), "block").select(
        (F.col("start") + F.col("id") - F.col("first")).alias("line"), "value")


def _parse(spark, path: Path, strict: bool):
    """Split and check every data line: ``(good rows, notes)``; bad rows are counted as the local reader does."""
    from pyspark.sql import functions as F

    split = F.split("value", ",", -1)
    cells = [F.get(split, i) for i in range(4)]  # NULL past the end of a short row
    rating_text, stamp_text = F.trim(cells[2]), F.trim(cells[3])
    rating = F.when(rating_text.rlike(_NUMBER), rating_text.cast("double"))
    number = F.when(stamp_text.rlike(_NUMBER), stamp_text.cast("double"))
    stamp = (F.when(stamp_text.rlike(_INTEGER), stamp_text.cast("long"))
             .when(F.abs(number) < 9e18, number.cast("long"))
             .otherwise(F.unix_seconds(F.try_to_timestamp(stamp_text))))
    parsed = (_lines(spark, path).filter((F.col("line") > 1) & (F.col("value") != ""))
              .select("line", "value", F.size(split).alias("n"), cells[0].alias("user"), cells[1].alias("item"),
                      rating.alias("rating"), stamp.alias("timestamp")))
    good = ((F.col("n") == 4) & (F.trim("user") != "") & (F.trim("item") != "")
            & F.col("rating").isNotNull() & ~F.isnan("rating") & (F.abs("rating") < float("inf"))
            & F.col("timestamp").isNotNull())
    parsed = parsed.withColumn("good", F.coalesce(good, F.lit(False)))
    summary = parsed.agg(F.count_if(~F.col("good")).alias("bad"), F.count_if("good").alias("ok"),
                         F.min(F.when(~F.col("good"), F.struct("line", "value"))).alias("first")).first()
    malformed = Tally()
    if summary["bad"]:
        first = summary["first"]
        malformed.add(first["line"], _reason(first["value"]), count=summary["bad"])
    notes = settle(path, strict, [Check(malformed, f"skipped {plural(malformed.count, 'malformed row')}",
                                        FIX_MALFORMED)])
    if not summary["ok"]:
        problem = f"no valid ratings: {notes[-1].split(': ', 1)[1]}" if notes else "no ratings: no data rows"
        raise DataError(problem, path=path, fix=f"the spark engine reads {HEADER} files")
    return (parsed.filter("good").select(F.col("line").alias("row"), "user", "item",
                                         F.col("rating").cast("float").alias("rating"), "timestamp"), notes)


def _reason(value: str) -> str:
    """Why one line was skipped, in the local reader's words."""
    import re

    cells = value.split(",")
    if len(cells) != 4:
        return f"expected 4 columns, found {len(cells)}"
    if not cells[0].strip():
        return "empty user id"
    if not cells[1].strip():
        return "empty item id"
    if not re.match(_NUMBER, cells[2].strip()) or not np.isfinite(float(cells[2])):
        return f"rating {shown(cells[2])} is not a number"
    return f"timestamp {shown(cells[3])} is neither epoch seconds nor an ISO-8601 date"


def _rank_duplicates(rows):
    """Rank the ratings of each (user, item) pair, latest first (file order breaking ties); note its first row."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    pair = Window.partitionBy("user", "item")
    return rows.select("*", F.row_number().over(pair.orderBy(F.desc("timestamp"), F.desc("row"))).alias("rank"),
                       F.min("row").over(pair).alias("pair_first"))


def _drop_duplicates(ranked, path: Path, strict: bool):
    """Keep the latest rating of each (user, item) pair; note the others as the local reader does."""
    from pyspark.sql import functions as F

    summary = ranked.agg(F.count_if(F.col("rank") > 1).alias("dropped"),
                         F.min(F.when(F.col("row") > F.col("pair_first"),
                                      F.struct("row", "pair_first", "user", "item"))).alias("second")).first()
    kept = ranked.filter(F.col("rank") == 1).drop("rank", "pair_first")
    if not summary["dropped"]:
        return kept, ()
    second = summary["second"]
    tally = Tally()
    tally.add(second["row"], f"user {second['user']!r} rated item {second['item']!r} again, first rated at line "
                             f"{second['pair_first']}", count=summary["dropped"])
    return kept, settle(path, strict, [Check(tally, f"dropped {plural(tally.count, 'duplicate rating')} of the same "
                                                    "(user, item), kept the latest by timestamp",
                                             "remove the duplicate rows, or drop --strict to keep the latest")])


def _first_appearance(spark, rows):
    """For users, then items: the ids in first-appearance order, and a small frame ``(user or item, code)``."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    both = rows.select(F.lit("user").alias("kind"), F.col("user").alias("id"), "row").unionByName(
        rows.select(F.lit("item").alias("kind"), F.col("item").alias("id"), "row"))
    table = both.groupBy("kind", "id").agg(F.min("row").alias("first")).toArrow()
    kinds, first = table.column("kind").to_numpy(zero_copy_only=False), column(table, "first", np.int64)
    found = []
    for kind in ("user", "item"):
        at = np.flatnonzero(kinds == kind)
        at = at[np.argsort(first[at])]
        ids = np.asarray(table.column("id").take(pa.array(at)).to_pylist(), dtype=object)
        codes = pa.table({kind: pa.array(ids.tolist(), pa.string()),
                          "code": pa.array(np.arange(len(ids), dtype=np.int32))})
        found.append((ids, spark.createDataFrame(codes)))
    return found

