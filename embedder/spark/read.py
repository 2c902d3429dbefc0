"""A ``config.DataConfig`` -> SparkLog: the ratings log parsed, checked and coded on Spark, the rest on the driver.

Spark reads the ratings file (``embedder.spark.files`` finds it: any layout,
option, compression, encoding or URI the local reader takes) as text, so
every row keeps its physical line number: it breaks timestamp ties (file
order, as locally) and locates bad rows.  Each line is split as the local
reader splits it (CSV quoting within the line for one-character
separators), and its cells are checked by the same rules: malformed rows and
duplicate ratings give the same notes (``--strict``: the same error), ids
are coded in first-appearance order, and the movies and users come from the
local reader's own functions.  Only O(users + movies) values reach the
driver; the coded rows stay on Spark, made with Spark SQL alone (executors
need no Python).

ISO-8601 timestamps are read in their usual forms (``2001-09-09``,
``2001-09-09T01[:46[:40[.5]]]``, with ``Z`` or ``+02:00``); the local reader
also takes rare ones (week dates, the basic ``20010909T014640`` form).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from embedder.errors import DataError, ReelspaceError
from embedder.ratings.cell_values import _INTEGER, _NUMBER, parse_numbers
from embedder.ratings.file_layout import FIX_RATINGS
from embedder.ratings.formats import SKIP, Check, Tally, header_note, plural, settle, shown, split_line
from embedder.ratings.logs import FIX_ENCODING, FIX_MALFORMED
from embedder.values import Dataset, Interactions, Movies, Users
from embedder.spark.files import LOCAL_ONLY_SUFFIXES, SparkInput, java_reason, spark_charset, spark_input, uri_of
from embedder.spark.session import broadcast, column, quiet_pandas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: ISO-8601 dates Spark reads as the local reader does: a date, a time (to the hour at least), a zone.
_ISO = r"^((?!0000)\d{4}-\d{1,2}-\d{1,2})(?:[T ](\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?))?(?: ?(Z|[+-]\d{2}(?::?\d{2})?))?$"
_BLANK = r"(?U)^\s*$"


@dataclass(frozen=True)
class SparkLog:
    """A ratings log read by Spark: the coded rows on Spark, only O(users + movies) values on the driver.

    ``frame`` (persisted MEMORY_AND_DISK) has ``row`` (long: 1-based,
    increasing in file order, unique -- the line number for a file),
    ``user`` and ``item`` (int codes into ``user_ids``/``item_ids``, given in
    first-appearance order), ``rating`` (float; NaN when the log has no
    rating column) and ``timestamp`` (long; 0 when it has none), duplicates
    already dropped (the latest kept).  ``name``, ``movies``, ``users`` and
    ``notes`` are exactly the local reader's ``Dataset``'s; ``source`` names
    the ratings file (a path or URI) as errors and notes do.
    """

    frame: DataFrame
    name: str
    source: str
    user_ids: np.ndarray
    item_ids: np.ndarray
    movies: Movies
    users: Users | None
    notes: tuple[str, ...]
    has_rating: bool
    has_timestamp: bool


def read_log(spark, data, *, progress: bool = False, warn: Callable[[str], None] = print) -> SparkLog:
    """Read what ``data`` (a ``config.DataConfig``) names, as ``sources.load_dataset`` does, on Spark.

    ``--ratings`` is a path or a URI (see ``embedder.spark.files``); a known
    dataset comes from the cache or is downloaded (``progress``); the demo,
    and the default run that cannot download (one ``warn``-ing), are made
    here and shipped with ``log_frame``.  Raises DataError (one line, naming
    the file and line) or ConfigError as the local reader does.
    """
    from embedder.ratings.demo import make_demo

    ratings, name = data.ratings, None
    if ratings is None:
        if data.dataset != "demo":
            from embedder.ratings.sources import known_folder

            ratings, name = known_folder(data, progress=progress, warn=warn), data.dataset
        if ratings is None:
            return log_frame(spark, make_demo(seed=data.demo_seed))
    with spark_input(spark, ratings, data.read, name=name) as given:
        return _read(spark, given, data.strict)


def log_frame(spark, dataset: Dataset) -> SparkLog:
    """Ship an in-memory Dataset (the demo, a test's) to Spark as a SparkLog (rows numbered from 1)."""
    import pyarrow as pa
    from pyspark import StorageLevel

    inter = dataset.interactions
    n = len(inter)
    table = pa.table({
        "row": np.arange(1, n + 1, dtype=np.int64),
        "user": inter.user.astype(np.int32), "item": inter.item.astype(np.int32),
        "rating": np.full(n, np.nan, np.float32) if inter.rating is None else inter.rating.astype(np.float32),
        "timestamp": np.zeros(n, np.int64) if inter.timestamp is None else inter.timestamp.astype(np.int64),
    })
    with quiet_pandas():
        frame = spark.createDataFrame(table).persist(StorageLevel.MEMORY_AND_DISK)
    return SparkLog(frame=frame, name=dataset.name, source=dataset.source, user_ids=inter.user_ids,
                    item_ids=inter.item_ids, movies=dataset.movies, users=dataset.users, notes=dataset.notes,
                    has_rating=inter.rating is not None, has_timestamp=inter.timestamp is not None)


def collect_interactions(log: SparkLog) -> Interactions:
    """The whole coded log on the driver, in row order, as the local reader's ``Interactions``.

    For tests and small logs only: it brings every rating to the driver,
    which is what the Spark engine exists to avoid.  The build never calls it.
    """
    with quiet_pandas():
        table = log.frame.orderBy("row").select("user", "item", "rating", "timestamp").toArrow()
    return Interactions(user_ids=log.user_ids, item_ids=log.item_ids, user=column(table, "user", np.int32),
                        item=column(table, "item", np.int32),
                        rating=column(table, "rating", np.float32) if log.has_rating else None,
                        timestamp=column(table, "timestamp", np.int64) if log.has_timestamp else None)


def input_problems(data) -> list[str]:
    """The problems, one line each, with inputs the Spark reader cannot take: found before Spark starts.

    Everything the local reader reads from a local path is read; a URI
    cannot be unpacked from a zip, xz or zstd file, nor transcoded from an
    encoding Spark does not decode (see ``embedder.spark.files``).
    """
    import codecs

    uri = None if data.ratings is None else uri_of(data.ratings)
    if uri is None:
        return []
    problems = []
    suffix = next((s for s in LOCAL_ONLY_SUFFIXES if uri.rstrip("/").lower().endswith(s)), None)
    if suffix:
        problems.append(f"--ratings {uri}: Spark cannot unpack a {suffix} file at a URI: unpack it where it is and "
                        "pass the ratings file or its folder, or pass a local copy")
    encoding = data.read.encoding
    try:
        foreign = encoding is not None and spark_charset(codecs.lookup(encoding).name) is None
    except LookupError:  # an unknown encoding: the reader names it itself
        foreign = False
    if foreign:
        problems.append(f"--encoding {encoding} with --ratings {uri}: at a URI Spark decodes UTF-8, ASCII and "
                        "latin-1 only: re-encode the file as UTF-8, or pass a local path")
    return problems


# --- reading -----------------------------------------------------------------


def _read(spark, given: SparkInput, strict: bool) -> SparkLog:
    """Parse, check, deduplicate and code the log on Spark; read the small tables beside it locally."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from embedder.ratings.side_tables import align_movies, read_catalogue, read_users

    cached = []  # frames persisted on the way, let go once the coded frame is filled
    with quiet_pandas(), _reading(given.source):
        try:
            lines, text = _lines(spark, given.path)
            cached.append(text)
            parsed = _parse(lines, given).persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(parsed)
            notes = _check_rows(parsed, given, strict)
            text.unpersist()
            rows = parsed.filter(F.col("data") & F.col("good")).select(
                F.col("line").alias("row"), "user", "item", "rating", "timestamp")
            kept, dup_notes, ranked = _drop_duplicates(rows, given, strict)
            cached.append(ranked)
            (user_ids, user_codes), (item_ids, item_codes) = _first_appearance(spark, kept)
            frame = (kept.join(broadcast(user_codes), "user").drop("user").withColumnRenamed("code", "user")
                     .join(broadcast(item_codes), "item").drop("item").withColumnRenamed("code", "item")
                     .select("row", "user", "item", F.col("rating").cast("float").alias("rating"), "timestamp")
                     .persist(StorageLevel.MEMORY_AND_DISK))
            frame.count()  # filled before the frames it comes from are let go
        finally:
            for done in cached:
                if done is not None:
                    done.unpersist()
    try:
        catalogue, links, movie_notes = read_catalogue(given.layout, strict)
        movies, align_notes = align_movies(item_ids, catalogue, links, given.layout.movies)
        users, user_notes = read_users(given.layout, user_ids, strict)
    except BaseException:
        frame.unpersist()
        raise
    return SparkLog(frame=frame, name=given.name, source=given.source, user_ids=user_ids, item_ids=item_ids,
                    movies=movies, users=users,
                    notes=(header_note(given.source, given.fmt) + notes + dup_notes + given.notes + movie_notes
                           + align_notes + user_notes),
                    has_rating="rating" in given.fmt.columns, has_timestamp="timestamp" in given.fmt.columns)


@contextmanager
def _reading(source: str):
    """A failure inside Spark (a file cut short, gone, unreadable) as one DataError naming ``source``."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except ReelspaceError:
        raise
    except (Py4JError, PySparkException) as error:
        raise DataError(f"Spark could not read it ({java_reason(error)})", path=source,
                        fix="check that the file is complete and readable") from None


def _lines(spark, path: str):
    """``(frame of (line, value), the cached text)``: ``line`` the physical line number (from 1), on any splits.

    Each split is read in order by one task, so ``monotonically_increasing_id``
    counts up through it; its start offset orders the splits.  The text is
    cached by the first pass (the split sizes), so the file is read once.
    Small frames are made from pyarrow tables: the executors never need a
    Python worker.
    """
    import pyarrow as pa
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    text = spark.read.text(path, lineSep="\n").select(
        "value", F.col("_metadata.file_block_start").alias("block"), F.monotonically_increasing_id().alias("id"))
    text = text.persist(StorageLevel.MEMORY_AND_DISK)
    blocks = text.groupBy("block").agg(F.min("id").alias("first"), F.count(F.lit(1)).alias("n")).toArrow()
    blocks = blocks.sort_by("block")
    sizes = column(blocks, "n", np.int64)
    starts = blocks.append_column("start", pa.array(np.cumsum(sizes) - sizes + 1)).select(["block", "first", "start"])
    lines = text.join(broadcast(spark.createDataFrame(starts)), "block").select(
        (F.col("start") + F.col("id") - F.col("first")).alias("line"), "value")
    return lines, text


def _parse(lines, given: SparkInput):
    """Every line decoded, split and checked: ``line``, ``valid`` text, ``data`` (a row, not header or blank),
    ``good``, the typed cells, and the raw bytes (undecodable lines) or text (bad rows) for the messages."""
    from pyspark.sql import functions as F

    fmt, value = given.fmt, F.col("value")
    if given.charset == "latin-1":
        text, valid = F.decode(value.cast("binary"), "ISO-8859-1"), F.lit(True)
    else:
        valid = F.is_valid_utf8(value)
        valid = valid & ~value.rlike("[^\\x00-\\x7F]") if given.charset == "ascii" else valid
        text = value
    # The readers skip a UTF-8 byte-order mark and take each line without its line end.
    text = F.when(F.col("line") == 1, F.regexp_replace(text, "^\ufeff", "")).otherwise(text)
    decoded = lines.select("line", F.when(~valid, value.cast("binary")).alias("raw"), valid.alias("valid"),
                           F.regexp_replace(text, "\r+$", "").alias("text"))
    # One step per column that later ones use more than once, so that Spark computes it once.
    split = decoded.select("*", _cells(F.col("text"), fmt).alias("cells"))
    roles = [role for role in fmt.columns if role != SKIP]
    split = split.select("*", *(_trimmed(F.get("cells", fmt.columns.index(role))).alias(role) for role in roles))
    good = (F.size("cells") == len(fmt.columns)) & ~F.col("user").rlike(_BLANK) & ~F.col("item").rlike(_BLANK)
    rating, stamp = F.lit(float("nan")).cast("double"), F.lit(0).cast("long")
    if "rating" in roles:
        rating = _number(F.col("rating"))
        good = good & rating.isNotNull() & (F.abs(rating) < float("inf"))
    if "timestamp" in roles:
        stamp = _epoch_seconds(F.col("timestamp"))
        good = good & stamp.isNotNull()
    typed = split.select("line", "raw", "valid", "text", F.get("cells", fmt.columns.index("user")).alias("user"),
                         F.get("cells", fmt.columns.index("item")).alias("item"), rating.alias("rating"),
                         stamp.alias("timestamp"), F.coalesce(good, F.lit(False)).alias("good"))
    return typed.select("line", "raw", "valid", "user", "item", "rating", "timestamp", "good",
                        ((F.col("line") > fmt.skip_lines) & (F.col("text") != "")).alias("data"),
                        F.when(~F.col("good"), F.col("text")).alias("bad_text"))


def _cells(text, fmt):
    """The cells of each line, as ``formats.split_line`` splits it (CSV quoting within the line, if any)."""
    from pyspark.sql import functions as F

    sep = "".join(char if char.isalnum() else "\\" + char for char in fmt.sep)  # a literal Java regex
    plain = F.split(text, sep, -1)
    if not fmt.quoting or len(fmt.sep) != 1:
        return plain
    # One match per cell, each after a separator (one is put in front): a quoted cell ("" is a quote)
    # with what follows its closing quote, or a plain one; an unclosed quote runs to the end of the line.
    pattern = f'{sep}(?:(")((?:[^"]++|"")*+)(?:"([^{sep}]*+))?|([^{sep}]*+))'
    line = F.concat(F.lit(fmt.sep), text)
    parts = F.arrays_zip(*(F.regexp_extract_all(line, F.lit(pattern), group) for group in (1, 2, 3, 4)))
    quoted = F.transform(parts, lambda cell: F.when(
        cell["0"] == '"', F.concat(F.replace(cell["1"], F.lit('""'), F.lit('"')), cell["2"])).otherwise(cell["3"]))
    return F.when(text.contains('"'), quoted).otherwise(plain)


def _trimmed(cell):
    """A cell without the whitespace around it (Unicode's, as pyarrow trims it)."""
    from pyspark.sql import functions as F

    return F.regexp_replace(cell, r"(?U)^\s+|\s+$", "")


def _number(text):
    """``cell_values.parse_numbers`` on Spark, of a trimmed cell: a decimal number as a double, else NULL."""
    from pyspark.sql import functions as F

    return F.when(text.rlike(_NUMBER), text.try_cast("double"))


def _epoch_seconds(text):
    """``cell_values.parse_timestamps`` on Spark, of a trimmed cell: integers, other numbers truncated, ISO-8601
    text; else NULL."""
    from pyspark.sql import functions as F

    number = _number(text)
    date, time, zone = (F.regexp_extract(text, _ISO, group) for group in (1, 2, 3))
    # Spark wants hours, minutes and seconds, at most nanoseconds (the local reader drops the digits past them).
    time = (F.when(F.length(time) == 0, F.lit("00:00:00")).when(F.length(time) == 2, F.concat(time, F.lit(":00:00")))
            .when(F.length(time) == 5, F.concat(time, F.lit(":00"))).otherwise(F.substring(time, 1, 18)))
    zone = F.when(F.length(zone) == 0, F.lit("Z")).otherwise(zone)
    iso = F.unix_seconds(F.try_to_timestamp(F.concat(date, F.lit("T"), time, zone)))
    return (F.when(text.rlike(_INTEGER), text.try_cast("long"))
            .when(F.abs(number) < 9e18, number.cast("long"))
            .when(text.rlike(_ISO), iso))


def _check_rows(parsed, given: SparkInput, strict: bool) -> tuple[str, ...]:
    """Undecodable text (an error), malformed rows (notes, or the error with ``strict``), no rows at all."""
    from pyspark.sql import functions as F

    data, good = F.col("data"), F.col("good")
    summary = parsed.agg(
        F.min(F.when(~F.col("valid"), F.struct("line", "raw"))).alias("undecodable"),
        F.count_if(data & ~F.col("valid")).alias("undecodable_rows"),
        F.count_if(data & ~good).alias("bad"), F.count_if(data & good).alias("ok"),
        F.min(F.when(data & ~good, F.struct("line", "bad_text"))).alias("first")).first()
    fmt, source = given.fmt, given.source
    undecodable = summary["undecodable"]
    # Any line that does not decode stops the local reader, but a UTF-8 header it skips unchecked.
    if undecodable is not None and (given.charset != "utf-8" or summary["undecodable_rows"]):
        raise DataError(f"not {fmt.encoding} text: {shown(bytes(undecodable['raw'])[:60])}", path=source,
                        line=undecodable["line"], fix=FIX_ENCODING)
    malformed = Tally()
    if summary["bad"]:
        malformed.add(summary["first"]["line"], _reason(summary["first"]["bad_text"], fmt), count=summary["bad"])
    notes = settle(source, strict, [Check(malformed, f"skipped {plural(malformed.count, 'malformed row')}",
                                          FIX_MALFORMED)])
    if not summary["ok"]:
        problem = f"no valid ratings: {notes[-1].split(': ', 1)[1]}" if notes else "no ratings: no data rows"
        raise DataError(problem, path=source, fix=FIX_RATINGS)
    return notes


def _reason(text: str, fmt) -> str:
    """Why one line was skipped, in the local reader's words (its first failing check)."""
    import pyarrow as pa

    cells = split_line(text, fmt.sep, fmt.quoting)
    if len(cells) != len(fmt.columns):
        return f"expected {len(fmt.columns)} columns, found {len(cells)}"
    at = {role: cell for role, cell in zip(fmt.columns, cells) if role != SKIP}
    for role in ("user", "item"):
        if not at[role].strip():
            return f"empty {role} id"
    if "rating" in at and not parse_numbers(pa.array([at["rating"]], pa.string()))[1][0]:
        return f"rating {shown(at['rating'])} is not a number"
    return f"timestamp {shown(at.get('timestamp', ''))} is neither epoch seconds nor an ISO-8601 date"


def _drop_duplicates(rows, given: SparkInput, strict: bool):
    """Keep the latest rating of each (user, item) pair (file order breaking timestamp ties), as ``ratings.duplicates``.

    Returns ``(kept rows, notes, a persisted frame to let go or None)``.  Most
    logs repeat no pair: one aggregation proves it, and only a log with
    repeats pays for ranking every pair's ratings.
    """
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    repeats = rows.groupBy("user", "item").count().agg(F.sum(F.col("count") - 1).alias("n")).first()["n"]
    if not repeats:
        return rows, (), None
    pair = Window.partitionBy("user", "item")
    ranked = rows.select("*", F.row_number().over(pair.orderBy(F.desc("timestamp"), F.desc("row"))).alias("rank"),
                         F.min("row").over(pair).alias("pair_first")).persist(StorageLevel.MEMORY_AND_DISK)
    second = ranked.filter(F.col("row") > F.col("pair_first")).agg(
        F.min(F.struct("row", "pair_first", "user", "item")).alias("second")).first()["second"]
    tally = Tally()
    tally.add(second["row"], f"user {shown(second['user'])} rated item {shown(second['item'])} again, first rated "
                             f"at line {second['pair_first']}", count=repeats)
    latest = "the latest by timestamp" if "timestamp" in given.fmt.columns else "the last in the file"
    try:
        notes = settle(given.source, strict, [
            Check(tally, f"dropped {plural(tally.count, 'duplicate rating')} of the same (user, item), kept {latest}",
                  "remove the duplicate rows, or drop --strict to keep the latest")])
    except DataError:
        ranked.unpersist()
        raise
    return ranked.filter(F.col("rank") == 1).drop("rank", "pair_first"), notes, ranked


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
