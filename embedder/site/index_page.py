"""The index page's context: the data, the embeddings and their files, examples, settings, downloads.

``index_context`` gathers what ``site.pages.render_site`` renders into
``index.html``; the map's figures, the sharing links and the model card are
added by their own stages (``embedder.maps.stage.index_fields``,
``embedder.site.sharing``, ``embedder.quality.model_card``).
"""

from __future__ import annotations

import time

import numpy as np

from embedder import __version__
from embedder.model.sequences import SequenceReport
from embedder.output import SiteFiles
from embedder.ratings.catalogue import catalogue_rows, movie_stats, rating_count, time_range
from embedder.site.bundle import PROJECTOR_FOLDER, ProjectorRows, extra_sides
from embedder.site.pages import EmbeddingCard, IndexContext, human_size
from embedder.values import CorpusCounts, Dataset, Neighbours, Sequences, Side

#: Every movie's neighbour list, for scripts (``bundle.neighbours_json``).
NEIGHBOURS_FILE = "data/neighbours.json"


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
    span = time_range(dataset)
    if span is None:
        return None
    first, last = (time.strftime("%Y-%m-%d", time.gmtime(t)) for t in span)
    return f"{first} to {last}"


def embedding_card(side: Side, files: SiteFiles, keep: ProjectorRows | None = None) -> EmbeddingCard:
    """One row of the index page's embeddings table, linking the side's projector files."""
    stem = f"{PROJECTOR_FOLDER}/{side.slug}"
    shape = tuple(side.vectors.shape)
    shown = (keep or ProjectorRows()).shape(side.side, shape)
    return EmbeddingCard(
        name=side.name,
        shape=shape,
        projector_points=shown[0] if shown[0] < shape[0] else None,
        projector_note=(keep or ProjectorRows()).note(side.side) if shown[0] < shape[0] else None,
        how=side.how,
        bytes=f"{stem}.bytes",
        tsv=f"{stem}.tsv",
        metadata=f"{stem}_metadata.tsv",
        sprite=f"{stem}_sprite.png" if f"{stem}_sprite.png" in files else None,
    )


def settings_rows(training: dict, order_kind: str, sentences: Sequences | CorpusCounts, report: SequenceReport) -> list[tuple[str, str]]:
    """The index page's "Training settings" table, from ``config.training_settings`` (the one summary)."""
    seq, w2v, users = training["sequences"], training["word2vec"], training["user_vectors"]
    log_order = {"time": "time", "file": "the file's rows"}.get(order_kind, "one random order")
    rows = [("orientation", seq["orientation"]), ("word order", "shuffled every epoch" if w2v.get("shuffle") else log_order)]
    rows += [(key, str(value)) for key, value in w2v.items() if key not in ("workers", "shuffle")]
    rows += [
        ("min rating", "keep all" if seq["min_rating"] is None else str(seq["min_rating"])),
        ("min count", str(seq["min_count"])),
        ("min sentence length", str(seq["min_length"])),
        ("sentence vectors", users["method"] + (f" (a={users['sif_alpha']:g})" if users["method"] == "sif" else "")),
        ("sentences", f"{len(sentences):,} ({report.dropped_short_sentences:,} too short dropped)"),
    ]
    return rows


def index_context(dataset: Dataset, settings: list[tuple[str, str]], movies: Side, users: Side, neighbours: Neighbours,
                  files: SiteFiles, keep: ProjectorRows | None = None, *, base_url: str | None = None,
                  orientation: str = "users", sentence_method: str = "sif") -> IndexContext:
    """The index page's context: the data, the embeddings table, examples, settings, downloads, links."""
    from embedder.site.projector import hosted_config_url, projector_link

    folder = PROJECTOR_FOLDER
    cards = [embedding_card(side, files, keep) for side in (movies, users)]
    by_users = orientation == "users"
    method = {"sif": "SIF", "usif": "uSIF", "mean": "the plain mean"}[sentence_method]
    downloads = [
        {"path": path, "what": _describe(path), "size": human_size(len(files[path]))}
        for path, _ in files.items()
        if path.startswith(folder + "/") or path.startswith("data/")
    ]
    return IndexContext(
        page_title=f"{dataset.name} · reelspace",
        dataset={
            "name": dataset.name,
            "ratings": rating_count(dataset),
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
        projector_link=projector_link(base_url, folder) if base_url else None,
        hosted_config=hosted_config_url(base_url, folder) if base_url else None,
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



def extra_index_fields(context: IndexContext, dataset: Dataset, movies: Side, extras, files: SiteFiles, timings: dict,
                       deterministic: bool = False, keep: ProjectorRows | None = None) -> dict:
    """A card per extra tensor in the embeddings table, and the side-by-side rows of the model card."""
    from embedder.tf_models.comparison import side_by_side

    cards = [embedding_card(side, files, keep) for side in extra_sides(extras)]
    # --deterministic promises byte-identical rebuilds: no wall-clock time on the page then.
    w2v_seconds = None if deterministic else timings.get("word2vec", 0.0) + timings.get("user vectors", 0.0)
    return {"embeddings": list(context.embeddings) + cards,
            "models": side_by_side(dataset, movies.ids, movies.vectors, w2v_seconds, extras, f"the core: {movies.name}")}
