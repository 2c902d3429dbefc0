"""Vectors + support + catalogue -> the site's maps: layouts, named regions, quality figures and the picture.

The pipeline's map stage, after the neighbours.  Everything the explorer,
the projector's bookmarks, the index page and the model card show about the
map comes from the one ``Maps`` value made here:

1. the layouts of both sides (``embedder.maps.layouts``), fitted on the supported
   points, the rest placed beside them;
2. the default map's regions, named (``embedder.maps.regions``);
3. how much of the vectors' neighbourhoods the default map keeps
   (``embedder.maps.quality``);
4. a picture of the labelled movie map (``embedder.maps.picture``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from embedder.ratings.catalogue import catalogue_rows, movie_stats, rated_by, rated_matrix
from embedder.ratings.genres import GREY, OTHER, facet_colour, genre_facets, movie_colours
from embedder.maps.layouts import LABELS, Layouts, MapPoints, compute_layouts
from embedder.maps.quality import MapQuality, map_quality
from embedder.maps.regions import Catalogue, Regions, movie_regions, user_regions
from embedder.model.support import Support
from embedder.values import Dataset, Neighbours

#: The picture and the region names are made from the first of these layouts that was computed.
DEFAULT_ORDER = ("tsne", "umap", "pca")


@dataclass(frozen=True)
class Maps:
    """The maps of one build.

    ``default`` is the layout the explorer and the projector open on;
    the regions and the quality figures are those of that layout.
    """

    layouts: Layouts
    default: str
    movie_regions: Regions | None = None
    user_regions: Regions | None = None
    quality: dict[str, MapQuality] = field(default_factory=dict)
    picture: bytes | None = None

    def regions(self, side: str) -> Regions | None:
        return self.movie_regions if side == "movies" else self.user_regions


def make_maps(movie_vectors: np.ndarray, user_vectors: np.ndarray, support: Support, catalogue: Catalogue, rated, *,
              names: tuple[str, ...] | None = None, seed: int = 0, threads: int = 1, progress: bool = False,
              title: str = "", picture: bool = True, neighbours: dict[str, Neighbours] | None = None) -> Maps:
    """Lay out both sides, name the default map's regions, measure it and draw it.

    ``catalogue`` is aligned with the movie rows, ``rated`` is the (users x
    movies) sparse matrix of who rated what, aligned with both embeddings.
    ``neighbours`` (by side) are the build's neighbour lists among the
    supported points, which the quality figures then reuse.
    """
    neighbours = neighbours or {}
    layouts = compute_layouts(
        MapPoints(movie_vectors, support.movies, support.movie_counts),
        MapPoints(user_vectors, support.users, None),
        names, seed=seed, threads=threads, progress=progress)
    default = next(name for name in DEFAULT_ORDER if name in layouts.names)
    movie_map, user_map = layouts.movies[default], layouts.users[default]
    fitted_movies = _fitted(movie_map)
    fitted_users = _fitted(user_map)
    found_movies = movie_regions(movie_map.coords, fitted_movies, support.movies, catalogue, layout=default)
    found_users = user_regions(user_map.coords, fitted_users, support.users, rated, catalogue, layout=default)
    quality = {
        "movies": map_quality(movie_vectors, movie_map.coords, np.flatnonzero(support.movies), layout=default,
                              genres=catalogue.genres, counts=catalogue.counts, seed=seed, threads=threads,
                              seconds=layouts.seconds.get(f"{default} movies"), neighbours=neighbours.get("movies")),
        "users": map_quality(user_vectors, user_map.coords, np.flatnonzero(support.users), layout=default,
                             seed=seed, threads=threads, seconds=layouts.seconds.get(f"{default} users"),
                             neighbours=neighbours.get("users")),
    }
    image = None
    if picture:
        image = movie_picture(movie_map.coords, support.movies, catalogue, found_movies, title=title,
                              layout=LABELS.get(default, default))
    return Maps(layouts, default, found_movies, found_users, quality, image)


def map_inputs(dataset: Dataset, movie_ids: np.ndarray, user_ids: np.ndarray):
    """What ``make_maps`` needs besides the vectors: the catalogue facts aligned with the movie rows, and who rated what.

    Returns ``(catalogue, rated, by_user)``: ``rated`` is the (log users x
    movie rows) binary matrix, ``by_user`` its rows in the user embedding's
    order (a user missing from the log rated nothing).
    """
    rows = catalogue_rows(dataset, movie_ids)
    counts, _ = movie_stats(dataset)
    catalogue = Catalogue(genres=tuple(dataset.movies.genres[r] for r in rows), years=np.asarray(dataset.movies.years)[rows],
                          counts=counts[rows], titles=np.asarray(dataset.movies.titles)[rows])
    rated = rated_matrix(dataset.interactions, movie_ids)
    return catalogue, rated, rated_by(rated, dataset.interactions, user_ids)


def movie_picture(coords: np.ndarray, shown: np.ndarray, catalogue: Catalogue, regions: Regions, *, title: str,
                  layout: str) -> bytes:
    """The PNG of the labelled movie map: points by genre, sized and shaded by rating count, region names."""
    from embedder.maps.picture import Label, map_picture

    names, masks, _ = genre_facets(catalogue.genres)
    counts = np.asarray(catalogue.counts, dtype=np.float64)
    top = float(np.log1p(counts[shown].max())) if shown.any() else 1.0
    weight = np.log1p(counts) / (top or 1.0)
    labels = [Label(*centre(coords, regions.labels == r), region.name, float(region.size))
              for r, region in enumerate(regions.regions)]
    legend = [(name, facet_colour(f, names)) for f, name in enumerate(names) if name != OTHER]
    subtitle = (f"{int(shown.sum()):,} movies on a {layout} map of their vectors, coloured by genre; "
                "bigger, stronger dots are rated more often; each named region is tinted by its leading genre.")
    colours = movie_colours(masks, names)
    return map_picture(coords, colours, weight, labels, title=title, subtitle=subtitle, legend=legend, shown=shown,
                       regions=regions.labels, region_colours=region_colours(regions, colours, names))


def region_colours(regions: Regions, colours: np.ndarray, names: list[str]) -> list[tuple[int, int, int]]:
    """Each region's colour: that of the first genre in its name, else the most common among its members."""
    out = []
    for r, region in enumerate(regions.regions):
        named = next((g for g in region.genres if g in names), None)
        members = colours[regions.labels == r]
        if named is not None:
            out.append(facet_colour(names.index(named), names))
        elif len(members):
            values, counts = np.unique(members, axis=0, return_counts=True)
            out.append(tuple(int(c) for c in values[counts.argmax()]))
        else:
            out.append(GREY)
    return out


def centre(coords: np.ndarray, members: np.ndarray) -> tuple[float, float]:
    """Where a region's name goes: the median of its members' coordinates."""
    x, y = np.median(np.asarray(coords)[members], axis=0)
    return float(x), float(y)


def _fitted(layout) -> np.ndarray:
    return np.ones(len(layout.coords), dtype=bool) if layout.fitted is None else layout.fitted


# --- what the summary, the index page and the model card say about the map -----------------------


def summary_lines(maps: Maps, support: Support) -> list[str]:
    """Lines for the build summary: the support rule, and each side's map figures and regions."""
    lines = [f"support: {support.describe()}"]
    for side in ("movies", "users"):
        found = maps.regions(side)
        regions = f"; {len(found.regions)} named regions" if found is not None else ""
        lines.append(f"{side} map: {maps.quality[side].describe(side)}{regions}")
    return lines


def index_fields(maps: Maps, support: Support, *, picture: str | None, base_url: str | None, top: int = 12) -> dict:
    """The index page's ``map`` section: the picture, the rule, the figures and the biggest regions."""
    regions = []
    if maps.movie_regions is not None:
        for r, region in enumerate(maps.movie_regions.regions[:top]):
            regions.append({"name": region.name, "size": region.size, "titles": list(region.titles),
                            "href": f"explorer.html#region={r}"})
    return {
        "picture": picture,
        "image_url": (base_url + picture) if picture and base_url else picture,
        "support": support.describe(),
        "min_support": support.min_ratings,
        "layout": LABELS.get(maps.default, maps.default),
        "quality": {side: maps.quality[side].describe(side) for side in ("movies", "users")},
        "regions": regions,
        "more_regions": max(0, len(maps.movie_regions.regions) - top) if maps.movie_regions is not None else 0,
    }


def card_fields(maps: Maps, support: Support) -> dict:
    """``data/model_card.json``'s ``map``: the rule, the default layout and its figures, the region names."""
    def figures(side: str) -> dict:
        q = maps.quality[side]
        found = maps.regions(side)
        return {
            "points": q.points, "anchors": q.anchors, "preservation@10": _round(q.preservation),
            "genre_jaccard@10_map": _round(q.genre_map), "genre_jaccard@10_vectors": _round(q.genre_vectors),
            "genre_ratio": _round(q.genre_ratio), "layout_seconds": None if q.seconds is None else round(q.seconds, 2),
            "regions": [] if found is None else [r.name for r in found.regions],
        }

    return {
        "min_support": support.min_ratings,
        "supported": {"movies": int(support.movies.sum()), "users": int(support.users.sum())},
        "support_off": list(support.off),
        "layout": maps.default,
        "settings": maps.layouts.movies[maps.default].settings,
        "movies": figures("movies"),
        "users": figures("users"),
    }


def _round(value) -> float | None:
    return None if value is None or value != value else round(float(value), 4)
