"""The build's settings -> one typed, validated ``BuildConfig``.

``embedder.settings`` declares every setting once (name, group, default,
bounds, help) and layers defaults < ``--config`` file < command line;
``make_config`` turns that flat mapping into the ``BuildConfig`` the pipeline
runs, checking everything that involves more than one setting or the world
(paths, installed packages, Spark).  This is the only module that reads the
outside world's settings (the environment: ``REELSPACE_DATA``,
``REELSPACE_MIRROR``); everything below it receives plain values.  All
problems are collected and reported at once, as one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from embedder.errors import ConfigError
from embedder.folders import folder_problems
from embedder.model.recommend import ScoringParams
from embedder.model.sequences import SequenceParams
from embedder.model.support import DEFAULT_MIN_RATINGS
from embedder.model.word2vec import Word2VecParams
from embedder.ratings.datasets import default_cache_dir
from embedder.ratings.readers import ReadSpec
from embedder.site.pages import DEFAULT_TEMPLATES
from embedder.spark.session import SparkParams

#: What ``python build.py`` builds when no data is named.
DEFAULT_DATASET = "ml-latest-small"


@dataclass(frozen=True)
class DataConfig:
    """Where the ratings come from.

    Exactly one of ``dataset`` (a known name or ``"demo"``) and ``ratings`` (a
    path) is set.  ``fallback_to_demo`` is true only for the default run, where
    an offline machine should still get a working site.  ``log_order`` is
    ``--log-order`` (``embedder.ratings.order``).
    """

    dataset: str | None
    ratings: Path | str | None  # a str: a URI for the Spark engine
    read: ReadSpec
    strict: bool
    cache_dir: Path
    mirror: str | None
    fallback_to_demo: bool
    demo_seed: int = 0
    log_order: str = "auto"


@dataclass(frozen=True)
class SiteConfig:
    """What the site looks like and where it goes."""

    out_dir: Path
    base_url: str | None
    posters: Path | None
    neighbours: int
    sprite_tile: int
    template_dir: Path
    # The TensorBoard logdir (default <out_dir>/tensorboard/) and a user-supplied standalone projector page.
    tensorboard_logdir: Path | None = None
    tensorboard: bool = True
    projector_html: Path | None = None
    # The explorer's 2-D layouts (None: chosen by size, embedder.maps.layouts.auto_layouts) and movies/<id>.html.
    layouts: tuple[str, ...] | None = None
    movie_pages: bool = False
    # The projector bundle keeps the N most-rated movies and users (the explorer keeps all),
    # and how neighbours are found (embedder.model.neighbours: exact up to 60,000 rows, else HNSW).
    max_points: int | None = None
    neighbour_search: str = "auto"
    # Points rated fewer than this many times stay out of neighbour lists, the map's fit and regions,
    # and the projector (embedder.model.support).
    min_support: int = DEFAULT_MIN_RATINGS


@dataclass(frozen=True)
class ModelConfig:
    """The embeddings built beside Word2Vec (``--embedders``, see ``embedder.tf_models.embedders``).

    ``embedders`` always holds ``w2v``; ``max_epochs`` None keeps each model's
    own limit (they stop early on a validation split anyway); ``retrain``
    ignores the model cache; ``cache`` False neither reads nor writes it.
    """

    embedders: tuple[str, ...] = ("w2v",)
    max_epochs: int | None = None
    retrain: bool = False
    cache: bool = True


@dataclass(frozen=True)
class RunConfig:
    """What every stage shares: the seed, the threads, progress bars, byte-identical output."""

    seed: int = 0
    workers: int = 2
    progress: bool = False
    deterministic: bool = False


@dataclass(frozen=True)
class TrainingConfig:
    """What the stages that train need, and nothing else: the evaluation (which re-trains on a split) and the
    Spark engine get this, not the whole ``BuildConfig``.

    ``summary`` is ``BuildConfig.training_settings()`` (the one settings
    summary); ``can_shuffle`` is False where Word2Vec cannot reshuffle
    sentences every epoch (Spark).
    """

    sequences: SequenceParams
    word2vec: Word2VecParams
    sentence_method: str
    sif_alpha: float
    scoring: ScoringParams
    min_support: int
    log_order: str
    seed: int
    can_shuffle: bool = True
    summary: Mapping[str, Any] = field(default_factory=dict)

    def for_log(self, ordered: bool) -> "TrainingConfig":
        """The "auto" settings made concrete for a log that is (or is not) ordered: Word2Vec reshuffles an
        unordered log's sentences (where it can), and the recommendations drop recency there."""
        return replace(self, word2vec=self.word2vec.for_log(ordered, can_shuffle=self.can_shuffle),
                       scoring=self.scoring.for_log(ordered))


@dataclass(frozen=True)
class BuildConfig:
    """Everything one build needs.

    ``settings`` is the flat mapping it was made from (every setting, by name):
    written into ``build.json`` as ``--config`` tables, so a build can be repeated.
    """

    data: DataConfig
    sequences: SequenceParams
    word2vec: Word2VecParams
    sentence_method: str
    sif_alpha: float
    site: SiteConfig
    run: RunConfig = RunConfig()
    models: ModelConfig = ModelConfig()
    # How recommendations are scored (embedder.model.recommend) and whether the build runs the evaluation.
    scoring: ScoringParams = ScoringParams()
    evaluate: bool = False
    # --engine spark: read, sentences, Word2Vec and user vectors on Apache Spark (embedder.spark).
    engine: str = "local"
    spark: SparkParams | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)

    def training(self) -> TrainingConfig:
        """The settings of the stages that train (``TrainingConfig``)."""
        return TrainingConfig(sequences=self.sequences, word2vec=self.word2vec, sentence_method=self.sentence_method,
                              sif_alpha=self.sif_alpha, scoring=self.scoring, min_support=self.site.min_support,
                              log_order=self.data.log_order, seed=self.run.seed, can_shuffle=self.engine != "spark",
                              summary=self.training_settings())

    def training_settings(self) -> dict:
        """The settings it trains and scores with, as plain values: the one summary the site's settings
        table, the model card and the evaluation report show."""
        from dataclasses import asdict

        return {
            "sequences": asdict(self.sequences),
            "word2vec": self.word2vec_settings(),
            "user_vectors": {"method": self.sentence_method, "sif_alpha": self.sif_alpha},
            "recommendations": self.scoring.settings(),
        }

    def word2vec_settings(self) -> dict:
        """The Word2Vec settings as the engine that trains uses them (shown on the site and the model card)."""
        if self.engine == "spark":
            from embedder.spark.vectors import spark_settings

            return spark_settings(self.word2vec, self.spark.word2vec_partitions if self.spark else 1)
        return self.word2vec.settings()


def for_log(config: BuildConfig, order) -> BuildConfig:
    """The config with its "auto" settings made concrete for a log that is (or is not) ordered.

    ``order`` is the ``embedder.ratings.order.LogOrder`` the dataset was
    arranged in; the rule is ``TrainingConfig.for_log``'s, which the evaluation
    applies too.
    """
    training = config.training().for_log(order is None or order.ordered)
    return replace(config, word2vec=training.word2vec, scoring=training.scoring)


def config_from_args(args, env: Mapping[str, str], known_datasets) -> BuildConfig:
    """The ``BuildConfig`` of parsed command-line arguments: defaults < ``--config FILE`` < the options typed.

    ``args`` comes from a parser whose settings options ``embedder.settings.add_options`` made
    (their defaults suppressed, so only what was typed is there).
    """
    from embedder.settings import given, read_file

    under = [read_file(Path(args.config))] if getattr(args, "config", None) else []
    return make_config(given(args), env, known_datasets, under=under)


def make_config(values: Mapping[str, Any], env: Mapping[str, str], known_datasets, *,
                under: tuple | list = ()) -> BuildConfig:
    """A validated ``BuildConfig`` from a mapping of settings (``embedder.settings``; missing ones take defaults).

    ``under`` are mappings that ``values`` overrides (a ``--config`` file's).
    Raises ``ConfigError`` with every problem found, joined into one line.
    """
    from embedder.settings import resolve

    problems: list[str] = []
    v = resolve(*under, values, problems=problems)
    run = RunConfig(seed=v["seed"], workers=1 if v["deterministic"] else v["workers"], progress=not v["quiet"],
                    deterministic=v["deterministic"])
    data = _data_config(v, env, known_datasets, problems)
    sequences = SequenceParams(orientation=v["orientation"], min_rating=v["min_rating"], min_count=v["min_count"],
                               min_length=v["min_length"])
    word2vec = Word2VecParams(
        vector_size=v["vector_size"], window=v["window"], epochs=v["epochs"], negative=v["negative"],
        ns_exponent=v["ns_exponent"], sample=v["sample"], alpha=v["alpha"],
        shuffle={"auto": None, "time": False, "shuffle": True}[v["order"]],
        seed=run.seed, workers=run.workers, corpus_file=v["corpus_file"],
    )
    site = SiteConfig(
        out_dir=Path(v["out"]),
        base_url=_base_url(v["base_url"], problems),
        posters=Path(v["posters"]) if v["posters"] else None,
        neighbours=v["neighbours"],
        sprite_tile=v["sprite_tile"],
        template_dir=DEFAULT_TEMPLATES,
        tensorboard_logdir=Path(v["tensorboard_logdir"]) if v["tensorboard_logdir"] else None,
        tensorboard=v["tensorboard"],
        projector_html=Path(v["projector_html"]) if v["projector_html"] else None,
        layouts=_layouts(v["layouts"], problems),
        movie_pages=v["movie_pages"],
        max_points=v["max_points"],
        neighbour_search=v["neighbour_search"],
        min_support=v["min_support"],
    )
    scoring = ScoringParams(method=v["rec_scoring"], decay=v["rec_decay"], last_k=v["rec_last_k"],
                            prior=v["rec_prior"], lam=v["rec_lambda"])
    models = _models(v, problems)
    if v["corpus_file"] and v["order"] == "shuffle":
        problems.append("--corpus-file trains on one fixed file, --order shuffle reshuffles every epoch: pass one")
    problems.extend(folder_problems(site, data))
    engine, spark = _engine(v, env, data, problems)
    if problems:
        raise ConfigError("; ".join(problems))
    return BuildConfig(data=data, sequences=sequences, word2vec=word2vec, sentence_method=v["user_vectors"],
                       sif_alpha=v["sif_alpha"], site=site, run=run, models=models, scoring=scoring,
                       evaluate=v["evaluate"], engine=engine, spark=spark, settings=dict(v))


def _ratings_path(given, engine: str) -> Path | str | None:
    """``--ratings`` as a Path; a URI (``hdfs:///data``, ``s3a://bucket/key``) kept as text for the Spark engine."""
    if not given:
        return None
    if engine == "spark" and "://" in str(given) and str(given).split("://", 1)[0].replace("+", "").isalnum():
        return str(given)
    return Path(given)


def _data_config(v, env, known_datasets, problems) -> DataConfig:
    if v["dataset"] and v["ratings"]:
        problems.append("--dataset and --ratings name two different inputs: pass one")
    if v["dataset"] and v["dataset"] != "demo" and v["dataset"] not in known_datasets:
        problems.append(f"unknown --dataset {v['dataset']!r} (known: demo, {', '.join(sorted(known_datasets))})")
    generic = any(v[name] is not None for name in ("sep", "columns", "movies"))
    if generic and not v["ratings"]:
        problems.append("--sep, --columns and --movies describe a --ratings file: pass --ratings too")
    read = ReadSpec(
        sep=_unescape(v["sep"]),
        columns=_roles(v["columns"], "--columns", problems),
        header=v["header"],
        encoding=v["encoding"],
        movies=v["movies"],
        movies_sep=_unescape(v["movies_sep"]),
        movies_columns=_roles(v["movies_columns"], "--movies-columns", problems),
        movies_header=v["movies_header"],
        movies_encoding=v["movies_encoding"],
    )
    nothing_named = not v["dataset"] and not v["ratings"]
    return DataConfig(
        dataset=DEFAULT_DATASET if nothing_named else v["dataset"],
        ratings=_ratings_path(v["ratings"], v["engine"]),
        read=read,
        strict=v["strict"],
        cache_dir=default_cache_dir(env),
        mirror=env.get("REELSPACE_MIRROR") or None,
        fallback_to_demo=nothing_named,
        log_order=v["log_order"],
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


def _layouts(text: str | None, problems: list[str]) -> tuple[str, ...] | None:
    """``--layouts``: known names, and their packages installed."""
    from embedder.maps.layouts import missing_packages, parse_layouts

    try:
        names = parse_layouts(text)
    except ConfigError as error:
        problems.append(str(error))
        return None
    problems.extend(missing_packages(names))
    return names


def _models(v, problems: list[str]) -> ModelConfig:
    """``--embedders`` and the model options: known names, TensorFlow installed when needed."""
    from embedder.tf_models.embedders import missing_tensorflow, parse_embedders

    try:
        names = parse_embedders(v["embedders"])
    except ConfigError as error:
        problems.append(str(error))
        names = ("w2v",)
    problems.extend(missing_tensorflow(names))
    return ModelConfig(embedders=names, max_epochs=v["model_epochs"], retrain=v["retrain"], cache=v["model_cache"])


def with_out_dir(config: BuildConfig, out_dir: Path) -> BuildConfig:
    """A copy of ``config`` writing elsewhere (benchmarks, tests)."""
    return replace(config, site=replace(config.site, out_dir=Path(out_dir)))


def build_problems(config: BuildConfig) -> list[str]:
    """What a build cannot do with its engine: with ``--engine spark`` the log stays on the cluster, so the steps
    that need it whole in memory are refused (``evaluate --engine spark`` takes the recommendation settings)."""
    if config.engine != "spark":
        return []
    problems = []
    if config.evaluate:
        problems.append("--evaluate holds ratings out of the log in memory: with --engine spark run "
                        "`build.py evaluate --engine spark`, or build with --engine local")
    if len(config.models.embedders) > 1:
        problems.append("--embedders trains TensorFlow models on one machine: drop it or use --engine local")
    if config.scoring.method != "auto" or config.scoring.lam is not None:
        problems.append("--rec-scoring and --rec-lambda choose a one-machine recommender; the spark engine "
                        "recommends with its co-occurrence model trained on the cluster: drop them")
    return problems


def _engine(v, env, data: DataConfig, problems: list[str]) -> tuple[str, SparkParams | None]:
    """``--engine`` and the Spark options: pyspark and Java present, inputs and options that Spark takes."""
    from embedder.spark.read import input_problems
    from embedder.spark.session import missing_spark

    engine, master, conf, partitions = v["engine"], v["spark_master"], v["spark_conf"], v["spark_word2vec_partitions"]
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
    problems.extend(input_problems(data))
    if v["order"] == "shuffle":
        problems.append("--order shuffle reshuffles sentences every epoch, which Spark's Word2Vec cannot: "
                        "use --order time or --engine local")
    gensim = Word2VecParams()
    if (v["negative"], v["ns_exponent"], v["sample"]) != (gensim.negative, gensim.ns_exponent, gensim.sample):
        problems.append("--negative, --ns-exponent and --sample are gensim's negative-sampling settings; Spark's "
                        "Word2Vec uses hierarchical softmax without them: drop them or use --engine local")
    if v["corpus_file"]:
        problems.append("--corpus-file feeds gensim; Spark's Word2Vec reads the sentences from Spark: drop it")
    return engine, SparkParams(master=master, conf=tuple(pairs), word2vec_partitions=partitions or 1)
