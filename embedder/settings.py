"""The build's settings, declared once: name, group, type, default, bounds and help of every one.

Everything that needs the list of settings reads it from ``SETTINGS``:

* ``add_options`` generates the command line's options (``build.py`` and
  ``build.py evaluate``) with ``argparse.SUPPRESS`` defaults, so that
  ``given(args)`` holds only what was typed;
* ``read_file`` reads a ``--config`` file -- TOML with one table per group
  (``[word2vec]``, ``[run]`` ...), or a site's ``build.json``, whose
  ``settings`` are those tables -- into the same flat mapping;
* ``resolve`` layers defaults < file < command line, and checks names, types,
  choices and bounds, collecting every problem;
* ``as_tables`` turns the settings back into tables (written into
  ``build.json``, so any build can be repeated with ``--config``).

Defaults come from the stages' own parameter dataclasses where a stage has
one (``Word2VecParams``, ``SequenceParams``, ``ScoringParams``), so a default
lives in exactly one place.  ``embedder.config.make_config`` turns the
resolved mapping into a ``BuildConfig``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from embedder.errors import ConfigError
from embedder.model.recommend import SCORINGS, ScoringParams
from embedder.model.sequences import SequenceParams
from embedder.model.support import DEFAULT_MIN_RATINGS
from embedder.model.word2vec import Word2VecParams
from embedder.ratings.order import CHOICES as LOG_ORDERS

#: The groups in ``--help`` order: (table name in a --config file, title in --help).
GROUPS = (
    ("data", "data"),
    ("sentences", "sentences"),
    ("word2vec", "word2vec (skip-gram, negative sampling)"),
    ("user_vectors", "user vectors"),
    ("recommendations", "recommendations"),
    ("embedders", "embedders (TensorFlow models beside Word2Vec)"),
    ("engine", "engine (where the heavy stages run)"),
    ("site", "site"),
    ("evaluation", "evaluation"),
    ("run", "run (settings every stage shares)"),
)
_TITLES = dict(GROUPS)


@dataclass(frozen=True)
class Setting:
    """One setting.

    ``kind`` is ``int``, ``float``, ``str``, ``path``, ``bool`` (a switch),
    ``tristate`` (``--x`` / ``--no-x``, None when neither), ``list`` (a
    repeatable option) or ``choice`` (one of ``choices``).  ``flag`` is the
    long option (``--name`` with dashes unless given); ``negate`` makes a
    ``bool`` option that sets the setting to False (``--no-tensorboard``).
    ``low``/``high`` bound numbers.
    """

    name: str
    group: str
    kind: str
    default: Any
    help: str
    metavar: str | None = None
    choices: tuple | None = None
    flag: str | None = None
    short: str | None = None
    negate: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    help_off: str | None = None  # the help of a tristate's --no- option

    @property
    def option(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


def _settings() -> tuple[Setting, ...]:
    w2v, seq, rec = Word2VecParams(), SequenceParams(), ScoringParams()
    S = Setting
    return (
        # data
        S("dataset", "data", "str", None, "a known dataset, downloaded once and cached: demo, ml-latest-small, ml-100k, "
          "ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest (default: ml-latest-small, or the demo when offline)",
          metavar="NAME"),
        S("ratings", "data", "path", None, "a ratings file or a MovieLens folder (format auto-detected); with --engine spark also a URI "
          "(hdfs://, s3a://, file://)", metavar="PATH"),
        S("sep", "data", "str", None, "field separator of --ratings, e.g. ',' '\\t' '::' (auto-detected by default)",
          metavar="SEP"),
        S("columns", "data", "str", None, "the columns of --ratings in order, from user,item,rating,timestamp; '-' skips one",
          metavar="ROLES"),
        S("header", "data", "tristate", None, "--ratings has a header line",
          help_off="--ratings has no header line (default: auto-detect)"),
        S("encoding", "data", "str", None, "text encoding of --ratings (default utf-8)", metavar="ENC"),
        S("movies", "data", "path", None, "an items file for a generic --ratings log", metavar="FILE"),
        S("movies_sep", "data", "str", None, "field separator of --movies", metavar="SEP"),
        S("movies_columns", "data", "str", None, "the columns of --movies in order, from item,title,genres,year; '-' skips one",
          metavar="ROLES"),
        S("movies_header", "data", "tristate", None, "--movies has a header line", help_off="--movies has no header line"),
        S("movies_encoding", "data", "str", None, "text encoding of --movies (e.g. latin-1)", metavar="ENC"),
        S("strict", "data", "bool", False, "make skipped rows (malformed, duplicates, bad bytes) an error"),
        S("log_order", "data", "choice", "auto",
          "the order of each user's ratings: auto (default) is time when timestamps order them, else none; file: the "
          "file's rows are in the order users rated; none: an unordered log (no recency; sentences reshuffled; "
          "evaluation holds out a random rating)", choices=LOG_ORDERS),
        # sentences
        S("orientation", "sentences", "choice", seq.orientation,
          "users: a sentence per user, words are movies (default); movies: a sentence per movie, words are its users",
          choices=("users", "movies")),
        S("order", "sentences", "choice", "auto",
          "words in the log's order (time, or the file's with --log-order file) or reshuffled every epoch; auto "
          "(default): the log's order, reshuffled when the log has none", choices=("auto", "time", "shuffle")),
        S("min_rating", "sentences", "float", seq.min_rating, "drop ratings below R (default: keep all)", metavar="R"),
        S("min_count", "sentences", "int", seq.min_count, f"drop words seen fewer than N times (default {seq.min_count})",
          metavar="N", low=1),
        S("min_length", "sentences", "int", seq.min_length,
          f"drop sentences shorter than N words (default {seq.min_length})", metavar="N", low=1),
        # word2vec
        S("vector_size", "word2vec", "int", w2v.vector_size, f"dimensions (default {w2v.vector_size})", metavar="D",
          low=2, high=4096),
        S("window", "word2vec", "int", w2v.window, f"context window (default {w2v.window})", metavar="N", low=1,
          high=10_000),
        S("epochs", "word2vec", "int", w2v.epochs, f"passes over the corpus (default {w2v.epochs})", metavar="N", low=1,
          high=10_000),
        S("negative", "word2vec", "int", w2v.negative, f"negative samples (default {w2v.negative})", metavar="N", low=1,
          high=100),
        S("ns_exponent", "word2vec", "float", w2v.ns_exponent, f"negative-sampling exponent (default {w2v.ns_exponent})",
          metavar="X", low=-2, high=2),
        S("sample", "word2vec", "float", w2v.sample, f"down-sampling threshold (default {w2v.sample:g})", metavar="T",
          low=0, high=1, high_open=True),
        S("alpha", "word2vec", "float", w2v.alpha, f"initial learning rate (default {w2v.alpha})", metavar="LR", low=0,
          high=1, low_open=True, high_open=True),
        S("corpus_file", "word2vec", "bool", w2v.corpus_file,
          "feed gensim a temporary corpus file (its corpus_file mode) instead of in-memory sentences: less memory, "
          "scales better past 2 workers"),
        # user vectors
        S("user_vectors", "user_vectors", "choice", "sif", "SIF (default), uSIF or plain mean",
          choices=("sif", "usif", "mean")),
        S("sif_alpha", "user_vectors", "float", 1e-3, "SIF's smoothing constant a (default 1e-3)", metavar="A", low=0,
          low_open=True),
        # recommendations
        S("rec_scoring", "recommendations", "choice", rec.method,
          "io: user context . Word2Vec output vectors (syn1neg) + popularity prior; cosine: against the input vectors; "
          "ease: EASE over the supported movies; auto (default): io on ordered logs, ease on unordered ones",
          choices=SCORINGS),
        S("rec_decay", "recommendations", "float", rec.decay,
          f"recency: the user context weighs their k-th most recent movie G^k (default {rec.decay:g}; 1 = plain mean)",
          metavar="G", low=0, high=1, low_open=True),
        S("rec_last_k", "recommendations", "int", rec.last_k,
          f"use only the last K rated movies (default {rec.last_k}: all)", metavar="K", low=0),
        S("rec_prior", "recommendations", "float", rec.prior,
          f"weight of log(rating count) added to io scores (default {rec.prior:g})", metavar="W", low=0),
        S("rec_lambda", "recommendations", "float", rec.lam,
          "EASE's regularisation (ease scoring; default: chosen on one held-out rating per user)", metavar="L", low=0,
          low_open=True),
        # embedders
        S("embedders", "embedders", "str", "w2v",
          "embeddings to build side by side, from w2v,softmax,textcnn,autoencoder (default w2v; w2v is always the "
          "base); the others need TensorFlow and are cached under the dataset cache folder's models/", metavar="LIST"),
        S("model_epochs", "embedders", "int", None,
          "most epochs per TensorFlow model (default: each model's own; all stop early on a validation split)",
          metavar="N", low=1, high=1000),
        S("retrain", "embedders", "bool", False, "retrain the TensorFlow models even when the model cache has them"),
        S("model_cache", "embedders", "bool", True, "neither read nor write the model cache", flag="--no-model-cache",
          negate=True),
        # engine
        S("engine", "engine", "choice", "local",
          "local: pyarrow, numpy and gensim in this process (default); spark: the log stays on Apache Spark, which "
          "reads it, trains Word2Vec, the user vectors and the recommendations, and sends back only what the site "
          "shows (pip install -r requirements-spark.txt; Java 17+)", choices=("local", "spark")),
        S("spark_master", "engine", "str", None,
          "where Spark runs: local[4], spark://host:7077, yarn, k8s://... (default: what spark-submit or "
          "spark-defaults.conf gives, else local[*])", metavar="URL"),
        S("spark_conf", "engine", "list", (),
          "a Spark setting, e.g. spark.driver.memory=8g or spark.executor.instances=4; repeatable", metavar="KEY=VALUE"),
        S("spark_word2vec_partitions", "engine", "int", None,
          "numPartitions of Spark's Word2Vec (default 1: one sequential SGD, the closest to gensim; more trains in "
          "parallel, with coarser vectors)", metavar="N", low=1, high=10_000),
        # site
        S("out", "site", "path", "output", "where the site goes (default output/); replaced whole on success",
          metavar="DIR"),
        S("base_url", "site", "str", None,
          "https:// address the site will be served at; adds the projector link and hosted config", metavar="URL"),
        S("posters", "site", "path", None,
          "local poster images named by movie id, IMDb id (tt0114709) or TMDB id, for the sprite", metavar="DIR"),
        S("neighbours", "site", "int", 10, "neighbours listed per movie (default 10)", metavar="K", low=1, high=100),
        S("min_support", "site", "int", DEFAULT_MIN_RATINGS,
          f"movies and users rated fewer than N times are kept out of neighbour lists, the map's layout and regions "
          f"and the projector files; they stay searchable, placed beside the nearest well-rated point (default "
          f"{DEFAULT_MIN_RATINGS}; 1 keeps everyone)", metavar="N", low=1),
        S("max_points", "site", "int", None,
          "keep only the N most-rated movies and the N most active users in the projector files (the explorer keeps "
          "them all); for catalogues too big for the projector to stay responsive", metavar="N", low=2),
        S("neighbour_search", "site", "choice", "auto",
          "how nearest neighbours are found: exact, hnsw (an HNSW graph, recall@10 >= 0.99 measured), or auto "
          "(default: exact up to 60,000 points)", choices=("auto", "exact", "hnsw")),
        S("sprite_tile", "site", "int", 64, "preferred thumbnail size; shrunk to fit 8192 px (default 64)",
          metavar="PX", low=8, high=256),
        S("tensorboard_logdir", "site", "path", None, "where the TensorBoard logdir goes (default OUT/tensorboard/)",
          metavar="DIR"),
        S("tensorboard", "site", "bool", True, "write no TensorBoard logdir", flag="--no-tensorboard", negate=True),
        S("projector_html", "site", "path", None,
          "a standalone projector index.html (your clone of tensorflow/embedding-projector-standalone) to self-host "
          "in OUT/projector/", metavar="PATH"),
        S("layouts", "site", "str", "auto",
          "2-D layouts for the explorer and the projector bookmarks, from pca,tsne,umap (PCA always); default auto: "
          "t-SNE (the default map) and PCA", metavar="LIST"),
        S("movie_pages", "site", "bool", False, "also write a static page per movie, movies/<id>.html (no JavaScript)"),
        # evaluation during the build
        S("evaluate", "evaluation", "bool", False,
          "also run the evaluation (as `build.py evaluate`) and put its table in the index page's model card"),
        # run-wide
        S("seed", "run", "int", w2v.seed, f"random seed of every stage (default {w2v.seed})", low=0),
        S("workers", "run", "int", w2v.workers, f"threads of every stage that has them (default {w2v.workers})",
          metavar="N", low=1, high=256),
        S("deterministic", "run", "bool", False, "one worker thread: byte-identical output for the same --seed"),
        S("quiet", "run", "bool", False, "no progress bars (they are shown only on a terminal anyway)", short="-q"),
    )


SETTINGS: tuple[Setting, ...] = _settings()
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def defaults() -> dict[str, Any]:
    """Every setting's default, by name."""
    return {s.name: s.default for s in SETTINGS}


# --- the command line ---------------------------------------------------------------------------


def add_options(parser: argparse.ArgumentParser, groups: tuple[str, ...] | None = None) -> None:
    """Add ``--config FILE`` and the options of ``groups`` (all when None), one argparse group per settings
    group, in ``GROUPS`` order.

    Every default is ``argparse.SUPPRESS``: the namespace holds only what was
    typed (``given``), so a ``--config`` file is overridden only by options
    actually given.  A file may hold every table; a command uses the settings it has.
    """
    parser.add_argument("--config", metavar="FILE",
                        help="settings from a TOML file (one table per group: [data], [word2vec], [site], [run] ...) "
                             "or a built site's build.json; options typed here override it")
    for key, title in GROUPS:
        if groups is not None and key not in groups:
            continue
        g = parser.add_argument_group(title)
        for s in (s for s in SETTINGS if s.group == key):
            _add(g, s)


def _add(g, s: Setting) -> None:
    names = [s.short, s.option] if s.short else [s.option]
    common = {"dest": s.name, "default": argparse.SUPPRESS, "help": s.help}
    if s.kind == "bool":
        g.add_argument(*names, action="store_false" if s.negate else "store_true", **common)
    elif s.kind == "tristate":
        g.add_argument(*names, action="store_true", **common)
        g.add_argument("--no-" + s.option[2:], dest=s.name, action="store_false", default=argparse.SUPPRESS,
                       help=s.help_off)
    elif s.kind == "list":
        g.add_argument(*names, action="append", metavar=s.metavar, **common)
    elif s.kind == "choice":
        g.add_argument(*names, choices=s.choices, **common)
    else:
        g.add_argument(*names, type={"int": int, "float": float}.get(s.kind, str), metavar=s.metavar, **common)


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The settings typed on the command line (the parser's other options left out)."""
    return {name: value for name, value in vars(args).items() if name in BY_NAME}


# --- a settings file ----------------------------------------------------------------------------


def read_file(path: Path) -> dict[str, Any]:
    """A ``--config`` file as a flat mapping: TOML tables named by group, or a site's ``build.json``.

    Every key must be a known setting in its own table; problems are one
    ``ConfigError`` naming the file.
    """
    import json
    import tomllib

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"--config {path}: cannot be read ({error.strerror or error})") from None
    try:
        if path.suffix == ".json":
            doc = json.loads(raw.decode("utf-8"))
            tables = doc.get("settings") if isinstance(doc, dict) else None
            if not isinstance(tables, dict):
                raise ConfigError(f"--config {path}: a JSON config is a site's build.json, with a \"settings\" object")
        else:
            tables = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigError(f"--config {path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'} ({error})") from None
    flat, problems = {}, []
    for table, values in tables.items():
        if table not in _TITLES:
            problems.append(f"unknown table [{table}]{_did_you_mean(table, _TITLES)} (tables: {', '.join(_TITLES)})")
            continue
        if not isinstance(values, dict):
            problems.append(f"[{table}] must be a table of settings")
            continue
        for name, value in values.items():
            s = BY_NAME.get(name)
            if s is None or s.group != table:
                home = f" (it belongs in [{s.group}])" if s else _did_you_mean(name, [x.name for x in SETTINGS
                                                                                   if x.group == table])
                problems.append(f"[{table}] has no setting {name!r}{home}")
            else:
                flat[name] = value
    if problems:
        raise ConfigError(f"--config {path}: " + "; ".join(problems))
    return flat


def _did_you_mean(word: str, options) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- layering and checking ----------------------------------------------------------------------


def resolve(*layers: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """Defaults overlaid with each layer in turn (a file, then the command line), every value checked.

    Problems (unknown names, wrong types, choices, bounds) are appended to
    ``problems`` in the option's own words (``--vector-size must be ...``);
    a bad value keeps the default so the other checks can still run.
    """
    values = defaults()
    for layer in layers:
        for name, value in layer.items():
            s = BY_NAME.get(name)
            if s is None:
                problems.append(f"unknown setting {name!r}{_did_you_mean(name, BY_NAME)}")
                continue
            checked, problem = _check(s, value)
            if problem:
                problems.append(problem)
            else:
                values[name] = checked
    return values


def _check(s: Setting, value):
    """``(value, None)`` converted to the setting's type, or ``(None, problem)``."""
    if value is None and (s.default is None or s.kind == "tristate"):
        return None, None
    kind, opt = s.kind, s.option
    if kind in ("bool", "tristate"):
        return (value, None) if isinstance(value, bool) else (None, f"{opt} must be true or false, got {value!r}")
    if kind == "list":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            return None, f"{opt} must be a list of strings, got {value!r}"
        return tuple(value), None
    if kind == "choice":
        return (value, None) if value in s.choices else (None, f"{opt} must be one of {', '.join(s.choices)}, got {value!r}")
    if kind in ("str", "path"):
        return (str(value), None) if isinstance(value, str) else (None, f"{opt} must be a string, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind == "int" and not float(value).is_integer()):
        return None, f"{opt} must be {'a whole number' if kind == 'int' else 'a number'}, got {value!r}"
    value = int(value) if kind == "int" else float(value)
    low_ok = s.low is None or (value > s.low if s.low_open else value >= s.low)
    high_ok = s.high is None or (value < s.high if s.high_open else value <= s.high)
    if not (low_ok and high_ok):
        return None, f"{opt} must be {_bounds(s)}, got {value:g}"
    return value, None


def _bounds(s: Setting) -> str:
    if s.high is None:
        return f"more than {s.low:g}" if s.low_open else f"at least {s.low:g}"
    if s.low_open or s.high_open:
        return f"in {'(' if s.low_open else '['}{s.low:g}, {s.high:g}{')' if s.high_open else ']'}"
    return f"between {s.low:g} and {s.high:g}"


def as_tables(values: Mapping[str, Any], *, paths: bool = True) -> dict[str, dict[str, Any]]:
    """The settings as ``--config`` tables (None values left out: TOML has no null), JSON- and TOML-ready.

    ``paths=False`` leaves out the local files and folders (``--ratings``,
    ``--out`` ...): what a published ``build.json`` may say about the machine.
    """
    tables: dict[str, dict[str, Any]] = {key: {} for key, _ in GROUPS}
    for s in SETTINGS:
        value = values.get(s.name, s.default)
        if value is None or (s.kind == "path" and not paths):
            continue
        tables[s.group][s.name] = list(value) if isinstance(value, tuple) else value
    return {key: table for key, table in tables.items() if table}
