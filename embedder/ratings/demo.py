"""The built-in demo: a small seeded synthetic MovieLens-shaped ratings log, made in code.

``make_demo`` stands in for a downloaded dataset (``--dataset demo``, the
tests, the benchmarks).  It is a small spec (``demo_spec``) of the synthetic
log generator, :func:`embedder.synthetic.logs.make_log`, with its own eight
planted *taste clusters* (``CLUSTERS``): each a blend of genres with its era
and title words.  Users favour one or two clusters and rate a cluster's
movies together in time, so a working embedding puts a cluster's movies next
to each other.  What only the demo has is drawn here: ml-100k-style user
attributes (age, gender, occupation).  ``make_demo_with_truth`` also returns
the planted cluster of every movie so that tests can check exactly that.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from embedder.errors import ConfigError
from embedder.synthetic.logs import SyntheticLog, SyntheticSpec, catalogue_movies, make_log
from embedder.synthetic.movies import taste
from embedder.synthetic.sampling import length_totals
from embedder.values import Dataset, Interactions, Users

CLUSTERS = (
    taste("Animation", .12, .12, 0.0, (2006, 11),
          {"Children": 4, "Comedy": 3, "Fantasy": 2, "Adventure": 2, "Musical": 1},
          "Little Brave Magic Lost Happy Tiny Flying Secret",
          "Dragon Bunny Kingdom Robot Forest Penguin Balloon Toybox Friends Snowman", name="animated family"),
    taste("Sci-Fi", .16, .16, 0.0, (2006, 11), {"Action": 4, "Adventure": 3, "Thriller": 2, "IMAX": 1},
          "Dark Final Infinite Quantum Red Iron Last Silent",
          "Galaxy Frontier Machine Horizon Protocol Star Orbit Colony Signal", name="sci-fi action"),
    taste("Horror", .12, .12, 0.0, (1996, 16), {"Thriller": 3, "Mystery": 2, "Comedy": 1},
          "Cursed Hollow Bloody Silent Dead Hungry Midnight Pale",
          "House Night Grave Woods Ritual Mirror Cellar Harvest", name="horror"),
    taste("Drama", .18, .18, 0.0, (2001, 14), {"Romance": 5, "Comedy": 2},
          "Sweet Broken Summer Endless Paper Golden Quiet Tender",
          "Heart Letters Promise Harbor Garden Wedding Rain Season", name="romance/drama"),
    taste("Crime", .14, .14, 0.0, (1991, 19), {"Thriller": 4, "Drama": 3, "Mystery": 2, "Film-Noir": 1},
          "Cold Crooked Dirty Blind Black Deadly Long Naked",
          "City Alibi Heist Witness Score Street Motive Contract", name="crime/thriller"),
    taste("Documentary", .06, .06, 0.0, (2010, 8), {"Drama": 1, "War": 1},
          "Hidden Wild Unseen Deep Great Fragile True Living",
          "Planet Ocean Story Truth Earth Voices Climate Mountain", name="documentary"),
    taste("Musical", .08, .08, 0.0, (1962, 18), {"Romance": 3, "Comedy": 2, "Drama": 1},
          "Singing Dancing Blue Merry Starlit Jolly Lively Moonlit",
          "Melody Broadway Serenade Parade Ballroom Rhythm Songbird Waltz", name="musical"),
    taste("Western", .14, .14, 0.0, (1966, 17), {"War": 4, "Action": 2, "Drama": 2, "Adventure": 1},
          "Lonesome Dusty Brave Bitter Savage Iron High Fallen",
          "Canyon Frontier Rider Battalion Trail Ridge Sheriff Outpost", name="western/war"),
)
"""The planted taste clusters; ``make_demo_with_truth`` indexes into this."""

_FAN_AGES = (27, 29, 26, 33, 35, 38, 45, 44)  # mean age of the users whose favourite is each cluster
_OCCUPATIONS = ("administrator artist doctor educator engineer entertainment executive healthcare "
                "homemaker lawyer librarian marketing none other programmer salesman scientist "
                "technician writer").split()
_MIN_LENGTH, _MEDIAN_LENGTH, _MEAN_LENGTH = 5, 41, 59  # ratings per user, at the default size
#: The demo's shape beyond its size: clear-cut tastes rated together in time, one to three genres per movie
#: (none unlisted), release years from each cluster's era, and ratings from 1996-01-01 to 2018-12-31.
_SHAPE = dict(clusters=len(CLUSTERS), tastes=CLUSTERS, taste_share=0.97, taste_bonus=(1.4, 0.9), stickiness=4.0,
              zipf_exponent=0.9, zipf_offset=20.0, genre_counts=(0.3, 0.45, 0.25), unlisted_genres=0.0,
              new_releases=0.0, years=(1930, 2023), period=(820_454_400, 1_546_214_400))


def demo_spec(seed: int = 0, n_movies: int = 400, n_users: int = 600) -> SyntheticSpec:
    """The synthetic log behind the demo: ``n_users`` users of ``n_movies`` movies (ids 1..n_movies).

    Users rate at least 5 movies and at most half of them (or 5), a median
    of 41 and about 59 on average: 35,400 ratings at the defaults (fewer
    per user when the catalogue or the users are few).
    """
    if n_movies < len(CLUSTERS) or n_users < 3:
        raise ConfigError(f"the demo needs n_movies >= {len(CLUSTERS)} and n_users >= 3, "
                          f"got n_movies={n_movies}, n_users={n_users}")
    longest = min(n_movies, max(_MIN_LENGTH, n_movies // 2))
    median = min(_MEDIAN_LENGTH, (_MIN_LENGTH + longest) // 2)
    least, most = length_totals(n_users, _MIN_LENGTH, median, longest)
    if least > most:  # too few users to spread out: half of them rate the least
        median = _MIN_LENGTH
        least, most = length_totals(n_users, _MIN_LENGTH, median, longest)
    if most < n_movies:
        raise ConfigError(f"the demo's {n_users} users cannot rate all of its {n_movies} movies; "
                          f"choose more users or fewer movies")
    ratings = max(n_movies, min(max(round(n_users * median * _MEAN_LENGTH / _MEDIAN_LENGTH), least), most))
    return SyntheticSpec(ratings=ratings, users=n_users, movies=n_movies,
                         median_length=median, min_length=_MIN_LENGTH, max_length=longest, max_movie_id=n_movies,
                         seed=seed, **_SHAPE)


def make_demo(seed: int = 0, n_movies: int = 400, n_users: int = 600) -> Dataset:
    """Make the synthetic demo ratings log (see ``make_demo_with_truth``)."""
    return make_demo_with_truth(seed, n_movies, n_users)[0]


def make_demo_with_truth(seed: int = 0, n_movies: int = 400,
                         n_users: int = 600) -> tuple[Dataset, np.ndarray]:
    """Make the synthetic demo log and the planted cluster of each movie.

    Parameters
    ----------
    seed : int
        The same seed gives identical arrays.
    n_movies, n_users : int
        The size (see ``demo_spec``); every movie is rated and every user
        rates at least 5 movies.

    Returns
    -------
    dataset : Dataset
        Movies with generated titles, years and genres, users with age,
        gender and occupation, and ratings in half stars with timestamps,
        each user's in time order.
    cluster_of_movie : np.ndarray
        int array aligned with ``dataset.movies.ids``: an index into
        ``CLUSTERS``.
    """
    log = make_log(demo_spec(seed, n_movies, n_users))
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(7)[6])  # make_log draws from the first six
    order = np.lexsort((log.timestamp, log.user))
    movies = catalogue_movies(log.catalogue, links=False)
    movies = replace(movies, ids=movies.ids.astype(str), titles=movies.titles.astype(str))
    user_ids = np.arange(1, n_users + 1).astype(str)
    interactions = Interactions(
        user_ids=user_ids, item_ids=movies.ids, user=log.user[order], item=log.movie[order],
        rating=(log.stars[order] / 2).astype(np.float32), timestamp=log.timestamp[order])
    dataset = Dataset(name="demo", source=f"synthetic demo (seed {seed})", interactions=interactions,
                      movies=movies, users=Users(ids=user_ids, attributes=_demographics(log, rng)))
    return dataset, log.catalogue.cluster.astype(np.intp)


def _demographics(log: SyntheticLog, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """ml-100k-style attributes as strings: age (by the favourite cluster), gender, occupation."""
    n = log.spec.users
    age = np.clip(np.rint(rng.normal(np.array(_FAN_AGES)[log.favourite[:, 0]], 10)), 7, 73).astype(int)
    occupation = np.array(_OCCUPATIONS)[rng.integers(0, len(_OCCUPATIONS), n)]
    roll = rng.random(n)
    occupation = np.where((age < 23) & (roll < 0.7), "student", occupation)
    occupation = np.where((age >= 62) & (roll < 0.6), "retired", occupation)
    gender = np.where(rng.random(n) < 0.7, "M", "F")
    return {"age": age.astype(str), "gender": gender, "occupation": occupation.astype(str)}
