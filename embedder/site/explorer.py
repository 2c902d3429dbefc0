"""Embeddings, layouts and ratings -> the explorer: its data files, ``explorer.html`` and movie pages.

The explorer (``site_template/static/explorer.js``) is a static page that
must open from ``file://`` as well as from GitHub Pages, so every data file
is a small script that hands its payload to the page
(``explorer_encoding``).  What the first paint needs is small: per movie
2 x uint16 coordinates of the default layout, a uint16 genre-facet mask, a
uint8 year and a uint8 popularity (about 11 bytes of script per movie); the
titles follow right after the first paint.  Everything else is loaded when
it is used: the movie ids (on the first selection), one shard of neighbour
and co-rated lists per ``MOVIE_SHARD`` movies, the other layouts, the
users' ids and their shards (rated movies, recommendations).

The lists themselves (co-rated movies, recommendations, hints, facets) come
from ``explorer_lists``; the static movie pages from ``movie_pages``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from embedder.maps.layouts import LABELS, Layouts
from embedder.maps.stage import centre, region_colours
from embedder.ratings.catalogue import rated_matrix
from embedder.ratings.genres import NO_GENRE, OTHER, PALETTE, facet_colour, genre_facets, movie_colours
from embedder.site.explorer_encoding import b64, encode_years, popularity, quantise, script, short_title, year_base
from embedder.site.explorer_lists import (CORATED_HISTORY, CORATED_K, RECOMMENDATIONS_K, SCORING, UserLists, co_rated,
                                         latest_ratings, rare_points, top_facets, user_lists)
from embedder.site.movie_pages import MOVIE_PAGES, page_name, render_movie_pages
from embedder.values import CoRated, Interactions, Neighbours

FOLDER = "explorer"
PAGE = "explorer.html"
MOVIE_SHARD = 512
#: A user shard holds about this many rated movies (its JSON is then ~250 kB).
USER_SHARD_RATINGS = 40_000


@dataclass(frozen=True)
class ExplorerInput:
    """What the explorer shows; every array is aligned with the embedding's rows.

    ``movie_ids``/``titles``/``years``/``genres``/``counts`` follow the movie
    embedding (``movie_vectors``, ``neighbours``, ``layouts.movies``);
    ``user_ids`` follows the user embedding.  ``interactions`` is the whole
    ratings log, used for co-rated lists and to exclude rated movies.
    """

    dataset_name: str
    movie_ids: np.ndarray
    titles: np.ndarray
    years: np.ndarray
    genres: tuple[tuple[str, ...], ...]
    counts: np.ndarray
    movie_vectors: np.ndarray
    neighbours: Neighbours
    user_ids: np.ndarray
    user_vectors: np.ndarray
    interactions: Interactions
    layouts: Layouts
    mean_rating: np.ndarray | None = None
    links: dict = field(default_factory=dict)
    citation: str = ""
    version: str = ""
    # The site's recommender: ``rated`` (users x movies, sparse) -> (items, scores, because or None);
    # None falls back to cosine of the user and movie vectors.
    recommend: Callable | None = None
    scoring: str = ""
    # Whether users' ratings have an order (embedder.ratings.order): a capped history is then their latest, else a random part.
    ordered: bool = True
    # Each user's nearest users (cosine of the user vectors), shown as "similar taste"; None leaves it out.
    user_neighbours: Neighbours | None = None
    # Support (embedder.model.support): which movies and users were rated at least ``min_support`` times; None: all.
    supported_movies: np.ndarray | None = None
    supported_users: np.ndarray | None = None
    min_support: int = 1
    # The default map's named regions, by side ("movies", "users"), and the layout they were made on.
    regions: dict = field(default_factory=dict)
    default_layout: str | None = None
    # Who rated which movie (log users x embedding movies), when the caller has it already.
    rated: object | None = None
    # Co-rated lists made elsewhere (the Spark engine's, on the cluster); None: counted here from ``interactions``.
    co_rated: CoRated | None = None
    # Each user's rating count when ``interactions`` holds only their latest ratings (a Spark build); None: counted here.
    rated_total: np.ndarray | None = None


@dataclass(frozen=True)
class ExplorerContext:
    """Everything ``explorer.html.j2`` may use."""

    page_title: str
    dataset: dict
    manifest: dict
    build: dict
    root: str = ""


# --- the whole explorer -----------------------------------------------------------------


def site_explorer(site, dataset, movies, users, neighbours: Neighbours, layouts: Layouts, *,
                  recommend: Callable | None = None, scoring: str = "",
                  user_neighbours: Neighbours | None = None, support=None, maps=None, rated=None,
                  co_rated: CoRated | None = None) -> dict[str, bytes]:
    """The explorer of a build: ``movies``/``users`` are the pipeline's sides (ids + vectors).

    ``recommend`` (with a one-line ``scoring`` description for the page)
    replaces the cosine recommender; see :func:`user_lists`.  ``support``
    and ``maps`` (``embedder.support.Support``, ``embedder.maps.Maps``) add
    the barely-rated points' flags and the default map's named regions.
    ``co_rated`` replaces the co-rated lists counted from the log (a Spark
    build's, whose log holds each user's latest ratings only).
    """
    from embedder import __version__
    from embedder.ratings.catalogue import catalogue_rows, movie_stats, rating_counts_of

    catalogue = dataset.movies
    rows = catalogue_rows(dataset, movies.ids)
    inter = dataset.interactions
    counts, mean = movie_stats(dataset)
    if mean is not None:
        mean = mean[rows]
    data = ExplorerInput(
        dataset_name=dataset.name,
        movie_ids=np.asarray(movies.ids),
        titles=np.asarray(catalogue.titles)[rows],
        years=np.asarray(catalogue.years)[rows],
        genres=tuple(catalogue.genres[r] for r in rows),
        counts=counts[rows],
        movie_vectors=movies.vectors,
        neighbours=neighbours,
        user_ids=np.asarray(users.ids),
        user_vectors=users.vectors,
        interactions=inter,
        layouts=layouts,
        mean_rating=mean,
        links={kind: np.asarray(values)[rows] for kind, values in catalogue.links.items()},
        citation="MovieLens data: F. Maxwell Harper and Joseph A. Konstan, 2015, ACM TiiS." if dataset.name.startswith("ml-") else "",
        version=__version__,
        recommend=recommend,
        scoring=scoring,
        user_neighbours=user_neighbours,
        supported_movies=None if support is None else support.movies,
        supported_users=None if support is None else support.users,
        min_support=1 if support is None else support.min_ratings,
        regions={} if maps is None else {side: maps.regions(side) for side in ("movies", "users") if maps.regions(side)},
        default_layout=None if maps is None else maps.default,
        rated=rated,
        ordered=getattr(dataset.order, "ordered", True),
        co_rated=co_rated,
        rated_total=None if dataset.stats is None else rating_counts_of(dataset, users.ids),
    )
    return explorer_files(data, site.template_dir, movie_pages=site.movie_pages)


def explorer_files(data: ExplorerInput, template_dir: Path, *, movie_pages: bool = False) -> dict[str, bytes]:
    """Every file of the explorer, keyed by path relative to the site root."""
    from embedder.site.pages import make_env

    n = len(data.movie_ids)
    names, masks, facet_counts = genre_facets(data.genres)
    rated = data.rated if data.rated is not None else rated_matrix(data.interactions, data.movie_ids)
    if data.co_rated is not None:
        corated, corated_n, capped = data.co_rated.indices, data.co_rated.counts, False
    else:
        recent, capped = latest_ratings(data.interactions, CORATED_HISTORY)
        corated, corated_n = co_rated(rated_matrix(recent, data.movie_ids) if capped else rated, CORATED_K)
    users = user_lists(rated, data.interactions, data.user_ids, data.user_vectors, data.movie_vectors, data.recommend)
    if data.rated_total is not None:  # only each user's latest ratings are listed: the count is the whole log's
        users = replace(users, rated_total=np.maximum(data.rated_total, users.rated_total))
    user_facet = top_facets(users.rated, masks, len(names), names)
    titles = [short_title(t, y) for t, y in zip(data.titles, data.years)]
    pages = [page_name(i) for i in data.movie_ids] if movie_pages else None

    files: dict[str, bytes] = {}

    def put(name: str, payload, path: str | None = None) -> str:
        path = path or f"{FOLDER}/{name}.js"
        files[path] = script(name, payload)
        return path

    first_year = year_base(data.years)
    rare_movies = rare_points(data.supported_movies, n)
    rare_users = rare_points(data.supported_users, len(data.user_ids))
    points = {"mask": b64(masks.astype("<u2")), "year": b64(encode_years(data.years, first_year)), "pop": b64(popularity(data.counts))}
    if rare_movies.any():
        points["rare"] = b64(rare_movies.astype(np.uint8))
    put("movies/points", points, f"{FOLDER}/movies-points.js")
    put("movies/titles", "\n".join(titles), f"{FOLDER}/movies-titles.js")
    put("movies/ids", [str(i) for i in data.movie_ids], f"{FOLDER}/movies-ids.js")
    layouts = []
    centres: dict = {}
    for name in data.layouts.names:
        # A layout may carry its own label ("softmax · PCA": the layouts of the other embedders, --embedders).
        entry = {"name": name, "label": data.layouts.movies[name].settings.get("label") or LABELS.get(name, name),
                 "settings": data.layouts.movies[name].settings}
        for what, source in (("movies", data.layouts.movies), ("users", data.layouts.users)):
            xy, bounds = quantise(source[name].coords)
            put(f"layout/{what}/{name}", {"xy": b64(xy), "bounds": bounds}, f"{FOLDER}/layout-{what}-{name}.js")
            if what in data.regions:
                centres.setdefault(what, {})[name] = region_centres(source[name].coords, data.regions[what].labels,
                                                                    len(data.regions[what].regions), bounds)
        layouts.append(entry)
    point_colours = {"movies": movie_colours(masks, names),
                     "users": np.array([facet_colour(int(f), names) for f in user_facet], dtype=np.uint8).reshape(-1, 3)}
    for what, found in data.regions.items():
        put(f"regions/{what}", region_payload(found, centres.get(what, {}), region_colours(found, point_colours[what], names)),
            f"{FOLDER}/regions-{what}.js")
    shards = _movie_shards(data, corated, corated_n, pages)
    for number, payload in enumerate(shards):
        put(f"movies/shard/{number}", payload, f"{FOLDER}/movies/{number}.js")
    user_starts = _user_shard_starts(users.rated_total)
    for number, start in enumerate(user_starts):
        stop = user_starts[number + 1] if number + 1 < len(user_starts) else len(data.user_ids)
        put(f"users/shard/{number}", _user_shard(users, start, stop, data.user_neighbours), f"{FOLDER}/users/{number}.js")
    user_payload = {"ids": [str(u) for u in data.user_ids], "facet": b64(user_facet.astype(np.uint8)),
                    "count": [int(c) for c in users.rated_total]}
    if rare_users.any():
        user_payload["rare"] = b64(rare_users.astype(np.uint8))
    put("users/ids", user_payload, f"{FOLDER}/users-ids.js")

    order = [name for name in ("tsne", "umap", "pca") if name in data.layouts.names]
    if data.default_layout in data.layouts.names:
        order.insert(0, data.default_layout)
    manifest = {
        "version": 1,
        "dataset": data.dataset_name,
        "folder": FOLDER + "/",
        "movies": {
            "count": n,
            "facets": [{"name": name, "count": int(c)} for name, c in zip(names, facet_counts)],
            "other": names.index(OTHER) if OTHER in names else -1,
            "year_base": first_year,
            "shard_size": MOVIE_SHARD,
            "shards": len(shards),
            "k": int(data.neighbours.indices.shape[1]),
            "corated_k": CORATED_K,
            "corated_history": CORATED_HISTORY if capped else None,
            "corated_window": None if data.co_rated is None else data.co_rated.window,
            "history_ordered": bool(data.ordered),
            "pages": MOVIE_PAGES + "/" if movie_pages else None,
            "rare": int(rare_movies.sum()),
        },
        "users": {
            "count": len(data.user_ids),
            "shards": user_starts,
            "recommendations": RECOMMENDATIONS_K,
            "scoring": data.scoring or SCORING,
            "rare": int(rare_users.sum()),
        },
        "layouts": layouts,
        "default_layout": order[0],
        "min_support": int(data.min_support),
        "regions": {what: {"count": len(found.regions), "layout": found.layout} for what, found in data.regions.items()},
        "palette": [list(colour) for colour in PALETTE],
    }
    dataset = {"name": data.dataset_name, "citation": data.citation}
    build = {"version": data.version}
    env = make_env(template_dir)
    context = ExplorerContext(page_title=f"{data.dataset_name} · explorer · reelspace", dataset=dataset, manifest=manifest, build=build)
    files[PAGE] = env.get_template("explorer.html.j2").render(**asdict(context)).encode("utf-8")
    if movie_pages:
        files.update(render_movie_pages(data, env, titles, corated, corated_n, pages, dataset, build, explorer_page=PAGE))
    return files


# --- regions ---------------------------------------------------------------------------------------


def region_centres(coords: np.ndarray, labels: np.ndarray, count: int, bounds: list[float]) -> list[list[float]]:
    """Where each region's name goes in one layout: the median of its members, in the layout's [0, 1] box."""
    coords = np.asarray(coords, dtype=np.float64)
    x0, y0, side = bounds
    centres = []
    for r in range(count):
        members = labels == r
        x, y = centre(coords, members) if members.any() else (x0 + side / 2, y0 + side / 2)
        centres.append([round((x - x0) / side, 5), round((y - y0) / side, 5)])
    return centres


def region_payload(found, centres: dict, colours: list) -> dict:
    """A side's regions for the explorer: names, sizes, colours, best-known titles, each point's region (255 or 65535: none)."""
    wide = len(found.regions) >= 255
    none = 65535 if wide else 255
    member = np.where(found.labels >= 0, found.labels, none).astype("<u2" if wide else np.uint8)
    return {
        "names": [r.name for r in found.regions],
        "sizes": [int(r.size) for r in found.regions],
        "colours": [list(colour) for colour in colours],
        "titles": [[short_title(t, 0) for t in r.titles] for r in found.regions],
        "member": b64(member),
        "wide": wide,
        "centres": centres,
    }


# --- shards ------------------------------------------------------------------------------------


def _movie_shards(data: ExplorerInput, corated, corated_n, pages) -> list[dict]:
    n = len(data.movie_ids)
    neighbours, scores = data.neighbours.indices, data.neighbours.scores
    mean = None if data.mean_rating is None else np.asarray(data.mean_rating, dtype=np.float64)
    shards = []
    for start in range(0, n, MOVIE_SHARD):
        stop = min(n, start + MOVIE_SHARD)
        rows = range(start, stop)
        payload = {
            "start": start,
            "similar": [_valid(neighbours[r]) for r in rows],
            "scores": [[round(float(s), 3) for s, j in zip(scores[r], neighbours[r]) if j >= 0] for r in rows],
            "corated": [_valid(corated[r]) for r in rows],
            "corated_n": [[int(c) for c, j in zip(corated_n[r], corated[r]) if j >= 0] for r in rows],
            "genres": [" · ".join(g for g in data.genres[r] if g not in NO_GENRE) for r in rows],
            "count": [int(data.counts[r]) for r in rows],
        }
        if mean is not None:
            payload["mean"] = [round(float(mean[r]), 2) if math.isfinite(mean[r]) else None for r in rows]
        if pages is not None:
            payload["page"] = pages[start:stop]
        shards.append(payload)
    return shards


def _valid(row) -> list[int]:
    return [int(j) for j in row if j >= 0]


def _user_shard_starts(totals: np.ndarray) -> list[int]:
    """First user of each shard: a shard holds about ``USER_SHARD_RATINGS`` rated movies (at least one user)."""
    # Each user's ten recommendations, scores and hints cost about as much as 20 rated movies.
    cumulative = np.cumsum(np.asarray(totals, dtype=np.int64) + 20)
    starts = [0]
    while True:
        limit = (cumulative[starts[-1] - 1] if starts[-1] else 0) + USER_SHARD_RATINGS
        following = max(int(np.searchsorted(cumulative, limit, side="right")), starts[-1] + 1)
        if following >= len(cumulative):
            return starts
        starts.append(following)


def _user_shard(users: UserLists, start: int, stop: int, neighbours: Neighbours | None = None) -> dict:
    shard = {
        "start": start,
        "rated": [users.rated[u].tolist() for u in range(start, stop)],
        "recs": [_valid(users.items[u]) for u in range(start, stop)],
        "scores": [[round(float(s), 3) for s, j in zip(users.scores[u], users.items[u]) if j >= 0] for u in range(start, stop)],
        "because": [[int(b) for b, j in zip(users.because[u], users.items[u]) if j >= 0] for u in range(start, stop)],
    }
    if neighbours is not None:
        shard["similar"] = neighbours.indices[start:stop].tolist()
        shard["similar_scores"] = np.round(neighbours.scores[start:stop].astype(np.float64), 3).tolist()
    return shard
