"""A ``--ratings`` path or URI, or a known dataset's folder -> a SparkInput: what Spark reads and how to split it.

Spark reads the ratings file itself; this module finds it, sniffs its first
lines (separator, columns, header) with the local reader's own functions,
and brings the small files beside it (movies, links, genre names, users)
here for the local readers.

* A local path is read by Spark where it is when it is a regular file, plain
  or named for its compression (``.gz``, ``.bz2``: Spark unpacks by the
  name), in UTF-8, ASCII or latin-1.  Anything else the local reader takes
  (a pipe, a zip, xz, a compressed file whose name does not say so, UTF-16,
  cp1252...) is first made into a plain UTF-8 copy in this machine's temp
  folder, kept until the process exits (Spark may read it again).  Executors
  on other machines read a local path at the same path: on a cluster, use a
  shared filesystem or a URI.
* A URI (``file:``, ``hdfs://``, ``s3a://``: any Hadoop filesystem) goes to
  Spark as it is, and its siblings are copied here through the session's own
  Hadoop filesystem (its connectors and credentials).  It must be UTF-8,
  ASCII or latin-1, plain or ``.gz``/``.bz2``: nothing is unpacked or
  transcoded here.  A URI Spark has no connector for, or that does not
  exist, is one line naming it and the fix.
"""

from __future__ import annotations

import atexit
import codecs
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from embedder.errors import ConfigError, DataError
from embedder.ratings.decoding import Inputs, compression, first_undecodable, plain_name, text_encoding
from embedder.ratings.file_layout import FIX_RATINGS, RATINGS_FILES, FileLayout, find_layout, plain_layout
from embedder.ratings.formats import RATINGS, TableFormat, clip, resolve, shown
from embedder.ratings.logs import FIX_ENCODING
from embedder.ratings.readers import _apply_spec, _check_spec  # the local reader's own rules for the options

#: The encodings Spark decodes itself (``codecs`` names -> the reader's names); others are transcoded here.
SPARK_CHARSETS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "ascii": "ascii", "iso8859-1": "latin-1"}
#: The compressions Spark's readers unpack, by the file name's suffix, as the local reader does (by the first bytes).
SPARK_CODECS = {".gz": "gzip", ".bz2": "bzip2"}
#: The suffixes Hadoop unpacks by (its default codecs): the others the local reader does not unpack at all.
HADOOP_SUFFIXES = (".gz", ".bz2", ".deflate", ".lz4", ".snappy", ".zst")
#: Compressed files only a local copy can unpack (zstd: not even that, as for the local reader).
LOCAL_ONLY_SUFFIXES = (".zip", ".xz", ".zst")
_SIBLINGS = {"ratings.csv": ("movies.csv", "links.csv"), "ratings.dat": ("movies.dat", "users.dat"),
             "u.data": ("u.item", "u.genre", "u.user")}
#: The Hadoop connectors that ship with Hadoop (the same version as Spark's Hadoop), by URI scheme.
_CONNECTORS = {**dict.fromkeys(("s3a", "s3", "s3n"), "org.apache.hadoop:hadoop-aws"),
               **dict.fromkeys(("abfs", "abfss", "wasb", "wasbs"), "org.apache.hadoop:hadoop-azure")}
_FIX_ACCESS = "check the URI, the network and the credentials (--spark-conf spark.hadoop.*)"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):(/+)(.*)$")
_GLOB = re.compile(r"([\\\[\]{}*?])")
_SNIFF = 1 << 16  # the head ``decoding.text_encoding`` looks at, as the local reader reads it
_SAMPLE = 1 << 20  # the first lines ``formats.resolve`` sniffs, and then some


@dataclass(frozen=True)
class SparkInput:
    """A ratings log ready for Spark.

    ``path`` is what Spark reads (a URI); ``source`` the file as the user
    named it (errors and notes name it); ``fmt`` the resolved format, whose
    ``encoding`` errors name; ``charset`` how Spark decodes the bytes
    (``utf-8``, ``ascii`` or ``latin-1``).  ``layout`` holds the small files
    beside the log as plain local files for the local readers; ``notes`` are
    ``file_layout.plain_layout``'s (an optional file that could not be read).
    """

    path: str
    source: str
    name: str
    fmt: TableFormat
    charset: str
    layout: FileLayout
    notes: tuple[str, ...]


def uri_of(path) -> str | None:
    """``path`` as a URI when it names one (``scheme://...``), else None (a local path).

    ``config.DataConfig`` keeps ``--ratings`` as a ``Path``, which folds
    ``s3a://bucket/key`` into ``s3a:/bucket/key``: the fold is undone
    (``hdfs:///x`` cannot be told from ``hdfs://x`` then: name the namenode).
    A path that exists on this machine is local, whatever it looks like.
    """
    text = str(path)
    found = _SCHEME.match(text)
    if found is None or Path(text).exists():
        return None
    scheme, slashes, rest = found.groups()
    if len(slashes) >= 2 or isinstance(path, str):
        return text
    return f"file:/{rest}" if scheme.lower() == "file" else f"{scheme}://{rest}"


def spark_charset(encoding: str) -> str | None:
    """How Spark decodes text in ``encoding``: ``utf-8``, ``ascii``, ``latin-1``, or None (transcode it first)."""
    try:
        return SPARK_CHARSETS.get(codecs.lookup(encoding).name)
    except LookupError:
        return None


@contextmanager
def spark_input(spark, ratings, spec, *, name: str | None = None) -> Iterator[SparkInput]:
    """Find and sniff the log ``ratings`` (a path or URI; ``spec`` a ``readers.ReadSpec``) for Spark.

    The small files it brings stay readable inside the ``with`` block; a
    DataError raised there names the user's files, not the copies made here.
    """
    _check_spec(spec)
    work = _Work()
    try:
        uri = uri_of(ratings)
        if spec.movies is not None and uri_of(spec.movies):
            spec = replace(spec, movies=str(work.fetch(spark, uri_of(spec.movies))))
        found = _remote(spark, uri, spec, work) if uri else _local(Path(ratings), spec, work)
        yield replace(found, name=name or found.name)
    except DataError as error:
        raise work.restore(error) from None
    finally:
        work.close()


def spark_path(path: Path) -> str:
    """A local file as Spark reads it: an absolute ``file:`` URI, glob characters escaped."""
    return "file://" + _GLOB.sub(r"\\\1", str(Path(path).resolve()))


# --- a local path ------------------------------------------------------------


def _local(path: Path, spec, work: "_Work") -> SparkInput:
    given = _apply_spec(find_layout(path), spec)
    ratings, fmt = given.ratings, given.ratings_format
    native = _native(ratings)
    if native is not None:
        head, unpacked = native
        encoding = text_encoding(head, fmt.encoding, ratings, "--encoding")
        charset = spark_charset(encoding)
        if charset is not None:
            sample = ratings if unpacked is None else work.sample(ratings, unpacked)
            return _finish(given, sample, encoding, spark_path(ratings), charset, str(ratings), work)
    plain, encoding = work.spark_inputs().plain(ratings, fmt.encoding, "--encoding")
    charset = spark_charset(encoding)
    target = work.spark_copy(plain, encoding, ratings, transcode=charset is None)
    return _finish(given, plain, encoding, spark_path(target), charset or "utf-8", str(ratings), work)


def _native(path: Path) -> tuple[bytes, bytes | None] | None:
    """``(the text's first bytes, the first lines unpacked or None)`` when Spark can read ``path`` itself, else None."""
    if not path.is_file():  # a pipe or a device can be read once only
        return None
    first = _first_bytes(path)
    kind, suffix = compression(first), path.suffix.lower()
    if kind != SPARK_CODECS.get(suffix) or (kind is None and suffix in HADOOP_SUFFIXES):
        return None
    if kind is None:
        return first, None
    try:
        unpacked = _unpacked(path)
    except (OSError, EOFError, ValueError):
        return None  # the local reader's unpacking names the problem
    return unpacked[:_SNIFF], unpacked


def _first_bytes(path: Path, size: int = _SNIFF) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def _unpacked(path: Path) -> bytes:
    """The first lines of a gzip or bzip2 file, unpacked."""
    import bz2
    import gzip

    opener = gzip.open if SPARK_CODECS[path.suffix.lower()] == "gzip" else bz2.open
    with opener(path, "rb") as stream:
        return _whole_lines(stream.read(_SAMPLE))


def _whole_lines(head: bytes) -> bytes:
    """``head`` cut after its last newline when it fills the sample (a line cut short could look malformed)."""
    cut = head.rfind(b"\n")
    return head[:cut + 1] if len(head) >= _SAMPLE and cut >= 0 else head


def _finish(given: FileLayout, sample: Path, encoding: str, path: str, charset: str, source: str,
            work: "_Work") -> SparkInput:
    """Sniff the format from ``sample`` (the log's first lines, in ``encoding``) and make the side files plain."""
    fmt = given.ratings_format
    if encoding != fmt.encoding:
        fmt = replace(fmt, encoding=encoding, fallback=None)
    layout, notes = plain_layout(replace(given, ratings=sample, ratings_format=fmt), work.side)
    fmt = resolve(layout.ratings, layout.ratings_format, RATINGS)
    return SparkInput(path=path, source=source, name=given.name, fmt=fmt, charset=charset, layout=layout,
                      notes=notes)


# --- a URI -------------------------------------------------------------------


def _remote(spark, uri: str, spec, work: "_Work") -> SparkInput:
    fs = Hadoop(spark, uri)
    ratings = _ratings_at(fs, uri)
    folder, file_name = ratings.rstrip("/").rsplit("/", 1)
    suffix = Path(file_name).suffix.lower()
    problem = _unpacking_problem(compression(fs.head(ratings, _SNIFF, unpack=False)), suffix)
    if problem:
        raise DataError(f"compressed input: {problem[0]}", path=ratings, fix=problem[1])
    sample = work.mirror(folder) / file_name
    sample.write_bytes(_whole_lines(fs.head(ratings, _SAMPLE, unpack=suffix in SPARK_CODECS)))
    work.origins[str(sample)] = ratings
    for sibling in _SIBLINGS.get(plain_name(file_name), ()):
        if fs.kind(f"{folder}/{sibling}") == "file":
            fs.copy(f"{folder}/{sibling}", sample.parent / sibling)
            work.origins[str(sample.parent / sibling)] = f"{folder}/{sibling}"
    given = _apply_spec(find_layout(sample), spec)
    encoding = text_encoding(_first_bytes(sample), given.ratings_format.encoding, sample, "--encoding")
    charset = spark_charset(encoding)
    if charset is None:
        raise DataError(f"{encoding} text at a URI: Spark decodes UTF-8, ASCII and latin-1 there", path=ratings,
                        fix="re-encode the file as UTF-8, or pass a local path")
    return _finish(given, sample, encoding, _GLOB.sub(r"\\\1", ratings), charset, ratings, work)


def _unpacking_problem(kind: str | None, suffix: str) -> tuple[str, str] | None:
    """``(problem, fix)`` when Spark would not unpack a file at a URI as the local reader would (by its first bytes)."""
    codec = SPARK_CODECS.get(suffix)
    if kind == codec and (kind is not None or suffix not in HADOOP_SUFFIXES):
        return None
    if kind in SPARK_CODECS.values():
        named = next(ext for ext, name in SPARK_CODECS.items() if name == kind)
        return f"a {kind} file whose name does not end in {named}: Spark unpacks by the name", f"rename it *{named}"
    if kind is not None:
        return f"Spark cannot unpack a {kind} file", "unpack it where it is, or pass a local copy"
    return f"Spark would unpack this {suffix} file by its name, the local reader finds no compression in it", \
        "rename it, or unpack it first"


def _ratings_at(fs: "Hadoop", uri: str) -> str:
    """The ratings file a URI names: itself, or the MovieLens file in the folder (or in its one dataset folder)."""
    kind = fs.kind(uri)
    if kind is None:
        raise DataError("no such file or directory", path=uri, fix=FIX_RATINGS)
    if kind == "file":
        return uri
    base = uri.rstrip("/")
    listing = fs.listing(base)
    found = [f"{base}/{name}" for name in RATINGS_FILES if listing.get(name) == "file"]
    if not found:
        nested = [f"{base}/{child}/{name}" for child in sorted(k for k, v in listing.items() if v == "dir")
                  for name in RATINGS_FILES if fs.kind(f"{base}/{child}/{name}") == "file"]
        found = nested if len(nested) == 1 else []
    if not found:
        raise DataError(f"no ratings file found (looked for {', '.join(RATINGS_FILES)})", path=uri,
                        fix=FIX_RATINGS)
    return found[0]


class Hadoop:
    """The Hadoop filesystem of a URI, through the session's JVM: Spark's own connectors and credentials."""

    def __init__(self, spark, uri: str):
        self._jvm = spark._jvm
        self._conf = spark._jsc.hadoopConfiguration()
        try:
            self._fs = self._path(uri).getFileSystem(self._conf)
        except Exception as error:  # py4j raises whatever the JVM threw
            raise _unopenable(self._jvm, uri, error) from None

    def _path(self, uri: str):
        return self._jvm.org.apache.hadoop.fs.Path(uri)

    def kind(self, uri: str) -> str | None:
        """``"file"``, ``"dir"``, or None when nothing is there."""
        try:
            if not self._fs.exists(self._path(uri)):
                return None
            return "dir" if self._fs.getFileStatus(self._path(uri)).isDirectory() else "file"
        except Exception as error:
            raise DataError(f"cannot open it: {java_reason(error)}", path=uri, fix=_FIX_ACCESS) from None

    def listing(self, folder: str) -> dict[str, str]:
        """``{name: "file" or "dir"}`` of a folder."""
        try:
            statuses = self._fs.listStatus(self._path(folder))
        except Exception as error:
            raise DataError(f"cannot list it: {java_reason(error)}", path=folder, fix=_FIX_ACCESS) from None
        return {status.getPath().getName(): "dir" if status.isDirectory() else "file" for status in statuses}

    def head(self, uri: str, size: int, *, unpack: bool) -> bytes:
        """The first ``size`` bytes of a file, unpacked by its name's codec with ``unpack``."""
        path, stream = self._path(uri), None
        try:
            stream = self._fs.open(path)
            codec = self._jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(self._conf).getCodec(path)
            if unpack and codec is not None:
                stream = codec.createInputStream(stream)
            return bytes(stream.readNBytes(size))
        except Exception as error:
            raise DataError(f"cannot read it: {java_reason(error)}", path=uri,
                            fix="check that the file is complete and readable") from None
        finally:
            if stream is not None:
                stream.close()

    def copy(self, uri: str, target: Path) -> None:
        """Copy a (small) file here, byte for byte."""
        self._fs.copyToLocalFile(False, self._path(uri), self._path("file://" + str(Path(target).resolve())), True)


def _unopenable(jvm, uri: str, error: Exception) -> Exception:
    """The one-line error for a URI whose filesystem Spark cannot open."""
    reason = java_reason(error)
    scheme = uri.split(":", 1)[0].lower()
    if "ClassNotFoundException" in reason or "No FileSystem for scheme" in reason:
        package = _CONNECTORS.get(scheme)
        package = (f"{package}:{jvm.org.apache.hadoop.util.VersionInfo.getVersion()}" if package
                   else "com.google.cloud.bigdataoss:gcs-connector:VERSION" if scheme == "gs" else "GROUP:ARTIFACT:VERSION")
        hint = "use s3a:// with" if scheme in ("s3", "s3n") else "add its connector, e.g."
        return ConfigError(f"{uri}: Spark has no filesystem for {scheme}:// URIs ({reason}): {hint} "
                           f"--spark-conf spark.jars.packages={package}")
    return DataError(f"cannot open it: {reason}", path=uri, fix=_FIX_ACCESS)


def java_reason(error: Exception) -> str:
    """What the JVM said at the root of ``error`` (or pyspark, without a JVM exception), as one clipped line."""
    java = getattr(error, "java_exception", None) or getattr(error, "_origin", None)
    text = ""
    try:
        while java is not None:  # the root cause says what went wrong; the rest, where
            message = java.getMessage()
            text = java.getClass().getSimpleName() + (f": {message}" if message else "")
            java = java.getCause()
    except Exception:  # not a JVM throwable after all, or the gateway is gone
        pass
    text = text or str(error) or type(error).__name__
    return clip(" ".join(text.strip().splitlines()[0].split()), 200)


# --- temporary files ---------------------------------------------------------


class _Work:
    """The files one read makes: side files and samples (removed at the end), copies Spark reads (kept)."""

    def __init__(self):
        self.side = Inputs()
        self.origins: dict[str, str] = {}
        self._folder: Path | None = None
        self._spark: Inputs | None = None
        self._spark_folder: Path | None = None

    def close(self) -> None:
        self.side.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def folder(self) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="reelspace-spark-read-"))
        return self._folder

    def mirror(self, folder_uri: str) -> Path:
        """A local folder named as the URI's folder (the dataset's name comes from it)."""
        name = folder_uri.rstrip("/").rsplit("/", 1)[-1] or "ratings"
        target = self.folder() / str(len(list(self.folder().iterdir()))) / re.sub(r"[:/\\]", "_", name)
        target.mkdir(parents=True)
        return target

    def sample(self, origin: Path, head: bytes) -> Path:
        """The first lines of a compressed local file, plain, under its own name (notes name it)."""
        target = self.mirror(str(origin.parent)) / origin.name
        target.write_bytes(head)
        self.origins[str(target)] = str(origin)
        return target

    def fetch(self, spark, uri: str) -> Path:
        """A small file at a URI (``--movies``), copied here."""
        fs = Hadoop(spark, uri)
        if fs.kind(uri) != "file":
            raise DataError("no such movies file", path=uri, fix="pass --movies FILE")
        target = self.mirror(uri.rsplit("/", 1)[0]) / uri.rstrip("/").rsplit("/", 1)[-1]
        fs.copy(uri, target)
        self.origins[str(target)] = uri
        return target

    def spark_inputs(self) -> Inputs:
        """Plain copies Spark reads: kept until the process exits (Spark may read them again)."""
        if self._spark is None:
            self._spark = Inputs()
            atexit.register(self._spark.close)
        return self._spark

    def spark_copy(self, plain: Path, encoding: str, origin: Path, *, transcode: bool) -> Path:
        """``plain`` under a name Spark does not unpack; transcoded to UTF-8 with ``transcode``."""
        if self._spark_folder is None:
            self._spark_folder = Path(tempfile.mkdtemp(prefix="reelspace-spark-input-"))
            atexit.register(shutil.rmtree, self._spark_folder, True)
        target = self._spark_folder / "ratings.txt"
        if not transcode:
            target.symlink_to(Path(plain).resolve())
            return target
        bad = first_undecodable(plain, encoding)
        if bad is not None:
            raise DataError(f"not {encoding} text: {shown(bad[1])}", path=origin, line=bad[0], fix=FIX_ENCODING)
        with open(plain, encoding=encoding, newline="") as text, open(target, "w", encoding="utf-8",
                                                                       newline="") as out:
            shutil.copyfileobj(text, out, 1 << 20)
        return target

    def restore(self, error: DataError) -> DataError:
        """``error`` naming the user's file (a path or URI) instead of a copy made here."""
        for inputs in (self.side, self._spark):
            if inputs is not None:
                error = inputs.restore(error)
        origin = self.origins.get(error.path or "")
        return error if origin is None else DataError(error.problem, path=origin, line=error.line, fix=error.fix)
