"""The draws behind :func:`embedder.synthetic.make_log`: how many ratings, whose tastes, which stars, when.

Which movies each user rated is :mod:`embedder.synthetic.race`.  Everything
here is vectorised over users and rating rows.
"""

from __future__ import annotations

import math

import numpy as np

from embedder.errors import ConfigError

#: Share of each half star 0.5 .. 5.0, close to ml-25m's (mean 3.53, 4.0 the most common).
HALF_STARS = (0.016, 0.031, 0.016, 0.066, 0.050, 0.196, 0.126, 0.266, 0.085, 0.148)


def user_lengths(n_users: int, ratings: int, low: int, median: int, top: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Ratings per user: ``low`` + a lognormal, summing to ``ratings``, median ``median``, longest ``top``.

    The lognormal's spread is set by the mean.  Values above the median are
    then stretched (capped at ``top``) until the total is exact, so the
    median stays.  Returns int64 lengths in random user order.
    """
    mean = ratings / n_users
    sigma = math.sqrt(2 * math.log((mean - low) / (median - low))) if mean > median > low else 1.0
    x = np.sort(rng.lognormal(0.0, sigma, n_users))
    mid = n_users // 2
    x /= x[mid]  # 1 at the median
    below = np.floor(low + (median - low) * x[:mid + 1])
    below[mid - 1 if n_users % 2 == 0 else mid] = median  # an even count's median is the mean of two
    excess = x[mid + 1:-1] - 1
    need = ratings - below.sum() - top
    if not len(excess) * median <= need <= len(excess) * top:
        raise ConfigError(f"{ratings:,} ratings cannot be split among {n_users:,} users with median {median} "
                          f"and longest {top}; choose more ratings or fewer users")
    stretch = _solve_stretch(excess, median, top, need)
    above = _integer_sum(np.minimum(median + stretch * excess, top), need, top)
    return np.concatenate([below, above, [top]])[rng.permutation(n_users)].astype(np.int64)


def length_totals(n_users: int, low: int, median: int, top: int) -> tuple[int, int]:
    """The least and the most ratings ``user_lengths`` can split among ``n_users`` whatever it draws.

    The users up to the median rate ``low..median``, the longest ``top`` and
    the ones between ``median..top``; none fits when least > most.
    """
    below = n_users // 2 + 1
    between = max(n_users - below - 1, 0)
    return below * median + top + between * median, below * low + top + between * top


def _solve_stretch(excess, median, top, need):
    """The factor s with sum(min(median + s * excess, top)) == need, by bisection."""
    def total(s):
        return np.minimum(median + s * excess, top).sum()
    lo, hi = 0.0, 1.0
    while total(hi) < need and hi < 1e15:
        lo, hi = hi, hi * 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) < need else (lo, mid)
    return hi


def _integer_sum(values, need, top):
    """Round ``values`` down, then up where the remainder is largest, to sum exactly to ``need``."""
    whole = np.floor(values)
    short = int(need - whole.sum())
    room = np.flatnonzero(whole < top)
    up = room[np.argsort(-(values - whole)[room], kind="stable")[:short]]
    if len(up) < short:
        raise ConfigError("the ratings do not fit under the longest user's length; choose fewer ratings")
    whole[up] += 1
    return whole


def favourites(n_users: int, audience: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each user's favourite cluster and, for 60% of them, a second one.

    Returns ``(favourite, lean)``: an ``(n_users, 2)`` int16 array (-1 where
    there is no second favourite) and the float32 share of taste draws that go
    to the first favourite (0.65 with two favourites, else 1).
    """
    n_clusters, p = len(audience), audience / audience.sum()
    first = rng.choice(n_clusters, size=n_users, p=p)
    second = rng.choice(n_clusters, size=n_users, p=p)
    clash = second == first
    while clash.any() and n_clusters > 1:
        second[clash] = rng.choice(n_clusters, size=int(clash.sum()), p=p)
        clash = second == first
    two = (rng.random(n_users) < 0.6) & (n_clusters > 1)
    favourite = np.stack([first, np.where(two, second, -1)], axis=1).astype(np.int16)
    return favourite, np.where(two, 0.65, 1.0).astype(np.float32)


def half_stars(user: np.ndarray, movie: np.ndarray, cluster: np.ndarray, weight: np.ndarray,
               favourite: np.ndarray, bonus: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Ratings as half stars 1..10 (0.5..5.0): user bias, movie quality, taste, noise.

    The latent score is cut at its own quantiles so that the shares follow
    ``HALF_STARS``; popular movies score higher, and a user's first and
    second favourite clusters by ``bonus`` (the score's spread is about 1).
    """
    bias = rng.normal(0.0, 0.45, len(favourite)).astype(np.float32)
    fame = np.log(weight)
    quality = (rng.normal(0.0, 0.4, len(weight)) + 0.25 * (fame - fame.mean()) / fame.std()).astype(np.float32)
    c = cluster[movie]
    first, second = np.float32(bonus[0]), np.float32(bonus[1])
    taste = np.where(c == favourite[user, 0], first, np.where(c == favourite[user, 1], second, np.float32(0.0)))
    del c
    score = bias[user] + quality[movie] + taste + 0.8 * rng.standard_normal(len(user), dtype=np.float32)
    sample = score[rng.integers(0, len(score), min(len(score), 1 << 18))]
    cuts = np.quantile(sample, np.cumsum(HALF_STARS)[:-1] / sum(HALF_STARS))
    return (np.searchsorted(cuts, score) + 1).astype(np.uint8)


def timestamps(user: np.ndarray, movie: np.ndarray, cluster: np.ndarray, lengths: np.ndarray,
               period: tuple[int, int], sticky: float, rng: np.random.Generator) -> np.ndarray:
    """Seconds for rows grouped by user: sessions minutes apart, days to years between sessions.

    A user's ratings of one cluster tend to come together in time, the more
    so the larger ``sticky`` (0: not at all).  Every user's ratings fall in
    ``period`` (the first and last second).
    """
    n_users, n = len(lengths), len(user)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    gap = (3 + rng.lognormal(np.log(20), 1.0, n)).astype(np.int64)
    session = np.flatnonzero(rng.random(n, dtype=np.float32) < 1 / 30)
    gap[session] = np.minimum(rng.lognormal(np.log(2 * 86400), 1.8, len(session)), 4 * 365 * 86400)
    gap[first] = 0
    elapsed = np.cumsum(gap)
    del gap, session
    elapsed -= elapsed[first][user]
    span = elapsed[first + lengths - 1]
    room = period[1] - period[0]
    squeezed = np.flatnonzero(span > room)
    if len(squeezed):  # a very long history is compressed into the period
        rows = np.flatnonzero(np.isin(user, squeezed))
        elapsed[rows] = (elapsed[rows] * (room / span[user[rows]])).astype(np.int64)
        span = np.minimum(span, room)
    start = period[0] + ((room - span) * rng.beta(1.4, 1.2, n_users)).astype(np.int64)
    elapsed += start[user]
    out = np.empty(n, dtype=np.int64)
    out[first[user] + _time_slots(user, movie, cluster, lengths, first, sticky, rng)] = elapsed
    return out


def _time_slots(user, movie, cluster, lengths, first, sticky, rng):
    """For each time slot of each user (in order), the row within the user that takes it."""
    n_clusters = int(cluster.max()) + 1
    user_bits, row_bits = int(len(lengths) - 1).bit_length(), int(lengths.max() - 1).bit_length()
    key_bits = 63 - user_bits - row_bits
    phase = rng.random((len(lengths), n_clusters), dtype=np.float32)
    key = rng.random(len(user), dtype=np.float32) + np.float32(sticky) * phase[user, cluster[movie]]
    slot = (key * ((1 << key_bits) / (1 + sticky))).astype(np.int64)
    del key
    np.minimum(slot, (1 << key_bits) - 1, out=slot)  # clamped as integers: float32 rounds 2**30 - 1 up
    packed = (user.astype(np.int64) << (key_bits + row_bits)) | (slot << row_bits)
    del slot
    packed |= np.arange(len(user), dtype=np.int64) - first[user]
    packed.sort()
    return packed & ((1 << row_bits) - 1)
