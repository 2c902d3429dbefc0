"""Read a ratings log (a MovieLens release or any delimited file) into a Dataset.

MovieLens layouts are recognised by their file names (``ratings.csv``,
``ratings.dat``, ``u.data``) and bring their own formats and sibling files
(movies, links, users).  Anything else is a generic delimited log described by
a :class:`ReadSpec`.  Splitting and parsing the files is :mod:`embedder.ratings.formats`'
job; :mod:`embedder.ratings.file_layout` finds the files and
:mod:`embedder.ratings.side_tables` reads the movies, links and users beside
the log; this module puts them together, drops duplicate ratings, and aligns
the movie catalogue and the users with the ratings.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, replace
from pathlib import Path

from embedder.errors import ConfigError, DataError
from embedder.ratings.decoding import Inputs
from embedder.ratings.duplicates import drop_duplicates
from embedder.ratings.file_layout import FIX_RATINGS, FileLayout, find_layout, plain_layout
from embedder.ratings.formats import MOVIES, RATINGS, TableFormat, check_roles, header_note, resolve
from embedder.ratings.logs import read_log, row_lines
from embedder.ratings.side_tables import align_movies, read_catalogue, read_users
from embedder.values import Dataset, Interactions


@dataclass(frozen=True)
class ReadSpec:
    """How to read a generic delimited log; every field is optional (``None`` = detect).

    ``sep`` may be several characters (``"::"``).  ``columns`` lists column
    roles in file order, from ``user``, ``item``, ``rating``, ``timestamp``,
    with ``-`` for a column to skip; when ``None`` they come from the header
    names, else from the column count (user, item[, rating[, timestamp]]).
    ``header`` ``None`` detects a header line.  ``encoding`` ``None`` is
    utf-8; a UTF-16 or UTF-32 byte-order mark overrides it.  The ``movies_*``
    fields describe an optional items file the same way, with roles
    ``item``, ``title``, ``genres``, ``year``.  For a recognised MovieLens
    layout the given fields override the layout's own, and ``sep`` or
    ``columns`` also drop its users file (the log is then the user's own).
    """

    sep: str | None = None
    columns: tuple[str, ...] | None = None
    header: bool | None = None
    encoding: str | None = None
    movies: str | None = None
    movies_sep: str | None = None
    movies_columns: tuple[str, ...] | None = None
    movies_header: bool | None = None
    movies_encoding: str | None = None


def read_dataset(path, spec: ReadSpec | None = None, *, strict: bool = False, name: str | None = None) -> Dataset:
    """Read a ratings log, its movies and (when known) its users into a Dataset.

    ``path`` is a MovieLens folder, one of its ratings files, or any
    delimited log described by ``spec``; a pipe or a compressed file too.
    Malformed rows, duplicate ratings and optional sibling files that do not
    parse become counted ``notes``; with ``strict`` the first malformed or
    duplicate row raises DataError instead.  A ratings log that is not text
    in its encoding is a DataError.  ``movies.ids`` always equals
    ``interactions.item_ids``.
    """
    spec = spec or ReadSpec()
    _check_spec(spec)
    given = _apply_spec(find_layout(Path(path)), spec)
    with Inputs() as inputs:
        try:
            layout, notes = plain_layout(given, inputs)
            interactions, log_notes = _read_interactions(layout.ratings, layout.ratings_format, strict)
            catalogue, links, movie_notes = read_catalogue(layout, strict)
            movies, align_notes = align_movies(interactions.item_ids, catalogue, links, layout.movies)
            users, user_notes = read_users(layout, interactions.user_ids, strict)
        except DataError as error:
            raise inputs.restore(error) from None
    return Dataset(name=name or given.name, source=str(given.ratings), interactions=interactions, movies=movies,
                   users=users, notes=log_notes + notes + movie_notes + align_notes + user_notes)


# --- the options -------------------------------------------------------------


def _check_spec(spec: ReadSpec) -> None:
    check_roles(spec.columns, RATINGS)
    check_roles(spec.movies_columns, MOVIES)
    for flag, sep in (("--sep", spec.sep), ("--movies-sep", spec.movies_sep)):
        if sep is not None and (not sep or any(char in sep for char in '"\r\n')):
            raise ConfigError(f"{flag} must be one or more characters other than quotes and newlines, got {sep!r}")
    for flag, encoding in (("--encoding", spec.encoding), ("--movies-encoding", spec.movies_encoding)):
        try:
            if encoding is not None:
                codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(f"unknown {flag} {encoding!r}; try utf-8 or latin-1") from None


def _apply_spec(layout: FileLayout, spec: ReadSpec) -> FileLayout:
    ratings = _override(layout.ratings_format, spec.sep, spec.columns, spec.header, spec.encoding)
    if spec.sep is not None or spec.columns is not None:
        # The user describes the log: its ids need not be those of a MovieLens users file beside it.
        layout = replace(layout, users=None)
    if spec.movies is not None:
        movies = Path(spec.movies)
        if not movies.exists() or movies.is_dir():  # a pipe or /dev/stdin is not a regular file, but readable
            raise DataError("no such movies file", path=movies, fix="pass --movies FILE")
        fmt = _override(TableFormat(), spec.movies_sep, spec.movies_columns, spec.movies_header,
                        spec.movies_encoding)
        return replace(layout, ratings_format=ratings, movies=movies, movies_format=fmt, genre_flags=False,
                       movies_given=True)
    if layout.genre_flags:
        fmt = TableFormat(sep="|", header=False, quoting=False, encoding=spec.movies_encoding or "latin-1")
        return replace(layout, ratings_format=ratings, movies_format=fmt)
    fmt = layout.movies_format and _override(layout.movies_format, spec.movies_sep, spec.movies_columns,
                                             spec.movies_header, spec.movies_encoding)
    return replace(layout, ratings_format=ratings, movies_format=fmt)


def _override(fmt: TableFormat, sep, columns, header, encoding) -> TableFormat:
    if sep is not None:
        fmt = replace(fmt, sep=sep, quoting=None)
    if columns is not None:
        fmt = replace(fmt, columns=tuple(columns))
    if header is not None:
        fmt = replace(fmt, header=header)
    if encoding is not None:
        fmt = replace(fmt, encoding=encoding, fallback=None)
    return fmt


# --- the ratings log --------------------------------------------------------


def _read_interactions(path: Path, fmt: TableFormat, strict: bool) -> tuple[Interactions, tuple[str, ...]]:
    fmt = resolve(path, fmt, RATINGS)
    interactions, lines, notes = read_log(path, fmt, strict)
    if not len(interactions):
        # The last note, when there is one, says why every row was skipped.
        problem = f"no valid ratings: {notes[-1].split(': ', 1)[1]}" if notes else "no ratings: no data rows"
        raise DataError(problem, path=path, fix=FIX_RATINGS)
    total = len(interactions)
    deduplicated, dup_notes = drop_duplicates(interactions, lambda rows: row_lines(path, fmt, lines, rows, total),
                                              path, strict)
    return deduplicated, header_note(path, fmt) + notes + dup_notes
