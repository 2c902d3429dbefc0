"""2-D layouts (PCA, t-SNE, UMAP): fitted on supported rows, the rest placed; seeded; and the projector bookmarks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedder.errors import ConfigError
from embedder.maps import layouts as layouts_module
from embedder.site.bookmarks import bookmarks, projector_states
from embedder.maps.layouts import (
    FIT_MAX,
    Layout,
    Layouts,
    MapPoints,
    auto_layouts,
    compute_layouts,
    layout,
    parse_layouts,
    pca_2d,
    place,
)
from embedder.site.projector import REQUIRED_STATE_FIELDS, Embedding, projector_files


def clusters(n_per=40, k=4, d=12, seed=0):
    """``k`` well-separated Gaussian clusters; returns (vectors, cluster of each row)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 4
    labels = np.repeat(np.arange(k), n_per)
    return (centres[labels] + rng.normal(size=(len(labels), d))).astype(np.float32), labels


def neighbours_agree(coords, labels, k=5) -> float:
    """Share of each point's k nearest 2-D neighbours that lie in its own cluster."""
    d = ((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :k]
    return float((labels[nearest] == labels[:, None]).mean())


def test_parse_layouts_keeps_pca_and_a_canonical_order():
    assert parse_layouts("umap,tsne") == ("pca", "tsne", "umap")
    assert parse_layouts("t-SNE") == ("pca", "tsne")
    assert parse_layouts("auto") is None and parse_layouts(None) is None
    with pytest.raises(ConfigError, match="unknown layout"):
        parse_layouts("pca,mds")


def test_auto_is_tsne_and_pca_whatever_the_size():
    assert auto_layouts() == ("pca", "tsne")


def test_fit_rows_keep_the_supported_and_cap_them_by_priority(monkeypatch):
    vectors = np.zeros((10, 3), dtype=np.float32)
    fit = np.array([True, False] * 5)
    assert MapPoints(vectors, fit).fit_rows().tolist() == [0, 2, 4, 6, 8]
    monkeypatch.setattr(layouts_module, "FIT_MAX", 3)
    counts = np.array([5, 99, 1, 99, 7, 99, 7, 99, 2, 99])
    # The three most-rated supported rows (ties to the earlier row), in row order.
    assert MapPoints(vectors, fit, counts).fit_rows().tolist() == [0, 4, 6]
    sample = MapPoints(vectors, fit).fit_rows(seed=1)
    assert len(sample) == 3 and fit[sample].all() and np.array_equal(sample, MapPoints(vectors, fit).fit_rows(seed=1))
    assert FIT_MAX >= 10_000


def test_placed_rows_go_beside_their_nearest_fitted_row():
    x, labels = clusters(n_per=20, k=3)
    rows = np.flatnonzero(np.arange(len(x)) % 4 != 0)  # a quarter of each cluster is placed
    fitted_coords = np.column_stack([labels[rows] * 100.0, np.zeros(len(rows))]) + np.random.default_rng(0).normal(size=(len(rows), 2))
    coords = place(x, rows, fitted_coords, seed=0)
    assert np.array_equal(coords[rows], fitted_coords.astype(np.float32))
    others = np.setdiff1d(np.arange(len(x)), rows)
    # Each placed row lands in its own cluster's island, near (not on) a fitted row.
    assert np.all(np.abs(coords[others, 0] - labels[others] * 100.0) < 10)
    gaps = np.linalg.norm(coords[others][:, None, :] - coords[rows][None, :, :], axis=2).min(axis=1)
    assert (gaps > 0).all() and (gaps < 5).all()


def test_a_layout_is_fitted_on_the_supported_rows_only():
    pytest.importorskip("openTSNE")
    x, labels = clusters(n_per=30)
    supported = np.arange(len(x)) % 3 != 0
    noisy = x.copy()
    noisy[~supported] = np.random.default_rng(2).normal(size=((~supported).sum(), x.shape[1])) * 5  # barely-rated: noise
    result = layout("tsne", MapPoints(noisy, supported), seed=0)
    assert result.fitted is not None and np.array_equal(result.fitted, supported)
    assert result.settings["fitted"] == supported.sum() and result.settings["placed"] == (~supported).sum()
    # The supported rows keep their clusters: the noise was placed, never fitted.
    assert neighbours_agree(result.coords[supported], labels[supported]) > 0.95


def test_pca_is_deterministic_sign_fixed_and_separates_clusters():
    x, labels = clusters(k=3)  # two components always separate three centroids
    a, b = pca_2d(x), pca_2d(x.copy())
    assert a.dtype == np.float32 and a.shape == (len(x), 2)
    assert np.array_equal(a, b)
    # The signs are fixed by the loadings, not by the row order.
    order = np.random.default_rng(1).permutation(len(x))
    assert np.allclose(pca_2d(x[order]), a[order], atol=1e-5)
    assert neighbours_agree(a, labels) > 0.95


def test_tsne_same_seed_same_coordinates_and_clusters_stay_together():
    pytest.importorskip("openTSNE")
    x, labels = clusters(n_per=30)
    a = layout("tsne", x, seed=3)
    b = layout("tsne", x, seed=3)
    assert np.array_equal(a.coords, b.coords)
    assert a.coords.shape == (len(x), 2) and np.isfinite(a.coords).all()
    assert neighbours_agree(a.coords, labels) > 0.95
    assert a.settings["iterations"] == 250 and a.settings["theta"] == 0.8 and a.fitted is None


@pytest.mark.slow
def test_umap_same_seed_same_coordinates():
    pytest.importorskip("umap")
    x, labels = clusters(n_per=30)
    a = layout("umap", x, seed=5)
    b = layout("umap", x, seed=5)
    assert np.array_equal(a.coords, b.coords)
    assert neighbours_agree(a.coords, labels) > 0.9


def test_compute_layouts_covers_movies_and_users():
    movies, _ = clusters(n_per=10)
    users, _ = clusters(n_per=5, seed=1)
    result = compute_layouts(movies, users, ("pca",))
    assert result.names == ("pca",)
    assert result.movies["pca"].coords.shape == (len(movies), 2)
    assert result.users["pca"].coords.shape == (len(users), 2)
    assert set(result.seconds) == {"pca movies", "pca users"}


def test_tiny_catalogues_get_pca_only():
    movies, _ = clusters(n_per=3, k=2)
    users, _ = clusters(n_per=20, k=2)
    result = compute_layouts(movies, users, ("pca", "tsne"))
    assert result.names == ("pca",) and set(result.users) == {"pca"}


def fake_layouts(n_movies, n_users):
    rng = np.random.default_rng(0)

    def some(n, name, **settings):
        return Layout(name, rng.normal(size=(n, 2)).astype(np.float32), settings)

    movies = {"pca": some(n_movies, "pca"), "tsne": some(n_movies, "tsne", iterations=750, perplexity=30.0, learning_rate=200.0),
              "umap": some(n_movies, "umap", n_neighbors=15, min_dist=0.1)}
    users = {name: some(n_users, name) for name in movies}
    return Layouts(("pca", "tsne", "umap"), movies, users)


def test_bookmarks_carry_every_required_field_and_all_points():
    states = projector_states(fake_layouts(7, 3).movies, (7, 4), what="movies", colour_by="genre", label_by="title")
    assert [s["selectedProjection"] for s in states] == ["tsne", "umap", "pca"]
    for state in states:
        for name in REQUIRED_STATE_FIELDS:
            assert name in state, name
        assert isinstance(state["tSNEIteration"], int) and isinstance(state["tSNEPerplexity"], float)
        assert isinstance(state["tSNELearningRate"], float) and state["selectedPoints"] == []
        assert state["pcaComponentDimensions"] == [0, 1] and state["dataSetDimensions"] == [7, 4]
        assert state["selectedColorOptionName"] == "genre" and state["label"]
        assert state["tSNEis3d"] is False and state["umapIs3d"] is False
    tsne, umap, pca = states
    assert len(tsne["projections"]) == 7 and all(set(p) == {"tsne-0", "tsne-1"} for p in tsne["projections"])
    assert tsne["tSNEIteration"] >= 1  # the current projector only draws t-SNE after iteration 0 (§5)
    assert len(umap["projections"]) == 7 and all(set(p) == {"umap-0", "umap-1"} for p in umap["projections"])
    assert pca["projections"] == []
    json.dumps(states, allow_nan=False)


def test_bookmarks_pass_the_validator(tmp_path):
    from embedder.site.validate import validate_projector

    layouts = fake_layouts(6, 4)
    rng = np.random.default_rng(1)
    movies = Embedding("movies", "movies", rng.normal(size=(6, 4)), (("title", tuple("abcdef")), ("genre", tuple("xxyyzz"))))
    users = Embedding("users", "users", rng.normal(size=(4, 4)), (("user", tuple("pqrs")), ("top_genre", tuple("xyxy"))))
    files = projector_files([movies, users], bookmarks=bookmarks(layouts, (6, 4), (4, 4)))
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    assert validate_projector(tmp_path) == []
    saved = json.loads((tmp_path / "projector" / "users_bookmarks.json").read_text())
    assert [s["selectedColorOptionName"] for s in saved] == ["top_genre"] * 3
    assert len(saved[0]["projections"]) == 4


def test_only_pca_gives_one_genre_bookmark():
    layouts = fake_layouts(5, 3)
    only_pca = {"pca": layouts.movies["pca"]}
    states = projector_states(only_pca, (5, 4), what="movies", colour_by="genre")
    assert len(states) == 1 and states[0]["selectedProjection"] == "pca"
    assert states[0]["selectedColorOptionName"] == "genre"


def test_a_missing_package_is_a_one_line_config_error(monkeypatch):
    import importlib.util

    from embedder.maps import layouts as module

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "umap" else real(name, *a))
    assert module.missing_packages(["pca", "umap"]) == [
        "--layouts umap needs the umap-learn package: pip install umap-learn (or pip install -r requirements.txt)"
    ]
    with pytest.raises(ConfigError, match="umap-learn"):
        module.umap_2d(np.ones((4, 3)))
