"""Whether a ratings log says in which order each user rated, and the log arranged accordingly.

Everything that reads a user's ratings "in order" -- the Word2Vec sentences,
the recency weights of the recommendations, the held-out rating of the
evaluation, the explorer's latest ratings -- reads the rows of the arranged
log in row order.  So this module is the one place that decides what that
order means:

``time``
    The log has timestamps that order each user's ratings: rows are sorted by
    (timestamp, file row) downstream, as before.
``file``
    The user said the file's row order is the order (``--log-order file``):
    timestamps, if any, are set aside.
``none``
    An unordered log -- no timestamp column, or timestamps that cannot order a
    user's ratings (all equal per user, one value for the whole file), or
    ``--log-order none``.  The rows are put in a seeded random order and
    timestamps set aside, so no accident of the file's order (sorted by movie
    id, say) can leak into sentences or evaluation: the held-out rating is a
    random one, and the recommendations use no recency.

``detect_order`` decides, ``arrange`` applies the decision to a ``Dataset``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from embedder.errors import DataError
from embedder.values import Dataset, Interactions

#: What ``--log-order`` accepts.
CHOICES = ("auto", "time", "file", "none")
#: A log is time-ordered when at least this share of its users with two or more
#: ratings rated at two or more distinct times.
MIN_TIMED_SHARE = 0.5


@dataclass(frozen=True)
class LogOrder:
    """The order a log's rows were arranged in, and why.

    kind
        ``"time"``, ``"file"`` or ``"none"`` (see the module's docstring).
    reason
        Half a sentence for people: "no timestamp column", "timestamps order
        the ratings of 100% of users" ...
    seed
        The seed of the random order (``none`` only).
    """

    kind: str
    reason: str
    seed: int = 0

    @property
    def ordered(self) -> bool:
        """Whether a user's rows have a meaningful order (time or file)."""
        return self.kind != "none"

    def describe(self) -> str:
        """One line for the summary, the index page and the model card."""
        if self.kind == "time":
            return f"ordered by time ({self.reason})"
        if self.kind == "file":
            return f"ordered by the file's rows ({self.reason})"
        return (f"unordered ({self.reason}): sentences are in random order, recommendations use no recency, "
                f"and the evaluation holds out a random rating per user")

    def protocol(self) -> str:
        """The name of the evaluation protocol this order implies."""
        if self.kind == "time":
            return "leave-last-out by time"
        if self.kind == "file":
            return "leave-last-out by file order"
        return f"random leave-one-out (seed {self.seed})"

    def as_dict(self) -> dict:
        return {"kind": self.kind, "reason": self.reason, "seed": self.seed if self.kind == "none" else None,
                "protocol": self.protocol()}


def timed_share(interactions: Interactions) -> float | None:
    """The share of users with two or more ratings whose timestamps take two or more values (None: no timestamps)."""
    ts = interactions.timestamp
    if ts is None:
        return None
    n_users = len(interactions.user_ids)
    counts = np.bincount(interactions.user, minlength=n_users)
    multi = counts >= 2
    if not multi.any():
        return 0.0
    # One of each user's timestamps (the last assignment wins); a user is timed when another row differs from it.
    reference = np.zeros(n_users, dtype=ts.dtype)
    reference[interactions.user] = ts
    differs = np.bincount(interactions.user, weights=ts != reference[interactions.user], minlength=n_users) > 0
    return float(differs[multi].mean())


def detect_order(interactions: Interactions, requested: str = "auto", *, seed: int = 0, source: str = "") -> LogOrder:
    """Decide the order of a log: ``requested`` is ``--log-order`` (``auto`` looks at the timestamps).

    Raises ``DataError`` for ``--log-order time`` on a log whose timestamps
    cannot order it.
    """
    return decide_order(lambda: timed_share(interactions), requested, seed=seed, source=source)


def decide_order(share: Callable[[], float | None], requested: str = "auto", *, seed: int = 0,
                 source: str = "") -> LogOrder:
    """``detect_order`` given a function that measures ``timed_share`` (called only when ``requested`` needs it).

    The Spark engine measures the share on the cluster.
    """
    if requested not in CHOICES:
        raise ValueError(f"log order must be one of {', '.join(CHOICES)}, got {requested!r}")
    if requested == "file":
        return LogOrder("file", "--log-order file")
    if requested == "none":
        return LogOrder("none", "--log-order none", seed)
    share = share()
    if share is None:
        why = "the log has no timestamp column"
    elif share < MIN_TIMED_SHARE:
        why = (f"its timestamps order the ratings of only {share:.0%} of users; the others rated everything at one time"
               if share > 0 else "each user's ratings all carry one timestamp")
    else:
        return LogOrder("time", f"timestamps order the ratings of {share:.0%} of users")
    if requested == "time":
        raise DataError(f"--log-order time, but {why}", path=source or None,
                        fix="drop --log-order to treat the log as unordered, or pass --log-order file "
                            "if each user's rows are in the order they rated")
    return LogOrder("none", why, seed)


def arrange(dataset: Dataset, order: LogOrder) -> Dataset:
    """The dataset with its rows in the order ``order`` means, and ``order`` recorded on it.

    ``time`` keeps everything; ``file`` sets the timestamps aside; ``none``
    sets them aside and permutes the rows with ``order.seed``.
    """
    log = dataset.interactions
    if order.kind == "time":
        return replace(dataset, order=order)
    rows = np.arange(len(log)) if order.kind == "file" else np.random.default_rng(order.seed).permutation(len(log))
    arranged = Interactions(user_ids=log.user_ids, item_ids=log.item_ids, user=log.user[rows], item=log.item[rows],
                            rating=None if log.rating is None else log.rating[rows], timestamp=None)
    return replace(dataset, interactions=arranged, order=order)


def ordered_dataset(dataset: Dataset, requested: str = "auto", seed: int = 0) -> Dataset:
    """``arrange(dataset, detect_order(...))``, unless the dataset was arranged already."""
    if dataset.order is not None:
        return dataset
    return arrange(dataset, detect_order(dataset.interactions, requested, seed=seed, source=dataset.source))
