"""The explorer's encodings: data files as scripts, arrays as base64, coordinates, years, popularity, titles.

The explorer (``site_template/static/explorer.js``) must open from
``file://`` as well as from GitHub Pages.  Browsers refuse ``fetch`` and XHR
on ``file://``, but not ``<script src>``, so every data file is a small
script that hands its payload to the page (``script``)::

    __reelspace_data("movies/points", {"mask": "<base64>", ...});

Binary arrays travel as base64 of little-endian integers (``b64``); lists
as compact JSON.
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np

UNKNOWN_YEAR = 255
_YEAR_SUFFIX = re.compile(r"\s*\((\d{4})(?:[-\u2013]\d{0,4})?\)\s*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def quantise(coords) -> tuple[np.ndarray, list[float]]:
    """2-D coordinates -> interleaved uint16 in a square box (aspect kept), and that box.

    The box is ``[x0, y0, side]``: ``x = x0 + q / 65535 * side``.  Picture
    detail below 1/65535 of the layout's extent is lost (invisible below
    ~100x zoom).
    """
    coords = np.asarray(coords, dtype=np.float64)
    low, high = coords.min(axis=0), coords.max(axis=0)
    side = float((high - low).max()) or 1.0
    origin = (low + high) / 2 - side / 2
    q = np.rint((coords - origin) / side * 65535)
    q = np.clip(q, 0, 65535).astype("<u2")
    return np.ascontiguousarray(q).reshape(-1), [float(origin[0]), float(origin[1]), side]


def year_base(years) -> int:
    """The earliest known year (0 when none): ``encode_years`` counts from it."""
    known = np.asarray(years)[np.asarray(years) > 0]
    return int(known.min()) if len(known) else 0


def encode_years(years, base: int) -> np.ndarray:
    """Years as ``year - base`` in a uint8 (capped at 254); 255 means unknown."""
    years = np.asarray(years, dtype=np.int64)
    return np.where(years > 0, np.clip(years - base, 0, UNKNOWN_YEAR - 1), UNKNOWN_YEAR).astype(np.uint8)


def popularity(counts) -> np.ndarray:
    """Rating counts on a log scale in a uint8: ``round(8 * log2(1 + count))`` (search ranks by it)."""
    counts = np.asarray(counts, dtype=np.float64)
    return np.clip(np.rint(8 * np.log2(1 + np.maximum(counts, 0))), 0, 255).astype(np.uint8)


def short_title(title, year) -> str:
    """A title on one line, without the ``(1995)`` that repeats its year."""
    text = _CONTROL.sub(" ", str(title)).strip()
    match = _YEAR_SUFFIX.search(text)
    if match and int(year or 0) == int(match.group(1)) and match.start() > 0:
        text = text[: match.start()].rstrip()
    return text or "(untitled)"


def b64(array: np.ndarray) -> str:
    """Base64 of an array's bytes (little-endian dtypes)."""
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def script(name: str, payload) -> bytes:
    """A data file: one call that hands ``payload`` to the page (works from file://)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return f"__reelspace_data({json.dumps(name)},{body});\n".encode("utf-8")
