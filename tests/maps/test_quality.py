"""How much of the vectors' neighbourhoods a 2-D map keeps."""

from __future__ import annotations

import numpy as np

from embedder.maps.quality import map_quality


def test_a_map_that_is_the_vectors_keeps_everything():
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(200, 2))
    vectors = np.column_stack([coords, np.ones(200) * 50])  # nearly parallel: cosine order ~ 2-D distance order
    genres = tuple(("A",) if x < 0 else ("B",) for x in coords[:, 0])
    q = map_quality(vectors, coords, np.arange(200), genres=genres, counts=np.full(200, 20))
    assert q.preservation > 0.9
    assert q.genre_ratio > 0.95 and q.anchors == 200 and q.points == 200


def test_a_shuffled_map_keeps_nothing():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(300, 8))
    coords = rng.normal(size=(300, 2))
    q = map_quality(vectors, coords, np.arange(300))
    assert q.preservation < 0.15  # chance is 10/299
    assert q.genre_map is None and "genre" not in q.describe()


def test_only_the_given_rows_count_and_anchors_need_ten_ratings():
    rng = np.random.default_rng(2)
    vectors, coords = rng.normal(size=(100, 4)), rng.normal(size=(100, 2))
    genres = tuple(("A",) for _ in range(100))
    counts = np.where(np.arange(100) < 30, 50, 3)
    q = map_quality(vectors, coords, np.arange(60), genres=genres, counts=counts, layout="pca", seconds=1.25)
    assert q.points == 60 and q.anchors == 30
    assert q.genre_map == q.genre_vectors == 1.0  # every movie has the same genre
    assert q.describe().startswith("PCA of 60 points: genre Jaccard@10 1.000 on the map") and "1.2 s" in q.describe()


def test_given_neighbour_lists_give_the_same_figures_without_a_search(monkeypatch):
    from embedder.maps import quality as module
    from embedder.model.neighbours import nearest

    rng = np.random.default_rng(3)
    vectors, coords = rng.normal(size=(120, 6)), rng.normal(size=(120, 2))
    rows = np.arange(0, 120, 2)
    supported = np.zeros(120, dtype=bool)
    supported[rows] = True
    genres = tuple(("A",) if v[0] > 0 else ("B",) for v in vectors)
    counts = np.full(120, 20)
    searched = module.map_quality(vectors, coords, rows, genres=genres, counts=counts)
    lists = nearest(vectors, 12, candidates=supported, method="exact")

    def no_search(*args, **kwargs):
        raise AssertionError("searched again although the lists were given")

    monkeypatch.setattr(module, "nearest_in", no_search)
    given = module.map_quality(vectors, coords, rows, genres=genres, counts=counts, neighbours=lists)
    assert given == searched
