"""Delimited text tables: sniffing, numbered records, value parsing.

:mod:`embedder.readers` knows the MovieLens layouts; this module knows how any
delimited file is split into rows and cells (:mod:`embedder.logs` reads the
ratings log itself, fast, on top of it).  Line numbers are
1-based physical lines of the file, header included, so that an error can
point an editor at the exact place.  Problems are counted in a :class:`Tally`;
:func:`settle` turns the tallies of one file into one note each, or, in strict
mode, into a ``DataError`` for the earliest one.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from embedder.errors import ConfigError, DataError

SKIP = "-"

_ALIASES = {
    "user": {"user", "userid", "uid", "users", "customer", "customerid", "reviewer", "reviewerid"},
    "item": {"item", "itemid", "iid", "movie", "movieid", "mid", "film", "filmid", "product", "productid"},
    "rating": {"rating", "ratings", "score", "stars", "rate", "value"},
    "timestamp": {"timestamp", "time", "ts", "date", "datetime", "unixtime", "unixreviewtime"},
    "title": {"title", "name", "movietitle", "itemname"},
    "genres": {"genres", "genre", "categories", "category"},
    "year": {"year", "releaseyear"},
}


@dataclass(frozen=True)
class Kind:
    """What a table holds: the roles its columns may play and how to guess them."""

    roles: tuple[str, ...]
    required: tuple[str, ...]
    numeric: tuple[str, ...]
    by_count: dict[int, tuple[str, ...]]
    seps: tuple[str, ...]
    flag: str
    sep_flag: str
    aliases: dict[str, set[str]] = field(default_factory=dict)


RATINGS = Kind(
    roles=("user", "item", "rating", "timestamp"),
    required=("user", "item"),
    numeric=("rating", "timestamp"),
    by_count={2: ("user", "item"), 3: ("user", "item", "rating"), 4: ("user", "item", "rating", "timestamp")},
    # Space last: it is a separator only when nothing else is on the line.
    seps=("\t", "::", ",", ";", "|", " "),
    flag="--columns",
    sep_flag="--sep",
    aliases={role: _ALIASES[role] for role in ("user", "item", "rating", "timestamp")},
)

MOVIES = Kind(
    roles=("item", "title", "genres", "year"),
    required=("item", "title"),
    numeric=("year",),
    by_count={2: ("item", "title"), 3: ("item", "title", "genres"), 4: ("item", "title", "genres", "year")},
    seps=("\t", "::", ",", ";", "|"),
    flag="--movies-columns",
    sep_flag="--movies-sep",
    aliases={"item": _ALIASES["item"] | {"id"}, "title": _ALIASES["title"],
             "genres": _ALIASES["genres"], "year": _ALIASES["year"]},
)


@dataclass(frozen=True)
class TableFormat:
    """How one delimited file is split; ``None`` fields are detected from its first lines.

    ``fallback`` is an encoding to use when the file does not decode as
    ``encoding``.  ``quoting`` ``None`` means CSV quoting for single-character
    separators only.  ``skip_lines`` (resolved formats) counts the physical
    lines before the first data row, header included.
    """

    sep: str | None = None
    columns: tuple[str, ...] | None = None
    header: bool | None = None
    encoding: str = "utf-8"
    fallback: str | None = None
    quoting: bool | None = None
    skip_lines: int = 0


def check_roles(columns: tuple[str, ...] | None, kind: Kind) -> None:
    """Raise ConfigError unless ``columns`` names each role at most once, including the required ones."""
    if columns is None:
        return
    allowed = ", ".join(kind.roles)
    for role in columns:
        if role != SKIP and role not in kind.roles:
            raise ConfigError(f"unknown column role {role!r} in {kind.flag}; allowed: {allowed}, or - to skip a column")
        if role != SKIP and columns.count(role) > 1:
            raise ConfigError(f"column role {role!r} appears twice in {kind.flag}")
    missing = [role for role in kind.required if role not in columns]
    if missing:
        raise ConfigError(f"{kind.flag} must name the {' and '.join(missing)} column (allowed: {allowed}, -)")


def plural(count: int, noun: str) -> str:
    """Return ``"1 row"`` / ``"3 rows"``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# --- problems ---------------------------------------------------------------


@dataclass
class Tally:
    """Counts one kind of problem in one file and keeps the earliest instance."""

    count: int = 0
    line: int | None = None
    reason: str = ""

    def add(self, line: int, reason: str, count: int = 1) -> None:
        """Count ``count`` problems, the earliest of which is at ``line``."""
        self.count += count
        if self.line is None or line < self.line:
            self.line, self.reason = line, reason


@dataclass(frozen=True)
class Check:
    """One tally with the words to report it: ``summary`` is e.g. ``"skipped 3 malformed rows"``."""

    tally: Tally
    summary: str
    fix: str
    fix_in_note: bool = False


def settle(path, strict: bool, checks: Iterable[Check]) -> tuple[str, ...]:
    """Return one note per non-empty tally; in strict mode raise the earliest problem instead."""
    found = [check for check in checks if check.tally.count]
    if strict and found:
        first = min(found, key=lambda check: check.tally.line)
        raise DataError(first.tally.reason, path=path, line=first.tally.line, fix=first.fix)
    return tuple(_note(path, check) for check in found)


def _note(path, check: Check) -> str:
    extra = f"; {check.fix}" if check.fix_in_note else ""
    return f"{Path(path).name}: {check.summary} (first at line {check.tally.line}: {check.tally.reason}{extra})"


# --- records ----------------------------------------------------------------


def iter_records(path, fmt: TableFormat, undecodable: Tally) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, cells)`` for each non-blank record of a resolved format, header included.

    Lines that do not decode are decoded with replacement characters and
    counted in ``undecodable``.
    """
    with open(path, "rb") as handle:
        yield from _split(_decoded(handle, fmt.encoding, undecodable), fmt.sep, fmt.quoting, path)


def data_records(path, fmt: TableFormat, undecodable: Tally) -> Iterator[tuple[int, list[str]]]:
    """Like :func:`iter_records` without the lines before the data (header)."""
    return ((line, cells) for line, cells in iter_records(path, fmt, undecodable) if line > fmt.skip_lines)


def _decoded(lines: Iterable[bytes], encoding: str, undecodable: Tally) -> Iterator[str]:
    for number, raw in enumerate(lines, 1):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            undecodable.add(number, f"bytes that are not valid {encoding}")
            text = raw.decode(encoding, "replace")
        # pyarrow skips a UTF-8 byte-order mark too, so both readers see the same first cell.
        yield text[1:] if number == 1 and text.startswith("\ufeff") else text


def _split(lines: Iterable[str], sep: str, quoting: bool, path) -> Iterator[tuple[int, list[str]]]:
    if not quoting:
        for number, text in enumerate(lines, 1):
            text = text.rstrip("\r\n")
            if text:
                yield number, text.split(sep)
        return
    reader = csv.reader(lines, delimiter=sep, quotechar='"', strict=False)
    done = 0
    try:
        for cells in reader:
            start, done = done + 1, reader.line_num
            if cells:
                yield start, cells
    except csv.Error as err:
        raise DataError(f"cannot split this line ({err})", path=path, line=done + 1,
                        fix="check the quotes on this line") from None


# --- sniffing ---------------------------------------------------------------


def resolve(path, fmt: TableFormat, kind: Kind, fix: str | None = None) -> TableFormat:
    """Fill in the separator, header, roles and encoding of ``fmt`` from the file's first lines.

    Raises DataError (at the first line) for an empty file, an unknown
    separator, or a column count different from the roles given.
    """
    fmt = replace(fmt, encoding=_pick_encoding(path, fmt), fallback=None)
    head = _head(path, fmt.encoding)
    texts = [text.rstrip("\r\n") for text in head if text.rstrip("\r\n")]
    sep = fmt.sep or (_guess_sep(texts[:5], kind, path) if texts else ",")
    quoting = len(sep) == 1 if fmt.quoting is None else fmt.quoting
    records = list(_split(head, sep, quoting, path))[:2]
    if not records:
        raise DataError("the file is empty", path=path, line=1)
    first_line, first = records[0]
    if fmt.columns is not None and len(first) != len(fmt.columns):
        raise DataError(
            f"expected {len(fmt.columns)} columns ({','.join(fmt.columns)}), found {len(first)}",
            path=path, line=first_line, fix=fix or f"check {kind.sep_flag} and {kind.flag}")
    second = records[1][1] if len(records) > 1 else None
    header = fmt.header if fmt.header is not None else _looks_like_header(first, second, fmt.columns, kind)
    columns = fmt.columns or _guess_roles(first, header, kind, path, first_line)
    return replace(fmt, sep=sep, columns=columns, header=header, quoting=quoting,
                   skip_lines=first_line if header else 0)


def _pick_encoding(path, fmt: TableFormat) -> str:
    if fmt.fallback is None:
        return fmt.encoding
    try:
        Path(path).read_bytes().decode(fmt.encoding)
    except UnicodeDecodeError:
        return fmt.fallback
    return fmt.encoding


def _head(path, encoding: str, limit: int = 20) -> list[str]:
    with open(path, "rb") as handle:
        raw = [line for _, line in zip(range(limit), handle)]
    return list(_decoded(raw, encoding, Tally()))


def _guess_sep(lines: list[str], kind: Kind, path) -> str:
    present = [sep for sep in kind.seps if sep in lines[0]]
    if not present:
        raise DataError("cannot tell the column separator", path=path, line=1, fix=f"pass {kind.sep_flag}")
    # Prefer a separator that splits every sampled line into the same number of cells.
    steady = [sep for sep in present if len({text.count(sep) for text in lines}) == 1]
    return max(steady, key=lines[0].count) if steady else present[0]


def _role_of(cell: str, kind: Kind) -> str | None:
    name = re.sub(r"[^a-z0-9]", "", cell.lower())
    return next((role for role, names in kind.aliases.items() if name in names), None)


def _looks_like_header(first: list[str], second: list[str] | None, columns, kind: Kind) -> bool:
    if any(_role_of(cell, kind) for cell in first):
        return True
    if second is None:
        return False
    roles = columns or kind.by_count.get(len(first), ())
    return any(
        role in kind.numeric and not is_number(first[i]) and i < len(second) and is_number(second[i])
        for i, role in enumerate(roles[: len(first)]))


def _guess_roles(cells: list[str], header: bool, kind: Kind, path, line: int) -> tuple[str, ...]:
    if header:
        named: list[str] = []
        for cell in cells:
            role = _role_of(cell, kind)
            named.append(role if role and role not in named else SKIP)
        if all(role in named for role in kind.required):
            return tuple(named)
    if len(cells) in kind.by_count:
        return kind.by_count[len(cells)]
    raise DataError(f"cannot tell which of the {len(cells)} columns hold {' and '.join(kind.required)}",
                    path=path, line=line, fix=f"pass {kind.flag} {','.join(kind.roles)} (- skips a column)")


# --- values -----------------------------------------------------------------

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
    stamps = pd.to_datetime(pd.Series(text.to_pylist(), dtype=object), format="ISO8601", utc=True, errors="coerce")
    ok = stamps.notna().to_numpy()
    seconds = ((stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).fillna(0)
    return seconds.to_numpy(dtype=np.int64), ok


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
