"""The picture of the labelled map: a 1200 x 630 PNG with coloured points, tinted regions and names that never overlap."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from embedder.maps.picture import HEIGHT, MAP_SIZE, WIDTH, Label, _draw_labels, _frame, _overlap, map_picture


def test_the_picture_is_a_png_of_the_right_size_with_the_points_coloured():
    rng = np.random.default_rng(0)
    coords = np.concatenate([rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + 8])
    colours = np.array([[214, 39, 40]] * 100 + [[31, 119, 180]] * 100, dtype=np.uint8)
    data = map_picture(coords, colours, np.linspace(0, 1, 200), [Label(0, 0, "Horror", 100), Label(8, 8, "Musical", 100)],
                       title="demo", subtitle="a test", legend=[("Horror", (214, 39, 40)), ("Musical", (31, 119, 180))],
                       regions=np.repeat([0, 1], 100), region_colours=[(214, 39, 40), (31, 119, 180)])
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    pixels = np.asarray(image).reshape(-1, 3).astype(int)
    for colour in ((214, 39, 40), (31, 119, 180)):  # both genres' dots are there, near full strength
        assert (np.abs(pixels - colour).sum(axis=1) < 60).sum() > 50


def test_hidden_points_are_not_drawn():
    coords = np.array([[0, 0], [1, 1], [50, 50]], dtype=float)
    colours = np.array([[0, 0, 0]] * 3, dtype=np.uint8)
    data = map_picture(coords, colours, np.ones(3), [], title="t", subtitle="s", legend=[],
                       shown=np.array([True, True, False]))
    image = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    # The frame fits the shown points: the hidden one at (50, 50) would be far outside it.
    assert image[:, :MAP_SIZE].min() < 60


def test_names_are_drawn_biggest_first_and_never_overlap():
    draw = ImageDraw.Draw(Image.new("RGB", (WIDTH, HEIGHT)))
    to_pixels = _frame(np.array([[0.0, 0.0], [10.0, 10.0]]))
    labels = [Label(5, 5, "A big region name", 100), Label(5.1, 5.1, "Overlapping small one", 10),
              Label(0, 0, "At the very edge of the map", 50), Label(9, 2, "Elsewhere", 5)]
    boxes = _draw_labels(draw, labels, to_pixels)
    assert len(boxes) == 3  # the small one over the big one is left out
    for i, a in enumerate(boxes):
        assert a[0] >= 0 and a[2] <= MAP_SIZE and a[1] >= 0 and a[3] <= HEIGHT  # moved inside, not cut
        for b in boxes[i + 1:]:
            assert not _overlap(a, b, gap=0)
