"""The sprite atlas: grid maths, tiles, text, posters, determinism."""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pytest
from PIL import Image, ImageFont

from embedder.errors import DataError
from embedder.site.glyphs import Glyphs, wrap
from embedder.site.sprite import (
    GREY,
    LEVELS,
    MAX_SIDE,
    find_posters,
    genre_colour,
    grid_side,
    make_sprite,
    short_title,
    tile_size,
)

MAIN_GENRES = ["Drama", "Comedy", "Action", "Adventure", "Crime", "Horror", "Documentary", "Animation", "Children", "Thriller"]


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(BytesIO(png)).convert("RGBA"))


def cell(image: np.ndarray, index: int, tile: int) -> np.ndarray:
    cols = image.shape[1] // tile
    row, col = divmod(index, cols)
    return image[row * tile : (row + 1) * tile, col * tile : (col + 1) * tile]


# --- grid maths -----------------------------------------------------------------


@pytest.mark.parametrize("n, limit", [(10_000, 81), (50_000, 36), (100_000, 25)])
def test_tile_size_fits_the_8192_px_limit(n, limit):
    assert tile_size(n, preferred=512) == limit
    assert grid_side(n) * limit <= MAX_SIDE < grid_side(n) * (limit + 1)


def test_tile_size_prefers_the_preferred_size_and_fails_when_nothing_fits():
    assert tile_size(10_000) == 64
    assert tile_size(1) == 64
    assert tile_size(8192**2) == 1
    with pytest.raises(ValueError):
        tile_size(8192**2 + 1)
    with pytest.raises(ValueError):
        tile_size(0)


@pytest.mark.parametrize("n, side", [(1, 1), (2, 2), (4, 2), (5, 3), (9, 3), (10, 4), (10_000, 100), (10_001, 101)])
def test_grid_side_is_the_exact_ceiling_of_the_square_root(n, side):
    assert grid_side(n) == side


# --- colours ----------------------------------------------------------------------


def test_genre_colours_are_distinct_for_the_main_genres_and_grey_for_other():
    colours = [genre_colour(g) for g in MAIN_GENRES]
    assert len(set(colours)) == 10 and GREY not in colours
    assert genre_colour("Other") == genre_colour("unknown") == genre_colour("") == GREY
    assert genre_colour("Children's") == genre_colour("children")
    assert genre_colour("Space Opera") == genre_colour("Space Opera") in colours


# --- tiles --------------------------------------------------------------------------


def test_sprite_is_a_square_grid_with_transparent_trailing_cells():
    sprite = make_sprite([f"Movie {i}" for i in range(7)], ["Comedy"] * 7, tile=32)
    image = pixels(sprite.png)
    assert sprite.tile == 32 and image.shape == (96, 96, 4)
    assert (cell(image, 7, 32)[..., 3] == 0).all() and (cell(image, 8, 32)[..., 3] == 0).all()
    assert (cell(image, 6, 32)[16, :, 3] == 255).any()


def test_tiles_use_the_genre_colour_and_are_filled_row_major():
    sprite = make_sprite(["", "", ""], ["Drama", "Comedy", ("Horror", "Drama")], tile=16)
    image = pixels(sprite.png)
    for index, genre in enumerate(["Drama", "Comedy", "Horror"]):
        assert tuple(cell(image, index, 16)[8, 8, :3]) == genre_colour(genre)


def test_titles_are_drawn_from_24_px_and_not_below():
    for tile, has_text in [(24, True), (23, False)]:
        image = pixels(make_sprite(["Wide Title Text"], ["Drama"], tile=tile).png)
        opaque = image[image[..., 3] == 255][:, :3]
        assert (len(np.unique(opaque, axis=0)) > 1) == has_text


def test_sprite_is_deterministic_and_default_tile_fits():
    titles = [f"Title number {i} (2001)" for i in range(30)]
    genres = [MAIN_GENRES[i % 10] for i in range(30)]
    first = make_sprite(titles, genres)
    assert first == make_sprite(titles, genres)
    assert first.tile == 64 and Image.open(BytesIO(first.png)).size == (6 * 64, 6 * 64)


def test_sprite_rejects_mismatched_inputs_and_oversized_tiles():
    with pytest.raises(ValueError):
        make_sprite(["a", "b"], ["Drama"])
    with pytest.raises(ValueError):
        make_sprite(["a"] * 5, ["Drama"] * 5, tile=4097)


def test_long_titles_wrap_to_at_most_three_lines_with_an_ellipsis():
    glyphs = Glyphs(ImageFont.load_default(size=10), LEVELS)
    lines = wrap("The Extraordinarily Long Title of a Movie Nobody Remembers", glyphs, 58, 3)
    assert len(lines) == 3 and lines[-1].endswith("\u2026")
    assert all(glyphs.width(line) <= 58 for line in lines)
    assert wrap("Heat", glyphs, 58, 3) == ["Heat"]
    assert all(glyphs.width(p) <= 20 for p in wrap("Supercalifragilistic", glyphs, 20, 9))


@pytest.mark.parametrize(
    "title, short",
    [
        ("Usual Suspects, The (1995)", "The Usual Suspects"),
        ("Seven (a.k.a. Se7en) (1995)", "Seven"),
        ("(500) Days of Summer (2009)", "(500) Days of Summer"),
        ("Line\nBreak, A", "A Line Break"),
        ("(1995)", "(1995)"),
    ],
)
def test_short_title(title, short):
    assert short_title(title) == short


# --- posters ------------------------------------------------------------------------


def test_poster_replaces_the_generated_tile(tmp_path):
    poster = tmp_path / "2.png"
    Image.new("RGB", (100, 150), (200, 10, 30)).save(poster)
    sprite = make_sprite(["A", "B", "C"], ["Drama"] * 3, tile=32, posters={1: poster})
    image = pixels(sprite.png)
    assert sprite.poster_failures == 0
    assert (cell(image, 1, 32) == (200, 10, 30, 255)).all()
    assert tuple(cell(image, 0, 32)[16, 2, :3]) == genre_colour("Drama")


def test_unreadable_posters_fall_back_and_are_counted(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    plain = pixels(make_sprite(["A", "B", "C"], ["Drama"] * 3, tile=32).png)
    sprite = make_sprite(["A", "B", "C"], ["Drama"] * 3, tile=32, posters={0: broken, 2: tmp_path / "missing.png"})
    assert sprite.poster_failures == 2
    assert np.array_equal(pixels(sprite.png), plain)


def test_find_posters_matches_movie_imdb_and_tmdb_ids(tmp_path):
    for name in ["1.jpg", "tt0114709.png", "862.webp", "0113497.JPG", "notes.txt", "5.gif"]:
        (tmp_path / name).write_bytes(b"x")
    links = {"imdb": np.array(["", "0114709", "", "113497", ""]), "tmdb": np.array(["", "", "862", "", ""])}
    found = find_posters(tmp_path, np.array(["1", "2", "3", "4", "5"]), links)
    assert {row: path.name for row, path in found.items()} == {
        0: "1.jpg", 1: "tt0114709.png", 2: "862.webp", 3: "0113497.JPG",
    }
    assert find_posters(tmp_path, ["2"], None) == {}
    with pytest.raises(DataError):
        find_posters(tmp_path / "nowhere", ["1"], None)


def test_letters_missing_from_the_font_are_spelled_or_dropped():
    # Pillow's built-in font has no accented letters: "é" would draw as a box.
    accented = pixels(make_sprite(["Amélie Straße"], ["Drama"], tile=64).png)
    plain = pixels(make_sprite(["Amelie Strasse"], ["Drama"], tile=64).png)
    assert np.array_equal(accented, plain)
    blank = pixels(make_sprite([""], ["Drama"], tile=64).png)
    assert np.array_equal(pixels(make_sprite(["千と千尋\u200b\x00"], ["Drama"], tile=64).png), blank)
