"""Delimited text tables: sniffing, numbered records, problems counted per file.

:mod:`embedder.ratings.readers` knows the MovieLens layouts; this module knows how any
delimited file is split into rows and cells (:mod:`embedder.ratings.logs` reads the
ratings log itself, fast, on top of it; :mod:`embedder.ratings.cell_values` parses
the cells).  Line numbers are
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
from typing import Callable, Iterable, Iterator

from embedder.ratings.cell_values import is_number, iso_seconds
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
    one_row_per_line: bool = False  # no quoted line breaks: a quote left open ends with its line


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
    one_row_per_line=True,
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
    lines before the first data row, header included; ``header_guessed``
    says the header was told from values alone (no column name known).
    """

    sep: str | None = None
    columns: tuple[str, ...] | None = None
    header: bool | None = None
    encoding: str = "utf-8"
    fallback: str | None = None
    quoting: bool | None = None
    skip_lines: int = 0
    header_guessed: bool = False


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


def clip(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (``...`` marks a cut), so that a note stays one short line."""
    return text if len(text) <= limit else text[:limit] + "..."


def shown(value, limit: int = 40) -> str:
    """``repr(value)``, cut like :func:`clip`: a cell quoted in a note or an error."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."


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


Whole = Callable[[int, list[str], list[str]], bool]  # (first line, cells, the physical lines they came from)


def iter_records(path, fmt: TableFormat, undecodable: Tally,
                 whole: Whole | None = None) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, cells)`` for each non-blank record of a resolved format, header included.

    Lines that do not decode are decoded with replacement characters and
    counted in ``undecodable``.  A record whose quotes run over several lines
    is kept whole when ``whole(line, cells, lines)`` says so (always, without ``whole``);
    otherwise each of its lines is split on its own, so that one stray quote
    cannot swallow the lines after it.
    """
    with open(path, "rb") as handle:
        yield from _split(_decoded(handle, fmt.encoding, undecodable), fmt.sep, fmt.quoting, whole)


def data_records(path, fmt: TableFormat, undecodable: Tally,
                 whole: Whole | None = None) -> Iterator[tuple[int, list[str]]]:
    """Like :func:`iter_records` without the lines before the data (header)."""
    return ((line, cells) for line, cells in iter_records(path, fmt, undecodable, whole) if line > fmt.skip_lines)


def strict_cells(lines: list[str], sep: str) -> list[str] | None:
    """The cells of one record by strict CSV rules (a closing quote ends its cell), or None if it breaks them."""
    try:
        return next(csv.reader(lines, delimiter=sep, quotechar='"', strict=True), None)
    except csv.Error:
        return None


def split_line(text: str, sep: str, quoting: bool) -> list[str]:
    """The cells of one physical line on its own: a quote left open ends with the line."""
    text = text.rstrip("\r\n")
    if not quoting:
        return text.split(sep)
    try:
        return next(csv.reader([text], delimiter=sep, quotechar='"', strict=False), [])
    except csv.Error:  # a field longer than the csv module's limit
        return [text]


def _decoded(lines: Iterable[bytes], encoding: str, undecodable: Tally) -> Iterator[str]:
    for number, raw in enumerate(lines, 1):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            line = raw.rstrip(b"\r\n")
            undecodable.add(number, f"not {encoding} text: {shown(line)}")
            text = raw.decode(encoding, "replace")
        # pyarrow skips a UTF-8 byte-order mark too, so both readers see the same first cell.
        yield text[1:] if number == 1 and text.startswith("\ufeff") else text


def _split(lines: Iterable[str], sep: str, quoting: bool, whole: Whole | None) -> Iterator[tuple[int, list[str]]]:
    if not quoting:
        for number, text in enumerate(lines, 1):
            text = text.rstrip("\r\n")
            if text:
                yield number, text.split(sep)
        return
    taken: list[str] = []  # the physical lines of the record being read

    def feed() -> Iterator[str]:
        for text in lines:
            taken.append(text)
            yield text

    source, done = feed(), 0
    while True:
        try:
            for cells in csv.reader(source, delimiter=sep, quotechar='"', strict=False):
                start, texts = done + 1, taken[:]
                done += len(texts)
                taken.clear()
                if len(texts) > 1 and whole is not None and not whole(start, cells, texts):
                    yield from _apart(texts, start, sep)
                elif cells:
                    yield start, cells
            return
        except csv.Error:  # a field past the csv module's size limit: a quote left open
            texts = taken[:]
            taken.clear()
            yield from _apart(texts, done + 1, sep)
            done += len(texts)


def _apart(texts: list[str], start: int, sep: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank line of ``texts`` (the first is line ``start``) split on its own."""
    for number, text in enumerate(texts, start):
        if text.strip("\r\n"):
            yield number, split_line(text, sep, True)


# --- sniffing ---------------------------------------------------------------


def resolve(path, fmt: TableFormat, kind: Kind, fix: str | None = None) -> TableFormat:
    """Fill in the separator, header, roles and encoding of ``fmt`` from the file's first lines.

    Raises DataError (at the first line) for an empty file, an unknown
    separator, or first lines none of which has as many columns as the
    roles given (one odd line is a malformed row, counted when read).
    """
    fmt = replace(fmt, encoding=_pick_encoding(path, fmt), fallback=None)
    head = _head(path, fmt.encoding)
    texts = [text.rstrip("\r\n") for text in head if text.rstrip("\r\n")]
    sep = fmt.sep or (_guess_sep(texts[:5], kind, path) if texts else ",")
    quoting = len(sep) == 1 if fmt.quoting is None else fmt.quoting
    records = list(_split(head, sep, quoting, (lambda *record: False) if kind.one_row_per_line else None))
    if not records:
        raise DataError("the file is empty", path=path, line=1)
    first_line, first = records[0]
    if fmt.columns is not None and all(len(cells) != len(fmt.columns) for _, cells in records):
        raise DataError(
            f"expected {len(fmt.columns)} columns ({','.join(fmt.columns)}), found {len(first)}",
            path=path, line=first_line, fix=fix or f"check {kind.sep_flag} and {kind.flag}")
    second = records[1][1] if len(records) > 1 else None
    header = fmt.header if fmt.header is not None else _looks_like_header(first, second, fmt.columns, kind)
    guessed = fmt.header is None and header and not any(_role_of(cell, kind) for cell in first)
    columns = fmt.columns or _guess_roles(first, header, kind, path, first_line)
    return replace(fmt, sep=sep, columns=columns, header=header, quoting=quoting,
                   skip_lines=first_line if header else 0, header_guessed=guessed)


def header_note(path, fmt: TableFormat) -> tuple[str, ...]:
    """A note when the header was told from values alone: the line may have been a malformed row."""
    if not fmt.header_guessed:
        return ()
    return (f"{Path(path).name}: took line {fmt.skip_lines} for the header, as it has words where the next line "
            f"has numbers (pass --header or --no-header to say)",)


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
        role in kind.numeric and not _is_value(first[i], role) and i < len(second) and _is_value(second[i], role)
        for i, role in enumerate(roles[: len(first)]))


def _is_value(cell: str, role: str) -> bool:
    """Whether a cell of a numeric column holds a value: a number, or a date for a timestamp."""
    return is_number(cell) or (role == "timestamp" and iso_seconds(cell) is not None)


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
