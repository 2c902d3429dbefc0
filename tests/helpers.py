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
