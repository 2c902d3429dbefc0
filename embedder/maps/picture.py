"""The default map + colours + region names -> one PNG to look at and to share.

1200 x 630 pixels (the size link previews use: the index page's Open Graph
image, and the picture at the top of the index page and the README).  The
map fills the left; the right column names the data set and the colours.
Points are drawn at twice the size and scaled down, so their edges are
smooth; well-rated movies are drawn larger, in full colour and on top, the
rest smaller and paler, so the catalogue's backbone stands out.  Region
names are drawn biggest-region first and skipped where they would overlap
a name already drawn.  Pillow only: its own font, no system fonts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

WIDTH, HEIGHT = 1200, 630
MAP_SIZE = 630
SCALE = 2
BACKGROUND = (250, 249, 246)
INK = (29, 29, 31)
MUTED = (95, 95, 100)


@dataclass(frozen=True)
class Label:
    """A region name at ``(x, y)`` in the map's coordinates; bigger ``weight`` is drawn first and larger."""

    x: float
    y: float
    text: str
    weight: float


def map_picture(coords: np.ndarray, colours: np.ndarray, weight: np.ndarray, labels: list[Label], *, title: str,
                subtitle: str, legend: list[tuple[str, tuple[int, int, int]]], shown: np.ndarray | None = None,
                regions: np.ndarray | None = None, region_colours: list | None = None) -> bytes:
    """The PNG bytes of the picture.

    ``colours`` is an (N, 3) uint8 array, ``weight`` each point's prominence
    in [0, 1] (from its rating count), ``shown`` the points to draw (default
    all); ``legend`` lists (name, colour) for the right column.  ``regions``
    (each point's region, -1 for none) with ``region_colours`` tints each
    region's ground, softly, under its points.
    """
    from PIL import Image, ImageDraw

    coords = np.asarray(coords, dtype=np.float64)
    shown = np.ones(len(coords), dtype=bool) if shown is None else np.asarray(shown, dtype=bool)
    weight = np.clip(np.asarray(weight, dtype=np.float64), 0.0, 1.0)
    to_pixels = _frame(coords[shown] if shown.any() else coords)
    xy = to_pixels(coords) * SCALE
    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), BACKGROUND)
    if regions is not None and region_colours:
        image = _territories(image, xy, np.asarray(regions), region_colours)
    draw = ImageDraw.Draw(image)
    density = min(1.0, np.sqrt(2500.0 / max(int(shown.sum()), 1)))
    radius = SCALE * (0.9 + 2.6 * weight) * (0.55 + 0.45 * density)
    paint = _pale(np.asarray(colours, dtype=np.float64), 0.25 + 0.75 * weight)
    for i in np.flatnonzero(shown)[np.argsort(weight[shown], kind="stable")]:
        x, y, r = xy[i, 0], xy[i, 1], radius[i]
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(c) for c in paint[i]))
    image = image.resize((WIDTH, HEIGHT), Image.LANCZOS)
    draw = ImageDraw.Draw(image)
    _draw_labels(draw, labels, to_pixels)
    _draw_column(draw, title, subtitle, legend)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _territories(image, xy: np.ndarray, regions: np.ndarray, colours: list):
    """Each region's ground: a blurred disc under every member, in a pale tint of the region's colour."""
    from PIL import Image, ImageDraw, ImageFilter

    ground = Image.new("RGB", image.size, BACKGROUND)
    draw = ImageDraw.Draw(ground)
    radius = 7 * SCALE
    for r, colour in enumerate(colours):
        tint = tuple(int(c) for c in _pale(np.asarray([colour], dtype=np.float64), np.array([0.22]))[0])
        for x, y in xy[regions == r]:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=tint)
    return ground.filter(ImageFilter.GaussianBlur(5 * SCALE))


def _frame(coords: np.ndarray):
    """A function from map coordinates to pixels of the square map area (aspect kept, 4% margin)."""
    low, high = coords.min(axis=0), coords.max(axis=0)
    side = float((high - low).max()) or 1.0
    centre = (low + high) / 2
    scale = MAP_SIZE * 0.92 / side

    def to_pixels(points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        x = MAP_SIZE / 2 + (points[..., 0] - centre[0]) * scale
        y = MAP_SIZE / 2 - (points[..., 1] - centre[1]) * scale
        return np.stack([x, y], axis=-1)

    return to_pixels


def _pale(colours: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Colours mixed with the background: ``strength`` 1 keeps them, 0 gives the background."""
    return colours * strength[:, None] + np.asarray(BACKGROUND, dtype=np.float64) * (1 - strength[:, None])


def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def _draw_labels(draw, labels: list[Label], to_pixels) -> list[tuple[float, float, float, float]]:
    """Region names, heaviest first, each skipped if it would overlap one already drawn; returns the boxes drawn."""
    if not labels:
        return []
    heaviest = max(label.weight for label in labels) or 1.0
    boxes: list[tuple[float, float, float, float]] = []
    for label in sorted(labels, key=lambda item: (-item.weight, item.text)):
        size = 13 if label.weight < 0.35 * heaviest else 16
        font = _font(size)
        x, y = to_pixels(np.array([label.x, label.y]))
        box = draw.textbbox((x, y), label.text, font=font, anchor="mm", stroke_width=3)
        # A name near the edge moves inside the map rather than being cut.
        x += max(0.0, 4 - box[0]) - max(0.0, box[2] - (MAP_SIZE - 4))
        y += max(0.0, 4 - box[1]) - max(0.0, box[3] - (HEIGHT - 4))
        box = draw.textbbox((x, y), label.text, font=font, anchor="mm", stroke_width=3)
        if any(_overlap(box, other) for other in boxes):
            continue
        draw.text((x, y), label.text, font=font, anchor="mm", fill=INK, stroke_width=3, stroke_fill=BACKGROUND)
        boxes.append(box)
    return boxes


def _overlap(a, b, gap: float = 3.0) -> bool:
    return not (a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1])


def _draw_column(draw, title: str, subtitle: str, legend) -> None:
    """The right column: title, a wrapped subtitle, the colour legend."""
    left = MAP_SIZE + 40
    width = WIDTH - left - 30
    draw.line((MAP_SIZE + 10, 30, MAP_SIZE + 10, HEIGHT - 30), fill=(225, 223, 218), width=1)
    y = 40
    y = _paragraph(draw, title, left, y, width, _font(30), INK, 38) + 10
    y = _paragraph(draw, subtitle, left, y, width, _font(16), MUTED, 22) + 18
    font = _font(15)
    column_width = width // 2
    for n, (name, colour) in enumerate(legend):
        cx = left + (n % 2) * column_width
        cy = y + (n // 2) * 24
        if cy > HEIGHT - 40:
            break
        draw.ellipse((cx, cy + 3, cx + 12, cy + 15), fill=tuple(int(c) for c in colour))
        draw.text((cx + 20, cy), _fit(draw, name, font, column_width - 26), font=font, fill=INK)


def _paragraph(draw, text: str, x: int, y: int, width: int, font, fill, line_height: int) -> int:
    """Word-wrapped text; returns the y below it."""
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and draw.textlength(trial, font=font) > width:
            draw.text((x, y), line, font=font, fill=fill)
            y += line_height
            line = word
        else:
            line = trial
    if line:
        draw.text((x, y), line, font=font, fill=fill)
        y += line_height
    return y


def _fit(draw, text: str, font, width: int) -> str:
    """``text`` cut with an ellipsis to ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
