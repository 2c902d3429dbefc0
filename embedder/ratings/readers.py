"""Read a ratings log (a MovieLens release or any delimited file) into a Dataset.

MovieLens layouts are recognised by their file names (``ratings.csv``,
``ratings.dat``, ``u.data``) and bring their own formats and sibling files
(movies, links, users).  Anything else is a generic delimited log described by
a :class:`ReadSpec`.  Splitting and parsing the files is :mod:`embedder.ratings.formats`'
job; this module finds the files, drops duplicate ratings, and aligns the
movie catalogue and the users with the ratings.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from embedder.ratings.cell_values import parse_year, split_genres, title_year
from embedder.ratings.decoding import Inputs, plain_name
from embedder.ratings.duplicates import drop_duplicates
from embedder.errors import ConfigError, DataError
from embedder.ratings.formats import (MOVIES, RATINGS, SKIP, Check, TableFormat, Tally, check_roles, clip, data_records,
                              header_note, plural, resolve, settle, shown, split_line, strict_cells)
from embedder.ratings.logs import FIX_MALFORMED, read_log, row_lines
from embedder.values import Dataset, Interactions, Movies, Users


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


@dataclass(frozen=True)
class _Layout:
    """Where the files of one dataset are and how each is split."""

    name: str
    ratings: Path
    ratings_format: TableFormat
    movies: Path | None = None
    movies_format: TableFormat | None = None
    movies_given: bool = False  # --movies: a file the user asked for, not an optional sibling
    genre_flags: bool = False  # ml-100k u.item: one 0/1 column per genre
    genre_names: Path | None = None
    links: Path | None = None
    users: Path | None = None
    users_style: str = ""


@dataclass(frozen=True)
class _Movie:
    title: str
    year: int
    genres: tuple[str, ...]


_RATINGS_FILES = ("ratings.csv", "ratings.dat", "u.data")
_LOG_ROLES = ("user", "item", "rating", "timestamp")
_FIX_RATINGS = "pass --ratings FILE --sep SEP --columns user,item,rating,timestamp"
_FIX_KNOWN = "this MovieLens file does not have its usual columns; re-download the dataset"
_KNOWN_NAMES = re.compile(r"ml-(latest-small|latest|100k|1m|10m|20m|25m|32m)")
_ML100K_GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
                  "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
                  "Thriller", "War", "Western")
_ML1M_AGES = {"1": "Under 18", "18": "18-24", "25": "25-34", "35": "35-44", "45": "45-49", "50": "50-55",
              "56": "56+"}
_ML1M_OCCUPATIONS = ("other or not specified", "academic/educator", "artist", "clerical/admin",
                     "college/grad student", "customer service", "doctor/health care", "executive/managerial",
                     "farmer", "homemaker", "K-12 student", "lawyer", "programmer", "retired", "sales/marketing",
                     "scientist", "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed",
                     "writer")


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
    given = _apply_spec(_find_layout(Path(path)), spec)
    with Inputs() as inputs:
        try:
            layout, notes = _plain_layout(given, inputs)
            interactions, log_notes = _read_interactions(layout.ratings, layout.ratings_format, strict)
            catalogue, links, movie_notes = _read_catalogue(layout, strict)
            movies, align_notes = _align_movies(interactions.item_ids, catalogue, links, layout.movies)
            users, user_notes = _read_users(layout, interactions.user_ids, strict)
        except DataError as error:
            raise inputs.restore(error) from None
    return Dataset(name=name or given.name, source=str(given.ratings), interactions=interactions, movies=movies,
                   users=users, notes=log_notes + notes + movie_notes + align_notes + user_notes)


# --- options and layouts ----------------------------------------------------


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


def _find_layout(path: Path) -> _Layout:
    if not path.exists():
        raise DataError("no such file or directory", path=path, fix=_FIX_RATINGS)
    ratings = _ratings_in(path) if path.is_dir() else path
    kind = plain_name(ratings.name)  # ratings.csv.gz is a ratings.csv
    if kind not in _RATINGS_FILES:
        return _Layout(name=_log_name(ratings, kind), ratings=ratings, ratings_format=TableFormat())
    folder, name = ratings.parent, _dataset_name(ratings.parent)
    if kind == "ratings.csv":
        return _Layout(name, ratings, TableFormat(sep=","), movies=_sibling(folder, "movies.csv"),
                       movies_format=TableFormat(sep=",", columns=("item", "title", "genres"), header=True),
                       links=_sibling(folder, "links.csv"))
    if kind == "ratings.dat":
        return _dat_layout(name, ratings)
    return _Layout(name, ratings, TableFormat(sep="\t", columns=_LOG_ROLES, header=False, quoting=False),
                   movies=_sibling(folder, "u.item"), genre_flags=True, genre_names=_sibling(folder, "u.genre"),
                   users=_sibling(folder, "u.user"), users_style="ml-100k")


def _dat_layout(name: str, ratings: Path) -> _Layout:
    folder = ratings.parent
    # ml-1m's movies.dat is latin-1, ml-10m's mostly utf-8 but not reliably, and other
    # datasets in this layout (MovieTweetings) utf-8: latin-1 text is almost never valid utf-8.
    return _Layout(name, ratings, TableFormat(sep="::", columns=_LOG_ROLES, header=False, quoting=False),
                   movies=_sibling(folder, "movies.dat"),
                   movies_format=TableFormat(sep="::", columns=("item", "title", "genres"), header=False,
                                             quoting=False, encoding="utf-8", fallback="latin-1"),
                   users=_sibling(folder, "users.dat"), users_style="ml-1m")


def _ratings_in(folder: Path) -> Path:
    for name in _RATINGS_FILES:
        if (folder / name).is_file():
            return folder / name
    # A zip is often unpacked into a folder that holds one dataset folder.
    nested = [child / name for child in sorted(folder.iterdir()) if child.is_dir()
              for name in _RATINGS_FILES if (child / name).is_file()]
    if len(nested) == 1:
        return nested[0]
    raise DataError(f"no ratings file found (looked for {', '.join(_RATINGS_FILES)})", path=folder,
                    fix=_FIX_RATINGS)


def _sibling(folder: Path, name: str) -> Path | None:
    return folder / name if (folder / name).is_file() else None


def _log_name(ratings: Path, kind: str) -> str:
    """A generic log's name: its file name's stem; "ratings" for a pipe or /dev/stdin (whose name is a number)."""
    import stat

    try:
        regular = stat.S_ISREG(ratings.stat().st_mode)
    except OSError:
        regular = True
    return Path(kind).stem if regular else "ratings"


def _dataset_name(folder: Path) -> str:
    name = folder.name or folder.resolve().name
    if name.lower() == "ml-10m100k":
        return "ml-10m"
    return name.lower() if _KNOWN_NAMES.fullmatch(name.lower()) else name


def _apply_spec(layout: _Layout, spec: ReadSpec) -> _Layout:
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


def _plain_layout(layout: _Layout, inputs: Inputs) -> tuple[_Layout, tuple[str, ...]]:
    """The layout with every file plain (see :mod:`embedder.ratings.decoding`); an optional file that cannot be is a note."""
    ratings, fmt = _plain(inputs, layout.ratings, layout.ratings_format, "--encoding")
    layout, notes = replace(layout, ratings=ratings, ratings_format=fmt), ()
    for field, flag in (("movies", "--movies-encoding"), ("links", "--movies-encoding"), ("genre_names", ""),
                        ("users", "--encoding")):
        path = getattr(layout, field)
        if path is None:
            continue
        fmt = layout.movies_format if field == "movies" else TableFormat(encoding="latin-1")
        try:
            plain, fmt = _plain(inputs, path, fmt, flag)
        except DataError as error:
            if field == "movies" and layout.movies_given:
                raise
            notes += (_unread(path, error),)
            plain = None
        layout = replace(layout, **{field: plain})
        if field == "movies":
            layout = replace(layout, movies_format=fmt)
    return layout, notes


def _plain(inputs: Inputs, path: Path, fmt: TableFormat, flag: str) -> tuple[Path, TableFormat]:
    """The plain file of ``path`` and ``fmt`` with the encoding to read it (UTF-8 once transcoded)."""
    plain, encoding = inputs.plain(path, fmt.encoding, flag or "--encoding")
    return plain, fmt if encoding == fmt.encoding else replace(fmt, encoding=encoding, fallback=None)


def _unread(path: Path, error: DataError) -> str:
    """The note for an optional file (movies, links, users beside the log) that does not parse."""
    where = f"line {error.line}: " if error.line else ""
    return f"{path.name}: not read, it does not have the expected shape ({where}{clip(error.problem, 80)})"


# --- the ratings log --------------------------------------------------------


def _read_interactions(path: Path, fmt: TableFormat, strict: bool) -> tuple[Interactions, tuple[str, ...]]:
    fmt = resolve(path, fmt, RATINGS)
    interactions, lines, notes = read_log(path, fmt, strict)
    if not len(interactions):
        # The last note, when there is one, says why every row was skipped.
        problem = f"no valid ratings: {notes[-1].split(': ', 1)[1]}" if notes else "no ratings: no data rows"
        raise DataError(problem, path=path, fix=_FIX_RATINGS)
    total = len(interactions)
    deduplicated, dup_notes = drop_duplicates(interactions, lambda rows: row_lines(path, fmt, lines, rows, total),
                                              path, strict)
    return deduplicated, header_note(path, fmt) + notes + dup_notes


# --- movies, links and users ------------------------------------------------


def _read_catalogue(layout: _Layout, strict: bool):
    """Return ({id: _Movie}, {id: {kind: link}}, notes) from the layout's movies and links files."""
    if layout.movies is None:
        catalogue, notes = {}, ()
    elif layout.genre_flags:
        catalogue, notes = _read_u_item(layout.movies, layout.movies_format, layout.genre_names, strict)
    else:
        catalogue, notes = _read_movie_table(layout.movies, layout.movies_format, strict, not layout.movies_given)
    if layout.links is None:
        return catalogue, {}, notes
    # Link ids are ASCII digits; latin-1 decodes any byte, so a stray one cannot fail the read.
    fmt = TableFormat(sep=",", columns=("item", "imdb", "tmdb"), header=True, encoding="latin-1")
    rows, _, link_notes = _keyed_rows(layout.links, fmt, "movie", "--movies-encoding", strict, _FIX_KNOWN,
                                      optional=True)
    links = {key: {"imdb": cells[1].strip(), "tmdb": cells[2].strip()} for key, (_, cells) in (rows or {}).items()}
    return catalogue, links, notes + link_notes


def _read_movie_table(path: Path, fmt: TableFormat, strict: bool, optional: bool = True):
    rows, fmt, notes = _keyed_rows(path, fmt, "movie", "--movies-encoding", strict, optional=optional)
    if rows is None:
        return {}, notes
    at = {role: fmt.columns.index(role) for role in MOVIES.roles if role in fmt.columns}
    catalogue, untitled = {}, Tally()
    for key, (line, cells) in rows.items():
        title = cells[at["title"]].strip()
        if not title:
            untitled.add(line, f"movie {shown(key)}")
        year = parse_year(cells[at["year"]]) if "year" in at else 0
        genres = split_genres(cells[at["genres"]]) if "genres" in at else ()
        catalogue[key] = _Movie(title, year or title_year(title), genres)
    # An empty title is not an error: the placeholder rule covers it.
    return catalogue, notes + settle(path, False, [Check(untitled, f"{plural(untitled.count, 'movie')} with an empty "
                                                                    f"title, titled \"movie <id>\"", "")])


def _read_u_item(path: Path, fmt: TableFormat, genre_file: Path | None, strict: bool):
    genres = _genre_names(genre_file)
    # id | title | release date | video release date | IMDb URL | one 0/1 flag per genre
    fmt = replace(fmt, columns=("item", "title") + (SKIP,) * (3 + len(genres)))
    rows, _, notes = _keyed_rows(path, fmt, "movie", "--movies-encoding", strict, _FIX_KNOWN, optional=True)
    catalogue = {}
    for key, (_, cells) in (rows or {}).items():
        title = cells[1].strip()
        flags = [genre for genre, flag in zip(genres, cells[5:]) if flag.strip() == "1"]
        released = re.search(r"(\d{4})\s*$", cells[2])
        year = title_year(title) or (int(released.group(1)) if released else 0)
        catalogue[key] = _Movie(title, year, tuple(g for g in flags if g.lower() != "unknown"))
    return catalogue, notes


def _genre_names(path: Path | None) -> tuple[str, ...]:
    """Genre names of u.item's flag columns, from u.genre (``name|index``) when it is readable."""
    if path is None:
        return _ML100K_GENRES
    fmt = TableFormat(sep="|", columns=("name", "index"), header=False, quoting=False, encoding="latin-1")
    named = {}
    for _, cells in data_records(path, fmt, Tally()):
        if len(cells) == 2 and cells[1].strip().isdigit():
            named[int(cells[1])] = cells[0].strip()
    if sorted(named) != list(range(len(named))) or not named:
        return _ML100K_GENRES
    return tuple(named[i] for i in range(len(named)))


def _keyed_rows(path: Path, fmt: TableFormat, what: str, encoding_flag: str, strict: bool, fix: str | None = None,
                optional: bool = False):
    """Read a small table keyed by its item (or user) column: ({id: (line, cells)}, format, notes).

    Rows with a repeated id are skipped (the first one is kept).  Only a
    title may hold a quoted line break (see :func:`_one_record`); a record
    whose quotes run over several lines otherwise is split line by line,
    its first line counted as malformed, so that a stray quote cannot hide
    the rows after it.  An ``optional`` file that does not have the
    expected shape gives ``None`` rows and a note.
    """
    try:
        fmt = resolve(path, fmt, MOVIES, fix)
    except DataError as error:
        if not optional:
            raise
        return None, fmt, (_unread(path, error),)
    width = len(fmt.columns)
    at = next((fmt.columns.index(role) for role in ("item", "user") if role in fmt.columns), 0)
    title = fmt.columns.index("title") if "title" in fmt.columns else -1

    unclosed: set[int] = set()

    def whole(line: int, cells: list[str], texts: list[str]) -> bool:
        if _one_record(cells, texts, fmt, at):
            return True
        unclosed.add(line)
        return False

    rows: dict[str, tuple[int, list[str]]] = {}
    malformed, undecodable, repeated = Tally(), Tally(), Tally()
    for line, cells in data_records(path, fmt, undecodable, whole):
        if line in unclosed:
            malformed.add(line, "a quote opened on this line is not closed before the next row")
        elif len(cells) != width or not cells[at].strip():
            malformed.add(line, f"expected {width} columns, found {len(cells)}" if len(cells) != width
                          else f"empty {what} id")
        elif cells[at] in rows:
            repeated.add(line, f"{what} id {shown(cells[at])} already at line {rows[cells[at]][0]}")
        else:
            rows[cells[at]] = (line, cells)
    return rows, fmt, header_note(path, fmt) + settle(path, strict, [
        Check(undecodable, f"decoded {plural(undecodable.count, 'line')} with replacement characters",
              f"pass {encoding_flag} latin-1, or the file's real encoding", fix_in_note=True),
        Check(malformed, f"skipped {plural(malformed.count, 'malformed row')}", FIX_MALFORMED),
        Check(repeated, f"skipped {plural(repeated.count, f'repeated {what} id')}, kept the first",
              "remove the repeated row, or drop --strict to keep the first")])


def _one_record(cells: list[str], texts: list[str], fmt: TableFormat, at: int) -> bool:
    """Whether a record over several lines is one row whose title holds line breaks, not a stray quote's catch.

    It must follow strict CSV (a closing quote ends its cell), keep its
    line breaks in the title, and have no later line that would pass for
    a row of its own (no quote, every column, an id).
    """
    width = len(fmt.columns)
    if len(cells) != width or strict_cells(texts, fmt.sep) != cells:
        return False
    if any("\n" in cell for role, cell in zip(fmt.columns, cells) if role != "title"):
        return False
    alone = [split_line(text, fmt.sep, True) for text in texts[1:] if '"' not in text]
    return not any(len(row) == width and row[at].strip() for row in alone)


def _align_movies(item_ids: np.ndarray, catalogue: dict, links: dict, path: Path | None):
    """Build Movies row-aligned with ``item_ids``; unknown items get a placeholder title."""
    placeholder = _Movie("", 0, ())
    found = [catalogue.get(item, placeholder) for item in item_ids]
    missing = [item for item in item_ids if item not in catalogue]
    titles = np.array([movie.title or f"movie {item}" for item, movie in zip(item_ids, found)], dtype=object)
    movies = Movies(ids=item_ids, titles=titles, years=np.array([m.year for m in found], dtype=np.int32),
                    genres=tuple(movie.genres for movie in found),
                    links={kind: np.array([links.get(item, {}).get(kind, "") for item in item_ids], dtype=object)
                           for kind in ("imdb", "tmdb")} if links else {})
    if not missing:
        return movies, ()
    if path is None:
        return movies, (f"no movies file: {plural(len(missing), 'rated item')} titled \"movie <id>\"",)
    return movies, (f"{path.name}: {plural(len(missing), 'rated item')} not listed, titled \"movie <id>\" "
                    f"(first: {clip(missing[0])})",)


def _read_users(layout: _Layout, user_ids: np.ndarray, strict: bool):
    """Read users.dat / u.user into Users row-aligned with ``user_ids`` (empty strings when absent)."""
    if layout.users is None:
        return None, ()
    ml1m = layout.users_style == "ml-1m"
    fmt = TableFormat(sep="::" if ml1m else "|", columns=("user",) + (SKIP,) * 4, header=False,
                      quoting=False, encoding="latin-1")
    rows, _, notes = _keyed_rows(layout.users, fmt, "user", "--encoding", strict, _FIX_KNOWN, optional=True)
    if rows is None:
        return None, notes
    attributes = {}
    for name, at in (("gender", 1 if ml1m else 2), ("age", 2 if ml1m else 1), ("occupation", 3)):
        values = [rows[user][1][at].strip() if user in rows else "" for user in user_ids]
        attributes[name] = np.array([_ml1m_label(name, value) if ml1m else value for value in values], dtype=object)
    missing = sum(user not in rows for user in user_ids)
    if missing:
        notes += (f"{layout.users.name}: {plural(missing, 'rated user')} not listed, attributes left empty",)
    return Users(ids=user_ids, attributes=attributes), notes


def _ml1m_label(name: str, code: str) -> str:
    if name == "age":
        return _ML1M_AGES.get(code, code)
    if name == "occupation" and code.isdigit() and int(code) < len(_ML1M_OCCUPATIONS):
        return _ML1M_OCCUPATIONS[int(code)]
    return code
