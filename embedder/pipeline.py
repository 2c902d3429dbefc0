"""BuildConfig -> a site on disk: the stages in order, timed, with progress.

Each stage is a function from values to values (see ``values.py``); this
module only wires them together.  ``build`` accepts precomputed stage results
(``dataset``, ``words``, ``sentences``) so tests can inject fixed vectors and
skip training.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np

from embedder import __version__
from embedder.site.bookmarks import bookmarks
from embedder.ratings.catalogue import catalogue_rows, movie_stats, user_rows
from embedder.config import BuildConfig, for_log, output_targets
from embedder.errors import DataError
from embedder.maps.stage import Maps, card_fields, index_fields, make_maps, map_inputs, summary_lines
from embedder.quality.model_card import MODEL_CARD_FILE, card_context, card_json
from embedder.model.neighbours import nearest
from embedder.ratings.order import ordered_dataset
from embedder.output import SiteFiles, prepare_targets, write_site
from embedder.model.sequences import SequenceReport, make_sequences
from embedder.site.sharing import sharing_files
from embedder.site.tensorboard import validate_logdir
from embedder.site.pages import EmbeddingCard, IndexContext, human_size, render_site
from embedder.model.support import Support, support
from embedder.model.sentence_vectors import sentence_vectors
from embedder.values import Dataset, Neighbours, SentenceVectors, Sequences, WordVectors

#: The folder of the site that holds the Embedding Projector bundle.
PROJECTOR_FOLDER = "projector"
NEIGHBOURS_FILE = "data/neighbours.json"
#: The picture of the labelled movie map (the index page's image and its link preview).
PICTURE_FILE = "map.png"

STAGES = ("read", "sentences", "word2vec", "user vectors", "neighbours", "map", "sprite", "projector files", "explorer", "site", "write")


@dataclass
class Side:
    """One embedding as shown on the site: which catalogue rows, which vectors."""

    slug: str
    name: str
    how: str
    ids: np.ndarray
    vectors: np.ndarray


@dataclass
class BuildReport:
    """What a build did, for the summary line and the benchmark."""

    dataset: str
    out_dir: str
    ratings: int
    users: int
    movies: int
    shapes: dict[str, tuple[int, int]]
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    site_bytes: int = 0
    projector_link: str | None = None
    tensorboard_logdir: str | None = None
    # Issue 6: one line per embedder beside Word2Vec (figures, build time, cache).
    models: tuple[str, ...] = ()
    # What the projector files hold, by tensor name, where support or --max-points cut them.
    projector_points: dict[str, str] = field(default_factory=dict)
    # The support rule and what the default map keeps (embedder.maps.summary_lines).
    map_lines: tuple[str, ...] = ()
    # Whether each user's ratings have an order (embedder.order.LogOrder.describe).
    order: str = ""

    def summary(self) -> str:
        """A few lines for the terminal: counts, timings, where the site is and how to open it."""
        total = sum(self.timings.values())
        lines = [
            f"reelspace: built {self.dataset} into {self.out_dir}/ in {total:.1f} s ({human_size(self.site_bytes)})",
            f"  {self.ratings:,} ratings, {self.users:,} users, {self.movies:,} movies",
        ]
        if self.order:
            lines.append(f"  the log is {self.order}")
        lines += [f"  {name}: {n:,} x {d}" + (f" (projector: {self.projector_points[name]})"
                                             if name in self.projector_points else "")
                  for name, (n, d) in self.shapes.items()]
        lines += [f"  {line}" for line in self.map_lines]
        lines += [f"  {line}" for line in self.models]
        lines.append("  " + " · ".join(f"{stage} {seconds:.1f}s" for stage, seconds in self.timings.items()))
        lines.append(f"  open it:  python -m http.server -d {self.out_dir}   then http://localhost:8000/")
        lines.append(f"  explore:  http://localhost:8000/explorer.html  (or open {self.out_dir}/explorer.html from disk)")
        if self.projector_link:
            lines.append(f"  share it: publish {self.out_dir}/ at the --base-url, then {self.projector_link}")
        else:
            lines.append("  share it: rebuild with --base-url https://USER.github.io/REPO/ for an Embedding Projector link")
        lines.append(f"  publish:  python build.py publish gh-pages --site {self.out_dir}   (or: publish gist)")
        if self.tensorboard_logdir:
            lines.append(f"  tensorboard: tensorboard --logdir {self.tensorboard_logdir}")
        return "\n".join(lines)


class _Stages:
    """Times each stage and shows one overall progress bar."""

    def __init__(self, progress: bool, extra: int = 0):
        self.timings: dict[str, float] = {}
        self._bar = None
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(total=len(STAGES) + extra, desc="build", unit="stage", leave=False, file=sys.stderr)

    @contextmanager
    def stage(self, name: str):
        if self._bar is not None:
            self._bar.set_postfix_str(name)
        start = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
        if self._bar is not None:
            self._bar.update(1)

    def close(self):
        if self._bar is not None:
            self._bar.close()


def build(
    config: BuildConfig,
    *,
    dataset: Dataset | None = None,
    words: WordVectors | None = None,
    sentences: SentenceVectors | None = None,
    warn=None,
) -> BuildReport:
    """Run the whole pipeline and swap the new site into ``config.site.out_dir``."""
    warn = warn or (lambda message: print(message, file=sys.stderr))
    prepare_targets(output_targets(config.site))  # the site and an external TensorBoard logdir: fail before training
    stages = _Stages(config.progress, extra=1 if len(config.models.embedders) > 1 else 0)  # + "models" (issue 6)
    try:
        engine = None
        if config.engine == "spark" and dataset is None and words is None and sentences is None:
            from embedder.spark import run_spark  # --engine spark: the next four stages on Apache Spark, timed there

            engine = run_spark(config, progress=config.progress, warn=warn)
            dataset, words, sentences = engine.dataset, engine.words, engine.sentences
            stages.timings.update(engine.timings)
        with stages.stage("read"):
            if dataset is None:
                from embedder.ratings.sources import load_dataset

                dataset = load_dataset(config.data, progress=config.progress, warn=warn)
            for note in dataset.notes:
                warn(f"note: {note}")
            # Whether each user's rows have an order (time, the file's, none): sentences, recency and evaluation follow it.
            dataset = ordered_dataset(dataset, config.log_order, seed=config.word2vec.seed)
            config = for_log(config, dataset.order)
        with stages.stage("sentences"):
            sequences, seq_report = _sentences(dataset, config, engine)
        with stages.stage("word2vec"):
            if words is None:
                from embedder.model.word2vec import train_word_vectors

                words = train_word_vectors(sequences, config.word2vec, progress=config.progress)
        with stages.stage("user vectors"):
            if sentences is None:
                sentences = sentence_vectors(sequences, words, config.sentence_method, alpha=config.sif_alpha)
        movies_side, users_side = _sides(config, words, sentences)
        # Embedders beside Word2Vec (issue 6, --embedders): TensorFlow models on the same rows, or the model cache.
        extras = _extra_embeddings(config, dataset, movies_side, users_side, stages, warn)
        with stages.stage("neighbours"):
            # Support: only points rated often enough are listed as neighbours, fitted and put in the projector.
            trusted = support(sequences, movies_side.ids, users_side.ids, orientation=config.sequences.orientation,
                              min_ratings=config.site.min_support)
            search = {"method": config.site.neighbour_search, "threads": config.word2vec.workers, "seed": config.word2vec.seed}
            neighbours = nearest(movies_side.vectors, config.site.neighbours, candidates=trusted.movies, **search)
            user_neighbours = nearest(users_side.vectors, config.site.neighbours, candidates=trusted.users, **search)
        with stages.stage("map"):
            # The maps: layouts of both sides, the default map's named regions, its quality figures and picture.
            catalogue, rated, by_user = map_inputs(dataset, movies_side.ids, users_side.ids)
            maps = make_maps(movies_side.vectors, users_side.vectors, trusted, catalogue, by_user,
                             names=config.site.layouts, seed=config.word2vec.seed, threads=config.word2vec.workers,
                             progress=config.progress, title=f"{dataset.name} as embeddings",
                             neighbours={"movies": neighbours, "users": user_neighbours})
            if config.deterministic:  # byte-identical rebuilds: no wall-clock time on the pages
                maps = replace(maps, quality={side: replace(q, seconds=None) for side, q in maps.quality.items()})
            map_layouts = maps.layouts
            if extras:  # each embedder's layouts become choices of the explorer's Layout menu
                from embedder.tf_models.embedders import explorer_layouts

                map_layouts = explorer_layouts(maps.layouts, extras, dataset, movies_side.ids, users_side.ids,
                                               seed=config.word2vec.seed, support=trusted, threads=config.word2vec.workers)
        files = SiteFiles()
        # The projector bundle holds the supported rows (and with --max-points the most-rated of them); the explorer keeps all.
        keep = projector_rows(config.site.max_points, dataset, movies_side, users_side, trusted)
        shown = keep.layouts(maps.layouts)
        projector = _projector_files(config, dataset, movies_side, users_side, stages, warn,
                                     bookmarks=bookmarks(shown, keep.shape("movies", movies_side.vectors.shape),
                                                         keep.shape("users", users_side.vectors.shape),
                                                         subset=config.site.max_points is not None, support=trusted),
                                     extras=extras, keep=keep, maps=maps)
        files.update(projector)
        if maps.picture is not None:
            files.add(PICTURE_FILE, maps.picture)
        with stages.stage("explorer"):
            from embedder.site.explorer import site_explorer

            recommender = _recommender(config, sequences, words, trusted)
            files.update(site_explorer(config, dataset, movies_side, users_side, neighbours, map_layouts,
                                       user_neighbours=user_neighbours, support=trusted, maps=maps, rated=rated,
                                       **({} if recommender is None else {
                                           "recommend": recommender.lists,
                                           "scoring": recommender.describe + "; movies they rated are left out"})))
        # Sharing (issue 4): TensorBoard logdir, self-hosted projector page and build.json for `publish`.
        sharing = sharing_files(config, dataset.name, projector, PROJECTOR_FOLDER)
        files.update(sharing.site)
        evaluation = _evaluation(config, dataset, stages)  # issue 5: held-out figures for the model card (--evaluate)
        if evaluation is not None and extras:  # issue 6: the TensorFlow embedders as rows of the same model card
            with stages.stage("evaluate"):
                from embedder.tf_models.embedders import evaluation_rows

                evaluation.rows.extend(evaluation_rows(
                    dataset, config.models.embedders, seed=config.word2vec.seed,
                    cache_dir=config.data.cache_dir / "models" if config.models.cache else None,
                    max_epochs=config.models.max_epochs, retrain=config.models.retrain, progress=config.progress))
        with stages.stage("site"):
            files.add(NEIGHBOURS_FILE, _neighbours_json(dataset, movies_side, neighbours, trusted))
            files.add(MODEL_CARD_FILE, card_json(config, dataset, evaluation, map_card=card_fields(maps, trusted),
                                                 recommender=recommender))
            map_figures = index_fields(maps, trusted, picture=PICTURE_FILE if maps.picture else None,
                                       base_url=config.site.base_url)
            context = _index_context(config, dataset, sequences, seq_report, movies_side, users_side, neighbours, files, keep)
            context = replace(context, map=map_figures)
            if extras:  # issue 6: a card per extra tensor, and the embedders side by side
                context = replace(context, **_extra_index_fields(context, dataset, movies_side, extras, files, stages.timings,
                                                                 config.deterministic, keep))
            context = replace(context, **sharing.index_fields())
            context = replace(context, model_card=card_context(config, dataset, evaluation, map_figures=map_figures,
                                                               recommender=recommender))
            files.update(render_site(context, config.site.template_dir))
        with stages.stage("write"):
            from embedder.site.validate import validate_projector

            write_site(files, config.site.out_dir, validate=lambda root: validate_projector(root, PROJECTOR_FOLDER) + sharing.check(root))
            if sharing.logdir is not None:
                write_site(sharing.logdir, sharing.logdir_path, validate=validate_logdir)
    finally:
        stages.close()
    return BuildReport(
        dataset=dataset.name,
        out_dir=str(config.site.out_dir),
        ratings=len(dataset.interactions),
        users=len(dataset.interactions.user_ids),
        movies=len(dataset.movies),
        shapes={movies_side.name: movies_side.vectors.shape, users_side.name: users_side.vectors.shape,
                **{side.name: side.vectors.shape for side in _extra_sides(extras)}},
        timings=stages.timings,
        notes=dataset.notes,
        site_bytes=files.total_bytes(),
        projector_link=context.projector_link,
        tensorboard_logdir=(
            f"{config.site.out_dir}/{sharing.tensorboard_folder}" if sharing.tensorboard_folder else
            (str(sharing.logdir_path) if sharing.logdir_path else None)
        ),
        models=tuple(_model_line(model) for model in extras),
        map_lines=tuple(summary_lines(maps, trusted)),
        order=dataset.order.describe() if dataset.order is not None else "",
        projector_points={side.name: keep.note(side.slug)
                          for side in [movies_side, users_side, *_extra_sides(extras)]
                          if keep.note(side.slug) is not None},
    )


def _sentences(dataset: Dataset, config: BuildConfig, engine=None) -> tuple[Sequences, SequenceReport]:
    """The sentences (made here, or by the Spark engine), refusing fewer than two sentences or words.

    A problem is located in the ratings file it comes from.
    """
    from pathlib import Path

    params = config.sequences
    try:
        sequences, report = (engine.sequences, engine.report) if engine else make_sequences(dataset.interactions, params)
        if min(len(sequences), len(sequences.token_ids)) < 2:
            sentences, words = ("users", "movies") if params.orientation == "users" else ("movies", "users")
            n, m = len(sequences), len(sequences.token_ids)
            raise DataError(
                f"only {n} {sentences[:-1] if n == 1 else sentences} and {m} {words[:-1] if m == 1 else words} left "
                f"after filtering: the neighbour lists, the map and the projector need at least two of each",
                fix=f"add ratings, or lower --min-count ({params.min_count}), --min-length ({params.min_length}) "
                    f"or --min-rating")
        return sequences, report
    except DataError as error:
        if error.path is None and Path(dataset.source).exists():
            raise DataError(error.problem, path=dataset.source, fix=error.fix) from None
        raise


def _sides(config: BuildConfig, words: WordVectors, sentences: SentenceVectors) -> tuple[Side, Side]:
    """Which vectors are the movies and which the users, by orientation."""
    method = {"sif": "SIF", "usif": "uSIF", "mean": "mean"}[sentences.method]
    if config.sequences.orientation == "users":
        movies = Side("movies", "movies · word2vec", "Word2Vec (skip-gram) over users' time-ordered ratings", words.ids, words.vectors)
        users = Side("users", f"users · {method}", f"{method} over each user's rated movies", sentences.ids, sentences.vectors)
    else:
        movies = Side("movies", f"movies · {method}", f"{method} over each movie's audience", sentences.ids, sentences.vectors)
        users = Side("users", "users · word2vec", "Word2Vec (skip-gram) over each movie's audience", words.ids, words.vectors)
    return movies, users


@dataclass(frozen=True)
class ProjectorRows:
    """Which rows of each side the projector bundle holds (``--max-points``); None keeps them all."""

    movies: np.ndarray | None = None
    users: np.ndarray | None = None
    #: Why each side's rows were cut, by side: "the 3,650 rated at least 5 times", "the 50 most-rated (--max-points)".
    why: dict = field(default_factory=dict)

    @staticmethod
    def side_of(slug: str) -> str:
        """The side of the tensor ``slug`` (``movies``, ``users_softmax`` ...): its prefix says which."""
        return "movies" if slug.split("_")[0] == "movies" else "users"

    def note(self, slug: str) -> str | None:
        """What the projector files of the tensor ``slug`` hold, when they hold fewer rows than the embedding."""
        return self.why.get(self.side_of(slug))

    def rows(self, slug: str) -> np.ndarray | None:
        """The kept rows of the tensor ``slug``."""
        return self.movies if self.side_of(slug) == "movies" else self.users

    def side(self, side: Side) -> Side:
        rows = self.rows(side.slug)
        if rows is None:
            return side
        return replace(side, ids=None if side.ids is None else np.asarray(side.ids)[rows], vectors=side.vectors[rows])

    def shape(self, slug: str, shape: tuple[int, int]) -> tuple[int, int]:
        rows = self.rows(slug)
        return tuple(shape) if rows is None else (len(rows), shape[1])

    def layouts(self, layouts):
        """The layouts restricted to the kept rows (for the projector's bookmarks)."""
        from embedder.maps.layouts import Layouts

        def cut(by_name, rows):
            return by_name if rows is None else {k: replace(v, coords=v.coords[rows], fitted=None if v.fitted is None else v.fitted[rows])
                                                         for k, v in by_name.items()}

        return Layouts(layouts.names, cut(layouts.movies, self.movies), cut(layouts.users, self.users), layouts.seconds)


def projector_rows(max_points: int | None, dataset: Dataset, movies: Side, users: Side,
                   trusted: Support | None = None) -> ProjectorRows:
    """The supported movies and users, at most the ``max_points`` most-rated of them (ties: the earlier row), in order.

    Barely-rated points stay out of the projector: it computes its own
    neighbourhoods from the tensor, and their noisy vectors would land in them.
    """
    movie_counts, _ = movie_stats(dataset)
    user_counts = np.bincount(dataset.interactions.user, minlength=len(dataset.interactions.user_ids))
    log_rows = user_rows(dataset, users.ids)
    picked, why = [], {}
    for side, counts in (("movies", movie_counts[catalogue_rows(dataset, movies.ids)]),
                         ("users", np.where(log_rows >= 0, user_counts[log_rows], 0))):
        allowed = np.ones(len(counts), dtype=bool) if trusted is None else trusted.mask(side)
        rule = "" if allowed.all() else f" rated at least {trusted.min_ratings} times"
        if max_points is None or allowed.sum() <= max_points:
            picked.append(None if allowed.all() else np.flatnonzero(allowed))
            if rule:
                why[side] = f"the {int(allowed.sum()):,}{rule}"
        else:
            best = np.lexsort((np.arange(len(counts)), -counts, ~allowed))[:max_points]
            picked.append(np.sort(best))
            why[side] = f"the {max_points:,} most-rated (--max-points)" + (f" of those{rule}" if rule else "")
    return ProjectorRows(*picked, why=why)


def _user_stats(dataset: Dataset, rows: np.ndarray, primary: np.ndarray):
    """Rating count, mean rating and most-rated primary genre of the given users.

    ``primary`` is each catalogue movie's primary genre (the projector's
    <= 10-category ``genre`` column), so users are coloured the same way.
    """
    inter = dataset.interactions
    n_users = len(inter.user_ids)
    counts = np.bincount(inter.user, minlength=n_users)
    mean = None
    if inter.rating is not None:
        mean = (np.bincount(inter.user, weights=inter.rating, minlength=n_users) / np.maximum(counts, 1))[rows]
    names, genre_of_movie = np.unique(primary.astype(str), return_inverse=True)
    pair = inter.user.astype(np.int64) * len(names) + genre_of_movie[inter.item]
    table = np.bincount(pair, minlength=n_users * len(names)).reshape(n_users, len(names))
    top = names[table.argmax(axis=1)][rows]
    return counts[rows], mean, top


def _projector_files(config: BuildConfig, dataset: Dataset, movies: Side, users: Side, stages: _Stages, warn, bookmarks=None,
                     extras=(), keep: ProjectorRows | None = None, maps: Maps | None = None) -> dict[str, bytes]:
    from embedder.site.projector import Embedding, movie_metadata, primary_genres, projector_files, user_metadata
    from embedder.site.sprite import find_posters, make_sprite, tile_size

    keep = keep or ProjectorRows()
    regions = {side: _kept(maps.regions(side).names(), keep.rows(side)) if maps and maps.regions(side) else None
               for side in ("movies", "users")}
    movies, users = keep.side(movies), keep.side(users)
    rows = catalogue_rows(dataset, movies.ids)
    counts, mean = movie_stats(dataset)
    with stages.stage("sprite"):
        posters = None
        if config.site.posters is not None:
            posters = find_posters(config.site.posters, dataset.movies.ids[rows], {k: v[rows] for k, v in dataset.movies.links.items()})
        primary = primary_genres(dataset.movies)
        tile = tile_size(len(rows), config.site.sprite_tile)
        sprite = make_sprite(dataset.movies.titles[rows], primary[rows], tile=tile, posters=posters)
        if sprite.poster_failures:
            warn(f"warning: {sprite.poster_failures} poster images could not be read; generated thumbnails used instead")
    with stages.stage("projector files"):
        movie_embedding = Embedding(
            name=movies.name,
            slug=movies.slug,
            vectors=movies.vectors,
            metadata=movie_metadata(dataset.movies, rows, counts[rows], None if mean is None else mean[rows],
                                    region=regions["movies"]),
            sprite=sprite.png,
            sprite_tile=sprite.tile,
        )
        n, user_mean, top = _user_stats(dataset, user_rows(dataset, users.ids), primary)
        user_embedding = Embedding(
            name=users.name,
            slug=users.slug,
            vectors=users.vectors,
            metadata=user_metadata(users.ids, n, user_mean, top, dataset.users, region=regions["users"]),
        )
        # Issue 6: every extra embedder's tensors, with the same metadata (and the same sprite bytes) as Word2Vec's.
        embeddings = [movie_embedding, user_embedding] + [
            replace(movie_embedding if side.slug.startswith("movies") else user_embedding,
                    name=side.name, slug=side.slug, vectors=keep.side(side).vectors)
            for side in _extra_sides(extras)
        ]
        return projector_files(embeddings, folder=PROJECTOR_FOLDER, base_url=config.site.base_url,
                               bookmarks=bookmarks)


def _kept(values: list, rows: np.ndarray | None) -> list:
    return values if rows is None else [values[i] for i in rows]


def _recommender(config: BuildConfig, sequences: Sequences, words: WordVectors, trusted: Support):
    """The explorer's recommender: the scorer the log's order calls for (``embedder.model.recommender``).

    It needs the users orientation (sentences are users, words are movies);
    with ``--orientation movies`` (None) the explorer keeps cosine of the vectors.
    """
    if config.sequences.orientation != "users":
        return None
    if config.scoring.method != "ease" and words.output_vectors is None:
        return None
    from embedder.model.recommender import site_recommender

    return site_recommender(config.scoring, sequences, words, trusted.movies, seed=config.word2vec.seed)


def _neighbours_json(dataset: Dataset, movies: Side, neighbours: Neighbours, trusted: Support | None = None) -> bytes:
    """Every movie's top-k list, compact: indices into ``ids``, scores to 3 decimals.

    ``supported`` says which movies were rated often enough to be listed:
    only they appear in the lists; the others' own lists hold their nearest
    supported movies.
    """
    rows = catalogue_rows(dataset, movies.ids)
    valid = neighbours.indices >= 0
    doc = {
        "k": int(neighbours.indices.shape[1]),
        "ids": movies.ids.tolist(),
        "titles": dataset.movies.titles[rows].tolist(),
        "neighbours": [row[ok].tolist() for row, ok in zip(neighbours.indices, valid)],
        "scores": [np.round(row[ok].astype(np.float64), 3).tolist() for row, ok in zip(neighbours.scores, valid)],
        "min_support": 1 if trusted is None else trusted.min_ratings,
        "supported": None if trusted is None else trusted.movies.astype(int).tolist(),
    }
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _examples(dataset: Dataset, movies: Side, neighbours: Neighbours, n: int = 6) -> list[dict]:
    """The neighbour lists of the ``n`` most-rated movies."""
    rows = catalogue_rows(dataset, movies.ids)
    counts, _ = movie_stats(dataset)
    best = np.lexsort((np.arange(len(rows)), -counts[rows]))[:n]
    titles, genres = dataset.movies.titles, dataset.movies.genres
    examples = []
    for i in best.tolist():
        examples.append({
            "title": str(titles[rows[i]]),
            "genres": " · ".join(genres[rows[i]]) or "no genres listed",
            "neighbours": [
                {"title": str(titles[rows[j]]), "score": float(s)}
                for j, s in zip(neighbours.indices[i].tolist(), neighbours.scores[i].tolist())
            ],
        })
    return examples


def _period(dataset: Dataset) -> str | None:
    ts = dataset.interactions.timestamp
    if ts is None or len(ts) == 0:
        return None
    first, last = (time.strftime("%Y-%m-%d", time.gmtime(int(t))) for t in (ts.min(), ts.max()))
    return f"{first} to {last}"


def _embedding_card(side: Side, files: SiteFiles, keep: ProjectorRows | None = None) -> EmbeddingCard:
    """One row of the index page's embeddings table, linking the side's projector files."""
    stem = f"{PROJECTOR_FOLDER}/{side.slug}"
    shape = tuple(side.vectors.shape)
    shown = (keep or ProjectorRows()).shape(side.slug, shape)
    return EmbeddingCard(
        name=side.name,
        shape=shape,
        projector_points=shown[0] if shown[0] < shape[0] else None,
        projector_note=(keep or ProjectorRows()).note(side.slug) if shown[0] < shape[0] else None,
        how=side.how,
        bytes=f"{stem}.bytes",
        tsv=f"{stem}.tsv",
        metadata=f"{stem}_metadata.tsv",
        sprite=f"{stem}_sprite.png" if f"{stem}_sprite.png" in files else None,
    )


def _index_context(config, dataset, sequences: Sequences, seq_report: SequenceReport, movies: Side, users: Side, neighbours,
                   files: SiteFiles, keep: ProjectorRows | None = None) -> IndexContext:
    from embedder.site.projector import hosted_config_url, projector_link

    folder = PROJECTOR_FOLDER
    cards = [_embedding_card(side, files, keep) for side in (movies, users)]
    by_users = config.sequences.orientation == "users"
    method = {"sif": "SIF", "usif": "uSIF", "mean": "the plain mean"}[config.sentence_method]
    log_order = {"time": "time", "file": "the file's rows"}.get(getattr(dataset.order, "kind", "time"), "one random order")
    settings = [("orientation", config.sequences.orientation),
                ("word order", "shuffled every epoch" if config.word2vec.shuffle else log_order)]
    settings += [(key, str(value)) for key, value in config.word2vec_settings().items() if key not in ("workers", "shuffle")]
    settings += [
        ("min rating", "keep all" if config.sequences.min_rating is None else str(config.sequences.min_rating)),
        ("min count", str(config.sequences.min_count)),
        ("min sentence length", str(config.sequences.min_length)),
        ("sentence vectors", config.sentence_method + (f" (a={config.sif_alpha:g})" if config.sentence_method == "sif" else "")),
        ("sentences", f"{len(sequences):,} ({seq_report.dropped_short_sentences:,} too short dropped)"),
    ]
    downloads = [
        {"path": path, "what": _describe(path), "size": human_size(len(files[path]))}
        for path, _ in files.items()
        if path.startswith(folder + "/") or path.startswith("data/")
    ]
    return IndexContext(
        page_title=f"{dataset.name} · reelspace",
        dataset={
            "name": dataset.name,
            "ratings": len(dataset.interactions),
            "users": len(dataset.interactions.user_ids),
            "movies": len(dataset.movies),
            "period": _period(dataset),
            "order": dataset.order.describe() if dataset.order is not None else None,
            "notes": list(dataset.notes),
            "citation": "MovieLens data: F. Maxwell Harper and Joseph A. Konstan, 2015, ACM TiiS." if dataset.name.startswith("ml-") else "",
        },
        orientation={
            "word": "movie" if by_users else "user",
            "sentence": "user" if by_users else "movie",
            "sentence_method": method,
        },
        embeddings=cards,
        examples=_examples(dataset, movies, neighbours),
        settings=settings,
        downloads=downloads,
        neighbours_file=NEIGHBOURS_FILE,
        projector_folder=folder,
        projector_link=projector_link(config.site.base_url, folder) if config.site.base_url else None,
        hosted_config=hosted_config_url(config.site.base_url, folder) if config.site.base_url else None,
        build={"version": __version__},
    )


def _describe(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".bytes"):
        return "vectors, little-endian float32, row-major"
    if name.endswith("_metadata.tsv"):
        return "metadata, one row per vector, with a header"
    if name.endswith(".tsv"):
        return "vectors as tab-separated text"
    if name.endswith(".png"):
        return "sprite: one thumbnail per movie"
    if name == "projector_config.json":
        return "projector config, relative paths (self-hosted projector)"
    if name == "projector_config.hosted.json":
        return "projector config, absolute URLs (projector.tensorflow.org)"
    if name.endswith("_bookmarks.json"):
        return "projector bookmarks"
    if name == "neighbours.json":
        return "top-k cosine neighbours of every movie"
    if name == "model_card.json":
        return "model card: training settings and, with --evaluate, held-out figures"
    if name == "index.html":
        return "the standalone Embedding Projector, self-hosted with the data"
    if name == "oss_demo_projector_config.json":
        return "projector config the self-hosted page opens by default"
    if name == "favicon.png":
        return "the self-hosted projector's icon"
    return ""


# --- issue 6: the embedders beside Word2Vec (--embedders) ---------------------------------------


def _extra_embeddings(config: BuildConfig, dataset: Dataset, movies: Side, users: Side, stages: _Stages, warn) -> list:
    """Train (or take from the model cache) every ``--embedders`` model but w2v, on the w2v rows."""
    if len(config.models.embedders) < 2:
        return []
    from embedder.tf_models.embedders import EmbedderInput, build_embeddings

    with stages.stage("models"):
        return build_embeddings(
            config.models.embedders, EmbedderInput(dataset, movies.ids, users.ids), seed=config.word2vec.seed,
            cache_dir=config.data.cache_dir / "models" if config.models.cache else None,
            max_epochs=config.models.max_epochs, retrain=config.models.retrain, progress=config.progress)


def _extra_sides(extras) -> list[Side]:
    """The projector tensors of the extra embedders: movies, and users where the model has them."""
    sides = []
    for model in extras:
        sides.append(Side(f"movies_{model.name}", f"movies · {model.name}", model.how, None, model.movie_vectors))
        if model.user_vectors is not None:
            sides.append(Side(f"users_{model.name}", f"users · {model.name}", f"user vectors of the {model.title}", None,
                              model.user_vectors))
    return sides


def _model_line(model) -> str:
    """One summary line: figures, build time, cache."""
    from embedder.tf_models.embedders import format_figure

    figures = ", ".join(format_figure(k, v) for k, v in model.figures.items())
    where = f"from the model cache (trained in {model.seconds:.1f} s)" if model.cached else f"trained in {model.seconds:.1f} s"
    return f"{model.name}: {figures}; {where}"


def _extra_index_fields(context: IndexContext, dataset: Dataset, movies: Side, extras, files: SiteFiles, timings: dict,
                        deterministic: bool = False, keep: ProjectorRows | None = None) -> dict:
    """A card per extra tensor in the embeddings table, and the side-by-side rows of the model card."""
    from embedder.tf_models.embedders import side_by_side

    cards = [_embedding_card(side, files, keep) for side in _extra_sides(extras)]
    # --deterministic promises byte-identical rebuilds: no wall-clock time on the page then.
    w2v_seconds = None if deterministic else timings.get("word2vec", 0.0) + timings.get("user vectors", 0.0)
    return {"embeddings": list(context.embeddings) + cards,
            "models": side_by_side(dataset, movies.ids, movies.vectors, w2v_seconds, extras, f"the core: {movies.name}")}


# --- issue 5: the held-out evaluation behind the model card (--evaluate) -------------------------


def _evaluation(config: BuildConfig, dataset: Dataset, stages: _Stages):
    """``build.py evaluate``'s report (test split, one seed) when ``--evaluate`` is given, else None."""
    if not config.evaluate:
        return None
    from embedder.quality.evaluate import EvalOptions, run

    with stages.stage("evaluate"):
        return run(dataset, config, config.scoring, EvalOptions())
