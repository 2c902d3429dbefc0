"""Text for sprite tiles: Pillow's font rendered once per glyph, word-wrapped titles.

Pillow's built-in font has about 120 glyphs; letters it lacks are spelled with
ones it has (``Straße`` -> ``Strasse``) and the rest are left out, so no tile
shows a "missing glyph" box.  Each glyph is rendered once into (dy, dx, level)
pixel arrays that :mod:`embedder.site.sprite` stamps onto the sheet with numpy.
"""

from __future__ import annotations

import unicodedata

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ELLIPSIS = "\u2026"
# Pillow's built-in font has ~120 glyphs (ASCII and a little punctuation):
# letters it lacks are spelled with ones it has; the rest are left out.
SPELLED = {
    "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i", "–": "-", "—": "-", "€": "EUR",
}

def wrap(text: str, glyphs: Glyphs, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap; long words are broken, overflow ends in an ellipsis."""
    lines, current, current_width = [], "", 0.0
    space = glyphs.advance(" ")
    for word in _pieces(text.split(), glyphs, width):
        word_width = glyphs.width(word)
        if current and current_width + space + word_width <= width:
            current, current_width = f"{current} {word}", current_width + space + word_width
            continue
        if current:
            lines.append(current)
        current, current_width = word, word_width
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [_ellipsize(lines[max_lines - 1], glyphs, width)]
    return lines


def _pieces(words: list[str], glyphs: Glyphs, width: float):
    """Yield the words, cutting any word wider than ``width`` into pieces."""
    for word in words:
        while len(word) > 1 and glyphs.width(word) > width:
            cut = _fitting_prefix(word, glyphs, width)
            # Leave at least three letters for the next line when the cut allows it.
            if len(word) - cut < 3 and cut > 3:
                cut = max(3, len(word) - 3)
            yield word[:cut]
            word = word[cut:]
        yield word


def _fitting_prefix(word: str, glyphs: Glyphs, width: float) -> int:
    cut, used = 0, 0.0
    while cut < len(word) and used + glyphs.advance(word[cut]) <= width:
        used += glyphs.advance(word[cut])
        cut += 1
    return max(cut, 1)


def _ellipsize(line: str, glyphs: Glyphs, width: float) -> str:
    text = line
    while text and glyphs.width(text.rstrip() + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


class Stamps:
    """Where glyphs go: per placed word, its cached glyph arrays and its origin."""

    def __init__(self):
        self.words: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]] = []
        self.origins: list[tuple[float, int, int]] = []  # x, y, grid cell


class Glyphs:
    """The glyphs of one font, each rendered once as (dy, dx, level) pixels."""

    def __init__(self, font: ImageFont.FreeTypeFont, levels: int):
        self.font = font
        self.levels = levels
        self.advances: dict[str, float] = {}
        self.widths: dict[str, float] = {}
        self.index: dict[str, int] = {}
        self.glyph_pixels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.words: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, float]] = {}
        self.substitutes: dict[str, str] = {}
        # U+FFFF is a noncharacter: what the font draws for it is its "missing" box.
        missing = font.getmask("\uffff")
        self.missing = (missing.size, bytes(missing))

    def drawable(self, text: str) -> str:
        """Return ``text`` with every character the font lacks spelled or dropped."""
        if text.isascii() and text.isprintable():
            return text
        return "".join(self._substitute(c) for c in text)

    def _substitute(self, char: str) -> str:
        if char not in self.substitutes:
            if self._has(char):
                self.substitutes[char] = char
            else:
                spelled = SPELLED.get(char, unicodedata.normalize("NFKD", char))
                self.substitutes[char] = "".join(c for c in spelled if c != char and self._has(c))
        return self.substitutes[char]

    def _has(self, char: str) -> bool:
        if not char.isprintable():
            return False
        mask = self.font.getmask(char)
        return (mask.size, bytes(mask)) != self.missing

    def advance(self, char: str) -> float:
        if char not in self.advances:
            self.advances[char] = self.font.getlength(char)
        return self.advances[char]

    def width(self, text: str) -> float:
        # Words and whole titles repeat across a catalogue; measure each once.
        if text not in self.widths:
            self.widths[text] = sum(self.advance(c) for c in text)
        return self.widths[text]

    def pixels(self, glyph_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.glyph_pixels[glyph_id]

    def place(self, line: str, x: float, y: int, cell: int, stamps: Stamps) -> None:
        space = self.advance(" ")
        for word in line.split(" "):
            cached = self._word(word)
            stamps.words.append(cached)
            stamps.origins.append((x, y, cell))
            x += cached[3] + space

    def _word(self, word: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        if word not in self.words:
            ids = np.asarray([self._glyph(c) for c in word], dtype=np.intp)
            advances = np.asarray([self.advance(c) for c in word], dtype=np.float64)
            starts = np.cumsum(advances) - advances
            self.words[word] = (ids, starts, np.arange(len(word)) % 2, self.width(word))
        return self.words[word]

    def _glyph(self, char: str) -> int:
        if char not in self.index:
            self.index[char] = len(self.glyph_pixels)
            self.glyph_pixels.append(self._render(char))
        return self.index[char]

    def _render(self, char: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x0, y0, x1, y1 = self.font.getbbox(char)  # relative to the top-left origin
        if x1 <= x0 or y1 <= y0:
            empty = np.zeros(0, dtype=np.intp)
            return empty, empty, empty.astype(np.uint8)
        image = Image.new("L", (x1 - x0, y1 - y0))
        ImageDraw.Draw(image).text((-x0, -y0), char, font=self.font, fill=255)
        levels = (np.asarray(image, dtype=np.uint16) * (self.levels - 1) + 127) // 255
        dy, dx = np.nonzero(levels)
        return dy + y0, dx + x0, levels[dy, dx].astype(np.uint8)
