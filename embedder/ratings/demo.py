"""A seeded synthetic MovieLens-shaped ratings log, made in code.

``make_demo`` stands in for a downloaded dataset (``--demo``, the tests, the
benchmarks).  Its movies fall into eight planted *taste clusters* (see
``CLUSTERS``); users favour one or two of them and rate in sessions that tend
to stay inside a cluster, so a working embedding puts a cluster's movies next
to each other.  ``make_demo_with_truth`` also returns the planted cluster of
every movie so that tests can check exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedder.errors import ConfigError
from embedder.values import Dataset, Interactions, Movies, Users


@dataclass(frozen=True)
class Cluster:
    """One planted taste cluster: its genre mix, era and title vocabulary."""

    name: str
    genres: tuple[str, ...]
    genre_weights: tuple[float, ...]
    era: tuple[float, float]
    share: float
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]
    fan_age: float


def _c(name, genres, weights, era, share, adjectives, nouns, fan_age):
    return Cluster(name, tuple(genres), tuple(weights), era, share, tuple(adjectives.split()),
                   tuple(nouns.split()), fan_age)


CLUSTERS: tuple[Cluster, ...] = (
    _c("animated family", ["Animation", "Children", "Comedy", "Fantasy", "Adventure", "Musical"],
       [5, 4, 3, 2, 2, 1], (2006, 11), 0.12, "Little Brave Magic Lost Happy Tiny Flying Secret",
       "Dragon Bunny Kingdom Robot Forest Penguin Balloon Toybox Friends Snowman", 27),
    _c("sci-fi action", ["Sci-Fi", "Action", "Adventure", "Thriller", "IMAX"],
       [5, 4, 3, 2, 1], (2006, 11), 0.16, "Dark Final Infinite Quantum Red Iron Last Silent",
       "Galaxy Frontier Machine Horizon Protocol Star Orbit Colony Signal", 29),
    _c("horror", ["Horror", "Thriller", "Mystery", "Comedy"],
       [6, 3, 2, 1], (1996, 16), 0.12, "Cursed Hollow Bloody Silent Dead Hungry Midnight Pale",
       "House Night Grave Woods Ritual Mirror Cellar Harvest", 26),
    _c("romance/drama", ["Romance", "Drama", "Comedy"],
       [5, 5, 2], (2001, 14), 0.18, "Sweet Broken Summer Endless Paper Golden Quiet Tender",
       "Heart Letters Promise Harbor Garden Wedding Rain Season", 33),
    _c("crime/thriller", ["Crime", "Thriller", "Drama", "Film-Noir", "Mystery"],
       [5, 4, 3, 1, 2], (1991, 19), 0.14, "Cold Crooked Dirty Blind Black Deadly Long Naked",
       "City Alibi Heist Witness Score Street Motive Contract", 35),
    _c("documentary", ["Documentary", "Drama", "War"],
       [8, 1, 1], (2010, 8), 0.06, "Hidden Wild Unseen Deep Great Fragile True Living",
       "Planet Ocean Story Truth Earth Voices Climate Mountain", 38),
    _c("musical", ["Musical", "Romance", "Comedy", "Drama"],
       [6, 3, 2, 1], (1962, 18), 0.08, "Singing Dancing Blue Merry Starlit Jolly Lively Moonlit",
       "Melody Broadway Serenade Parade Ballroom Rhythm Songbird Waltz", 45),
    _c("western/war", ["Western", "War", "Action", "Drama", "Adventure"],
       [5, 4, 2, 2, 1], (1966, 17), 0.14, "Lonesome Dusty Brave Bitter Savage Iron High Fallen",
       "Canyon Frontier Rider Battalion Trail Ridge Sheriff Outpost", 44),
)
"""The planted taste clusters; ``make_demo_with_truth`` indexes into this."""

_NAMES = "Annie Jack Rosa Walter Lucy Marty Ellen Otto Nina Frank Molly Hank".split()
_PLACES = ("Paris", "Nowhere", "Tombstone", "Brooklyn", "Mars", "Vienna", "the Valley", "Old Mexico")
_SUBTITLES = ("The Return", "The Reckoning", "Back Again", "The Next Chapter", "Homecoming")
_OCCUPATIONS = ("administrator artist doctor educator engineer entertainment executive healthcare "
                "homemaker lawyer librarian marketing none other programmer salesman scientist "
                "technician writer").split()

_START, _END = 820454400, 1546214400  # 1996-01-01 .. 2018-12-31, UTC
_STAR_BONUS = (0.8, 0.5)  # rating bonus for the first and second favourite cluster
_OFF_TASTE = -0.4


def make_demo(seed: int = 0, n_movies: int = 400, n_users: int = 600) -> Dataset:
    """Make the synthetic demo ratings log (see ``make_demo_with_truth``)."""
    return make_demo_with_truth(seed, n_movies, n_users)[0]


def make_demo_with_truth(seed: int = 0, n_movies: int = 400,
                         n_users: int = 600) -> tuple[Dataset, np.ndarray]:
    """Make the synthetic demo log and the planted cluster of each movie.

    Parameters
    ----------
    seed : int
        Everything is drawn from ``numpy.random.default_rng(seed)``; the same
        seed gives identical arrays.
    n_movies, n_users : int
        Upper bounds: movies nobody rated (rare at the defaults) are dropped,
        as are users left with fewer than 5 ratings.

    Returns
    -------
    dataset : Dataset
        Movies with generated titles, years and genres, users with age,
        gender and occupation, and ratings in half stars with timestamps.
    cluster_of_movie : np.ndarray
        int array aligned with ``dataset.movies.ids``: an index into
        ``CLUSTERS``.
    """
    if n_movies < len(CLUSTERS) or n_users < 1:
        raise ConfigError(f"the demo needs n_movies >= {len(CLUSTERS)} and n_users >= 1, "
                          f"got n_movies={n_movies}, n_users={n_users}")
    rng = np.random.default_rng(seed)
    cluster = _assign_clusters(rng, n_movies)
    titles, years = _make_titles(rng, cluster, _draw_years(rng, cluster))
    popularity = _draw_popularity(rng, cluster)
    favourites = _draw_favourites(rng, n_users)
    log = _draw_log(rng, cluster, popularity, favourites, n_movies)
    rating = _draw_ratings(rng, log, cluster, popularity, favourites)
    genres = _make_genres(rng, cluster)
    users = _make_users(rng, favourites)
    return _assemble(seed, log, rating, titles, years, genres, users, cluster)


def _assign_clusters(rng, n_movies):
    """Cluster of each movie: sizes by ``share`` (at least one each), shuffled."""
    shares = np.array([c.share for c in CLUSTERS])
    extra = n_movies - len(CLUSTERS)
    sizes = 1 + np.floor(shares / shares.sum() * extra).astype(int)
    sizes[np.argsort(-shares, kind="stable")[: n_movies - sizes.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(len(CLUSTERS)), sizes))


def _draw_years(rng, cluster):
    """Release years around each cluster's era, reflected into 1930..2023."""
    mean = np.array([c.era[0] for c in CLUSTERS])[cluster]
    spread = np.array([c.era[1] for c in CLUSTERS])[cluster]
    years = np.rint(rng.normal(mean, spread)).astype(np.int32)
    years = np.where(years > 2023, 4046 - years, years)
    years = np.where(years < 1930, 3860 - years, years)
    return np.clip(years, 1930, 2023).astype(np.int32)


def _draw_popularity(rng, cluster):
    """Zipf-like weight of each movie within its cluster (sums to 1 per cluster)."""
    weight = np.zeros(len(cluster))
    for c in range(len(CLUSTERS)):
        members = np.flatnonzero(cluster == c)
        ranks = rng.permutation(len(members))
        weight[members] = 1.0 / (ranks + 1.0) ** 0.9
        weight[members] /= weight[members].sum()
    return weight


def _draw_favourites(rng, n_users):
    """Each user's preference over clusters: one or two favourites plus noise.

    Returns an ``(n_users, n_clusters)`` probability matrix and the favourite
    cluster indices (second column -1 when the user has one favourite).
    """
    n = len(CLUSTERS)
    shares = np.array([c.share for c in CLUSTERS])
    first = rng.choice(n, size=n_users, p=shares / shares.sum())
    second = (first + rng.integers(1, n, size=n_users)) % n
    second = np.where(rng.random(n_users) < 0.5, second, -1)
    prefs = np.full((n_users, n), 0.08 / n)
    rows = np.arange(n_users)
    prefs[rows, first] += np.where(second >= 0, 0.62, 0.92)
    prefs[rows[second >= 0], second[second >= 0]] += 0.30
    return prefs, np.stack([first, second], axis=1)


def _draw_log(rng, cluster, popularity, favourites, n_movies):
    """Who rated what and when: sessions that tend to stay in one cluster."""
    prefs, _ = favourites
    n_users = len(prefs)
    cap = min(n_movies, max(5, n_movies // 2))
    lengths = np.minimum(5 + np.floor(rng.lognormal(np.log(36), 0.9, n_users)), cap).astype(int)
    user = np.repeat(np.arange(n_users), lengths)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    pos = np.arange(len(user)) - first[user]
    session = (rng.random(len(user)) < 0.12) | (pos == 0)
    time = _draw_times(rng, user, first, session)
    want = _draw_cluster_walk(rng, prefs, user, pos, session)
    movie = _draw_movies(rng, want, user, cluster, popularity)
    keep = movie >= 0
    return {"user": user[keep], "movie": movie[keep], "time": time[keep]}


def _draw_times(rng, user, first, session):
    """Increasing timestamps: seconds to minutes apart within a session, days between."""
    n = len(user)
    within = 3 + rng.lognormal(np.log(40), 1.0, n)
    between = np.minimum(rng.lognormal(np.log(2 * 86400), 1.2, n), 120 * 86400)
    gap = np.ceil(np.where(session, between, within)).astype(np.int64)
    gap[first] = 0
    total = np.cumsum(gap)
    start = rng.integers(_START, _END, size=len(first), dtype=np.int64)
    return start[user] + total - total[first][user]


def _draw_cluster_walk(rng, prefs, user, pos, session):
    """The cluster each rating is drawn from: a sticky walk over the user's tastes."""
    n = len(user)
    switch = np.where(session, rng.random(n) < 0.5, rng.random(n) < 0.1) | (pos == 0)
    cumulative = np.cumsum(prefs, axis=1)[user]
    drawn = np.minimum((rng.random(n)[:, None] > cumulative).sum(axis=1), prefs.shape[1] - 1)
    last_switch = np.maximum.accumulate(np.where(switch, np.arange(n), 0))
    return drawn[last_switch]


def _draw_movies(rng, want, user, cluster, popularity):
    """A movie per rating from the wanted cluster, by popularity; -1 where none fits.

    A draw that repeats a movie the user already rated is redone: by
    popularity within the cluster, then uniformly within it (the user has seen
    its hits), and at last from any movie (the user exhausted the cluster).
    """
    by_popularity = _cluster_sampler(cluster, popularity)
    uniformly = _cluster_sampler(cluster, np.ones(len(cluster)))
    movie = np.full(len(user), -1)
    bad = np.ones(len(user), dtype=bool)
    for attempt in range(24):
        if attempt < 16:
            sampler = by_popularity if attempt < 4 else uniformly
            movie[bad] = sampler(want[bad], rng.random(bad.sum()))
        else:
            movie[bad] = rng.integers(0, len(cluster), size=bad.sum())
        bad = _repeats(user, movie, len(cluster))
        if not bad.any():
            break
    movie[bad] = -1
    return movie


def _cluster_sampler(cluster, weight):
    """A function mapping (cluster, uniform draw) to a movie, by ``weight`` within the cluster."""
    order = np.argsort(cluster, kind="stable")
    keys = np.empty(len(cluster))
    for c in range(len(CLUSTERS)):
        at = np.flatnonzero(cluster[order] == c)
        running = np.cumsum(weight[order[at]])
        keys[at] = c + running / running[-1]  # the cluster's last key is exactly c + 1

    def sample(wanted, u):
        return order[np.searchsorted(keys, wanted + u, side="right")]
    return sample


def _repeats(user, movie, n_movies):
    """True where (user, movie) already occurred at an earlier position."""
    key = user.astype(np.int64) * n_movies + movie
    order = np.argsort(key, kind="stable")
    repeat = np.zeros(len(key), dtype=bool)
    repeat[order[1:]] = key[order[1:]] == key[order[:-1]]
    return repeat


def _draw_ratings(rng, log, cluster, popularity, favourites):
    """Half-star ratings, higher for a user's favourite clusters (some users rate in whole stars)."""
    _, fav = favourites
    n_users = len(fav)
    user, movie = log["user"], log["movie"]
    fame = np.log(popularity)
    quality = rng.normal(0, 0.35, len(cluster)) + 0.15 * (fame - fame.mean()) / max(fame.std(), 1e-9)
    bias = rng.normal(0, 0.35, n_users)
    whole = rng.random(n_users) < 0.3
    c = cluster[movie]
    taste = np.where(c == fav[user, 0], _STAR_BONUS[0],
                     np.where(c == fav[user, 1], _STAR_BONUS[1], _OFF_TASTE))
    score = 3.2 + bias[user] + quality[movie] + taste + rng.normal(0, 0.6, len(user))
    stars = np.where(whole[user], np.clip(np.rint(score), 1, 5), np.clip(np.rint(score * 2) / 2, 0.5, 5))
    return stars.astype(np.float32)


def _make_titles(rng, cluster, years):
    """A unique ``"Title (year)"`` per movie from the cluster's word lists.

    Returns the titles and the years, where a sequel is moved to one to six
    years after its original.
    """
    titles, seen, years = [], set(), years.copy()
    originals = {c: [] for c in range(len(CLUSTERS))}
    for i, c in enumerate(cluster):
        title, of = _title(rng, CLUSTERS[c], originals[c])
        for _ in range(10):
            if title not in seen:
                break
            title, of = _title(rng, CLUSTERS[c], originals[c])
        base, number = title, 2
        while title in seen:  # word lists exhausted: number it like a franchise
            title, number = f"{base} {number}", number + 1
        if of is None:
            originals[c].append((title, i))
        else:
            years[i] = min(2023, years[of] + int(rng.integers(1, 7)))
        seen.add(title)
        titles.append(title)
    return [f"{t} ({y})" for t, y in zip(titles, years)], years


def _title(rng, cl, originals):
    """One title from a template, and the index of the original if it is a sequel.

    About one title in twenty is a sequel of an earlier movie of the cluster.
    """
    kind = int(rng.integers(0, 20))
    if kind == 0 and originals:
        original, index = originals[int(rng.integers(0, len(originals)))]
        return f"{original} 2: {_pick(rng, _SUBTITLES)}", index
    adj, noun, other = _pick(rng, cl.adjectives), *rng.choice(cl.nouns, 2, replace=False)
    templates = (f"The {adj} {noun}", f"{adj} {noun}", f"{noun} of the {other}",
                 f"{_pick(rng, _NAMES)}'s {noun}", f"{noun} & {other}",
                 f"A {noun} in {_pick(rng, _PLACES)}", f"The {noun}")
    return templates[kind % len(templates)], None


def _pick(rng, options):
    return options[int(rng.integers(0, len(options)))]


def _make_genres(rng, cluster):
    """One to three genres per movie from the cluster's mix, in alphabetical order."""
    genres = []
    counts = rng.choice([1, 2, 3], size=len(cluster), p=[0.3, 0.45, 0.25])
    for c, k in zip(cluster, counts):
        cl = CLUSTERS[c]
        weights = np.array(cl.genre_weights, dtype=float)
        chosen = rng.choice(len(cl.genres), size=min(k, len(cl.genres)), replace=False,
                            p=weights / weights.sum())
        genres.append(tuple(sorted(cl.genres[j] for j in chosen)))
    return tuple(genres)


def _make_users(rng, favourites):
    """ml-100k-style attributes: age, gender, occupation (as strings)."""
    _, fav = favourites
    n = len(fav)
    age_mean = np.array([c.fan_age for c in CLUSTERS])[fav[:, 0]]
    age = np.clip(np.rint(rng.normal(age_mean, 10)), 7, 73).astype(int)
    occupation = np.array(_OCCUPATIONS)[rng.integers(0, len(_OCCUPATIONS), n)]
    roll = rng.random(n)
    occupation = np.where((age < 23) & (roll < 0.7), "student", occupation)
    occupation = np.where((age >= 62) & (roll < 0.6), "retired", occupation)
    gender = np.where(rng.random(n) < 0.7, "M", "F")
    return {"age": _numbers_as_ids(age), "gender": gender, "occupation": occupation.astype(str)}


def _assemble(seed, log, rating, titles, years, genres, users, cluster):
    """Drop unrated movies and users with under 5 ratings; build the Dataset."""
    counts = np.bincount(log["user"], minlength=len(users["age"]))
    keep = counts[log["user"]] >= 5
    user, movie, time, rating = log["user"][keep], log["movie"][keep], log["time"][keep], rating[keep]
    rated_users, user_code = np.unique(user, return_inverse=True)
    rated_movies, item_code = np.unique(movie, return_inverse=True)
    movie_ids = _numbers_as_ids(rated_movies + 1)
    user_ids = _numbers_as_ids(rated_users + 1)
    interactions = Interactions(
        user_ids=user_ids, item_ids=movie_ids, user=user_code.astype(np.int32),
        item=item_code.astype(np.int32), rating=rating, timestamp=time.astype(np.int64))
    movies = Movies(ids=movie_ids, titles=np.array(titles)[rated_movies],
                    years=years[rated_movies], genres=tuple(genres[m] for m in rated_movies))
    people = Users(ids=user_ids, attributes={k: v[rated_users] for k, v in users.items()})
    dataset = Dataset(name="demo", source=f"synthetic demo (seed {seed})",
                      interactions=interactions, movies=movies, users=people)
    return dataset, cluster[rated_movies]


def _numbers_as_ids(numbers):
    """Integers as a compact string array (``"1"``, ``"2"``, ...)."""
    return np.array([str(n) for n in numbers.tolist()], dtype=str)
