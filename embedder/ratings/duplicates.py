"""Interactions -> Interactions: the latest rating of each (user, item) pair, the others counted in a note.

Most logs hold no repeated pair, and two cheap checks (MovieLens order, then
one sort) prove it; only a log with repeats pays for the full sort.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedder.ratings.formats import Check, Tally, plural, settle, shown
from embedder.values import Interactions


def drop_duplicates(log: Interactions, line_of, path: Path, strict: bool) -> tuple[Interactions, tuple[str, ...]]:
    """Keep the latest rating of each (user, item) pair; file order breaks timestamp ties."""
    if _surely_unique(log):
        return log, ()
    key = log.user.astype(np.int64) * len(log.item_ids) + log.item
    ordered = np.sort(key)  # one plain sort proves most logs clean; the full sort below is 5x slower
    if not (ordered[1:] == ordered[:-1]).any():
        return log, ()
    rows = np.arange(len(key))
    order = np.lexsort((rows, rows if log.timestamp is None else log.timestamp, key))
    ordered = key[order]
    latest = np.r_[ordered[1:] != ordered[:-1], True]
    keep = np.zeros(len(key), dtype=bool)
    keep[order[latest]] = True
    second = _first_repeat(order, ordered)
    earlier = int(np.flatnonzero(key[:second] == key[second])[0])
    lines = line_of(np.array([earlier, second]))
    tally = Tally()
    tally.add(int(lines[1]), f"user {shown(log.user_ids[log.user[second]])} rated item "
                             f"{shown(log.item_ids[log.item[second]])} again, first rated at line {int(lines[0])}",
              count=int((~keep).sum()))
    kept = "the latest by timestamp" if log.timestamp is not None else "the last in the file"
    notes = settle(path, strict, [Check(tally, f"dropped {plural(tally.count, 'duplicate rating')} of the same "
                                                f"(user, item), kept {kept}",
                                         "remove the duplicate rows, or drop --strict to keep the latest")])
    return _subset(log, keep), notes


def _surely_unique(log: Interactions) -> bool:
    """Cheap proof that no pair repeats: users grouped, items rising within each user (MovieLens order)."""
    user, item = log.user, log.item
    if len(user) < 2:
        return True
    if (user[1:] < user[:-1]).any():
        return False
    rank = _id_rank(log.item_ids).astype(np.int32)[item]
    return bool(((user[1:] != user[:-1]) | (rank[1:] > rank[:-1])).all())


def _id_rank(ids: np.ndarray) -> np.ndarray:
    text = pa.array(ids, pa.string())
    numeric = pc.all(pc.match_substring_regex(text, r"^\d{1,18}$")).as_py()
    values = pc.cast(text, pa.int64()).to_numpy() if numeric else ids
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(values, kind="stable")] = np.arange(len(ids))
    return rank


def _first_repeat(order: np.ndarray, ordered: np.ndarray) -> int:
    """Return the first row (file order) whose pair already appeared above it."""
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    firsts = np.zeros(len(order), dtype=bool)
    firsts[np.minimum.reduceat(order, starts)] = True
    return int(np.flatnonzero(~firsts)[0])


def _subset(log: Interactions, keep: np.ndarray) -> Interactions:
    user_ids, user = _compact(log.user_ids, log.user[keep])
    item_ids, item = _compact(log.item_ids, log.item[keep])
    return Interactions(user_ids=user_ids, item_ids=item_ids, user=user, item=item,
                        rating=None if log.rating is None else log.rating[keep],
                        timestamp=None if log.timestamp is None else log.timestamp[keep])


def _compact(ids: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber codes in first-appearance order, dropping ids no longer used."""
    present, first = np.unique(codes, return_index=True)
    order = present[np.argsort(first)]
    renumber = np.zeros(len(ids), dtype=np.int32)
    renumber[order] = np.arange(len(order), dtype=np.int32)
    return ids[order], renumber[codes]
