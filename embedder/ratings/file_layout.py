"""Where the files of a ratings dataset are, and how each is split: a ``FileLayout``.

MovieLens layouts are recognised by their file names (``ratings.csv``,
``ratings.dat``, ``u.data``) and bring their own formats and sibling files
(movies, links, genre names, users); anything else is a generic delimited
log.  ``plain_layout`` swaps every file for its plain text (see
:mod:`embedder.ratings.decoding`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from embedder.errors import DataError
from embedder.ratings.decoding import Inputs, plain_name
from embedder.ratings.formats import TableFormat, clip

RATINGS_FILES = ("ratings.csv", "ratings.dat", "u.data")
LOG_ROLES = ("user", "item", "rating", "timestamp")
FIX_RATINGS = "pass --ratings FILE --sep SEP --columns user,item,rating,timestamp"
FIX_KNOWN = "this MovieLens file does not have its usual columns; re-download the dataset"
_KNOWN_NAMES = re.compile(r"ml-(latest-small|latest|100k|1m|10m|20m|25m|32m)")


@dataclass(frozen=True)
class FileLayout:
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


def find_layout(path: Path) -> FileLayout:
    """The layout of ``path``: a MovieLens folder or ratings file (with its siblings), or a generic log."""
    if not path.exists():
        raise DataError("no such file or directory", path=path, fix=FIX_RATINGS)
    ratings = _ratings_in(path) if path.is_dir() else path
    kind = plain_name(ratings.name)  # ratings.csv.gz is a ratings.csv
    if kind not in RATINGS_FILES:
        return FileLayout(name=_log_name(ratings, kind), ratings=ratings, ratings_format=TableFormat())
    folder, name = ratings.parent, _dataset_name(ratings.parent)
    if kind == "ratings.csv":
        return FileLayout(name, ratings, TableFormat(sep=","), movies=_sibling(folder, "movies.csv"),
                          movies_format=TableFormat(sep=",", columns=("item", "title", "genres"), header=True),
                          links=_sibling(folder, "links.csv"))
    if kind == "ratings.dat":
        return _dat_layout(name, ratings)
    return FileLayout(name, ratings, TableFormat(sep="\t", columns=LOG_ROLES, header=False, quoting=False),
                      movies=_sibling(folder, "u.item"), genre_flags=True, genre_names=_sibling(folder, "u.genre"),
                      users=_sibling(folder, "u.user"), users_style="ml-100k")


def _dat_layout(name: str, ratings: Path) -> FileLayout:
    folder = ratings.parent
    # ml-1m's movies.dat is latin-1, ml-10m's mostly utf-8 but not reliably, and other
    # datasets in this layout (MovieTweetings) utf-8: latin-1 text is almost never valid utf-8.
    return FileLayout(name, ratings, TableFormat(sep="::", columns=LOG_ROLES, header=False, quoting=False),
                      movies=_sibling(folder, "movies.dat"),
                      movies_format=TableFormat(sep="::", columns=("item", "title", "genres"), header=False,
                                                quoting=False, encoding="utf-8", fallback="latin-1"),
                      users=_sibling(folder, "users.dat"), users_style="ml-1m")


def _ratings_in(folder: Path) -> Path:
    for name in RATINGS_FILES:
        if (folder / name).is_file():
            return folder / name
    # A zip is often unpacked into a folder that holds one dataset folder.
    nested = [child / name for child in sorted(folder.iterdir()) if child.is_dir()
              for name in RATINGS_FILES if (child / name).is_file()]
    if len(nested) == 1:
        return nested[0]
    raise DataError(f"no ratings file found (looked for {', '.join(RATINGS_FILES)})", path=folder,
                    fix=FIX_RATINGS)


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


def plain_layout(layout: FileLayout, inputs: Inputs) -> tuple[FileLayout, tuple[str, ...]]:
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
            notes += (unread(path, error),)
            plain = None
        layout = replace(layout, **{field: plain})
        if field == "movies":
            layout = replace(layout, movies_format=fmt)
    return layout, notes


def _plain(inputs: Inputs, path: Path, fmt: TableFormat, flag: str) -> tuple[Path, TableFormat]:
    """The plain file of ``path`` and ``fmt`` with the encoding to read it (UTF-8 once transcoded)."""
    plain, encoding = inputs.plain(path, fmt.encoding, flag or "--encoding")
    return plain, fmt if encoding == fmt.encoding else replace(fmt, encoding=encoding, fallback=None)


def unread(path: Path, error: DataError) -> str:
    """The note for an optional file (movies, links, users beside the log) that does not parse."""
    where = f"line {error.line}: " if error.line else ""
    return f"{path.name}: not read, it does not have the expected shape ({where}{clip(error.problem, 80)})"
