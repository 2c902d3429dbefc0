"""Tiny data made in code, shared by the tests."""

import numpy as np

from embedder.values import Interactions


def interactions(rows, with_rating=True, with_time=True):
    """Interactions from (user, item, rating, timestamp) tuples, in the given (file) order."""
    users, items = [], []
    for user, item, *_ in rows:
        if user not in users:
            users.append(user)
        if item not in items:
            items.append(item)
    return Interactions(
        user_ids=np.array(users, dtype=object),
        item_ids=np.array(items, dtype=object),
        user=np.array([users.index(r[0]) for r in rows], dtype=np.int32),
        item=np.array([items.index(r[1]) for r in rows], dtype=np.int32),
        rating=np.array([r[2] for r in rows], dtype=np.float32) if with_rating else None,
        timestamp=np.array([r[3] for r in rows], dtype=np.int64) if with_time else None,
    )


def with_rare_movies(dataset, n: int = 12, seed: int = 0):
    """The dataset plus ``n`` movies rated once or twice each (by random users, after everything else).

    Their ids are ``rare-0`` ... and their titles ``Rarely Seen 0`` ...: the
    support rule must keep them out of every list and fit, yet findable.
    """
    from dataclasses import replace

    rng = np.random.default_rng(seed)
    inter, movies = dataset.interactions, dataset.movies
    first = len(inter.item_ids)
    raters = [rng.choice(len(inter.user_ids), size=1 + (i % 2), replace=False) for i in range(n)]
    users = np.concatenate(raters).astype(inter.user.dtype)
    items = np.concatenate([np.full(len(r), first + i) for i, r in enumerate(raters)]).astype(inter.item.dtype)
    last = int(inter.timestamp.max()) if inter.timestamp is not None else 0
    interactions = Interactions(
        user_ids=inter.user_ids,
        item_ids=np.concatenate([inter.item_ids, np.array([f"rare-{i}" for i in range(n)], dtype=object)]),
        user=np.concatenate([inter.user, users]),
        item=np.concatenate([inter.item, items]),
        rating=None if inter.rating is None else np.concatenate([inter.rating, np.full(len(users), 4.0, dtype=inter.rating.dtype)]),
        timestamp=None if inter.timestamp is None else np.concatenate([inter.timestamp, last + 1 + np.arange(len(users))]),
    )
    catalogue = replace(
        movies,
        ids=np.concatenate([movies.ids, interactions.item_ids[first:]]),
        titles=np.concatenate([movies.titles, np.array([f"Rarely Seen {i} (2001)" for i in range(n)], dtype=object)]),
        years=np.concatenate([movies.years, np.full(n, 2001, dtype=np.asarray(movies.years).dtype)]),
        genres=tuple(movies.genres) + tuple(("Drama",) for _ in range(n)),
        links={kind: np.concatenate([values, np.array([""] * n, dtype=object)]) for kind, values in movies.links.items()},
    )
    return replace(dataset, interactions=interactions, movies=catalogue)


def error_line(err: str) -> str:
    """The one ``error:`` line of a failed run's stderr (notes may come before it; a traceback never)."""
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    return errors[0]
