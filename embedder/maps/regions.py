"""A 2-D map + what is known of its points -> named regions.

The default map is clustered (HDBSCAN, scikit-learn's, on the coordinates of
the fitted points) into dense regions; points placed afterwards join the
region of their nearest fitted point, and barely-rated points join none.
Each region is named from what sets it apart from the whole map:

* **genres** that are over-represented in it: share in the region at least
  ``GENRE_SHARE`` of its movies and ``GENRE_LIFT`` times the map's share,
  the (at most two) with the largest ``share * log(lift)``, the region's
  contribution to the genres' divergence from the map (a region with merely
  a little more Drama than the map is not called "Drama");
* a **decade** when most of its movies come from one that is rare elsewhere
  (share ``DECADE_SHARE`` and lift ``DECADE_LIFT``); failing that, an era
  ("before 1970") that holds ``ERA_SHARE`` of it at ``ERA_LIFT`` times the
  map's share -- the region of the classics;
* its **best-known titles**: the most-rated movies in it; a region with no
  distinctive genre is named after the best known ("Around The Matrix").

Users' regions are named the same way from the movies their users rated
("Horror · Thriller fans"), with the movies they rate far more than others
as titles.  The names go on the explorer's map, into the projector's
metadata (a ``region`` column to colour by) and onto the picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from embedder.ratings.genres import NO_GENRE

#: The projector colours a column by category up to 50 values (docs/projector-format.md, "Metadata").
MAX_REGIONS = 40
MIN_REGION = 8
#: A region holding more than this share of the map is clustered again.
MAX_SHARE = 0.2
GENRE_SHARE = 0.25
GENRE_LIFT = 1.4
#: Users' ratings spread over more genres than one movie has: lower bars.
FAN_SHARE = 0.08
FAN_LIFT = 1.15
DECADE_SHARE = 0.4
DECADE_LIFT = 1.5
ERA_SHARE = 0.6
ERA_LIFT = 2.0
#: Eras tried, narrowest first, when no decade sets a region apart.
ERAS = (1960, 1970, 1980)
TITLES = 3


@dataclass(frozen=True)
class Region:
    """One named region: ``titles`` are its best-known movies (for users: the movies they favour)."""

    name: str
    size: int
    genres: tuple[str, ...]
    period: str | None
    titles: tuple[str, ...]


@dataclass(frozen=True)
class Regions:
    """``labels[i]`` is point ``i``'s region (an index into ``regions``), -1 when it is in none."""

    layout: str
    labels: np.ndarray
    regions: tuple[Region, ...]

    def names(self) -> list[str]:
        """Each point's region name ("" when none): the projector's ``region`` column."""
        names = np.array([r.name for r in self.regions] + [""], dtype=object)
        return names[np.where(self.labels >= 0, self.labels, len(self.regions))].tolist()


@dataclass(frozen=True)
class Catalogue:
    """What the names are made of, one entry per movie row: genre tuples, years (0 unknown), counts, titles."""

    genres: tuple[tuple[str, ...], ...]
    years: np.ndarray
    counts: np.ndarray
    titles: np.ndarray


def cluster(coords: np.ndarray, fitted: np.ndarray, member: np.ndarray, *, min_size: int | None = None) -> np.ndarray:
    """Region labels (-1: none) of every point: HDBSCAN on the fitted points, the other members join their nearest.

    ``fitted`` marks the points the layout was fitted on, ``member`` those
    that may belong to a region (the supported points).  HDBSCAN keeps its
    most stable clusters (``eom``), the smallest of ``max(MIN_REGION,
    fitted / 100)`` points; a region that still holds more than
    ``MAX_SHARE`` of the map is clustered again on its own, so that one
    dominant split of the map does not leave it with two huge regions.
    There are at most ``MAX_REGIONS``.
    """
    from scipy.spatial import cKDTree

    coords = np.asarray(coords, dtype=np.float64)
    base = np.flatnonzero(fitted & member)
    labels = np.full(len(coords), -1, dtype=np.int32)
    if len(base) < 2 * MIN_REGION:
        return labels
    size = min_size or max(MIN_REGION, len(base) // 100)
    found = _hdbscan(coords[base], size)
    for _ in range(4):  # split regions that are too big, a few levels deep
        sizes = np.bincount(found[found >= 0], minlength=max(found.max() + 1, 0))
        big = [r for r in np.flatnonzero(sizes > MAX_SHARE * len(base)) if sizes[r] >= 4 * size]
        split = False
        for r in big:
            inside = np.flatnonzero(found == r)
            parts = _hdbscan(coords[base][inside], size)
            if parts.max() >= 1 and found.max() + parts.max() + 1 <= MAX_REGIONS:
                found[inside] = np.where(parts > 0, found.max() + parts, np.where(parts == 0, r, -1))
                split = True
        if not split:
            break
    if found.max() < 0:  # no dense region at all
        return labels
    # Largest region first, so that region 0 is the biggest (stable numbering across rebuilds of the same map).
    sizes = np.bincount(found[found >= 0], minlength=found.max() + 1)
    rank = np.empty(len(sizes), dtype=np.int32)
    rank[np.lexsort((np.arange(len(sizes)), -sizes))] = np.arange(len(sizes))
    labels[base] = np.where(found >= 0, rank[np.maximum(found, 0)], -1)
    placed = np.flatnonzero(member & ~fitted)
    if len(placed):
        _, nearest = cKDTree(coords[base]).query(coords[placed], k=1)
        labels[placed] = labels[base][nearest]
    return labels


def _hdbscan(points: np.ndarray, size: int) -> np.ndarray:
    """HDBSCAN's labels (-1: noise), the smallest cluster raised until there are at most ``MAX_REGIONS``."""
    import warnings

    from sklearn.cluster import HDBSCAN

    if len(points) < 2 * size:
        return np.full(len(points), -1, dtype=np.int64)
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = HDBSCAN(min_cluster_size=size, min_samples=5, copy=True).fit_predict(points)
        if found.max() + 1 <= MAX_REGIONS:
            return found.astype(np.int64)
        size = int(size * 1.5) + 1


def movie_regions(coords, fitted, member, catalogue: Catalogue, *, layout: str = "tsne") -> Regions:
    """The movies' map cut into regions, each named by its genres, decade and best-known titles."""
    labels = cluster(coords, fitted, member)
    population = np.flatnonzero(member)
    overall = _shares(catalogue.genres, population)
    periods, names = _periods(catalogue.years)
    overall_periods = _table_shares(member.astype(np.float64), periods, names)
    regions = []
    for r in range(labels.max() + 1):
        rows = np.flatnonzero(labels == r)
        genres = _distinctive(_shares(catalogue.genres, rows), overall, GENRE_SHARE, GENRE_LIFT, 2)
        period = _period(_table_shares((labels == r).astype(np.float64), periods, names), overall_periods)
        best = rows[np.lexsort((rows, -np.asarray(catalogue.counts)[rows]))[:TITLES]]
        regions.append(_region(genres, period, len(rows), tuple(str(catalogue.titles[i]) for i in best)))
    return Regions(layout, labels, _distinct_names(regions))


def user_regions(coords, fitted, member, rated, catalogue: Catalogue, *, layout: str = "tsne") -> Regions:
    """The users' map cut into regions, named by the genres, decade and movies its users rate more than others.

    ``rated`` is a (users x movies) sparse matrix aligned with the user rows
    and the catalogue's movie rows.
    """
    from scipy.sparse import csr_matrix

    labels = cluster(coords, fitted, member)
    rated = csr_matrix(rated, dtype=np.float64)
    rated.data[:] = 1.0
    everyone = np.asarray(rated[np.flatnonzero(member)].sum(axis=0)).ravel()
    genre_table, names = _genre_table(catalogue.genres)
    periods, period_names = _periods(catalogue.years)
    overall = _table_shares(everyone, genre_table, names)
    overall_periods = _table_shares(everyone, periods, period_names)
    regions = []
    for r in range(labels.max() + 1):
        members = np.flatnonzero(labels == r)
        counts = np.asarray(rated[members].sum(axis=0)).ravel()
        genres = _distinctive(_table_shares(counts, genre_table, names), overall, FAN_SHARE, FAN_LIFT, 2)
        period = _period(_table_shares(counts, periods, period_names), overall_periods)
        regions.append(_region(genres, period, len(members), _favoured(counts, everyone, len(members), member.sum(),
                                                                        catalogue.titles), fans=True))
    return Regions(layout, labels, _distinct_names(regions))


def _region(genres: list, period: str | None, size: int, titles: tuple[str, ...], fans: bool = False) -> Region:
    """Name a region: ``Horror · Thriller, 1980s``; users ``Horror · Thriller fans, 1980s films``.

    A region with no distinctive genre is named after its best-known title
    (``Around Forrest Gump``; users ``Fans of Forrest Gump``).
    """
    if genres:
        name = " · ".join(genres) + (" fans" if fans else "")
    elif titles:
        name = ("Fans of " if fans else "Around ") + _short(titles[0])
    else:
        name = "Mixed tastes" if fans else "Mixed"
    if period is not None:
        name += f", {period}" + (" films" if fans else "")
    return Region(name, size, tuple(genres), period, titles)


def _distinct_names(regions: list[Region]) -> tuple[Region, ...]:
    """Regions that share a name get their best-known title after it: ``Comedy, 1990s, around Space Jam``."""
    from collections import Counter

    seen = Counter(r.name for r in regions)
    out = []
    for r in regions:
        if seen[r.name] > 1 and r.titles:
            r = Region(f"{r.name}, around {_short(r.titles[0])}", r.size, r.genres, r.period, r.titles)
        out.append(r)
    return tuple(out)


_ARTICLE = re.compile(r"^(?P<rest>.+), (?P<article>The|A|An|Les|Le|La|L'|Il|Das|Der|Die|El|Los|Las)$")


def _short(title: str) -> str:
    """A title as people say it, at most 28 characters: ``Matrix, The (1999)`` -> ``The Matrix``.

    Trailing parentheses (the year, an original or "a.k.a." title) go, and
    MovieLens' trailing article comes back to the front.
    """
    text = str(title).strip()
    while True:
        cut = re.sub(r"\s*\([^()]*\)\s*$", "", text)
        if cut == text or not cut:
            break
        text = cut
    match = _ARTICLE.match(text)
    if match:
        text = f"{match['article']} {match['rest']}"
    if len(text) > 24:  # "Star Wars: Episode IV - A New Hope" -> "Star Wars"
        text = re.split(r":| - ", text)[0].strip() or text
    return text if len(text) <= 24 else text[:23].rstrip() + "…"


def _shares(genres, rows: np.ndarray) -> dict[str, float]:
    """Share of ``rows`` that have each genre."""
    from collections import Counter

    counts = Counter(g for i in rows for g in set(genres[i]) if g not in NO_GENRE)
    return {g: c / max(len(rows), 1) for g, c in counts.items()}


def _periods(years) -> tuple[np.ndarray, list[str]]:
    """A (movies x periods) 0/1 table: each decade ("1980s") and each era ("before 1970") a movie belongs to."""
    years = np.asarray(years, dtype=np.int64)
    decades = np.where(years > 0, years // 10 * 10, 0)
    known = np.unique(decades[decades > 0])
    columns = [decades == d for d in known] + [(years > 0) & (years < cut) for cut in ERAS]
    names = [f"{d}s" for d in known] + [f"before {cut}" for cut in ERAS]
    return (np.column_stack(columns).astype(np.float64) if columns else np.zeros((len(years), 0))), names


def _period(local: dict, overall: dict) -> str | None:
    """The decade that sets a region apart, else the narrowest era that does, else None."""
    decades = {k: v for k, v in local.items() if not k.startswith("before")}
    found = _distinctive(decades, overall, DECADE_SHARE, DECADE_LIFT, 1)
    if found:
        return found[0]
    for cut in ERAS:
        key = f"before {cut}"
        if _distinctive({key: local.get(key, 0.0)}, overall, ERA_SHARE, ERA_LIFT, 1):
            return key
    return None


def _genre_table(genres) -> tuple[np.ndarray, list[str]]:
    names = sorted({g for movie in genres for g in movie if g not in NO_GENRE})
    column = {g: j for j, g in enumerate(names)}
    table = np.zeros((len(genres), len(names)))
    for i, movie in enumerate(genres):
        for g in set(movie):
            if g in column:
                table[i, column[g]] = 1.0
    return table, names


def _table_shares(weights: np.ndarray, table: np.ndarray, names: list) -> dict:
    """Share of the weighted movies (ratings) that fall in each column of ``table``."""
    total = float(weights.sum())
    if total <= 0:
        return {}
    shares = (weights @ table) / total
    return {name: float(s) for name, s in zip(names, shares) if s > 0}


def _distinctive(local: dict, overall: dict, min_share: float, min_lift: float, most: int) -> list:
    """The keys over-represented in ``local``, best first by ``share * log(lift)``."""
    scored = []
    for key, share in local.items():
        base = overall.get(key, 0.0)
        lift = share / base if base > 0 else float("inf")
        if share >= min_share and lift >= min_lift:
            scored.append((share * np.log(min(lift, 1e6)), key))
    scored.sort(key=lambda item: (-item[0], str(item[1])))
    return [key for _, key in scored[:most]]


def _favoured(counts: np.ndarray, everyone: np.ndarray, members: int, population: int, titles) -> tuple[str, ...]:
    """The movies a group of users rates far more than everyone: ``count * log(lift)``, rated by 10% of the group."""
    if members == 0 or population == 0:
        return ()
    lift = (counts / members) / np.maximum(everyone / population, 1e-12)
    score = np.where((counts >= max(2, 0.1 * members)) & (lift > 1), counts * np.log(np.maximum(lift, 1.0)), 0.0)
    best = np.lexsort((np.arange(len(score)), -score))[:TITLES]
    return tuple(str(titles[i]) for i in best if score[i] > 0)
