"""The explorer's data: genre facets, co-rated lists, recommendations and hints, encodings, files and pages."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from embedder.site import explorer
from embedder.site.explorer import ExplorerInput, explorer_files
from embedder.site.explorer_encoding import encode_years, popularity, quantise, script, short_title
from embedder.site.explorer_lists import because, co_rated, recommendations
from embedder.site.movie_pages import page_name
from embedder.ratings.catalogue import rated_matrix
from embedder.ratings.genres import genre_facets
from embedder.maps.layouts import Layout, Layouts
from embedder.model.neighbours import nearest
from embedder.site.pages import DEFAULT_TEMPLATES
from tests.helpers import interactions


def payload(data: bytes):
    text = data.decode("utf-8")
    assert text.startswith("__reelspace_data(") and text.endswith(");\n")
    return json.loads(text[text.index(",") + 1: -3])


def random_rated(users=40, movies=25, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    return csr_matrix((rng.random((users, movies)) < density).astype(np.int32))


# --- genres -------------------------------------------------------------------------------------


def test_facets_rank_genres_by_movies_and_fold_the_rest_into_other():
    genres = [tuple(f"g{j:02d}" for j in range(i + 1)) for i in range(20)]  # g00 in all 20, g19 in one
    genres.append(("(no genres listed)",))
    names, masks, counts = genre_facets(genres)
    assert len(names) == 16 and names[-1] == "Other" and names[0] == "g00"
    assert counts[0] == 20 and masks.dtype == np.uint16
    other = 1 << 15
    assert masks[-1] == other  # no genre: Other
    assert masks[19] & other and masks[0] == 1  # g15..g19 folded into Other


def test_facets_without_other_when_every_genre_fits():
    names, masks, counts = genre_facets([("Drama", "Comedy"), ("Comedy",), ("Horror",)])
    assert names == ["Comedy", "Drama", "Horror"]
    assert list(counts) == [2, 1, 1] and list(masks) == [0b011, 0b001, 0b100]


# --- co-rated -----------------------------------------------------------------------------------


@pytest.mark.parametrize("density", [0.05, 0.3, 0.9])  # mostly empty to nearly full co-rating rows
def test_co_rated_matches_brute_force_with_ties_to_the_lower_row(density):
    rated = random_rated(density=density)
    indices, counts = co_rated(rated, 6)
    dense = (rated.T @ rated).toarray()
    np.fill_diagonal(dense, 0)
    for i in range(dense.shape[0]):
        order = [j for j in np.lexsort((np.arange(dense.shape[1]), -dense[i])) if dense[i, j] > 0][:6]
        assert list(indices[i][: len(order)]) == order, i
        assert list(counts[i][: len(order)]) == list(dense[i, order])
        assert (indices[i][len(order):] == -1).all()


def test_co_rated_pads_movies_nobody_else_rated():
    rated = csr_matrix(np.array([[1, 0, 0], [1, 1, 0]], dtype=np.int32))
    indices, counts = co_rated(rated, 2)
    assert indices.tolist() == [[1, -1], [0, -1], [-1, -1]]
    assert counts.tolist() == [[1, 0], [1, 0], [0, 0]]


def test_rated_matrix_maps_the_log_onto_the_embedding_rows():
    log = interactions([("u1", "a", 4, 1), ("u1", "b", 3, 2), ("u2", "b", 5, 3), ("u2", "c", 1, 4)])
    matrix = rated_matrix(log, np.array(["c", "b"], dtype=object))  # "a" is not on the map
    assert matrix.toarray().tolist() == [[0, 1], [1, 1]]


# --- recommendations ---------------------------------------------------------------------------


def test_recommendations_exclude_rated_movies_and_follow_cosine():
    rng = np.random.default_rng(2)
    movies, users = rng.normal(size=(30, 6)), rng.normal(size=(9, 6))
    rated = random_rated(9, 30, 0.3, seed=3)
    items, scores = recommendations(users, movies, rated, 5)
    unit_u = users / np.linalg.norm(users, axis=1, keepdims=True)
    unit_m = movies / np.linalg.norm(movies, axis=1, keepdims=True)
    for u in range(9):
        seen = set(rated[u].indices)
        s = unit_u[u] @ unit_m.T
        expected = [j for j in np.argsort(-s, kind="stable") if j not in seen][:5]
        assert list(items[u]) == expected
        assert np.allclose(scores[u], s[expected], atol=1e-5)
        assert not seen & set(items[u])


def test_recommendations_pad_when_everything_was_rated():
    rated = csr_matrix(np.array([[1, 1, 1], [1, 0, 0]], dtype=np.int32))
    items, _ = recommendations(np.eye(2, 3), np.eye(3), rated, 2)
    assert items[0].tolist() == [-1, -1] and -1 not in items[1].tolist()


def test_because_names_the_rated_movie_most_similar_to_each_recommendation():
    rng = np.random.default_rng(4)
    movies = rng.normal(size=(20, 5))
    rated = random_rated(7, 20, 0.3, seed=5).tolil()
    rated[6] = 0  # a user who rated nothing
    rated = rated.tocsr()
    rated.eliminate_zeros()
    items = np.array([[j for j in range(20) if j not in set(rated[u].indices)][:3] for u in range(7)])
    hints = because(items, rated, movies)
    unit = movies / np.linalg.norm(movies, axis=1, keepdims=True)
    for u in range(6):
        seen = sorted(rated[u].indices)
        for slot, rec in enumerate(items[u]):
            sims = unit[seen] @ unit[rec]
            assert hints[u, slot] == seen[int(np.argmax(sims))]
    assert (hints[6] == -1).all()


# --- encodings ----------------------------------------------------------------------------------


def test_quantise_keeps_the_aspect_ratio_and_the_points():
    coords = np.array([[0.0, 0.0], [10.0, 2.0], [5.0, 1.0]])
    q, (x0, y0, side) = quantise(coords)
    q = q.reshape(-1, 2).astype(np.float64)
    assert q.min() >= 0 and q.max() == 65535 and side == 10.0
    back = np.column_stack([x0 + q[:, 0] / 65535 * side, y0 + q[:, 1] / 65535 * side])
    assert np.abs(back - coords).max() < side / 65535


def test_small_encodings():
    assert encode_years([1995, 0, 1874, 2400], 1874).tolist() == [121, 255, 0, 254]
    assert popularity([0, 1, 255, 10**12]).tolist() == [0, 8, 64, 255]
    assert short_title("Toy Story (1995)", 1995) == "Toy Story"
    assert short_title("Toy Story (1995)", 1996) == "Toy Story (1995)"
    assert short_title("Line\nBreak\tTitle (2000) ", 2000) == "Line Break Title"
    assert short_title("(2000)", 2000) == "(2000)"
    assert short_title("", 0) == "(untitled)"


def test_page_names_are_safe_and_distinct():
    ids = ["1", "0114709", "a/b", "../x", "a.b", "a_2fb", "a_b", "é", " ", ".hidden"]
    names = [page_name(i) for i in ids]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9_-]+\.html", name)


def test_page_names_of_very_long_ids_fit_a_file_system_and_stay_distinct(tmp_path):
    long_ids = ["x" * 300, "x" * 299 + "y", "é" * 200, "a/" * 150]
    names = [page_name(i) for i in long_ids]
    assert len(set(names)) == len(names)
    for name in names:
        assert len(name.encode()) <= 130 and re.fullmatch(r"[A-Za-z0-9_-]+\.html", name)
        (tmp_path / name).write_text("ok")  # the file system takes it
    assert "__" not in "".join(page_name(i) for i in ["a_b", "_", "__", "a__b"])


def test_a_data_script_is_one_call_and_survives_hostile_text():
    text = "</script><script>alert(1)</script>\u2028\"'\\"
    data = script("movies/titles", text)
    assert payload(data) == text
    assert data.count(b"\n") == 1


# --- the files ----------------------------------------------------------------------------------


TITLES = ["Toy Story (1995)", "<script>alert('x')</script> (2000)", "Heat (1995)", "Amélie (2001)", "Up (2009)", "Alien (1979)"]


def tiny_input(**overrides) -> ExplorerInput:
    rng = np.random.default_rng(7)
    ids = np.array(["1", "0114709", "3", "4", "5", "6"], dtype=object)
    rows = []
    for u in range(8):
        for j in rng.choice(6, size=3, replace=False):
            rows.append((f"u{u}", ids[j], 4.0, len(rows)))
    log = interactions(rows)
    movie_vectors = rng.normal(size=(6, 4)).astype(np.float32)
    user_ids = np.array([f"u{u}" for u in range(8)], dtype=object)
    user_vectors = rng.normal(size=(8, 4)).astype(np.float32)
    layouts = Layouts(("pca",), {"pca": Layout("pca", rng.normal(size=(6, 2)))}, {"pca": Layout("pca", rng.normal(size=(8, 2)))})
    values = dict(
        dataset_name="tiny",
        movie_ids=ids,
        titles=np.array(TITLES, dtype=object),
        years=np.array([1995, 2000, 1995, 2001, 2009, 0]),
        genres=(("Animation", "Comedy"), ("Horror",), ("Crime",), ("Comedy", "Romance"), (), ("Sci-Fi",)),
        counts=np.array([5, 4, 3, 4, 3, 5]),
        movie_vectors=movie_vectors,
        neighbours=nearest(movie_vectors, 3),
        user_ids=user_ids,
        user_vectors=user_vectors,
        interactions=log,
        layouts=layouts,
        mean_rating=np.full(6, 4.0),
        links={"imdb": np.array(["0114709", "", "", "", "", ""], dtype=object)},
    )
    values.update(overrides)
    return ExplorerInput(**values)


def test_explorer_files_cover_every_movie_and_user():
    files = explorer_files(tiny_input(), DEFAULT_TEMPLATES)
    assert "explorer.html" in files and "explorer/movies-points.js" in files
    manifest_text = re.search(rb'id="reelspace-manifest">(.*?)</script>', files["explorer.html"], re.S).group(1)
    manifest = json.loads(manifest_text)
    assert manifest["movies"]["count"] == 6 and manifest["users"]["count"] == 8
    assert manifest["default_layout"] == "pca" and [l["name"] for l in manifest["layouts"]] == ["pca"]
    assert payload(files["explorer/movies-ids.js"]) == ["1", "0114709", "3", "4", "5", "6"]
    titles = payload(files["explorer/movies-titles.js"]).split("\n")
    assert titles[0] == "Toy Story" and titles[1] == "<script>alert('x')</script>" and titles[5] == "Alien (1979)"
    shard = payload(files["explorer/movies/0.js"])
    assert shard["start"] == 0 and len(shard["similar"]) == 6 and all(len(s) == 3 for s in shard["similar"])
    assert shard["genres"][4] == ""
    users = payload(files["explorer/users/0.js"])
    assert len(users["recs"]) == 8 and all(len(r) == 3 for r in users["rated"])
    for rated, recs, hints in zip(users["rated"], users["recs"], users["because"]):
        assert not set(rated) & set(recs) and set(hints) <= set(rated) and len(recs) == 3
    points = payload(files["explorer/movies-points.js"])
    import base64

    masks = np.frombuffer(base64.b64decode(points["mask"]), dtype="<u2")
    assert len(masks) == 6 and masks[4] == 1 << manifest["movies"]["other"]
    xy = np.frombuffer(base64.b64decode(payload(files["explorer/layout-movies-pca.js"])["xy"]), dtype="<u2")
    assert len(xy) == 12


def test_the_manifest_cannot_close_its_script_tag():
    files = explorer_files(tiny_input(dataset_name="</script><script>alert(1)</script>"), DEFAULT_TEMPLATES)
    html = files["explorer.html"].decode()
    assert "<script>alert(1)" not in html
    assert html.count("</script>") == 2  # the manifest's and explorer.js's


def test_movie_pages_link_neighbours_and_escape_titles():
    files = explorer_files(tiny_input(), DEFAULT_TEMPLATES, movie_pages=True)
    pages = sorted(p for p in files if p.startswith("movies/"))
    assert pages == sorted(f"movies/{page_name(i)}" for i in ["1", "0114709", "3", "4", "5", "6"])
    page = files["movies/0114709.html"].decode()
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert 'href="../explorer.html#movie=0114709"' in page
    assert page.count('.html">') >= 3  # similar movies link to their pages
    toy = files["movies/1.html"].decode()
    assert "https://www.imdb.com/title/tt0114709/" in toy and "Toy Story" in toy
    shard = payload(files["explorer/movies/0.js"])
    assert shard["page"][1] == "0114709.html"


@pytest.mark.parametrize("n_users", [1, 500])
def test_user_shards_are_contiguous(monkeypatch, n_users):
    monkeypatch.setattr(explorer, "USER_SHARD_RATINGS", 100)
    totals = np.full(n_users, 30)
    starts = explorer._user_shard_starts(totals)
    assert starts[0] == 0 and starts == sorted(set(starts)) and starts[-1] < n_users
    assert len(starts) == (1 if n_users == 1 else n_users // 2)


def test_latest_ratings_keeps_each_users_newest_and_leaves_light_users_alone():
    from embedder.site.explorer_lists import latest_ratings

    log = interactions([("u1", "a", 4, 5), ("u2", "a", 4, 1), ("u1", "b", 3, 1), ("u1", "c", 3, 9), ("u1", "d", 2, 5),
                        ("u2", "b", 1, 2)])
    recent, cut = latest_ratings(log, 2)
    assert cut
    kept = [(log.user_ids[u], log.item_ids[i]) for u, i in zip(recent.user, recent.item)]
    # u1's newest two: c (t=9), then d (t=5, later in the file than a, also t=5); u2 untouched.
    assert kept == [("u2", "a"), ("u1", "c"), ("u1", "d"), ("u2", "b")]
    same, cut = latest_ratings(log, 4)
    assert same is log and not cut
