"""BuildConfig -> a site on disk: the stages in order, timed, with progress.

``build`` is the wiring and nothing else; every step is a function of the
module that owns it (see ``values.py`` for the values passed between them),
given its own settings.  ``build`` accepts precomputed stage results
(``dataset``, ``words``, ``sentences``) so tests can inject fixed vectors and
skip training.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

from embedder.config import BuildConfig, for_log
from embedder.errors import DataError
from embedder.folders import output_targets
from embedder.maps.stage import Maps, card_fields, index_fields, make_maps, map_inputs, summary_lines
from embedder.model.neighbours import nearest
from embedder.model.sentence_vectors import sentence_vectors
from embedder.model.sequences import SequenceReport, make_sequences
from embedder.model.support import Support, support
from embedder.output import SiteFiles, prepare_targets, write_site
from embedder.quality.model_card import MODEL_CARD_FILE, card_context, card_json
from embedder.ratings.catalogue import rating_count
from embedder.ratings.order import ordered_dataset
from embedder.report import BuildReport
from embedder.site.bookmarks import bookmarks
from embedder.site.bundle import extra_sides, neighbours_json, projector_bundle, projector_rows
from embedder.site.index_page import NEIGHBOURS_FILE, extra_index_fields, index_context, settings_rows
from embedder.site.pages import render_site
from embedder.site.sharing import sharing_files
from embedder.site.tensorboard import validate_logdir
from embedder.timing import Stages
from embedder.values import CoRated, CorpusCounts, Dataset, Neighbours, SentenceVectors, Sequences, Side, WordVectors

#: The folder of the site that holds the Embedding Projector bundle.
PROJECTOR_FOLDER = "projector"
#: The picture of the labelled movie map (the index page's image and its link preview).
PICTURE_FILE = "map.png"

STAGES = ("read", "sentences", "word2vec", "user vectors", "neighbours", "map", "sprite", "projector files", "explorer",
          "site", "write")


def build(config: BuildConfig, *, dataset: Dataset | None = None, words: WordVectors | None = None,
          sentences: SentenceVectors | None = None, warn=None) -> BuildReport:
    """Run the whole pipeline and swap the new site into ``config.site.out_dir``."""
    warn = warn or (lambda message: print(message, file=sys.stderr))
    prepare_targets(output_targets(config.site))  # the site and an external TensorBoard logdir: fail before training
    stages = Stages(len(STAGES) + (len(config.models.embedders) > 1), progress=config.run.progress)  # + "models"
    try:
        model = train(config, stages, warn, dataset=dataset, words=words, sentences=sentences)
        config, dataset = model.config, model.dataset
        movies, users = sides(config.sequences.orientation, model.words, model.sentences,
                              dataset.order.kind)
        extras = _extra_embeddings(config, dataset, movies, users, stages)
        with stages.stage("neighbours"):
            trusted, neighbours = _neighbours(config, model.counts, movies, users)
        with stages.stage("map"):
            maps, map_layouts, rated = _maps(config, dataset, movies, users, trusted, neighbours, extras)
        keep = projector_rows(config.site.max_points, dataset, movies, users, trusted)
        marks = bookmarks(keep.layouts(maps.layouts), keep.shape("movies", movies.vectors.shape),
                          keep.shape("users", users.vectors.shape), subset=config.site.max_points is not None,
                          support=trusted)
        projector = projector_bundle(config.site, dataset, movies, users, stages, warn, bookmarks=marks,
                                     extras=extra_sides(extras), keep=keep, maps=maps)
        files = SiteFiles()
        files.update(projector)
        if maps.picture is not None:
            files.add(PICTURE_FILE, maps.picture)
        with stages.stage("explorer"):
            recommender = model.recommender or _recommender(config, model.sequences, model.words, trusted)
            files.update(_explorer(config, dataset, movies, users, neighbours, map_layouts, trusted, maps, rated,
                                   recommender, model.co_rated))
        sharing = sharing_files(config.site, config.settings, dataset.name, projector, PROJECTOR_FOLDER)
        files.update(sharing.site)
        evaluation = _evaluation(config, dataset, extras, stages)
        with stages.stage("site"):
            files.add(NEIGHBOURS_FILE, neighbours_json(dataset, movies, neighbours["movies"], trusted))
            files.add(MODEL_CARD_FILE, card_json(config.training_settings(), dataset, evaluation,
                                                 map_card=card_fields(maps, trusted), recommender=recommender))
            context = _index(config, model, movies, users, neighbours["movies"], files, keep, maps, trusted, extras,
                             stages.timings, sharing, evaluation, recommender)
            files.update(render_site(context, config.site.template_dir))
        with stages.stage("write"):
            _write(config, files, sharing)
    finally:
        stages.close()
    return _report(config, dataset, movies, users, extras, files, context, sharing, maps, trusted, keep, stages.timings)


# --- training: read, sentences, Word2Vec, user vectors --------------------------------------------


@dataclass(frozen=True)
class Trained:
    """What the training stages give the rest: the arranged log, the config made concrete for it, the model.

    ``sequences`` is None when the sentences stayed on a Spark cluster:
    ``counts`` has their lengths and word counts either way, and
    ``recommender``/``co_rated`` are then the lists the cluster made.
    """

    config: BuildConfig
    dataset: Dataset
    sequences: Sequences | None
    counts: CorpusCounts
    report: SequenceReport
    words: WordVectors
    sentences: SentenceVectors
    recommender: object | None = None
    co_rated: CoRated | None = None


def train(config: BuildConfig, stages, warn, *, dataset: Dataset | None = None, words: WordVectors | None = None,
          sentences: SentenceVectors | None = None) -> Trained:
    """Read the log (or take ``dataset``), arrange it by its order, group the sentences, train Word2Vec, make user vectors.

    With ``--engine spark`` and nothing precomputed, the four stages run on Spark.
    """
    engine = None
    if config.engine == "spark" and dataset is None and words is None and sentences is None:
        from embedder.spark import run_spark  # the next four stages on Apache Spark, timed there

        engine = run_spark(config.data, config.spark, config.training(), min_support=config.site.min_support,
                           progress=config.run.progress, warn=warn)
        dataset, words, sentences = engine.dataset, engine.words, engine.sentences
        stages.timings.update(engine.timings)
    with stages.stage("read"):
        if dataset is None:
            from embedder.ratings.sources import load_dataset

            dataset = load_dataset(config.data, progress=config.run.progress, warn=warn)
        for note in dataset.notes:
            warn(f"note: {note}")
        # Whether each user's rows have an order (time, the file's, none): sentences, recency and evaluation follow it.
        dataset = ordered_dataset(dataset, config.data.log_order, seed=config.run.seed)
        config = for_log(config, dataset.order)
    with stages.stage("sentences"):
        sequences, counts, report = _sentences(dataset, config, engine)
    with stages.stage("word2vec"):
        if words is None:
            from embedder.model.word2vec import train_word_vectors

            words = train_word_vectors(sequences, config.word2vec, progress=config.run.progress)
    with stages.stage("user vectors"):
        if sentences is None:
            sentences = sentence_vectors(sequences, words, config.sentence_method, alpha=config.sif_alpha)
    if engine is not None:
        return Trained(config, dataset, None, counts, report, words, sentences, engine.recommender, engine.co_rated)
    return Trained(config, dataset, sequences, counts, report, words, sentences)


def _sentences(dataset: Dataset, config: BuildConfig, engine=None):
    """``(sequences, counts, report)``: the sentences made here (the Spark engine's stay on the cluster: None).

    Fewer than two sentences or words are refused; a problem is located in
    the ratings file it comes from.
    """
    params = config.sequences
    try:
        if engine is not None:
            sequences, counts, report = None, engine.counts, engine.report
        else:
            sequences, report = make_sequences(dataset.interactions, params)
            counts = sequences.counts()
        if min(len(counts), len(counts.token_ids)) < 2:
            sentences, words = ("users", "movies") if params.orientation == "users" else ("movies", "users")
            n, m = len(counts), len(counts.token_ids)
            raise DataError(
                f"only {n} {sentences[:-1] if n == 1 else sentences} and {m} {words[:-1] if m == 1 else words} left "
                f"after filtering: the neighbour lists, the map and the projector need at least two of each",
                fix=f"add ratings, or lower --min-count ({params.min_count}), --min-length ({params.min_length}) "
                    f"or --min-rating")
        return sequences, counts, report
    except DataError as error:
        if error.path is None and Path(dataset.source).exists():
            raise DataError(error.problem, path=dataset.source, fix=error.fix) from None
        raise


def sides(orientation: str, words: WordVectors, sentences: SentenceVectors, order: str = "time") -> tuple[Side, Side]:
    """Which vectors are the movies and which the users, by orientation (``order``: the log's, for the words)."""
    method = {"sif": "SIF", "usif": "uSIF", "mean": "mean"}[sentences.method]
    ratings = {"time": "time-ordered ratings", "file": "ratings in file order"}.get(order, "rated movies (no order)")
    if orientation == "users":
        movies = Side("movies", "movies", "movies · word2vec", f"Word2Vec (skip-gram) over users' {ratings}",
                      words.ids, words.vectors)
        users = Side("users", "users", f"users · {method}", f"{method} over each user's rated movies", sentences.ids,
                     sentences.vectors)
    else:
        movies = Side("movies", "movies", f"movies · {method}", f"{method} over each movie's audience", sentences.ids,
                      sentences.vectors)
        users = Side("users", "users", "users · word2vec", "Word2Vec (skip-gram) over each movie's audience", words.ids,
                     words.vectors)
    return movies, users


# --- what is computed from the vectors --------------------------------------------------------------


def _extra_embeddings(config: BuildConfig, dataset: Dataset, movies: Side, users: Side, stages) -> list:
    """Train (or take from the model cache) every ``--embedders`` model but w2v, on the w2v rows."""
    if len(config.models.embedders) < 2:
        return []
    from embedder.tf_models.embedders import EmbedderInput, build_embeddings

    with stages.stage("models"):
        return build_embeddings(
            config.models.embedders, EmbedderInput(dataset, movies.ids, users.ids), seed=config.run.seed,
            cache_dir=config.data.cache_dir / "models" if config.models.cache else None,
            max_epochs=config.models.max_epochs, retrain=config.models.retrain, progress=config.run.progress)


def _neighbours(config: BuildConfig, counts: CorpusCounts, movies: Side, users: Side) -> tuple[Support, dict]:
    """The support rule, then each side's nearest neighbours among its supported points."""
    trusted = support(counts, movies.ids, users.ids, orientation=config.sequences.orientation,
                      min_ratings=config.site.min_support)
    search = {"method": config.site.neighbour_search, "threads": config.run.workers, "seed": config.run.seed}
    return trusted, {side.side: nearest(side.vectors, config.site.neighbours, candidates=trusted.mask(side.side), **search)
                     for side in (movies, users)}


def _maps(config: BuildConfig, dataset: Dataset, movies: Side, users: Side, trusted: Support, neighbours: dict,
          extras: list):
    """Both maps (layouts, the default map's regions, figures and picture), and the explorer's layout menu."""
    catalogue, rated, by_user = map_inputs(dataset, movies.ids, users.ids)
    maps = make_maps(movies.vectors, users.vectors, trusted, catalogue, by_user, names=config.site.layouts,
                     seed=config.run.seed, threads=config.run.workers, progress=config.run.progress,
                     title=f"{dataset.name} as embeddings", neighbours=neighbours)
    if config.run.deterministic:  # byte-identical rebuilds: no wall-clock time on the pages
        maps = replace(maps, quality={side: replace(q, seconds=None) for side, q in maps.quality.items()})
    layouts = maps.layouts
    if extras:  # each embedder's layouts become choices of the explorer's Layout menu
        from embedder.tf_models.comparison import explorer_layouts

        layouts = explorer_layouts(maps.layouts, extras, dataset, movies.ids, users.ids, seed=config.run.seed,
                                   support=trusted, threads=config.run.workers)
    return maps, layouts, rated


def _recommender(config: BuildConfig, sequences: Sequences, words: WordVectors, trusted: Support):
    """The explorer's recommender: the scorer the log's order calls for (``embedder.model.recommender``).

    It needs the users orientation (sentences are users, words are movies);
    with ``--orientation movies`` (None) the explorer keeps cosine of the vectors.
    """
    if config.sequences.orientation != "users" or sequences is None:
        return None
    if config.scoring.method != "ease" and words.output_vectors is None:
        return None
    from embedder.model.recommender import site_recommender

    return site_recommender(config.scoring, sequences, words, trusted.movies, seed=config.run.seed)


def _explorer(config, dataset, movies, users, neighbours, layouts, trusted, maps, rated, recommender,
              co_rated=None) -> dict[str, bytes]:
    from embedder.site.explorer import site_explorer

    scorer = {} if recommender is None else {"recommend": recommender.lists,
                                             "scoring": recommender.describe + "; movies they rated are left out"}
    return site_explorer(config.site, dataset, movies, users, neighbours["movies"], layouts,
                         user_neighbours=neighbours["users"], support=trusted, maps=maps, rated=rated,
                         co_rated=co_rated, **scorer)


def _evaluation(config: BuildConfig, dataset: Dataset, extras: list, stages):
    """``build.py evaluate``'s report (test split, one seed) with ``--evaluate``, the extra embedders as rows; else None."""
    if not config.evaluate:
        return None
    from embedder.quality.runner import EvalOptions, run

    with stages.stage("evaluate"):
        evaluation = run(dataset, config.training(), EvalOptions())
        if extras:
            from embedder.tf_models.embedders import evaluation_rows

            evaluation.rows.extend(evaluation_rows(
                dataset, config.models.embedders, seed=config.run.seed,
                cache_dir=config.data.cache_dir / "models" if config.models.cache else None,
                max_epochs=config.models.max_epochs, retrain=config.models.retrain, progress=config.run.progress))
    return evaluation


# --- the pages and the disk ---------------------------------------------------------------------------


def _index(config, model: Trained, movies, users, neighbours: Neighbours, files, keep, maps: Maps, trusted, extras,
           timings, sharing, evaluation, recommender):
    """The index page's context, from each stage's own part."""
    rows = settings_rows(config.training_settings(), model.dataset.order.kind, model.counts,
                         model.report)
    map_figures = index_fields(maps, trusted, picture=PICTURE_FILE if maps.picture else None,
                               base_url=config.site.base_url)
    context = index_context(model.dataset, rows, movies, users, neighbours, files, keep, base_url=config.site.base_url,
                            orientation=config.sequences.orientation, sentence_method=config.sentence_method)
    fields = {"map": map_figures, **sharing.index_fields(),
              "model_card": card_context(config.training_settings(), model.dataset, evaluation,
                                         map_figures=map_figures, recommender=recommender)}
    if extras:  # a card per extra tensor, and the embedders side by side
        fields.update(extra_index_fields(context, model.dataset, movies, extras, files, timings,
                                         config.run.deterministic, keep))
    return replace(context, **fields)


def _write(config: BuildConfig, files: SiteFiles, sharing) -> None:
    from embedder.site.validate import validate_projector

    write_site(files, config.site.out_dir,
               validate=lambda root: validate_projector(root, PROJECTOR_FOLDER) + sharing.check(root))
    if sharing.logdir is not None:
        write_site(sharing.logdir, sharing.logdir_path, validate=validate_logdir)


def _report(config, dataset, movies, users, extras, files, context, sharing, maps, trusted, keep, timings) -> BuildReport:
    from embedder.tf_models.embedders import format_figure

    def model_line(model) -> str:
        figures = ", ".join(format_figure(k, v) for k, v in model.figures.items())
        where = (f"from the model cache (trained in {model.seconds:.1f} s)" if model.cached
                 else f"trained in {model.seconds:.1f} s")
        return f"{model.name}: {figures}; {where}"

    shown = [movies, users, *extra_sides(extras)]
    return BuildReport(
        dataset=dataset.name, out_dir=str(config.site.out_dir), ratings=rating_count(dataset),
        users=len(dataset.interactions.user_ids), movies=len(dataset.movies),
        shapes={side.name: side.vectors.shape for side in shown}, timings=timings, notes=dataset.notes,
        site_bytes=files.total_bytes(), projector_link=context.projector_link,
        tensorboard_logdir=(f"{config.site.out_dir}/{sharing.tensorboard_folder}" if sharing.tensorboard_folder else
                            (str(sharing.logdir_path) if sharing.logdir_path else None)),
        models=tuple(model_line(model) for model in extras), map_lines=tuple(summary_lines(maps, trusted)),
        order=dataset.order.describe(),
        projector_points={side.name: keep.note(side.side) for side in shown if keep.note(side.side) is not None},
    )
