import numpy as np

from embedder.neighbours import nearest


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
