"""The projector bundle: tensors, metadata TSV, config JSON, golden files."""

from __future__ import annotations

import json
import re
import struct
from io import BytesIO
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image

from embedder.errors import ConfigError
from embedder.site.projector import (
    SLICE_BYTES,
    Embedding,
    hosted_config_url,
    metadata_tsv,
    movie_metadata,
    primary_genres,
    projector_files,
    projector_link,
    protect_ids,
    tensor_bytes,
    tensor_tsv,
    user_metadata,
)
from embedder.values import Movies, Users
from tests.regen_golden import GOLDEN_DIR, golden_files

METADATA = (("title", ("a", "b")), ("id", ("1", "2")))


def embedding(name="movies", slug="movies", n=2, **extra) -> Embedding:
    metadata = (("title", tuple(f"t{i}" for i in range(n))), ("id", tuple(str(i) for i in range(n))))
    return Embedding(name=name, slug=slug, vectors=np.ones((n, 3)), metadata=metadata, **extra)


def data_rows(tsv: bytes) -> list[str]:
    """The non-blank rows after the header, as the projector reads them."""
    return [line for line in tsv.decode("utf-8").split("\n") if line.strip()][1:]


# --- golden files -----------------------------------------------------------


def test_golden_bundle_matches_committed_files():
    files = golden_files()
    committed = {f"projector/{p.name}" for p in (GOLDEN_DIR / "projector").iterdir()}
    assert set(files) == committed, "run: python -m tests.regen_golden"
    for path, data in files.items():
        expected = (GOLDEN_DIR / path).read_bytes()
        if path.endswith(".png"):
            # PNG bytes depend on zlib; the decoded pixels are what matters.
            got, want = Image.open(BytesIO(data)), Image.open(BytesIO(expected))
            assert got.size == want.size
            assert np.array_equal(np.asarray(got.convert("RGBA")), np.asarray(want.convert("RGBA"))), path
        else:
            assert data == expected, f"{path} differs; run: python -m tests.regen_golden"


def test_golden_metadata_is_sanitised():
    text = golden_files()["projector/movies_metadata.tsv"].decode("utf-8")
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 1 + 6 + 1
    assert all(line.count("\t") == 7 for line in lines[:-1])
    assert "Tab Inside (1996)\t" in text and "Line Break, The (1997)\t" in text
    assert "<script>alert('x')</script> (2000)" in text and 'The "Quoted" Movie (1999)' in text
    assert "#0114709" in text  # leading zeros survive the projector's number parsing


# --- tensors ----------------------------------------------------------------


def test_tensor_bytes_is_little_endian_float32_row_major():
    data = tensor_bytes([[1.0, 2.0], [3.0, -4.5]])
    assert data == struct.pack("<4f", 1.0, 2.0, 3.0, -4.5)


def test_tensor_tsv_is_numeric_compact_with_trailing_newline():
    assert tensor_tsv([[1.0, 2.5], [-3.0, 1e-5]]) == b"1\t2.5\n-3\t1e-05\n"
    assert tensor_tsv(np.full((2, 2), 1 / 3)) == b"0.3333333\t0.3333333\n0.3333333\t0.3333333\n"


@pytest.mark.parametrize("vectors", [np.ones(4), np.ones((1, 3)), np.ones((3, 1)), [[1.0, np.nan], [0, 0]], [[1e39, 0], [0, 0]]])
def test_tensors_reject_bad_shapes_and_values(vectors):
    with pytest.raises(ValueError):
        tensor_bytes(vectors)
    with pytest.raises(ValueError):
        tensor_tsv(vectors)


# --- metadata ---------------------------------------------------------------


def test_metadata_has_header_and_exactly_n_rows():
    tsv = metadata_tsv((("title", ("x", "y", "z")), ("n", (1, 2, 3))))
    assert tsv == b"title\tn\nx\t1\ny\t2\nz\t3\n"


def test_metadata_sanitises_values():
    values = ("a\tb", "line\r\nbreak", "  padded  ", "", None, float("nan"), 2.50, np.float32(0.1))
    tsv = metadata_tsv((("v", values), ("i", range(len(values)))))
    assert data_rows(tsv) == [
        "a b\t0", "line break\t1", "padded\t2", "(unknown)\t3", "(unknown)\t4", "(unknown)\t5", "2.5\t6", "0.1\t7",
    ]


@pytest.mark.parametrize(
    "columns",
    [
        (("only", ("a", "b")),),  # one column cannot have a header
        (("a", ("x",)), ("b", ("x", "y"))),  # ragged
        (("a", ("x",)), ("a", ("y",))),  # duplicate names
        (("a", ()), ("b", ())),  # no rows
    ],
)
def test_metadata_rejects_bad_tables(columns):
    with pytest.raises(ValueError):
        metadata_tsv(columns)


def test_metadata_over_2mb_never_splits_a_character_at_a_slice_boundary():
    # Titles of 2- and 3-byte characters: unpadded, slice boundaries do land inside characters.
    titles = [("é" * (i % 7) + "€" * (i % 5) + "Amélie ").strip() + f" {i}" for i in range(110_000)]
    ids = [str(i) for i in range(len(titles))]
    naive = ("title\tid\n" + "".join(f"{t}\t{i}\n" for t, i in zip(titles, ids))).encode("utf-8")
    boundaries = range(SLICE_BYTES, len(naive), SLICE_BYTES)
    assert len(naive) > 2 * SLICE_BYTES
    assert any(naive[b] & 0xC0 == 0x80 for b in boundaries), "test data must straddle a boundary"

    tsv = metadata_tsv((("title", titles), ("id", ids)))
    assert all(tsv[b] & 0xC0 != 0x80 for b in range(SLICE_BYTES, len(tsv), SLICE_BYTES))
    assert data_rows(tsv) == [f"{t}\t{i}" for t, i in zip(titles, ids)]
    assert len(tsv) > len(naive) and re.sub(rb"\n+", b"\n", tsv) == naive  # only blank lines were added
    for boundary in range(SLICE_BYTES, len(tsv), SLICE_BYTES):
        # Each slice decodes on its own without replacement characters.
        tsv[boundary - SLICE_BYTES : boundary].decode("utf-8")


def test_metadata_padding_is_only_added_where_needed():
    tsv = metadata_tsv((("t", ("é", "b")), ("i", ("1", "2"))))
    assert b"\n\n" not in tsv


@pytest.mark.parametrize(
    "ids, protected",
    [
        (["1", "22", "333"], False),
        (["0114709", "1"], True),
        (["1e3", "2"], True),
        (["abc", "007"], True),
        (["abc", "def"], False),
        (["-5", "12"], False),
        (["1.0", "2"], True),
    ],
)
def test_protect_ids_prefixes_ids_the_projector_would_mangle(ids, protected):
    result = protect_ids(ids)
    assert result == ([f"#{i}" for i in ids] if protected else ids)


def movies_fixture() -> Movies:
    return Movies(
        ids=np.array(["10", "20", "30", "40"]),
        titles=np.array(["A (1995)", "B", "", "D\tE"]),
        years=np.array([1995, 2003, 0, 1970]),
        genres=(("Comedy", "Drama"), ("Drama",), (), ("(no genres listed)",)),
    )


def test_movie_metadata_columns_follow_rows():
    columns = movie_metadata(movies_fixture(), [3, 0, 2], [5, 7, 1], [3.456, 4.0, float("nan")])
    assert [name for name, _ in columns] == ["title", "year", "decade", "genres", "genre", "ratings", "mean_rating", "movie_id"]
    table = dict(columns)
    assert table["title"] == ("D\tE", "A (1995)", "")
    assert table["year"] == ("1970", "1995", "unknown")
    assert table["decade"] == ("1970s", "1990s", "unknown")
    assert table["genres"] == ("(no genres listed)", "Comedy|Drama", "(no genres)")
    assert table["genre"] == ("Other", "Comedy", "Other")
    assert table["ratings"] == (5, 7, 1)
    assert table["mean_rating"] == ("3.46", "4", "unknown")
    assert table["movie_id"] == ("40", "10", "30")
    assert data_rows(metadata_tsv(columns))[0].startswith("D E\t1970\t")


def test_movie_metadata_without_mean_rating_and_with_misaligned_counts():
    columns = movie_metadata(movies_fixture(), [0, 1], [1, 2], None)
    assert "mean_rating" not in dict(columns)
    with pytest.raises(ValueError):
        movie_metadata(movies_fixture(), [0, 1], [1, 2, 3], None)


def test_primary_genre_keeps_the_nine_most_frequent_and_folds_the_rest():
    names = [f"G{k:02d}" for k in range(12)]
    # G00 is primary for 12 movies, G01 for 11, ... G11 for 1.
    genres = tuple((name, "Extra") for k, name in enumerate(names) for _ in range(12 - k))
    movies = Movies(ids=np.arange(len(genres)).astype(str), titles=np.array(["t"] * len(genres)),
                    years=np.zeros(len(genres), int), genres=genres)
    primary = primary_genres(movies)
    assert set(primary) == set(names[:9]) | {"Other"}
    assert len(set(primary)) == 10
    assert primary[-1] == "Other" and primary[0] == "G00"


def test_user_metadata_columns_and_attributes():
    users = Users(ids=np.array(["1", "2"]), attributes={"age": np.array(["24", "53"]), "occupation": np.array(["writer", ""])})
    columns = user_metadata(["2", "9"], [10, 3], [3.25, 4.0], ["Drama", ""], users)
    assert [name for name, _ in columns] == ["user", "ratings", "mean_rating", "top_genre", "age", "occupation", "user_id"]
    table = dict(columns)
    assert table["user"] == ("user 2", "user 9")
    assert table["mean_rating"] == ("3.25", "4")
    assert table["top_genre"] == ("Drama", "unknown")
    assert table["age"] == ("53", "unknown") and table["occupation"] == ("unknown", "unknown")
    assert table["user_id"] == ("2", "9")


def test_user_metadata_without_ratings_or_users():
    columns = user_metadata(np.array([5, 6]), [1, 2], None, ["Comedy", "Drama"], None)
    assert [name for name, _ in columns] == ["user", "ratings", "top_genre", "user_id"]


# --- config and files ---------------------------------------------------------


def test_projector_files_layout_and_relative_config():
    files = projector_files([embedding(sprite=b"png", sprite_tile=8), embedding("users", "users", n=3)])
    assert sorted(files) == [
        "projector/movies.bytes", "projector/movies.tsv", "projector/movies_metadata.tsv", "projector/movies_sprite.png",
        "projector/projector_config.json", "projector/users.bytes", "projector/users.tsv", "projector/users_metadata.tsv",
    ]
    config = json.loads(files["projector/projector_config.json"])
    first, second = config["embeddings"]
    assert first == {
        "tensorName": "movies", "tensorShape": [2, 3], "tensorPath": "movies.bytes", "metadataPath": "movies_metadata.tsv",
        "sprite": {"imagePath": "movies_sprite.png", "singleImageDim": [8, 8]},
    }
    assert second["tensorShape"] == [3, 3] and "sprite" not in second
    assert files["projector/projector_config.json"].endswith(b"}\n")


def test_projector_files_is_deterministic_and_honours_folder():
    one = projector_files([embedding()], folder="data/proj")
    assert one == projector_files([embedding()], folder="data/proj/")
    assert "data/proj/projector_config.json" in one
    assert "projector_config.json" in projector_files([embedding()], folder="")
    with pytest.raises(ValueError):
        projector_files([embedding()], folder="../out")


def test_hosted_config_uses_absolute_urls_under_base_url():
    files = projector_files([embedding(sprite=b"png", sprite_tile=8)], base_url="https://u.github.io/repo",
                            bookmarks={"movies": []})
    hosted = json.loads(files["projector/projector_config.hosted.json"])["embeddings"][0]
    root = "https://u.github.io/repo/projector/"
    assert hosted["tensorPath"] == root + "movies.bytes"
    assert hosted["metadataPath"] == root + "movies_metadata.tsv"
    assert hosted["bookmarksPath"] == root + "movies_bookmarks.json"
    assert hosted["sprite"] == {"imagePath": root + "movies_sprite.png", "singleImageDim": [8, 8]}
    assert files["projector/movies_bookmarks.json"] == b"[]\n"


@pytest.mark.parametrize("base_url", ["http://u.github.io/", "u.github.io/repo", "/repo/", "https://", "https://u.io/?x=1", "https://u.io/a b"])
def test_bad_base_url_is_a_one_line_config_error(base_url):
    with pytest.raises(ConfigError) as error:
        projector_files([embedding()], base_url=base_url)
    assert "\n" not in str(error.value) and "https://" in str(error.value)


def test_names_and_slugs_must_be_unique_and_slugs_plain():
    with pytest.raises(ValueError, match="names"):
        projector_files([embedding("x", "a"), embedding("x", "b")])
    with pytest.raises(ValueError, match="slugs"):
        projector_files([embedding("x", "a"), embedding("y", "a")])
    with pytest.raises(ValueError, match="slug"):
        projector_files([embedding("x", "Bad Slug")])


def test_embedding_checks():
    with pytest.raises(ValueError, match="metadata"):
        projector_files([Embedding("m", "m", np.ones((3, 2)), METADATA)])
    with pytest.raises(ValueError, match="sprite_tile"):
        projector_files([embedding(sprite=b"png")])
    with pytest.raises(ValueError, match="unknown"):
        projector_files([embedding()], bookmarks={"users": []})


def test_projector_link_encodes_the_hosted_config_url_like_encodeURIComponent():
    assert hosted_config_url("https://u.github.io/my-repo") == "https://u.github.io/my-repo/projector/projector_config.hosted.json"
    link = projector_link("https://u.github.io/my-repo/")
    assert link == (
        "https://projector.tensorflow.org/?config="
        "https%3A%2F%2Fu.github.io%2Fmy-repo%2Fprojector%2Fprojector_config.hosted.json"
    )
    # The projector splits its query on ? & = : none may survive unencoded.
    query = projector_link("https://u.io/a&b=c/", folder="p").split("?config=", 1)[1]
    assert not set("?&=#/:") & set(query)
    assert unquote(query) == "https://u.io/a&b=c/p/projector_config.hosted.json"
