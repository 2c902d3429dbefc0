"""The projector bundle's rows and files: which points it holds, their metadata, and the neighbour lists' JSON.

``projector_rows`` decides which movies and users the Embedding Projector
files hold (the supported ones, at most ``--max-points`` of the most-rated);
``projector_bundle`` writes those rows' sprite, tensors, metadata and
config; ``neighbours_json`` is every movie's neighbour list for the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import numpy as np

from embedder.model.support import Support
from embedder.ratings.catalogue import (catalogue_rows, log_user_stats, movie_stats, rating_counts_of, user_genre_table,
                                        user_rows)
from embedder.values import Dataset, Neighbours, Side

#: The folder of the site that holds the Embedding Projector bundle.
PROJECTOR_FOLDER = "projector"


@dataclass(frozen=True)
class ProjectorRows:
    """Which rows of each side the projector bundle holds (``--max-points``); None keeps them all."""

    movies: np.ndarray | None = None
    users: np.ndarray | None = None
    #: Why each side's rows were cut, by side: "the 3,650 rated at least 5 times", "the 50 most-rated (--max-points)".
    why: dict = field(default_factory=dict)

    def note(self, side: str) -> str | None:
        """What the projector files of ``side`` (movies or users) hold, when they hold fewer rows than the embedding."""
        return self.why.get(side)

    def rows(self, side: str) -> np.ndarray | None:
        """The kept rows of ``side`` (None: all)."""
        return self.movies if side == "movies" else self.users

    def cut(self, side: Side) -> Side:
        """The embedding with only its kept rows."""
        rows = self.rows(side.side)
        if rows is None:
            return side
        return replace(side, ids=None if side.ids is None else np.asarray(side.ids)[rows], vectors=side.vectors[rows])

    def shape(self, side: str, shape: tuple[int, int]) -> tuple[int, int]:
        """The shape of ``side``'s tensor in the projector files."""
        rows = self.rows(side)
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
    picked, why = [], {}
    for side, counts in (("movies", movie_counts[catalogue_rows(dataset, movies.ids)]),
                         ("users", rating_counts_of(dataset, users.ids))):
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


def user_stats(dataset: Dataset, rows: np.ndarray, primary: np.ndarray):
    """Rating count, mean rating and most-rated primary genre of the given users.

    ``primary`` is each catalogue movie's primary genre (the projector's
    <= 10-category ``genre`` column), so users are coloured the same way.
    """
    counts, mean = log_user_stats(dataset)
    names, table = user_genre_table(dataset, primary)
    top = names[table.argmax(axis=1)][rows]
    return counts[rows], None if mean is None else mean[rows], top


def projector_bundle(site, dataset: Dataset, movies: Side, users: Side, stages, warn, *, bookmarks=None,
                     extras: list[Side] = (), keep: ProjectorRows | None = None, maps=None) -> dict[str, bytes]:
    """The Embedding Projector files of the kept rows: sprite, tensors, metadata (with regions), config."""
    from embedder.site.projector import Embedding, movie_metadata, primary_genres, projector_files, user_metadata
    from embedder.site.sprite import find_posters, make_sprite, tile_size

    keep = keep or ProjectorRows()
    regions = {side: _kept(maps.regions(side).names(), keep.rows(side)) if maps and maps.regions(side) else None
               for side in ("movies", "users")}
    movies, users = keep.cut(movies), keep.cut(users)
    rows = catalogue_rows(dataset, movies.ids)
    counts, mean = movie_stats(dataset)
    with stages.stage("sprite"):
        posters = None
        if site.posters is not None:
            posters = find_posters(site.posters, dataset.movies.ids[rows], {k: v[rows] for k, v in dataset.movies.links.items()})
        primary = primary_genres(dataset.movies)
        tile = tile_size(len(rows), site.sprite_tile)
        sprite = make_sprite(dataset.movies.titles[rows], primary[rows], tile=tile, posters=posters)
        if sprite.poster_failures:
            warn(f"warning: {sprite.poster_failures} poster images could not be read; generated thumbnails used instead")
    with stages.stage("projector files"):
        movie_embedding = Embedding(
            name=movies.name, slug=movies.slug, vectors=movies.vectors,
            metadata=movie_metadata(dataset.movies, rows, counts[rows], None if mean is None else mean[rows],
                                    region=regions["movies"]),
            sprite=sprite.png, sprite_tile=sprite.tile,
        )
        n, user_mean, top = user_stats(dataset, user_rows(dataset, users.ids), primary)
        user_embedding = Embedding(
            name=users.name, slug=users.slug, vectors=users.vectors,
            metadata=user_metadata(users.ids, n, user_mean, top, dataset.users, region=regions["users"]),
        )
        # Every extra embedder's tensors, with the same metadata (and the same sprite bytes) as Word2Vec's.
        base = {"movies": movie_embedding, "users": user_embedding}
        embeddings = [movie_embedding, user_embedding] + [
            replace(base[side.side], name=side.name, slug=side.slug, vectors=keep.cut(side).vectors) for side in extras]
        return projector_files(embeddings, folder=PROJECTOR_FOLDER, base_url=site.base_url, bookmarks=bookmarks)


def _kept(values: list, rows: np.ndarray | None) -> list:
    return values if rows is None else [values[i] for i in rows]



def neighbours_json(dataset: Dataset, movies: Side, neighbours: Neighbours, trusted: Support | None = None) -> bytes:
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



def extra_sides(extras) -> list[Side]:
    """The projector tensors of the extra embedders: movies, and users where the model has them."""
    sides = []
    for model in extras:
        sides.append(Side("movies", f"movies_{model.name}", f"movies · {model.name}", model.how, None, model.movie_vectors))
        if model.user_vectors is not None:
            sides.append(Side("users", f"users_{model.name}", f"users · {model.name}", f"user vectors of the {model.title}",
                              None, model.user_vectors))
    return sides
