import numpy as np

from embedder.model.neighbours import exact_nearest, nearest, normalise, recall_at_k
from embedder.values import Neighbours


def brute_force(x, k):
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = u @ u.T
    np.fill_diagonal(s, -np.inf)
    idx = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(s, idx, axis=1)


def test_matches_brute_force_across_chunks():
    x = np.random.default_rng(3).standard_normal((700, 8)).astype(np.float32)
    got = nearest(x, 10, chunk=128)
    idx, scores = brute_force(x, 10)
    np.testing.assert_array_equal(got.indices, idx)
    np.testing.assert_allclose(got.scores, scores, rtol=1e-5)


def test_ties_go_to_the_lower_index_and_self_is_excluded():
    x = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [1, 0]], dtype=np.float32)
    got = nearest(x, 2)
    assert got.indices.tolist()[0] == [1, 2]
    assert got.indices.tolist()[4] == [0, 1]
    assert all(i not in row for i, row in enumerate(got.indices.tolist()))


def test_k_larger_than_the_catalogue():
    x = np.eye(3, dtype=np.float32) + 0.1
    got = nearest(x, 10)
    assert got.indices.shape == (3, 2)


def clustered(n, d=16, clusters=20, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d))
    return (centres[rng.integers(0, clusters, n)] + 0.5 * rng.normal(size=(n, d))).astype(np.float32)


def test_exact_is_fast_and_exact_when_many_vectors_are_identical():
    # Half the rows identical: every score of those rows ties; ties go to the lower row.
    x = clustered(600)
    # A unit axis, so every product with it is exact whatever BLAS kernel computes it (ties stay ties).
    x[300:] = 0
    x[300:, 0] = 1
    got = nearest(x, 5, method="exact", chunk=64)
    idx, scores = brute_force(x, 5)
    np.testing.assert_array_equal(got.indices, idx)
    np.testing.assert_allclose(got.scores, scores, rtol=1e-5)


def test_exact_for_some_rows_only():
    x = clustered(300)
    rows = np.array([5, 17, 299])
    part = exact_nearest(x, 4, rows=rows)
    whole = nearest(x, 4, method="exact")
    np.testing.assert_array_equal(part.indices, whole.indices[rows])


def test_hnsw_finds_almost_all_exact_neighbours_and_never_itself():
    x = clustered(3000, d=24)
    approx = nearest(x, 10, method="hnsw", threads=2)
    rows = np.arange(0, 3000, 7)
    assert recall_at_k(approx, exact_nearest(x, 10, rows=rows), rows) >= 0.99
    assert not (approx.indices == np.arange(3000)[:, None]).any()
    assert (np.diff(approx.scores, axis=1) <= 1e-6).all()  # best first
    np.testing.assert_allclose(approx.scores[:, 0], (normalise(x)[approx.indices[:, 0]] * normalise(x)).sum(1), atol=1e-5)


def test_hnsw_with_one_thread_is_reproducible():
    x = clustered(2000)
    a = nearest(x, 5, method="hnsw", threads=1, seed=3)
    b = nearest(x, 5, method="hnsw", threads=1, seed=3)
    np.testing.assert_array_equal(a.indices, b.indices)


def test_auto_switches_to_hnsw_above_the_exact_limit(monkeypatch):
    import embedder.model.neighbours as neighbours

    calls = []
    monkeypatch.setattr(neighbours, "EXACT_LIMIT", 100)  # (60,000 in builds)
    real = neighbours.hnsw_nearest
    monkeypatch.setattr(neighbours, "hnsw_nearest", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    nearest(clustered(100), 3)
    assert calls == []
    nearest(clustered(101), 3)
    assert calls == [1]


def test_recall_counts_shared_entries():
    a = Neighbours(indices=np.array([[1, 2], [0, 2], [0, 1]]), scores=np.zeros((3, 2)))
    b = Neighbours(indices=np.array([[1, 0], [2, 0]]), scores=np.zeros((2, 2)))
    assert recall_at_k(a, b, np.array([0, 1])) == 0.75


def brute_force_pool(x, k, pool):
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = u @ u.T
    np.fill_diagonal(s, -np.inf)
    s[:, ~pool] = -np.inf
    idx = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(s, idx, axis=1)


def test_candidates_limit_who_is_listed_but_every_row_gets_a_list():
    x = clustered(500, seed=4)
    pool = np.random.default_rng(1).random(500) < 0.3
    got = nearest(x, 10, candidates=pool, chunk=100)
    idx, scores = brute_force_pool(x, 10, pool)
    assert got.indices.shape == (500, 10)
    assert pool[got.indices].all()
    np.testing.assert_array_equal(got.indices, idx)
    np.testing.assert_allclose(got.scores, scores, rtol=1e-5)


def test_hnsw_with_candidates_lists_only_candidates_and_finds_most():
    x = clustered(3000, d=12, seed=5)
    pool = np.random.default_rng(2).random(3000) < 0.5
    approx = nearest(x, 10, candidates=pool, method="hnsw", threads=1)
    exact = nearest(x, 10, candidates=pool, method="exact")
    assert pool[approx.indices].all()
    assert all(i not in row for i, row in enumerate(approx.indices.tolist()))
    assert recall_at_k(approx, exact, np.arange(3000)) >= 0.95


def test_a_pool_of_k_rows_pads_the_lists_of_its_own_members():
    x = clustered(50, seed=6)
    pool = np.zeros(50, dtype=bool)
    pool[:3] = True
    for method in ("exact", "hnsw"):
        got = nearest(x, 10, candidates=pool, method=method, threads=1)
        assert got.indices.shape == (50, 3)
        assert sorted(got.indices[10].tolist()) == [0, 1, 2]  # outside the pool: all three
        assert -1 in got.indices[0].tolist() and 0 not in got.indices[0].tolist()  # a member: the other two
