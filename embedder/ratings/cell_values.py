"""Cell text -> values: numbers, epoch seconds, years, genres; arrow columns at a time where it matters.

Every parser says which cells it could not read (an ``ok`` mask, or 0 / None)
rather than raising, so that the readers can count and locate bad rows.
"""

from __future__ import annotations

import datetime
import functools
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"
_INTEGER = r"^-?\d{1,18}$"  # 18 digits always fit in int64
_YEAR_AT_END = re.compile(r"\((\d{4})(?:\s*[-\u2013]\s*\d{0,4})?\)$")


def is_number(text: str) -> bool:
    """Whether ``text`` parses as a finite decimal number (surrounding spaces allowed)."""
    return re.match(_NUMBER, text.strip()) is not None


def parse_numbers(cells) -> tuple[np.ndarray, np.ndarray]:
    """Parse arrow string cells as finite floats: ``(float64 values, ok mask)``."""
    text = pc.utf8_trim_whitespace(cells)
    ok = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
    values = as_numpy(pc.cast(pc.if_else(ok, text, "0"), pa.float64()))
    return values, as_numpy(ok) & np.isfinite(values)


def parse_timestamps(cells) -> tuple[np.ndarray, np.ndarray]:
    """Parse arrow string cells as epoch seconds: ``(int64 values, ok mask)``.

    Integers are taken as epoch seconds, other numbers are truncated, and
    anything else is tried as ISO-8601 date/time text (UTC unless it says).
    """
    text = pc.utf8_trim_whitespace(cells)
    whole = as_numpy(pc.fill_null(pc.match_substring_regex(text, _INTEGER), False))
    values = as_numpy(pc.cast(pc.if_else(whole, text, "0"), pa.int64()))
    if whole.all():
        return values, whole
    floats, decimal = parse_numbers(text)
    decimal &= ~whole & (np.abs(floats) < 9e18)
    values = np.where(decimal, np.trunc(np.where(decimal, floats, 0)).astype(np.int64), values)
    rest = np.flatnonzero(~(whole | decimal))
    stamps, dated = _iso_seconds(text.take(pa.array(rest)))
    values[rest] = stamps
    ok = whole | decimal
    ok[rest] = dated
    return values, ok


def as_numpy(array) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False)


def _iso_seconds(text) -> tuple[np.ndarray, np.ndarray]:
    """Epoch seconds of ISO-8601 texts: pandas for the bulk, Python for what pandas cannot hold.

    pandas keeps nanoseconds where a text has them, and then only years
    1677-2262 fit; the standard library reads years 1-9999 at any precision.
    """
    values = text.to_pylist()
    seconds, ok = np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    try:
        stamps = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601", utc=True, errors="coerce")
        ok = stamps.notna().to_numpy().copy()
        naive = stamps.dt.tz_convert(None).to_numpy().astype("datetime64[s]").astype(np.int64)
        seconds = np.where(ok, naive, 0)
    except (OverflowError, ValueError):  # OutOfBoundsDatetime is a ValueError
        ok[:] = False
    for row in np.flatnonzero(~ok):
        stamp = iso_seconds(values[row])
        if stamp is not None:
            seconds[row], ok[row] = stamp, True
    return seconds, ok


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@functools.lru_cache(maxsize=4096)
def iso_seconds(text: str | None) -> int | None:
    """Epoch seconds (floored) of one ISO-8601 text, years 1-9999, UTC unless it says; None if it is not one."""
    try:
        stamp = datetime.datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    delta = stamp - _EPOCH
    return delta.days * 86400 + delta.seconds


def title_year(title: str) -> int:
    """Return the year in a trailing ``(1995)`` or ``(1995-2000)`` of a title, else 0."""
    found = _YEAR_AT_END.search(title.strip())
    return int(found.group(1)) if found else 0


def parse_year(cell: str) -> int:
    """Return a year cell as an int, 0 when it is empty or not a year."""
    text = cell.strip()
    return int(float(text)) if is_number(text) and 0 < float(text) < 10000 else 0


def split_genres(cell: str) -> tuple[str, ...]:
    """Split ``A|B|C``; MovieLens' ``(no genres listed)`` means none."""
    text = cell.strip()
    if text.lower() == "(no genres listed)":
        return ()
    return tuple(name.strip() for name in text.split("|") if name.strip())
