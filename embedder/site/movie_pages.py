"""The static movie pages (``--movie-pages``): one ``movies/<id>.html`` per movie, no JavaScript.

Each page shows a movie's details and its similar and co-rated movies as
links to their pages, and links back to the explorer.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from urllib.parse import quote

import numpy as np

from embedder.ratings.genres import NO_GENRE
from embedder.site.explorer_lists import rare_points

MOVIE_PAGES = "movies"
#: Longest movie page name (before ``.html``): well under the 255 bytes file systems allow.
PAGE_NAME_MAX = 120
_SAFE_ID = re.compile(r"[A-Za-z0-9-]")


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


def render_movie_pages(data, env, titles, corated, corated_n, pages, dataset, build, *,
                       explorer_page: str) -> dict[str, bytes]:
    """``movies/<id>.html`` for every movie: details, similar and co-rated movies as links, no JavaScript.

    ``data`` is the explorer's ``ExplorerInput``; ``titles`` the short titles,
    ``corated``/``corated_n`` the co-rated lists, ``pages`` each movie's page
    name; the pages link back to ``explorer_page`` (at the site root).
    """
    template = env.get_template("movie.html.j2")
    years = np.asarray(data.years)
    files = {}

    def ref(j: int) -> dict:
        return {"title": titles[j], "year": int(years[j]) if years[j] > 0 else None, "href": quote(pages[j])}

    imdb = data.links.get("imdb") if data.links else None
    tmdb = data.links.get("tmdb") if data.links else None
    rare = rare_points(data.supported_movies, len(data.movie_ids))
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
            "region_href": f"../{explorer_page}#region={region}",
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
            explorer=f"../{explorer_page}#movie={quote(str(movie_id), safe='')}",
        )
        files[f"{MOVIE_PAGES}/{pages[r]}"] = template.render(**asdict(context)).encode("utf-8")
    return files
