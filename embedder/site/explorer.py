"""Embeddings, layouts and ratings -> the explorer: its data files, ``explorer.html`` and movie pages.

The explorer (``site_template/static/explorer.js``) is a static page that
must open from ``file://`` as well as from GitHub Pages.  Browsers refuse
``fetch`` and XHR on ``file://``, but not ``<script src>``, so every data
file is a small script that hands its payload to the page::

    __reelspace_data("movies/points", {"mask": "<base64>", ...});

Binary arrays travel as base64 of little-endian integers; lists as compact
JSON.  What the first paint needs is small: per movie 2 x uint16
coordinates of the default layout, a uint16 genre-facet mask, a uint8 year
and a uint8 popularity (about 11 bytes of script per movie); the titles
follow right after the first paint.  Everything else is loaded when it is
used: the movie ids (on the first selection), one shard of neighbour and
co-rated lists per ``MOVIE_SHARD`` movies, the other layouts, the users'
ids and their shards (rated movies, recommendations).

Everything here is vectorised or compiled: recommendation scores come from
BLAS products in chunks; co-rated counts, the top-k selections and the
"because you rated" hints from the one-pass loops of ``kernels``.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import numpy as np

from embedder.ratings.catalogue import rated_by, rated_matrix
from embedder.ratings.genres import NO_GENRE, OTHER, PALETTE, facet_colour, genre_facets, movie_colours
from embedder.maps.layouts import LABELS, Layouts
from embedder.maps.stage import centre, region_colours
from embedder.model.neighbours import normalise
from embedder.values import Interactions, Neighbours

FOLDER = "explorer"
PAGE = "explorer.html"
MOVIE_PAGES = "movies"
#: Longest movie page name (before ``.html``): well under the 255 bytes file systems allow.
PAGE_NAME_MAX = 120
MOVIE_SHARD = 512
#: A user shard holds about this many rated movies (its JSON is then ~250 kB).
USER_SHARD_RATINGS = 40_000
CORATED_K = 10
#: Co-rated counts take each person's latest this-many ratings: the few people who rated
#: thousands of movies would otherwise dominate every list (and 3/4 of the work at ML-25M size).
CORATED_HISTORY = 1_000
RECOMMENDATIONS_K = 10
#: Scores of one dense block (users x movies) in the chunked recommendation products (16 MB of float32).
BLOCK = 4_000_000
UNKNOWN_YEAR = 255
_YEAR_SUFFIX = re.compile(r"\s*\((\d{4})(?:[-\u2013]\d{0,4})?\)\s*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_SAFE_ID = re.compile(r"[A-Za-z0-9-]")


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


@dataclass(frozen=True)
class ExplorerContext:
    """Everything ``explorer.html.j2`` may use."""

    page_title: str
    dataset: dict
    manifest: dict
    build: dict
    root: str = ""


@dataclass(frozen=True)
class MovieContext:
    """Everything ``movie.html.j2`` may use (one static page per movie)."""

    page_title: str
    dataset: dict
    build: dict
    movie: dict
    similar: list
    corated: list
    explorer: str
    root: str = "../"


@dataclass(frozen=True)
class UserLists:
    """Per user (embedding order): rated movie rows, recommendations, scores and hints."""

    rated: list
    rated_total: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    because: np.ndarray


# --- the whole explorer -----------------------------------------------------------------


def site_explorer(config, dataset, movies, users, neighbours: Neighbours, layouts: Layouts, *,
                  recommend: Callable | None = None, scoring: str = "",
                  user_neighbours: Neighbours | None = None, support=None, maps=None, rated=None) -> dict[str, bytes]:
    """The explorer of a build: ``movies``/``users`` are the pipeline's sides (ids + vectors).

    ``recommend`` (with a one-line ``scoring`` description for the page)
    replaces the cosine recommender; see :func:`user_lists`.  ``support``
    and ``maps`` (``embedder.support.Support``, ``embedder.maps.Maps``) add
    the barely-rated points' flags and the default map's named regions.
    """
    from embedder import __version__
    from embedder.ratings.catalogue import catalogue_rows, movie_stats

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
    )
    return explorer_files(data, config.site.template_dir, movie_pages=config.site.movie_pages)


def explorer_files(data: ExplorerInput, template_dir: Path, *, movie_pages: bool = False) -> dict[str, bytes]:
    """Every file of the explorer, keyed by path relative to the site root."""
    from embedder.site.pages import make_env

    n = len(data.movie_ids)
    names, masks, facet_counts = genre_facets(data.genres)
    rated = data.rated if data.rated is not None else rated_matrix(data.interactions, data.movie_ids)
    recent, capped = latest_ratings(data.interactions, CORATED_HISTORY)
    corated, corated_n = co_rated(rated_matrix(recent, data.movie_ids) if capped else rated, CORATED_K)
    users = user_lists(data, rated)
    user_facet = top_facets(users.rated, masks, len(names), names)
    titles = [short_title(t, y) for t, y in zip(data.titles, data.years)]
    pages = [page_name(i) for i in data.movie_ids] if movie_pages else None

    files: dict[str, bytes] = {}

    def put(name: str, payload, path: str | None = None) -> str:
        path = path or f"{FOLDER}/{name}.js"
        files[path] = script(name, payload)
        return path

    year_base = _year_base(data.years)
    rare_movies = _rare(data.supported_movies, n)
    rare_users = _rare(data.supported_users, len(data.user_ids))
    points = {"mask": b64(masks.astype("<u2")), "year": b64(encode_years(data.years, year_base)), "pop": b64(popularity(data.counts))}
    if rare_movies.any():
        points["rare"] = b64(rare_movies.astype(np.uint8))
    put("movies/points", points, f"{FOLDER}/movies-points.js")
    put("movies/titles", "\n".join(titles), f"{FOLDER}/movies-titles.js")
    put("movies/ids", [str(i) for i in data.movie_ids], f"{FOLDER}/movies-ids.js")
    layouts = []
    centres: dict = {}
    for name in data.layouts.names:
        # A layout may carry its own label (issue 6: "softmax · PCA", the layouts of the other embedders).
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
            "year_base": year_base,
            "shard_size": MOVIE_SHARD,
            "shards": len(shards),
            "k": int(data.neighbours.indices.shape[1]),
            "corated_k": CORATED_K,
            "corated_history": CORATED_HISTORY if capped else None,
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
        files.update(render_movie_pages(data, env, titles, corated, corated_n, pages, dataset, build))
    return files


# --- genres -------------------------------------------------------------------------------


def top_facets(rated_rows: list, masks: np.ndarray, n_facets: int, names: list[str]) -> np.ndarray:
    """Each user's most-rated named genre facet (``Other`` only when nothing else); 255 when none."""
    from scipy.sparse import csr_matrix

    lengths = np.array([len(r) for r in rated_rows], dtype=np.int64)
    cols = np.concatenate(rated_rows) if len(rated_rows) and lengths.sum() else np.empty(0, dtype=np.int64)
    users = csr_matrix((np.ones(len(cols), dtype=np.float32), (np.repeat(np.arange(len(rated_rows)), lengths), cols)),
                       shape=(len(rated_rows), len(masks)))
    bits = ((masks[:, None].astype(np.int64) >> np.arange(n_facets)) & 1).astype(np.float32)
    table = np.asarray(users @ bits)
    if OTHER in names and n_facets > 1:
        other = names.index(OTHER)
        named = np.delete(table, other, axis=1).max(axis=1)
        table[:, other] = np.where(named > 0, -1, table[:, other])  # Other only when no named genre
    best = table.argmax(axis=1) if n_facets else np.zeros(len(rated_rows), dtype=np.int64)
    return np.where(lengths > 0, best, UNKNOWN_YEAR).astype(np.uint8)


# --- ratings: who rated what, co-rated lists ---------------------------------------------------


def latest_ratings(interactions: Interactions, limit: int) -> tuple[Interactions, bool]:
    """The log with each user's ``limit`` latest ratings only (timestamp, then file order); and whether any was cut."""
    counts = np.bincount(interactions.user, minlength=len(interactions.user_ids))
    heavy = np.flatnonzero(counts[interactions.user] > limit)
    if len(heavy) == 0:
        return interactions, False
    users = interactions.user[heavy]
    times = interactions.timestamp[heavy] if interactions.timestamp is not None else np.zeros(len(heavy), np.int64)
    heavy = heavy[np.lexsort((heavy, times, users))]  # by user, oldest first
    users = interactions.user[heavy]
    position = np.arange(len(heavy)) - np.searchsorted(users, users, side="left")
    age = counts[users] - 1 - position  # 0 for a user's newest rating
    keep = np.ones(len(interactions), dtype=bool)
    keep[heavy[age >= limit]] = False
    return Interactions(interactions.user_ids, interactions.item_ids, interactions.user[keep], interactions.item[keep],
                        None if interactions.rating is None else interactions.rating[keep],
                        None if interactions.timestamp is None else interactions.timestamp[keep]), True


def co_rated(rated, k: int = CORATED_K) -> tuple[np.ndarray, np.ndarray]:
    """Per movie, the ``k`` movies most often rated by the same people, with those counts.

    ``rated`` is a binary (users x movies) sparse matrix.  The counts are
    those of ``rated.T @ rated``, but never materialised: a compiled loop
    (``kernels.co_rated_counts``) counts each movie's co-ratings in one
    reusable array and keeps the top ``k`` exactly, ties to the lower movie
    row.  Rows are padded with -1 (count 0) when fewer than ``k`` movies
    share a rater.
    """
    from embedder.model.kernels import co_rated_counts

    rated = rated.tocsr()
    n = rated.shape[1]
    k = min(k, max(n - 1, 0))
    if k == 0:
        return np.full((n, 0), -1, dtype=np.int32), np.zeros((n, 0), dtype=np.int32)
    return co_rated_counts(rated.T.tocsr(), rated, k)


# --- users: recommendations --------------------------------------------------------------------

#: How recommendations are scored (shown on the page).
SCORING = "cosine of the user's vector and each movie's vector; movies they rated are left out"


def user_lists(data: ExplorerInput, rated_log) -> UserLists:
    """Rated movies, top recommendations and "because you rated" hints of every user on the map."""
    rated = rated_by(rated_log, data.interactions, data.user_ids)
    rated.sort_indices()
    hints = None
    if data.recommend is not None:
        items, scores, hints = data.recommend(rated)
    else:
        items, scores = recommendations(data.user_vectors, data.movie_vectors, rated, RECOMMENDATIONS_K)
    if hints is None:
        hints = because(items, rated, data.movie_vectors)
    lists = np.split(rated.indices.astype(np.int64), rated.indptr[1:-1])
    return UserLists(rated=lists, rated_total=np.diff(rated.indptr), items=items, scores=scores, because=hints)


def recommendations(user_vectors, movie_vectors, rated, k: int = RECOMMENDATIONS_K) -> tuple[np.ndarray, np.ndarray]:
    """The site's recommender: top-``k`` movies per user, movies they rated excluded.

    Scores are the cosine of the user vector and each movie vector (the two
    embeddings share a space).  This is the one call to swap for a better
    scorer (``embedder.model.recommend``): it must return ``(items, scores)``, both
    (users x k), items as movie rows best first and -1 where a user has
    fewer than ``k`` unrated movies.
    """
    from embedder.model.kernels import top_k_rows

    users = normalise(np.asarray(user_vectors, dtype=np.float32))
    movies = normalise(np.asarray(movie_vectors, dtype=np.float32))
    n_users, n_movies = len(users), len(movies)
    k = min(k, n_movies)
    items = np.full((n_users, k), -1, dtype=np.int64)
    scores = np.zeros((n_users, k), dtype=np.float32)
    step = max(1, BLOCK // max(n_movies, 1))
    for start in range(0, n_users, step):
        stop = min(n_users, start + step)
        block = users[start:stop] @ movies.T
        part, values = top_k_rows(block, k, rated[start:stop])
        valid = np.isfinite(values)
        items[start:stop] = np.where(valid, part, -1)
        scores[start:stop] = np.where(valid, values, 0)
    return items, scores


def because(items: np.ndarray, rated, movie_vectors) -> np.ndarray:
    """For each recommendation, the user's rated movie most similar to it (cosine); -1 when none.

    Ties go to the lower movie row; one compiled pass over each user's rated
    movies per recommendation slot (``kernels.best_match``).
    """
    from embedder.model.kernels import best_match

    return best_match(items, rated, normalise(np.asarray(movie_vectors, dtype=np.float32)))


# --- support and regions ---------------------------------------------------------------------------


def _rare(supported: np.ndarray | None, n: int) -> np.ndarray:
    """True for the points rated too rarely to be trusted (none when no support rule applies)."""
    return np.zeros(n, dtype=bool) if supported is None else ~np.asarray(supported, dtype=bool)


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


# --- encodings ---------------------------------------------------------------------------------


def quantise(coords) -> tuple[np.ndarray, list[float]]:
    """2-D coordinates -> interleaved uint16 in a square box (aspect kept), and that box.

    The box is ``[x0, y0, side]``: ``x = x0 + q / 65535 * side``.  Picture
    detail below 1/65535 of the layout's extent is lost (invisible below
    ~100x zoom).
    """
    coords = np.asarray(coords, dtype=np.float64)
    low, high = coords.min(axis=0), coords.max(axis=0)
    side = float((high - low).max()) or 1.0
    origin = (low + high) / 2 - side / 2
    q = np.rint((coords - origin) / side * 65535)
    q = np.clip(q, 0, 65535).astype("<u2")
    return np.ascontiguousarray(q).reshape(-1), [float(origin[0]), float(origin[1]), side]


def _year_base(years) -> int:
    known = np.asarray(years)[np.asarray(years) > 0]
    return int(known.min()) if len(known) else 0


def encode_years(years, base: int) -> np.ndarray:
    """Years as ``year - base`` in a uint8 (capped at 254); 255 means unknown."""
    years = np.asarray(years, dtype=np.int64)
    return np.where(years > 0, np.clip(years - base, 0, UNKNOWN_YEAR - 1), UNKNOWN_YEAR).astype(np.uint8)


def popularity(counts) -> np.ndarray:
    """Rating counts on a log scale in a uint8: ``round(8 * log2(1 + count))`` (search ranks by it)."""
    counts = np.asarray(counts, dtype=np.float64)
    return np.clip(np.rint(8 * np.log2(1 + np.maximum(counts, 0))), 0, 255).astype(np.uint8)


def short_title(title, year) -> str:
    """A title on one line, without the ``(1995)`` that repeats its year."""
    text = _CONTROL.sub(" ", str(title)).strip()
    match = _YEAR_SUFFIX.search(text)
    if match and int(year or 0) == int(match.group(1)) and match.start() > 0:
        text = text[: match.start()].rstrip()
    return text or "(untitled)"


def b64(array: np.ndarray) -> str:
    """Base64 of an array's bytes (little-endian dtypes)."""
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def script(name: str, payload) -> bytes:
    """A data file: one call that hands ``payload`` to the page (works from file://)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return f"__reelspace_data({json.dumps(name)},{body});\n".encode("utf-8")


def page_name(movie_id) -> str:
    """A safe, distinct file name for a movie id: ``[A-Za-z0-9-]`` kept, other bytes ``_xx`` (hex).

    File systems allow 255 bytes a name: an id whose name would be longer
    than ``PAGE_NAME_MAX`` keeps its start and ends in ``__`` and a hash of
    the whole id.  An escape is ``_`` and two hex digits, so other names
    never hold two underscores in a row: the two kinds cannot collide.
    """
    name = "".join(c if _SAFE_ID.match(c) else "".join(f"_{b:02x}" for b in c.encode("utf-8")) for c in str(movie_id))
    if len(name) > PAGE_NAME_MAX:
        import hashlib

        digest = hashlib.sha256(str(movie_id).encode("utf-8")).hexdigest()[:24]
        name = f"{name[:PAGE_NAME_MAX - 26]}__{digest}"
    return name + ".html"


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


# --- static movie pages -------------------------------------------------------------------------


def render_movie_pages(data: ExplorerInput, env, titles, corated, corated_n, pages, dataset, build) -> dict[str, bytes]:
    """``movies/<id>.html`` for every movie: details, similar and co-rated movies as links, no JavaScript."""
    template = env.get_template("movie.html.j2")
    years = np.asarray(data.years)
    files = {}

    def ref(j: int) -> dict:
        return {"title": titles[j], "year": int(years[j]) if years[j] > 0 else None, "href": quote(pages[j])}

    imdb = data.links.get("imdb") if data.links else None
    tmdb = data.links.get("tmdb") if data.links else None
    rare = _rare(data.supported_movies, len(data.movie_ids))
    found = data.regions.get("movies")
    for r, movie_id in enumerate(data.movie_ids):
        region = int(found.labels[r]) if found is not None else -1
        movie = {
            "id": str(movie_id),
            "title": titles[r],
            "year": int(years[r]) if years[r] > 0 else None,
            "genres": " · ".join(g for g in data.genres[r] if g not in NO_GENRE) or "no genres listed",
            "ratings": int(data.counts[r]),
            "mean": None if data.mean_rating is None or not math.isfinite(data.mean_rating[r]) else round(float(data.mean_rating[r]), 2),
            "imdb": f"https://www.imdb.com/title/tt{imdb[r]}/" if imdb is not None and str(imdb[r]).isdigit() else None,
            "tmdb": f"https://www.themoviedb.org/movie/{tmdb[r]}" if tmdb is not None and str(tmdb[r]).isdigit() else None,
            "rare": bool(rare[r]),
            "min_support": int(data.min_support),
            "region": found.regions[region].name if region >= 0 else None,
            "region_href": f"../{PAGE}#region={region}",
        }
        similar = [dict(ref(int(j)), score=float(s)) for j, s in zip(data.neighbours.indices[r], data.neighbours.scores[r]) if j >= 0]
        shared = [dict(ref(int(j)), n=int(c)) for j, c in zip(corated[r], corated_n[r]) if j >= 0]
        context = MovieContext(
            page_title=f"{movie['title']} · {data.dataset_name} · reelspace",
            dataset=dataset,
            build=build,
            movie=movie,
            similar=similar,
            corated=shared,
            explorer=f"../{PAGE}#movie={quote(str(movie_id), safe='')}",
        )
        files[f"{MOVIE_PAGES}/{pages[r]}"] = template.render(**asdict(context)).encode("utf-8")
    return files
