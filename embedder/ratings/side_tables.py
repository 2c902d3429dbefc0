"""The small tables beside a ratings log: movies (``u.item`` and ``u.genre`` too), links and users.

Each is keyed by its movie (or user) id and read leniently: an optional
file that does not have the expected shape is a note, not an error, and
rows with a repeated id keep the first.  ``align_movies`` and
``read_users`` line the result up with the ratings' item and user ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from embedder.errors import DataError
from embedder.ratings.cell_values import parse_year, split_genres, title_year
from embedder.ratings.file_layout import FIX_KNOWN, FileLayout, unread
from embedder.ratings.formats import (MOVIES, SKIP, Check, TableFormat, Tally, clip, data_records, header_note, plural,
                                      resolve, settle, shown, split_line, strict_cells)
from embedder.ratings.logs import FIX_MALFORMED
from embedder.values import Movies, Users

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


@dataclass(frozen=True)
class _Movie:
    title: str
    year: int
    genres: tuple[str, ...]


def read_catalogue(layout: FileLayout, strict: bool):
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
    rows, _, link_notes = _keyed_rows(layout.links, fmt, "movie", "--movies-encoding", strict, FIX_KNOWN,
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
    rows, _, notes = _keyed_rows(path, fmt, "movie", "--movies-encoding", strict, FIX_KNOWN, optional=True)
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
        return None, fmt, (unread(path, error),)
    width = len(fmt.columns)
    at = next((fmt.columns.index(role) for role in ("item", "user") if role in fmt.columns), 0)

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


def align_movies(item_ids: np.ndarray, catalogue: dict, links: dict, path: Path | None):
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


def read_users(layout: FileLayout, user_ids: np.ndarray, strict: bool):
    """Read users.dat / u.user into Users row-aligned with ``user_ids`` (empty strings when absent)."""
    if layout.users is None:
        return None, ()
    ml1m = layout.users_style == "ml-1m"
    fmt = TableFormat(sep="::" if ml1m else "|", columns=("user",) + (SKIP,) * 4, header=False,
                      quoting=False, encoding="latin-1")
    rows, _, notes = _keyed_rows(layout.users, fmt, "user", "--encoding", strict, FIX_KNOWN, optional=True)
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
