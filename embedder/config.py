"""The build's settings: one typed, validated value made from the command line.

This is the only module that reads the outside world's settings (the
environment: ``REELSPACE_DATA``, ``REELSPACE_MIRROR``); everything below it
receives plain values.  All problems are collected and reported at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from embedder.ratings.datasets import default_cache_dir
from embedder.errors import ConfigError
from embedder.model.word2vec import Word2VecParams
from embedder.cli.evaluate import scoring_from_args
from embedder.ratings.readers import ReadSpec
from embedder.model.recommend import ScoringParams, scoring_problems
from embedder.model.sequences import SequenceParams
from embedder.site.pages import DEFAULT_TEMPLATES
from embedder.spark import SparkParams
from embedder.model.support import DEFAULT_MIN_RATINGS
from embedder.model.sentence_vectors import METHODS

#: What ``python build.py`` builds when no data is named.
DEFAULT_DATASET = "ml-latest-small"


@dataclass(frozen=True)
class DataConfig:
    """Where the ratings come from.

    Exactly one of ``dataset`` (a known name or ``"demo"``) and ``ratings`` (a
    path) is set.  ``fallback_to_demo`` is true only for the default run, where
    an offline machine should still get a working site.
    """

    dataset: str | None
    ratings: Path | None
    read: ReadSpec
    strict: bool
    cache_dir: Path
    mirror: str | None
    fallback_to_demo: bool
    demo_seed: int = 0


@dataclass(frozen=True)
class SiteConfig:
    """What the site looks like and where it goes."""

    out_dir: Path
    base_url: str | None
    posters: Path | None
    neighbours: int
    sprite_tile: int
    template_dir: Path
    # Sharing (issue 4): the TensorBoard logdir (default <out_dir>/tensorboard/)
    # and a user-supplied standalone projector page to self-host.
    tensorboard_logdir: Path | None = None
    tensorboard: bool = True
    projector_html: Path | None = None
    # Explorer (issue 3): the 2-D layouts to compute (None: chosen by size,
    # see embedder.layouts.auto_layouts) and whether to write movies/<id>.html.
    layouts: tuple[str, ...] | None = None
    movie_pages: bool = False
    # Scale (issue 7): the projector bundle keeps the N most-rated movies and users (the explorer keeps all),
    # and how neighbours are found (embedder.model.neighbours: exact up to 60,000 rows, else HNSW).
    max_points: int | None = None
    neighbour_search: str = "auto"
    # Support: points rated fewer than this many times stay out of neighbour lists, the map's fit and regions,
    # and the projector (embedder.model.support).
    min_support: int = DEFAULT_MIN_RATINGS


@dataclass(frozen=True)
class ModelConfig:
    """The embeddings built beside Word2Vec (issue 6: ``--embedders``, see ``embedder.tf_models.embedders``).

    ``embedders`` always holds ``w2v``; ``max_epochs`` None keeps each model's
    own limit (they stop early on a validation split anyway); ``retrain``
    ignores the model cache; ``cache`` False neither reads nor writes it.
    """

    embedders: tuple[str, ...] = ("w2v",)
    max_epochs: int | None = None
    retrain: bool = False
    cache: bool = True


@dataclass(frozen=True)
class BuildConfig:
    """Everything one build needs."""

    data: DataConfig
    sequences: SequenceParams
    word2vec: Word2VecParams
    sentence_method: str
    sif_alpha: float
    site: SiteConfig
    deterministic: bool
    progress: bool
    models: ModelConfig = ModelConfig()
    # Issue 5: how recommendations are scored (embedder.model.recommend) and whether the build runs the evaluation.
    scoring: ScoringParams = ScoringParams()
    evaluate: bool = False
    # --log-order: auto, time, file or none (embedder.ratings.order).
    log_order: str = "auto"
    # --engine spark: read, sentences, Word2Vec and user vectors on Apache Spark (embedder.spark).
    engine: str = "local"
    spark: SparkParams | None = None

    def word2vec_settings(self) -> dict:
        """The Word2Vec settings as the engine that trains uses them (shown on the site and the model card)."""
        if self.engine == "spark":
            from embedder.spark.vectors import spark_settings

            return spark_settings(self.word2vec, self.spark.word2vec_partitions if self.spark else 1)
        return self.word2vec.settings()


def for_log(config: BuildConfig, order) -> BuildConfig:
    """The config with its "auto" settings made concrete for a log that is (or is not) ordered.

    ``order`` is the ``embedder.order.LogOrder`` the dataset was arranged in:
    Word2Vec's sentences are reshuffled on unordered logs (where it can), and
    the recommendations drop recency (``ScoringParams.for_log``).
    """
    ordered = order is None or order.ordered
    return replace(config, word2vec=config.word2vec.for_log(ordered, can_shuffle=config.engine != "spark"),
                   scoring=config.scoring.for_log(ordered))


def config_from_args(args, env: Mapping[str, str], known_datasets) -> BuildConfig:
    """Turn parsed command-line arguments into a validated ``BuildConfig``."""
    problems: list[str] = []
    data = _data_config(args, env, known_datasets, problems)
    sequences = SequenceParams(
        orientation=args.orientation,
        min_rating=args.min_rating,
        min_count=args.min_count,
        min_length=args.min_length,
    )
    word2vec = Word2VecParams(
        vector_size=args.vector_size,
        window=args.window,
        epochs=args.epochs,
        negative=args.negative,
        ns_exponent=args.ns_exponent,
        sample=args.sample,
        alpha=args.alpha,
        shuffle={"auto": None, "time": False, "shuffle": True}[args.order],
        seed=args.seed,
        workers=1 if args.deterministic else args.workers,
        corpus_file=bool(getattr(args, "corpus_file", False)),
    )
    site = SiteConfig(
        out_dir=Path(args.out),
        base_url=_base_url(args.base_url, problems),
        posters=Path(args.posters) if args.posters else None,
        neighbours=args.neighbours,
        sprite_tile=args.sprite_tile,
        template_dir=DEFAULT_TEMPLATES,
        tensorboard_logdir=Path(args.tensorboard_logdir) if getattr(args, "tensorboard_logdir", None) else None,
        tensorboard=not getattr(args, "no_tensorboard", False),
        projector_html=Path(args.projector_html) if getattr(args, "projector_html", None) else None,
        layouts=_layouts(getattr(args, "layouts", None), problems),
        movie_pages=bool(getattr(args, "movie_pages", False)),
        max_points=getattr(args, "max_points", None),
        neighbour_search=getattr(args, "neighbour_search", None) or "auto",
        min_support=getattr(args, "min_support", DEFAULT_MIN_RATINGS),
    )
    models = _models(args, problems)
    scoring = scoring_from_args(args)  # issue 5
    problems.extend(scoring_problems(scoring))
    _check_numbers(args, problems)
    _check_paths(site, data, problems)
    _check_sharing(site, problems)
    engine, spark = _engine(args, env, data, problems)
    if problems:
        raise ConfigError("; ".join(problems))
    return BuildConfig(
        data=data,
        sequences=sequences,
        word2vec=word2vec,
        sentence_method=args.user_vectors,
        sif_alpha=args.sif_alpha,
        site=site,
        deterministic=args.deterministic,
        progress=not args.quiet,
        models=models,
        scoring=scoring,
        evaluate=bool(getattr(args, "evaluate", False)),
        log_order=getattr(args, "log_order", "auto"),
        engine=engine,
        spark=spark,
    )


def _data_config(args, env, known_datasets, problems) -> DataConfig:
    if args.dataset and args.ratings:
        problems.append("--dataset and --ratings name two different inputs: pass one")
    if args.dataset and args.dataset != "demo" and args.dataset not in known_datasets:
        problems.append(f"unknown --dataset {args.dataset!r} (known: demo, {', '.join(sorted(known_datasets))})")
    generic = any(v is not None for v in (args.sep, args.columns, args.movies))
    if generic and not args.ratings:
        problems.append("--sep, --columns and --movies describe a --ratings file: pass --ratings too")
    read = ReadSpec(
        sep=_unescape(args.sep),
        columns=_roles(args.columns, "--columns", problems),
        header=args.header,
        encoding=args.encoding,
        movies=args.movies,
        movies_sep=_unescape(args.movies_sep),
        movies_columns=_roles(args.movies_columns, "--movies-columns", problems),
        movies_header=args.movies_header,
        movies_encoding=args.movies_encoding,
    )
    nothing_named = not args.dataset and not args.ratings
    return DataConfig(
        dataset=DEFAULT_DATASET if nothing_named else args.dataset,
        ratings=Path(args.ratings) if args.ratings else None,
        read=read,
        strict=args.strict,
        cache_dir=default_cache_dir(env),
        mirror=env.get("REELSPACE_MIRROR") or None,
        fallback_to_demo=nothing_named,
    )


def _unescape(sep: str | None) -> str | None:
    """Let ``--sep '\\t'`` mean a tab, as users type it in a shell."""
    if sep is None:
        return None
    return {"\\t": "\t", "tab": "\t", "TAB": "\t", "\\|": "|"}.get(sep, sep)


def _roles(text: str | None, flag: str, problems: list[str]) -> tuple[str, ...] | None:
    if text is None:
        return None
    roles = tuple(part.strip() for part in text.split(","))
    if any(not role for role in roles):
        problems.append(f"{flag} {text!r} has an empty role (use - to skip a column)")
    return roles


def _base_url(url: str | None, problems: list[str]) -> str | None:
    """``--base-url``, checked here (before any data is read) and ending in ``/``."""
    from embedder.site.projector import base_url_problem

    if url is None:
        return None
    problem = base_url_problem(url)
    if problem:
        problems.append(f"--base-url {url!r} {problem}")
        return None
    return url if url.endswith("/") else url + "/"


_LIMITS = {
    "vector_size": (2, 4096),
    "window": (1, 10_000),
    "epochs": (1, 10_000),
    "negative": (1, 100),
    "workers": (1, 256),
    "min_count": (1, None),
    "min_length": (1, None),
    "neighbours": (1, 100),
    "sprite_tile": (8, 256),
    "min_support": (1, None),
}


def _check_numbers(args, problems: list[str]) -> None:
    for name, (low, high) in _LIMITS.items():
        value = getattr(args, name, None)
        if value is None:
            continue
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            problems.append(f"--{name.replace('_', '-')} must be {bound}, got {value}")
    if not 0 <= args.sample < 1:
        problems.append(f"--sample must be in [0, 1), got {args.sample}")
    if not 0 < args.alpha < 1:
        problems.append(f"--alpha must be in (0, 1), got {args.alpha}")
    if not -2 <= args.ns_exponent <= 2:
        problems.append(f"--ns-exponent must be between -2 and 2, got {args.ns_exponent}")
    if args.sif_alpha <= 0:
        problems.append(f"--sif-alpha must be positive, got {args.sif_alpha}")
    if getattr(args, "max_points", None) is not None and args.max_points < 2:
        problems.append(f"--max-points must be at least 2 (the projector needs two points), got {args.max_points}")
    if getattr(args, "corpus_file", False) and args.order == "shuffle":
        problems.append("--corpus-file trains on one fixed file, --order shuffle reshuffles every epoch: pass one")
    if args.user_vectors not in METHODS:
        problems.append(f"--user-vectors must be one of {', '.join(METHODS)}")


def _check_paths(site: SiteConfig, data: DataConfig, problems: list[str]) -> None:
    out = site.out_dir.resolve()
    protected = [site.template_dir.resolve(), site.template_dir.resolve().parent]
    for path in protected:
        if out == path or out in path.parents:
            problems.append(f"--out {site.out_dir} would replace {path}, which holds sources or data: choose another folder")
            break
    problems.extend(_inputs_inside(site.out_dir, "--out", data, site))
    logdir = site.tensorboard_logdir
    if site.tensorboard and logdir is not None and not _holds(out, logdir.resolve()):  # an external logdir is replaced whole too
        problems.extend(_inputs_inside(logdir, "--tensorboard-logdir", data, site))
    if site.posters is not None and not site.posters.is_dir():
        problems.append(f"--posters {site.posters} is not a directory")


def _inputs_inside(folder: Path, option: str, data: DataConfig, site: SiteConfig) -> list[str]:
    """A folder the build replaces whole must not hold an input: the first one it holds, as a problem."""
    replaced = folder.resolve()
    inputs = (("--ratings", data.ratings), ("--movies", data.read.movies), ("--posters", site.posters),
              ("--projector-html", site.projector_html))
    for flag, path in inputs:
        if path is not None and _holds(replaced, Path(path).resolve()):
            return [f"{option} {folder} holds {flag} {path}, which a build would delete (it replaces {option} "
                    f"whole): choose another folder for {option}"]
    return []


def _holds(folder: Path, path: Path) -> bool:
    return folder == path or folder in path.parents


def output_targets(site: SiteConfig) -> list[tuple[Path, str]]:
    """The folders a build replaces whole, each with the option that names it: the site, an external TensorBoard logdir."""
    from embedder.site.sharing import tensorboard_target

    targets = [(site.out_dir, "--out")]
    if tensorboard_target(site)[1] is not None:
        targets.append((site.tensorboard_logdir, "--tensorboard-logdir"))
    return targets


#: Folders and files of the site a TensorBoard logdir inside it must not take.
_SITE_NAMES = ("projector", "data", "static", "index.html", "build.json", "explorer", "explorer.html", "movies")


def _check_sharing(site: SiteConfig, problems: list[str]) -> None:
    """The TensorBoard logdir and the self-hosted projector page (issue 4)."""
    if site.projector_html is not None and not site.projector_html.is_file():
        problems.append(f"--projector-html {site.projector_html} is not a file (give the standalone projector's index.html)")
    if site.tensorboard_logdir is None:
        return
    if not site.tensorboard:
        problems.append("--tensorboard-logdir and --no-tensorboard contradict each other: pass one")
    out, logdir = site.out_dir.resolve(), site.tensorboard_logdir.resolve()
    protected = [site.template_dir.resolve(), site.template_dir.resolve().parent]
    if logdir == out or logdir in out.parents or any(logdir == p or logdir in p.parents for p in protected):
        problems.append(f"--tensorboard-logdir {site.tensorboard_logdir} would replace the site or the sources: choose its own folder")
    elif out in logdir.parents and logdir.relative_to(out).parts[0] in _SITE_NAMES:
        problems.append(f"--tensorboard-logdir {site.tensorboard_logdir} would take the site's own {logdir.relative_to(out).parts[0]}: choose another folder")


def _layouts(text: str | None, problems: list[str]) -> tuple[str, ...] | None:
    """``--layouts`` (issue 3): known names, and their packages installed."""
    from embedder.maps.layouts import missing_packages, parse_layouts

    try:
        names = parse_layouts(text)
    except ConfigError as error:
        problems.append(str(error))
        return None
    problems.extend(missing_packages(names))
    return names


def _models(args, problems: list[str]) -> ModelConfig:
    """``--embedders`` and the model options (issue 6): known names, TensorFlow installed when needed."""
    from embedder.tf_models.embedders import missing_tensorflow, parse_embedders

    try:
        names = parse_embedders(getattr(args, "embedders", None))
    except ConfigError as error:
        problems.append(str(error))
        names = ("w2v",)
    problems.extend(missing_tensorflow(names))
    max_epochs = getattr(args, "model_epochs", None)
    if max_epochs is not None and not 1 <= max_epochs <= 1000:
        problems.append(f"--model-epochs must be between 1 and 1000, got {max_epochs}")
    return ModelConfig(embedders=names, max_epochs=max_epochs, retrain=bool(getattr(args, "retrain", False)),
                       cache=not getattr(args, "no_model_cache", False))


def with_out_dir(config: BuildConfig, out_dir: Path) -> BuildConfig:
    """A copy of ``config`` writing elsewhere (benchmarks, tests)."""
    return replace(config, site=replace(config.site, out_dir=Path(out_dir)))


def _engine(args, env, data: DataConfig, problems: list[str]) -> tuple[str, SparkParams | None]:
    """``--engine`` and the Spark options: pyspark and Java present, options that Spark's reader and Word2Vec take."""
    from embedder.spark import check_dataset, missing_spark

    engine = getattr(args, "engine", None) or "local"
    master, conf = getattr(args, "spark_master", None), getattr(args, "spark_conf", None) or []
    partitions = getattr(args, "spark_word2vec_partitions", None)
    if engine != "spark":
        if master is not None or conf or partitions is not None:
            problems.append("--spark-master, --spark-conf and --spark-word2vec-partitions set up --engine spark: "
                            "pass --engine spark too")
        return engine, None
    problems.extend(missing_spark(env))
    pairs = []
    for text in conf:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            problems.append(f"--spark-conf {text!r} is not KEY=VALUE (e.g. spark.driver.memory=8g)")
        else:
            pairs.append((key.strip(), value))
    if partitions is not None and not 1 <= partitions <= 10_000:
        problems.append(f"--spark-word2vec-partitions must be between 1 and 10000, got {partitions}")
    if any(getattr(args, name, None) is not None for name in ("sep", "columns", "header", "encoding", "movies",
                                                             "movies_sep", "movies_columns", "movies_header",
                                                             "movies_encoding")):
        problems.append("--sep, --columns, --header, --encoding and the --movies options describe other formats: "
                        "the spark engine reads MovieLens ratings.csv layouts (use --engine local)")
    if data.ratings is None:
        problems.extend(check_dataset(data.dataset))
    if args.order == "shuffle":
        problems.append("--order shuffle reshuffles sentences every epoch, which Spark's Word2Vec cannot: "
                        "use --order time or --engine local")
    gensim = Word2VecParams()
    if (args.negative, args.ns_exponent, args.sample) != (gensim.negative, gensim.ns_exponent, gensim.sample):
        problems.append("--negative, --ns-exponent and --sample are gensim's negative-sampling settings; Spark's "
                        "Word2Vec uses hierarchical softmax without them: drop them or use --engine local")
    if getattr(args, "corpus_file", False):
        problems.append("--corpus-file feeds gensim; Spark's Word2Vec reads the sentences from Spark: drop it")
    return engine, SparkParams(master=master, conf=tuple(pairs), word2vec_partitions=partitions or 1)
