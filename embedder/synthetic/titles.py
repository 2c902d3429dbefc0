"""Titles of the synthetic movies (:mod:`embedder.synthetic.movies`): unique ``Title (year)`` from cluster words.

A title follows one of eight templates filled with its cluster's adjectives
and nouns, a first name or a place; about one movie in twenty is instead a
sequel (``"... 2: The Return"``) of an earlier-style title of its cluster,
released one to six years after it.  Titles that come out twice are
numbered like a franchise (``"Quiet River 2 (1999)"``), so every
``Title (year)`` is unique.  Strings are assembled with pyarrow.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NAMES = ("Annie Jack Rosa Walter Lucy Marty Ellen Otto Nina Frank Molly Hank Iris Leon Greta Sam Dora "
          "Max Vera Ray Clara Bruno Edith Felix Hazel Oscar Ruby Victor Mabel Tom").split()
_PLACES = ("Paris", "Nowhere", "Tombstone", "Brooklyn", "Mars", "Vienna", "the Valley", "Old Mexico", "Tokyo",
           "Harlem", "Berlin", "the North", "Rome", "Alaska", "Bombay", "Chinatown", "the Desert", "Havana",
           "Dublin", "Venice", "Texas", "Shanghai", "Lisbon", "the Moon")
_SUBTITLES = ("The Return", "The Reckoning", "Back Again", "The Next Chapter", "Homecoming", "Resurrection",
              "The Revenge", "Part Two")
# Template shares (see ``_templates``): the first three have sequels; the last puts double quotes in the
# title, as some ml-25m titles have.
_TEMPLATE_SHARES = (.22, .14, .14, .14, .13, .13, .09, .01)
_SEQUELS = 0.05  # share of movies that are sequels


def make_titles(cluster: np.ndarray, years: np.ndarray, tastes, last_year: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Unique ``"Title (year)"`` per movie (object array) and the years, sequels moved after their original."""
    n = len(cluster)
    kind = rng.choice(len(_TEMPLATE_SHARES), size=n, p=_TEMPLATE_SHARES)
    titles = np.array(pc.choose(pa.array(kind.astype(np.int8)), *_templates(cluster, tastes, rng)).to_pylist(),
                      dtype=object)
    years = years.copy()
    sequel, original = _sequels(cluster, kind < 3, rng)
    subtitle = np.array(_SUBTITLES, dtype=object)[rng.integers(0, len(_SUBTITLES), len(sequel))]
    titles[sequel] = titles[original] + " 2: " + subtitle
    years[sequel] = np.minimum(last_year, years[original] + rng.integers(1, 7, len(sequel)))
    return _numbered(titles, years), years


def _templates(cluster, tastes, rng):
    """The eight candidate titles of every movie, as pyarrow string arrays."""
    n = len(cluster)
    adj, (noun, other) = _words(cluster, tastes, "adjectives", rng), _two_words(cluster, tastes, rng)
    name = pa.array(np.array(_NAMES, dtype=object)[rng.integers(0, len(_NAMES), n)], pa.string())
    place = pa.array(np.array(_PLACES, dtype=object)[rng.integers(0, len(_PLACES), n)], pa.string())
    return (_join(adj, " ", noun), _join(noun, " of ", place), _join(name, "'s ", noun),
            _join(adj, " ", noun, ", The"),  # ml-25m moves a leading article to the end
            _join(adj, " ", noun, " in ", place), _join(name, " and the ", adj, " ", other),
            _join(noun, " & ", other), _join('"', adj, " ", noun, '" Live in ', place))


def _join(*parts):
    return pc.binary_join_element_wise(*parts, "")


def _vocabulary(tastes, field):
    """All clusters' words of one kind in one array, and where each cluster's begin and how many it has."""
    lists = [getattr(t, field) for t in tastes]
    sizes = np.array([len(words) for words in lists])
    return np.array([w for words in lists for w in words], dtype=object), np.cumsum(sizes) - sizes, sizes


def _words(cluster, tastes, field, rng):
    table, start, size = _vocabulary(tastes, field)
    pick = start[cluster] + (rng.random(len(cluster)) * size[cluster]).astype(np.int64)
    return pa.array(table[pick], pa.string())


def _two_words(cluster, tastes, rng):
    """Two different nouns of each movie's cluster (the same one only if the cluster has a single noun)."""
    table, start, size = _vocabulary(tastes, "nouns")
    first = (rng.random(len(cluster)) * size[cluster]).astype(np.int64)
    step = 1 + (rng.random(len(cluster)) * np.maximum(size[cluster] - 1, 1)).astype(np.int64)
    second = (first + step) % size[cluster]
    return (pa.array(table[start[cluster] + first], pa.string()),
            pa.array(table[start[cluster] + second], pa.string()))


def _sequels(cluster, can_continue, rng):
    """Which movies are sequels, and of which movie: one of the same cluster that is neither a sequel nor odd-titled."""
    sequel = rng.random(len(cluster)) < _SEQUELS
    candidates = np.flatnonzero(~sequel & can_continue)
    candidates = candidates[np.argsort(cluster[candidates], kind="stable")]
    count = np.bincount(cluster[candidates], minlength=int(cluster.max()) + 1)
    sequel = np.flatnonzero(sequel & (count[cluster] > 0))
    c = cluster[sequel]
    pick = (count.cumsum() - count)[c] + (rng.random(len(sequel)) * count[c]).astype(np.int64)
    return sequel, candidates[pick]


def _numbered(titles, years):
    """``"Title (year)"``, numbering every repeat of a title and year (``"Title 2 (year)"``) until none is left."""
    titles = titles.copy()
    suffix = np.array([f" ({y})" for y in years.tolist()], dtype=object)
    full = titles + suffix
    while True:
        _, first, group = np.unique(full, return_index=True, return_inverse=True)
        repeat = np.flatnonzero(first[group] != np.arange(len(full)))
        if not len(repeat):
            return full
        order = np.argsort(group, kind="stable")
        occurrence = np.empty(len(full), dtype=np.int64)
        occurrence[order] = np.arange(len(full)) - np.searchsorted(group[order], group[order])
        numbers = np.array([f" {k + 1}" for k in occurrence[repeat].tolist()], dtype=object)
        titles[repeat] = titles[repeat] + numbers
        full = titles + suffix
