"""The TensorFlow Embedding Projector bundle, as ``{relative path: bytes}``.

Every rule applied here was checked against the projector in a real browser;
``docs/projector-format.md`` states them (the ``§`` marks in comments number
the project's notes on that format).  Nothing is written to disk: the output
stage does that, and ``embedder.site.validate`` checks the files it wrote.

Bundle layout under ``folder/`` for an embedding with slug ``s``::

    s.bytes            little-endian float32 tensor (the config's tensorPath)
    s.tsv              the same tensor as numeric TSV (for a TensorBoard logdir)
    s_metadata.tsv     header + N rows
    s_sprite.png       optional thumbnail atlas
    s_bookmarks.json   optional list of projector States
    projector_config.json          paths relative to the folder
    projector_config.hosted.json   absolute https URLs (only with base_url)
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import numpy as np

from embedder.errors import ConfigError
from embedder.ratings.genres import NO_GENRE
from embedder.values import Movies, Users

PROJECTOR_URL = "https://projector.tensorflow.org/"
CONFIG_NAME = "projector_config.json"
HOSTED_CONFIG_NAME = "projector_config.hosted.json"
# The projector reads TSV files in slices of this many bytes (§0.10).
SLICE_BYTES = 1_000_000
# d3 schemeCategory10 gives only ten distinct colours (§3).
MAX_CATEGORIES = 10
OTHER = "Other"
#: The ``region`` of points that lie between the map's dense regions.
BETWEEN_REGIONS = "(between regions)"
UNKNOWN = "(unknown)"
# Fields a bookmark State must carry or the projector throws on load (§5).
REQUIRED_STATE_FIELDS = (
    "selectedProjection",
    "projections",
    "pcaComponentDimensions",
    "tSNEIteration",
    "tSNEPerplexity",
    "tSNELearningRate",
    "selectedPoints",
)
# Placeholder genre names used by the MovieLens files for "no genre".

_SLUG = re.compile(r"[a-z0-9_-]+\Z")
_BREAKS = re.compile(r"[\t\r\n]+")
# What JavaScript's Number() accepts, and what it prints back unchanged (§3:
# a column whose values all pass !isNaN is converted to numbers).
_JS_NUMBER = re.compile(
    r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\Z"
    r"|[-+]?Infinity\Z|0[xX][0-9a-fA-F]+\Z|0[bB][01]+\Z|0[oO][0-7]+\Z"
)
_CANONICAL_INT = re.compile(r"(?:0|-?[1-9][0-9]{0,14})\Z")
# encodeURIComponent leaves these unescaped; urllib.parse.quote would escape them.
_URI_COMPONENT_SAFE = "!~*'()"


@dataclass(frozen=True)
class Embedding:
    """One tensor of the projector, with its metadata and optional sprite.

    ``metadata`` is an ordered tuple of ``(column name, values)``; every
    column has N values and the first column is the label (the title).
    """

    name: str
    slug: str
    vectors: np.ndarray
    metadata: tuple[tuple[str, tuple], ...]
    sprite: bytes | None = None
    sprite_tile: int | None = None


def tensor_bytes(vectors) -> bytes:
    """Return the tensor as little-endian float32, row-major, no header (§2)."""
    return _as_matrix(vectors).tobytes()


def tensor_tsv(vectors) -> bytes:
    """Return the tensor as numeric TSV: ``%.7g``, tabs, LF, no header (§9)."""
    return _tsv(_as_matrix(vectors))


def metadata_tsv(columns) -> bytes:
    """Return metadata as projector TSV: a header row, then one row per point.

    ``columns`` is a sequence of ``(name, values)``; there must be at least
    two (a single column cannot carry a header, §3) and all of the same
    length.  Values are sanitised (tabs and line breaks become spaces, empty
    cells become ``(unknown)``) and rows that a 1,000,000-byte read slice
    would cut inside a UTF-8 character are pushed back with blank lines.
    """
    names, cells = _metadata_table(columns)
    rows = ["\t".join(names)] + ["\t".join(row) for row in zip(*cells)]
    return _pad_slices([(row + "\n").encode("utf-8") for row in rows])


def projector_files(embeddings, *, folder="projector", base_url=None, bookmarks=None) -> dict[str, bytes]:
    """Return every file of the projector bundle, keyed by path under ``folder``.

    ``bookmarks`` maps a slug to a list of projector State dicts.  With
    ``base_url`` (an absolute ``https://`` URL) a second config with absolute
    URLs is added for ``projector.tensorflow.org/?config=`` (§0.1, §8A).
    """
    hosted_root = None if base_url is None else _https_base(base_url)
    embeddings = tuple(embeddings)
    bookmarks = dict(bookmarks or {})
    _check_embeddings(embeddings, bookmarks)
    prefix = _folder_prefix(folder)
    files, entries = {}, []
    for embedding in embeddings:
        own, entry = _embedding_files(embedding, bookmarks.get(embedding.slug))
        files.update((prefix + name, data) for name, data in own.items())
        entries.append(entry)
    files[prefix + CONFIG_NAME] = _json_bytes({"embeddings": entries})
    if hosted_root is not None:
        hosted = [_absolute_entry(entry, hosted_root + quote(prefix)) for entry in entries]
        files[prefix + HOSTED_CONFIG_NAME] = _json_bytes({"embeddings": hosted})
    return files


def primary_genres(movies: Movies) -> np.ndarray:
    """Return each movie's primary genre, folded to at most ten categories.

    The primary genre is the first listed genre; it is kept when it is one of
    the nine most frequent primary genres of the catalogue and becomes
    ``Other`` otherwise (movies without a genre are ``Other`` too).
    """
    firsts = [next((g for g in genres if g not in NO_GENRE), None) for genres in movies.genres]
    counts = Counter(first for first in firsts if first is not None)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    keep = {genre for genre, _ in ranked[: MAX_CATEGORIES - 1]}
    return np.array([first if first in keep else OTHER for first in firsts], dtype=object)


def movie_metadata(movies: Movies, rows, counts, mean_rating=None, region=None) -> tuple[tuple[str, tuple], ...]:
    """Return the metadata columns of a movie embedding.

    ``rows`` selects catalogue rows in embedding order; ``counts``,
    ``mean_rating`` and ``region`` (the map's region names, "" for none) are
    aligned with ``rows`` (one value per embedding row).
    """
    rows = np.asarray(rows, dtype=np.intp)
    counts = _aligned(counts, len(rows), "counts")
    years = [_year(y) for y in np.asarray(movies.years)[rows]]
    columns = [
        ("title", [str(t) for t in np.asarray(movies.titles)[rows]]),
        ("year", [str(y) if y else "unknown" for y in years]),
        ("decade", [f"{y // 10 * 10}s" if y else "unknown" for y in years]),
        ("genres", ["|".join(movies.genres[r]) or "(no genres)" for r in rows]),
        ("genre", list(primary_genres(movies)[rows])),
        ("ratings", [int(c) for c in counts]),
    ]
    if mean_rating is not None:
        columns.append(("mean_rating", _ratings(mean_rating, len(rows))))
    if region is not None:
        columns.append(("region", _regions(region, len(rows))))
    columns.append(("movie_id", protect_ids(np.asarray(movies.ids)[rows])))
    return _freeze(columns)


def user_metadata(user_ids, counts, mean_rating, top_genre, users: Users | None, region=None) -> tuple[tuple[str, tuple], ...]:
    """Return the metadata columns of a user embedding, one row per user id.

    ``users.attributes`` (age, gender, occupation) are looked up by id;
    users missing from ``users`` get ``unknown``; ``region`` names each
    user's region of the map ("" for none).
    """
    ids = [str(u) for u in user_ids]
    columns = [
        ("user", [f"user {u}" for u in ids]),
        ("ratings", [int(c) for c in _aligned(counts, len(ids), "counts")]),
    ]
    if mean_rating is not None:
        columns.append(("mean_rating", _ratings(mean_rating, len(ids))))
    columns.append(("top_genre", [_or_unknown(g) for g in _aligned(top_genre, len(ids), "top_genre")]))
    if region is not None:
        columns.append(("region", _regions(region, len(ids))))
    columns.extend(_user_attributes(users, ids))
    columns.append(("user_id", protect_ids(ids)))
    return _freeze(columns)


def protect_ids(ids, prefix="#") -> list[str]:
    """Return ids as text, all prefixed when the projector would mangle any.

    A column is converted to numbers when every value parses (§3), so
    ``0114709`` would show as ``114709``; a non-numeric prefix keeps it text.
    """
    texts = [str(i).strip() for i in ids]
    if any(_JS_NUMBER.match(t) and not _CANONICAL_INT.match(t) for t in texts):
        return [prefix + t for t in texts]
    return texts


def hosted_config_url(base_url, folder="projector") -> str:
    """Return the absolute URL of the hosted config for ``base_url``."""
    return _https_base(base_url) + quote(_folder_prefix(folder) + HOSTED_CONFIG_NAME)


def projector_link(base_url, folder="projector") -> str:
    """Return the projector.tensorflow.org link that opens the hosted config.

    The config URL is encoded like ``encodeURIComponent`` because the
    projector splits its query on ``?``, ``&`` and ``=`` (§0.13).
    """
    return PROJECTOR_URL + "?config=" + quote(hosted_config_url(base_url, folder), safe=_URI_COMPONENT_SAFE)


def _as_matrix(vectors) -> np.ndarray:
    # Cast first: a float64 beyond the float32 range only becomes inf here.
    with np.errstate(over="ignore"):
        matrix = np.ascontiguousarray(vectors, dtype="<f4")
    if matrix.ndim != 2 or matrix.shape[0] < 2 or matrix.shape[1] < 2:
        raise ValueError(f"vectors must have shape (N, D) with N > 1 and D > 1, not {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError("vectors contain NaN or infinite values (or values beyond float32)")
    return matrix


def _tsv(matrix: np.ndarray) -> bytes:
    n, d = matrix.shape
    # One %-format over the whole matrix runs in C, unlike a per-row loop (A3).
    row = "\t".join(["%.7g"] * d) + "\n"
    return ((row * n) % tuple(matrix.ravel().tolist())).encode("ascii")


def _metadata_table(columns) -> tuple[list[str], list[list[str]]]:
    columns = [(name, list(values)) for name, values in columns]
    if len(columns) < 2:
        raise ValueError("metadata needs at least two columns (a single column cannot have a header)")
    names = [_cell(name) for name, _ in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate metadata column names: {names}")
    lengths = {len(values) for _, values in columns}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"metadata columns must all have the same non-zero length, got {sorted(lengths)}")
    return names, [[_cell(v) for v in values] for _, values in columns]


def _cell(value) -> str:
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(value)):
        return UNKNOWN
    text = format(float(value), ".6g") if isinstance(value, (float, np.floating)) else str(value)
    # No quoting exists in projector TSV (§0.6): a tab shifts columns, a newline adds a row.
    return _BREAKS.sub(" ", text).strip() or UNKNOWN


def _pad_slices(lines: list[bytes], slice_bytes: int = SLICE_BYTES) -> bytes:
    out, offset = [], 0
    for line in lines:
        pad = _straddle_padding(line, offset, slice_bytes)
        if pad:
            # Blank lines are skipped by the projector's parser (§0.10).
            out.append(b"\n" * pad)
        out.append(line)
        offset += pad + len(line)
    return b"".join(out)


def _straddle_padding(line: bytes, offset: int, slice_bytes: int) -> int:
    """Return how many bytes to shift ``line`` so no slice cuts a character."""
    pad = 0
    boundary = (offset // slice_bytes + 1) * slice_bytes
    while boundary < offset + pad + len(line):
        cut = boundary - offset - pad
        lead = cut
        while lead > 0 and line[lead] & 0xC0 == 0x80:  # a UTF-8 continuation byte
            lead -= 1
        pad += cut - lead
        boundary += slice_bytes
    return pad


def _check_embeddings(embeddings, bookmarks) -> None:
    if not embeddings:
        raise ValueError("the projector needs at least one embedding")
    for attribute in ("name", "slug"):
        values = [getattr(e, attribute) for e in embeddings]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ValueError(f"embedding {attribute}s must be unique: {duplicates}")
    for embedding in embeddings:
        _check_embedding(embedding)
    unknown = sorted(set(bookmarks) - {e.slug for e in embeddings})
    if unknown:
        raise ValueError(f"bookmarks for unknown embedding slugs: {unknown}")


def _check_embedding(embedding: Embedding) -> None:
    if not _SLUG.match(embedding.slug):
        raise ValueError(f"slug {embedding.slug!r} must match [a-z0-9_-]+")
    if not embedding.name.strip():
        raise ValueError(f"embedding {embedding.slug!r} needs a non-empty name")
    n = len(embedding.vectors)
    wrong = [name for name, values in embedding.metadata if len(values) != n]
    if wrong:
        raise ValueError(f"embedding {embedding.slug!r}: metadata columns {wrong} do not have {n} values")
    if embedding.sprite is not None and not (isinstance(embedding.sprite_tile, int) and embedding.sprite_tile > 0):
        raise ValueError(f"embedding {embedding.slug!r}: a sprite needs a positive sprite_tile")


def _embedding_files(embedding: Embedding, states) -> tuple[dict[str, bytes], dict]:
    slug = embedding.slug
    matrix = _as_matrix(embedding.vectors)
    files = {
        f"{slug}.bytes": matrix.tobytes(),
        f"{slug}.tsv": _tsv(matrix),
        f"{slug}_metadata.tsv": metadata_tsv(embedding.metadata),
    }
    entry = {
        "tensorName": embedding.name,
        "tensorShape": list(matrix.shape),
        "tensorPath": f"{slug}.bytes",
        "metadataPath": f"{slug}_metadata.tsv",
    }
    if embedding.sprite is not None:
        files[f"{slug}_sprite.png"] = embedding.sprite
        tile = embedding.sprite_tile
        entry["sprite"] = {"imagePath": f"{slug}_sprite.png", "singleImageDim": [tile, tile]}
    if states is not None:
        files[f"{slug}_bookmarks.json"] = _json_bytes(list(states))
        entry["bookmarksPath"] = f"{slug}_bookmarks.json"
    return files, entry


def _absolute_entry(entry: dict, root: str) -> dict:
    absolute = dict(entry)
    for key in ("tensorPath", "metadataPath", "bookmarksPath"):
        if key in entry:
            absolute[key] = root + quote(entry[key])
    if "sprite" in entry:
        absolute["sprite"] = dict(entry["sprite"], imagePath=root + quote(entry["sprite"]["imagePath"]))
    return absolute


def _json_bytes(value) -> bytes:
    # ASCII escapes keep the JSON readable whatever charset a host declares.
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")


def _https_base(base_url) -> str:
    """``base_url`` ending in ``/``; ConfigError unless it is an absolute https:// URL with a host and no query."""
    base_url = str(base_url)
    problem = base_url_problem(base_url)
    if problem:
        raise ConfigError(f"--base-url {base_url!r} {problem}")
    return base_url if base_url.endswith("/") else base_url + "/"


def base_url_problem(base_url: str) -> str | None:
    """Why ``base_url`` cannot be the address of a published site (None when it can)."""
    parts = urlsplit(base_url)
    if parts.scheme != "https":
        return "must be an https:// URL (projector.tensorflow.org is https and cannot load http data)"
    try:
        port = parts.port
    except ValueError:
        return "has a port that is not a number from 1 to 65535"
    if not parts.hostname or any(c.isspace() for c in base_url) or port == 0:
        return "must name a host, without spaces (e.g. https://USER.github.io/REPO/)"
    if parts.query or parts.fragment:
        return "must not have a query (?...) or a fragment (#...): give the folder the site is served from"
    return None


def _folder_prefix(folder: str) -> str:
    folder = folder.strip("/")
    if not folder:
        return ""
    if any(part in ("", ".", "..") for part in folder.split("/")) or "\\" in folder:
        raise ValueError(f"folder {folder!r} must be a plain relative path")
    return folder + "/"


def _aligned(values, n: int, what: str) -> list:
    values = list(values)
    if len(values) != n:
        raise ValueError(f"{what} has {len(values)} values, expected {n}")
    return values


def _year(value) -> int:
    year = float(value)
    return int(year) if math.isfinite(year) and year > 0 else 0


def _ratings(mean_rating, n: int) -> list[str]:
    """Format mean ratings compactly with at most two decimals (``3.5``, ``4``)."""
    return [
        f"{float(r):.2f}".rstrip("0").rstrip(".") if math.isfinite(float(r)) else "unknown"
        for r in _aligned(mean_rating, n, "mean_rating")
    ]


def _user_attributes(users: Users | None, ids: list[str]) -> list[tuple[str, list[str]]]:
    if users is None:
        return []
    index = {str(u): i for i, u in enumerate(users.ids)}
    rows = [index.get(u) for u in ids]
    return [
        (name, [_or_unknown(values[r]) if r is not None else "unknown" for r in rows])
        for name, values in users.attributes.items()
    ]


def _regions(names, n: int) -> list[str]:
    """Region names for the colour menu; points between the map's dense regions get one shared name."""
    return [str(name) or BETWEEN_REGIONS for name in _aligned(names, n, "region")]


def _or_unknown(value) -> str:
    text = "" if value is None else _cell(value)
    return "unknown" if text in ("", UNKNOWN) else text


def _freeze(columns) -> tuple[tuple[str, tuple], ...]:
    return tuple((name, tuple(values)) for name, values in columns)
