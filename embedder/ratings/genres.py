"""Movies' genre tuples -> the legend's genre facets, each movie's facet mask and colour.

One home for what "no genre" means and for the map's colours: the explorer
(``explorer.js`` reads the palette from its manifest), the picture and the
regions all colour a movie the same way.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

#: Genre names that mean "no genre" in MovieLens and in generic logs.
NO_GENRE = frozenset({"", "(no genres listed)", "(no genres)", "unknown"})
#: A uint16 bit mask per movie: at most 15 named genres plus "Other".
MAX_FACETS = 16
OTHER = "Other"
#: The 15 named facets' colours (tableau-like, readable on light and dark backgrounds); grey is Other.
PALETTE = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (23, 190, 207), (188, 189, 34), (92, 107, 192),
    (255, 187, 120), (120, 200, 110), (255, 152, 150), (197, 176, 213), (0, 128, 128),
)
GREY = (150, 150, 150)


def listed(genres) -> list[list[str]]:
    """Each movie's genres without the "no genre" markers."""
    return [[g for g in movie if g not in NO_GENRE] for movie in genres]


def genre_facets(genres) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The legend's genres and each movie's bit mask over them.

    Genres are ranked by how many movies have them (a movie with several
    genres counts in each); the 15 most common keep their name and the rest,
    with movies that have no genre, share ``Other`` (always last).  Returns
    ``(names, masks uint16, movies per facet)``.
    """
    movies = listed(genres)
    counts = Counter(g for movie in movies for g in dict.fromkeys(movie))
    ranked = [g for g, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    need_other = len(ranked) > MAX_FACETS or any(not movie for movie in movies)
    keep = ranked[: MAX_FACETS - 1] if need_other else ranked
    names = keep + ([OTHER] if need_other else [])
    bit = {g: 1 << i for i, g in enumerate(keep)}
    other = (1 << names.index(OTHER)) if need_other else 0
    masks = np.zeros(len(movies), dtype=np.uint16)
    for row, movie in enumerate(movies):
        m = 0
        for g in movie:
            m |= bit.get(g, other)
        masks[row] = m or other
    facet_counts = np.array([int(((masks >> i) & 1).sum()) for i in range(len(names))], dtype=np.int64)
    return names, masks, facet_counts


def facet_colour(facet: int, names: list[str]) -> tuple[int, int, int]:
    """The colour of a facet (grey for Other and for none)."""
    if facet < 0 or facet >= len(names) or names[facet] == OTHER:
        return GREY
    return PALETTE[facet % len(PALETTE)]


def movie_facets(masks: np.ndarray, names: list[str]) -> np.ndarray:
    """The facet each movie is coloured by: its rarest named genre (the legend is sorted by frequency), else Other."""
    masks = np.asarray(masks, dtype=np.int64)
    other = names.index(OTHER) if OTHER in names else -1
    named = masks & ~(1 << other) if other >= 0 else masks
    highest = np.floor(np.log2(np.maximum(named, 1))).astype(np.int64)
    return np.where(named > 0, highest, other)


def movie_colours(masks: np.ndarray, names: list[str]) -> np.ndarray:
    """An (N, 3) uint8 array: each movie's colour on the map."""
    table = np.array([facet_colour(f, names) for f in range(len(names))] + [GREY], dtype=np.uint8)
    facets = movie_facets(masks, names)
    return table[np.where(facets >= 0, facets, len(names))]
