"""The projector sprite: one thumbnail per movie, in one PNG atlas.

The projector needs a square grid, ``C = R = ceil(sqrt(N))`` tiles filled
row-major from the top left, at most 8192 px a side (docs/projector-format.md, "Sprite".
A tile is a rounded rectangle in the colour of the movie's primary genre with
its short title, or the movie's poster when one is given.

Two choices keep 10,000 tiles near a second:

* Text: FreeType takes ~0.1 ms per rendered string, so each character is
  rendered once (:mod:`embedder.site.glyphs`), and all glyphs of the sheet are
  stamped with numpy, one pass per distinct glyph.
* Encoding: the sheet is a palette image (see ``LEVELS``), which PNG encodes
  about four times faster than RGBA and about a third as large.
"""

from __future__ import annotations

import io
import math
import re
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from embedder.errors import DataError
from embedder.site.glyphs import Glyphs, Stamps, wrap

MAX_SIDE = 8192
MIN_TEXT_TILE = 24
MAX_LINES = 3
POSTER_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
# zlib's default level: on palette sheets ~0.5 s for 6400 px and a third smaller than level 1.
PNG_COMPRESS_LEVEL = 6
# The sheet is a palette image: index 0 is transparent, then per colour its
# background and LEVELS - 1 antialiasing steps towards its ink, so a generated
# tile needs no true colour and the PNG encodes ~4x faster than RGBA.
TRANSPARENT = 0
LEVELS = 16
GREY = (140, 140, 140)
# d3 schemeCategory10 without its grey (kept for Other) plus a navy.
_PALETTE = (
    (31, 119, 180), (255, 127, 14), (214, 39, 40), (44, 160, 44), (57, 59, 121),
    (140, 86, 75), (188, 189, 34), (23, 190, 207), (227, 119, 194), (148, 103, 189),
)
# The ten genres that are most often primary in MovieLens get distinct
# colours; rarer genres share the colour of a related one.
_GENRE_INDEX = {
    "drama": 0, "comedy": 1, "action": 2, "adventure": 3, "crime": 4, "horror": 5,
    "documentary": 6, "animation": 7, "children": 8, "children's": 8, "thriller": 9,
    "musical": 1, "war": 2, "western": 3, "film-noir": 4, "mystery": 9,
    "sci-fi": 7, "imax": 7, "fantasy": 8, "romance": 8,
}
_COLOURS = _PALETTE + (GREY,)
_NEUTRAL = frozenset({"", "other", "unknown", "(unknown)", "(no genres)", "(no genres listed)"})
_TRAILING_PARENS = re.compile(r"\s*\([^()]*\)\s*\Z")
_MOVED_ARTICLE = re.compile(r"(.+), (The|A|An)\Z")


class Sprite(NamedTuple):
    """A sprite PNG, its tile size, and how many poster files could not be read."""

    png: bytes
    tile: int
    poster_failures: int


def tile_size(n: int, preferred: int = 64, limit: int = MAX_SIDE) -> int:
    """Return the largest tile ``t <= preferred`` with ``ceil(sqrt(n)) * t <= limit``.

    Raises ValueError when not even 1 px tiles fit.
    """
    if n < 1:
        raise ValueError("a sprite needs at least one tile")
    tile = min(preferred, limit // grid_side(n))
    if tile < 1:
        raise ValueError(f"{n} tiles do not fit a {limit} px sprite even at 1 px each")
    return tile


def grid_side(n: int) -> int:
    """Return ``ceil(sqrt(n))``, exactly, for the square tile grid."""
    return math.isqrt(n - 1) + 1 if n > 0 else 0


def genre_colour(genre: str) -> tuple[int, int, int]:
    """Return the tile colour of a genre: one of ten colours, grey for Other/unknown.

    The ten MovieLens genres that are most often primary have distinct
    colours; any other name maps to a fixed one of the ten.
    """
    return _COLOURS[_colour_id(genre)]


def _colour_id(genre: str) -> int:
    key = str(genre).strip().lower()
    if key in _NEUTRAL:
        return len(_PALETTE)
    # crc32, unlike hash(), is the same in every interpreter run.
    return _GENRE_INDEX.get(key, zlib.crc32(key.encode()) % len(_PALETTE))


def make_sprite(titles, genres, *, tile=None, posters: dict[int, Path] | None = None) -> Sprite:
    """Draw one tile per movie and return the PNG atlas.

    ``genres`` holds each movie's primary genre (a string) or its genre
    tuple, whose first entry is used.  ``posters`` maps a row index to an
    image file shown instead of the generated tile; files that cannot be read
    fall back to the generated tile and are counted in ``poster_failures``.
    The bytes are the same for the same input.
    """
    titles = [str(t) for t in titles]
    genres = list(genres)
    if len(titles) != len(genres):
        raise ValueError(f"{len(titles)} titles but {len(genres)} genres")
    tile = tile_size(len(titles)) if tile is None else int(tile)
    if tile < 1 or grid_side(len(titles)) * tile > MAX_SIDE:
        raise ValueError(f"{len(titles)} tiles of {tile} px do not fit a {MAX_SIDE} px square grid")
    pictures = _load_posters(posters or {}, len(titles), tile)
    drawn = [i for i in range(len(titles)) if i not in pictures]
    colour_ids = [_colour_id(_primary(genres[i])) for i in drawn]
    sheet = _paint_tiles(len(titles), tile, drawn, colour_ids)
    if tile >= MIN_TEXT_TILE and drawn:
        _draw_titles(sheet, tile, drawn, [titles[i] for i in drawn], colour_ids)
    image = Image.fromarray(sheet)
    image.putpalette(_palette())
    if pictures:
        image = _with_posters(image, tile, pictures)
    return Sprite(_png(image), tile, len(posters or {}) - len(pictures))


def find_posters(directory, movie_ids, links=None) -> dict[int, Path]:
    """Match poster files to rows by movie id, IMDb id or TMDB id.

    A file ``<key>.jpg|.jpeg|.png|.webp`` (case-insensitive) matches a row
    when ``<key>`` is the movie id, the IMDb id (``tt0114709`` or
    ``0114709``) or the TMDB id, tried in that order.  ``links`` is
    ``{"imdb": array, "tmdb": array}`` aligned with ``movie_ids``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError("poster directory not found", path=directory, fix="check the posters setting")
    files = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() in POSTER_SUFFIXES and path.is_file():
            files.setdefault(path.stem.lower(), path)
    found = {}
    for row, movie_id in enumerate(movie_ids):
        match = next((files[k] for k in _poster_keys(row, movie_id, links or {}) if k in files), None)
        if match is not None:
            found[row] = match
    return found


def short_title(title: str) -> str:
    """Return a title fit for a thumbnail: no year or alias, article in front."""
    short = " ".join(title.split())  # tabs and line breaks too
    while (stripped := _TRAILING_PARENS.sub("", short)) != short and stripped:
        short = stripped
    moved = _MOVED_ARTICLE.match(short)
    return f"{moved[2]} {moved[1]}" if moved else short


def _primary(genre) -> str:
    if genre is None or isinstance(genre, str):
        return genre or ""
    return str(genre[0]) if len(genre) else ""


def _poster_keys(row: int, movie_id, links) -> list[str]:
    keys = [str(movie_id).strip().lower()]
    imdb = _link(links, "imdb", row).lower().removeprefix("tt")
    if imdb.isdigit():
        keys += ["tt" + imdb.zfill(7), imdb.zfill(7)]
    tmdb = _link(links, "tmdb", row)
    if tmdb:
        keys.append(tmdb.lower())
    return keys


def _link(links, kind: str, row: int) -> str:
    values = links.get(kind)
    return "" if values is None else str(values[row]).strip()


def _load_posters(posters: dict[int, Path], n: int, tile: int) -> dict[int, np.ndarray]:
    pictures = {}
    for row in sorted(posters):
        if not 0 <= row < n:
            raise ValueError(f"poster row {row} is outside 0..{n - 1}")
        pixels = _poster_pixels(posters[row], tile)
        if pixels is not None:
            pictures[row] = pixels
    return pictures


def _poster_pixels(path, tile: int) -> np.ndarray | None:
    """Return a poster centre-cropped to a square tile, or None if unreadable."""
    try:
        with Image.open(path) as image:
            image.draft("RGB", (tile, tile))  # JPEG: decode at a reduced scale, much faster
            square = ImageOps.fit(image.convert("RGBA"), (tile, tile), Image.Resampling.LANCZOS)
    # What Pillow raises for missing, foreign, truncated or oversized files.
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return np.asarray(square)


def _paint_tiles(n: int, tile: int, drawn: list[int], colour_ids: list[int]) -> np.ndarray:
    """Return the sheet as palette indices with every generated tile's background."""
    cols = grid_side(n)
    # One background per colour, plus an empty tile for posters and trailing cells.
    backgrounds = [_background(_base(c), tile) for c in range(len(_COLOURS))]
    bank = np.stack(backgrounds + [np.zeros((tile, tile), np.uint8)])
    cells = np.full(cols * cols, len(_COLOURS), dtype=np.intp)
    cells[drawn] = colour_ids
    return bank[cells].reshape(cols, cols, tile, tile).swapaxes(1, 2).reshape(cols * tile, cols * tile)


def _background(index: int, tile: int) -> np.ndarray:
    image = Image.new("L", (tile, tile), TRANSPARENT)
    # A 1 px transparent margin separates neighbouring thumbnails on screen.
    inset = 1 if tile >= 8 else 0
    radius = tile // 6 if tile >= 12 else 0
    box = (inset, inset, tile - 1 - inset, tile - 1 - inset)
    ImageDraw.Draw(image).rounded_rectangle(box, radius=radius, fill=index)
    return np.asarray(image)


def _base(colour_id: int) -> int:
    """Return the palette index of a colour's background; text levels follow it."""
    return 1 + colour_id * LEVELS


def _palette() -> list[int]:
    """Return the flat RGB palette: transparent, then each colour blended to its ink."""
    entries = [(0, 0, 0)]
    for colour in _COLOURS:
        ink = _ink(colour)
        for level in range(LEVELS):
            weight = level / (LEVELS - 1)
            entries.append(tuple(round(c + (i - c) * weight) for c, i in zip(colour, ink)))
    return [channel for entry in entries for channel in entry]


def _with_posters(image: Image.Image, tile: int, pictures: dict[int, np.ndarray]) -> Image.Image:
    # Photographs need true colour, so a sprite with posters is RGBA.
    image = image.convert("RGBA")
    cols = image.width // tile
    for row, pixels in sorted(pictures.items()):
        image.paste(Image.fromarray(pixels), ((row % cols) * tile, (row // cols) * tile))
    return image


def _ink(colour) -> tuple[int, int, int]:
    """Return white or black, whichever contrasts more with ``colour`` (WCAG)."""
    channels = [c / 255 for c in colour]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return (255, 255, 255) if (1.05 / (luminance + 0.05)) >= ((luminance + 0.05) / 0.05) else (0, 0, 0)


def _draw_titles(sheet: np.ndarray, tile: int, drawn: list[int], titles: list[str], colour_ids: list[int]) -> None:
    """Write each title, wrapped and centred, onto its tile of the index sheet."""
    font = ImageFont.load_default(size=max(7, round(tile * 0.16)))
    glyphs = Glyphs(font, LEVELS)
    # Lines may run almost to the sides; only the rounded corners need room.
    pad_x, pad_y = max(2, tile // 20), max(2, tile // 12)
    line_height = sum(font.getmetrics())
    max_lines = max(1, min(MAX_LINES, (tile - 2 * pad_y) // line_height))
    cols = sheet.shape[1] // tile
    stamps = Stamps()
    for index, title in zip(drawn, titles):
        lines = wrap(glyphs.drawable(short_title(title)), glyphs, tile - 2 * pad_x, max_lines)
        left, top = (index % cols) * tile, (index // cols) * tile
        top += (tile - len(lines) * line_height) // 2
        for k, line in enumerate(lines):
            x = left + (tile - glyphs.width(line)) / 2
            glyphs.place(line, x, top + k * line_height, index, stamps)
    bases = np.zeros(cols * cols, dtype=np.uint8)
    bases[drawn] = [_base(c) for c in colour_ids]
    if stamps.words:
        _stamp(sheet, tile, glyphs, stamps, bases)


def _stamp(sheet: np.ndarray, tile: int, glyphs: Glyphs, stamps: Stamps, bases: np.ndarray) -> None:
    """Draw every stamped glyph into ``sheet``, one numpy pass per glyph."""
    ids, starts, parity = (np.concatenate([word[k] for word in stamps.words]) for k in range(3))
    counts = [len(word[0]) for word in stamps.words]
    x0, y0, cells = (np.repeat(part, counts) for part in zip(*stamps.origins))
    xs = np.rint(starts + x0).astype(np.intp)
    ys, cells = y0.astype(np.intp), cells.astype(np.intp)
    cols = sheet.shape[1] // tile
    left, top, base = (cells % cols) * tile, (cells // cols) * tile, bases[cells]
    # Neighbouring letters may overlap: stamping odd and even letters in
    # separate passes keeps one write from hiding the other.
    keys = ids * 2 + parity
    order = np.argsort(keys, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(keys[order])) + 1):
        dy, dx, level = glyphs.pixels(ids[group[0]])
        # Clipping to the glyph's own tile keeps a rare overhang off its neighbours.
        rows = np.clip(ys[group, None] + dy, top[group, None], top[group, None] + tile - 1)
        columns = np.clip(xs[group, None] + dx, left[group, None], left[group, None] + tile - 1)
        current = sheet[rows, columns]
        inked = np.maximum(current, base[group, None] + level)
        sheet[rows, columns] = np.where(current == TRANSPARENT, TRANSPARENT, inked)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    extra = {"transparency": TRANSPARENT} if image.mode == "P" else {}
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL, **extra)
    return buffer.getvalue()
