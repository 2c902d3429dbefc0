"""Which movies each synthetic user rated: exact weighted sampling without replacement, vectorised.

A user with ``k`` ratings takes ``k`` distinct movies with probabilities
``p`` -- successive sampling, as if they drew by ``p`` and skipped repeats.
That is an *exponential race*: movie ``m`` arrives at ``E_m / p_m``
(``E_m ~ Exp(1)``) and the ``k`` earliest arrivals are the sample.  Running
the race over all 59,047 movies for each of 162,541 users would take 10^10
draws, so each user's movies are split at a horizon ``T`` (chosen so that
about ``k + 4 sqrt(k)`` movies arrive before it):

* the *head*, movies with ``p T > THETA``, get explicit arrival times;
* the *tail* is a Poisson process: ``Poisson(T * tail mass)`` draws by ``p``
  at uniform times in ``[0, T)``, where a movie's first draw is its arrival
  (exactly the race, restricted to the tail); few tail movies are drawn twice.

A user's ``p`` is the popularity weight ``w`` times one multiplier per
group: their first favourite cluster, their second, everything else.  The
groups are sampled separately (the "everything else" group by global
popularity, thinned of the favourite clusters).  The rare user with fewer
than ``k`` arrivals before ``T`` is raced again with ``2 T``.
"""

from __future__ import annotations

import numpy as np

THETA = 0.25  # head movies: expected arrivals before the horizon above this
_CHUNK_RATINGS = 1 << 22  # ratings raced at a time
_GRID = (-2.0, 17.0, 381)  # log10 of the first and last time at which expected arrivals are tabulated, and how many


class Strata:
    """Movies grouped by cluster (strata 0..C-1) and all together (stratum C), each heaviest first."""

    def __init__(self, cluster: np.ndarray, weight: np.ndarray, n_clusters: int):
        by_cluster = np.lexsort((-weight, cluster))
        self.order = np.concatenate([by_cluster, np.argsort(-weight, kind="stable")]).astype(np.int32)
        self.weight = weight[self.order]  # non-increasing within each stratum
        sizes = np.r_[np.bincount(cluster, minlength=n_clusters), len(weight)]
        self.start = np.r_[0, np.cumsum(sizes)[:-1]]
        self.end = self.start + sizes
        self.mass = np.add.reduceat(self.weight, self.start)
        self.cluster = cluster
        self.overall = n_clusters
        # Stratum s occupies keys (s, s + 1]; a stratum's last key is exactly s + 1.
        self.keys = np.concatenate([s + _unit_cumsum(self.weight[lo:hi]) for s, (lo, hi) in
                                    enumerate(zip(self.start, self.end))])
        self.grid = np.logspace(*_GRID)
        self.phi = _arrivals_table(self.weight, self.start, self.end, self.grid)

    def head_size(self, stratum: np.ndarray, threshold: np.ndarray) -> np.ndarray:
        """How many of each stratum's movies weigh more than ``threshold``."""
        size = np.zeros(len(stratum), dtype=np.int64)
        for s in np.unique(stratum):  # one pass per cluster
            at = stratum == s
            heaviest_first = -self.weight[self.start[s]:self.end[s]]
            size[at] = np.searchsorted(heaviest_first, -threshold[at], side="left")
        return size

    def key_below(self, stratum: np.ndarray, head: np.ndarray) -> np.ndarray:
        """The key at which the stratum's movies after its first ``head`` begin."""
        before = self.start[stratum] + head - 1
        return np.where(head > 0, self.keys[np.maximum(before, 0)], stratum)

    def expected(self, stratum: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Expected arrivals of a stratum's movies by time ``x`` (for weights w: sum of 1 - exp(-x w))."""
        first, last, n = _GRID
        pos = (np.log10(np.maximum(x, self.grid[0])) - first) * ((n - 1) / (last - first))
        i = np.clip(pos.astype(np.int64), 0, n - 2)
        f = np.clip(pos - i, 0.0, 1.0)
        value = self.phi[stratum, i] * (1 - f) + self.phi[stratum, i + 1] * f
        return np.where(x < self.grid[0], x * self.mass[stratum], value)


def _unit_cumsum(weight):
    running = np.cumsum(weight)
    return running / running[-1]


def _arrivals_table(weight, start, end, grid):
    """Sum of 1 - exp(-x w) over each stratum, for x on the grid."""
    table = np.zeros((len(start), len(grid)))
    for s, (lo, hi) in enumerate(zip(start, end)):
        for rows in range(0, len(grid), 64):
            table[s, rows:rows + 64] = -np.expm1(-np.outer(grid[rows:rows + 64], weight[lo:hi])).sum(axis=1)
    return table


def multipliers(favourite: np.ndarray, lean: np.ndarray, share: float, mass: np.ndarray) -> np.ndarray:
    """A user's ``p / w`` for (other clusters, first favourite, second favourite): ``(users, 3)``, 0 where none."""
    base = 1.0 - share
    two = favourite[:, 1] >= 0
    first = base + share * lean / mass[favourite[:, 0]]
    second = np.where(two, base + share * (1.0 - lean) / mass[np.maximum(favourite[:, 1], 0)], 0.0)
    return np.stack([np.full(len(lean), base), first, second], axis=1)


def horizons(lengths: np.ndarray, favourite: np.ndarray, mult: np.ndarray, strata: Strata) -> np.ndarray:
    """Per user, a time by which about ``k + 4 sqrt(k) + 4`` movies have arrived (bisection in log time)."""
    n_movies = len(strata.cluster)
    k = lengths.astype(np.float64)
    target = np.minimum(k + 4 * np.sqrt(k) + 4, (k + n_movies) / 2)
    lo, hi = np.log(np.maximum(k, 1.0)), np.full(len(k), np.log(strata.grid[-1]))
    for _ in range(40):
        mid = (lo + hi) / 2
        enough = _expected_arrivals(np.exp(mid), favourite, mult, strata) >= target
        lo, hi = np.where(enough, lo, mid), np.where(enough, mid, hi)
    return np.exp(hi)


def _expected_arrivals(t, favourite, mult, strata):
    first, second = favourite[:, 0].astype(np.int64), np.maximum(favourite[:, 1], 0).astype(np.int64)
    two = favourite[:, 1] >= 0
    everything = np.full(len(t), strata.overall)
    base = t * mult[:, 0]
    total = strata.expected(everything, base) - strata.expected(first, base) + strata.expected(first, t * mult[:, 1])
    return total - np.where(two, strata.expected(second, base) - strata.expected(second, t * mult[:, 2]), 0.0)


def draw_pairs(lengths: np.ndarray, cluster: np.ndarray, weight: np.ndarray, favourite: np.ndarray,
               lean: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted keys ``user * n_movies + movie``: ``lengths[u]`` distinct movies per user, every movie rated.

    Users draw by successive sampling from their mix (see the module
    docstring); movies nobody drew then replace some of the heaviest users'
    movies (``rate_every_movie``).
    """
    strata = Strata(cluster, weight, int(cluster.max()) + 1)
    mult = multipliers(favourite, lean, share, strata.mass)
    horizon = horizons(lengths, favourite, mult, strata)
    bounds = np.searchsorted(np.cumsum(lengths), np.arange(_CHUNK_RATINGS, lengths.sum(), _CHUNK_RATINGS))
    keys = []
    for users in np.split(np.arange(len(lengths)), bounds):  # chunks of users, in order
        done, t = [], horizon[users]
        while len(users):
            chunk, short = _race(users, lengths[users], t, favourite[users], mult[users], strata, rng)
            done.append(chunk)
            users, t = users[short], 2 * t[short]
        keys.append(np.sort(np.concatenate(done)))
    return rate_every_movie(np.concatenate(keys), lengths, len(weight), rng)


def _race(users, k, horizon, favourite, mult, strata, rng):
    """Race ``users``; returns the sorted pair keys of those with ``k`` arrivals and the indices of the rest."""
    n_movies = len(strata.cluster)
    local = np.arange(len(users))
    everything = np.full(len(users), strata.overall)
    two = favourite[:, 1] >= 0
    parts = [_arrivals(local, everything, mult[:, 0], horizon, strata, rng),
             _arrivals(local, favourite[:, 0].astype(np.int64), mult[:, 1], horizon, strata, rng),
             _arrivals(local[two], favourite[two, 1].astype(np.int64), mult[two, 2], horizon[two], strata, rng)]
    who, movie, when = parts[0]
    favoured = strata.cluster[movie]
    own = (favoured != favourite[who, 0]) & (favoured != favourite[who, 1])  # favourites race in their own group
    who, movie, when = (np.concatenate([parts[0][i][own], parts[1][i], parts[2][i]]) for i in range(3))
    user_bits, movie_bits = int(len(users) - 1).bit_length(), int(n_movies - 1).bit_length()
    time_bits = 63 - user_bits - movie_bits
    tick = np.minimum((when * (1 << time_bits)).astype(np.int64), (1 << time_bits) - 1)
    by_movie = np.sort((who << (movie_bits + time_bits)) | (movie.astype(np.int64) << time_bits) | tick)
    first = np.r_[True, (by_movie[1:] >> time_bits) != (by_movie[:-1] >> time_bits)]  # a movie's first arrival
    by_movie = by_movie[first]
    who = by_movie >> (movie_bits + time_bits)
    movie = (by_movie >> time_bits) & ((1 << movie_bits) - 1)
    by_time = (who << (movie_bits + time_bits)) | ((by_movie & ((1 << time_bits) - 1)) << movie_bits) | movie
    ranked = np.sort(by_time)
    count = np.bincount(who, minlength=len(users))
    enough = count >= k
    last = np.full(len(users), -1, dtype=np.int64)
    last[enough] = ranked[(np.cumsum(count) - count + k - 1)[enough]]
    keep = by_time <= last[who]
    return users[who[keep]].astype(np.int64) * n_movies + movie[keep], np.flatnonzero(~enough)


def _arrivals(who, stratum, mult, horizon, strata, rng):
    """Arrivals before ``horizon`` of one group per user: (user, movie, time / horizon); a movie may repeat."""
    active = mult > 0
    who, stratum, mult, horizon = who[active], stratum[active], mult[active], horizon[active]
    head = strata.head_size(stratum, THETA / (mult * horizon))
    entry = np.repeat(np.arange(len(who)), head)
    at = strata.start[stratum[entry]] + np.arange(len(entry)) - np.repeat(np.cumsum(head) - head, head)
    when = rng.exponential(size=len(entry)) / (strata.weight[at] * mult[entry] * horizon[entry])
    early = when < 1.0
    head_rows = (who[entry[early]], strata.order[at[early]], when[early])
    below = strata.key_below(stratum, head)
    tail_mass = strata.mass[stratum] * np.maximum(stratum + 1 - below, 0.0)
    entry = np.repeat(np.arange(len(who)), rng.poisson(mult * horizon * tail_mass))
    s = stratum[entry]
    key = below[entry] + rng.random(len(entry)) * (s + 1 - below[entry])
    at = np.clip(np.searchsorted(strata.keys, key, side="right"), strata.start[s] + head[entry], strata.end[s] - 1)
    tail_rows = (who[entry], strata.order[at], rng.random(len(entry)))
    return tuple(np.concatenate([h, t]) for h, t in zip(head_rows, tail_rows))


def rate_every_movie(keys: np.ndarray, lengths: np.ndarray, n_movies: int, rng: np.random.Generator) -> np.ndarray:
    """Give each movie nobody rated to the heaviest users, in place of movies others rated too."""
    counts = np.bincount(keys % n_movies, minlength=n_movies)
    unrated = np.flatnonzero(counts == 0)
    for user in np.argsort(-lengths, kind="stable"):  # ends after one or two users
        if not len(unrated):
            break
        lo, hi = np.searchsorted(keys, [user * n_movies, (user + 1) * n_movies])
        movies = keys[lo:hi] % n_movies
        spare = np.flatnonzero(counts[movies] >= 2)
        take = min(len(spare), len(unrated))
        given = rng.choice(spare, size=take, replace=False)
        counts[movies[given]] -= 1
        movies[given] = unrated[:take]
        keys[lo:hi] = np.sort(user * n_movies + movies)
        unrated = unrated[take:]
    return keys
