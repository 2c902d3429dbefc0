"""The compiled loops against plain numpy on small random inputs, ties and edge cases included."""

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from embedder.model.kernels import best_match, co_rated_counts, top_k_rows


def reference_top_k(scores, k, exclude):
    rows = []
    for r in range(scores.shape[0]):
        values = np.where(np.isnan(scores[r]), -np.inf, scores[r])
        candidates = [c for c in range(scores.shape[1]) if not exclude[r, c]]
        candidates.sort(key=lambda c: (-values[c], c))
        picked = candidates[:k]
        rows.append(picked + [-1] * (k - len(picked)))
    return np.array(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_top_k_matches_a_sort_with_ties_nan_inf_and_exclusions(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, size=(30, 25)).astype(np.float32)  # many ties
    scores[rng.random(scores.shape) < 0.1] = np.nan
    scores[rng.random(scores.shape) < 0.1] = -np.inf
    exclude = rng.random(scores.shape) < 0.3
    exclude[3] = True  # a row with no candidate at all
    exclude[4, :22] = True  # a row with fewer candidates than k
    got, values = top_k_rows(scores, 5, csr_matrix(exclude))
    np.testing.assert_array_equal(got, reference_top_k(scores, 5, exclude))
    assert (got[3] == -1).all() and (got[4, 3:] == -1).all()
    finite = got >= 0
    np.testing.assert_array_equal(values[finite], np.where(np.isnan(scores), -np.inf, scores)[np.nonzero(finite)[0], got[finite]])


def test_top_k_ignores_explicitly_stored_false_and_repeated_exclusions():
    scores = np.array([[3.0, 2.0, 1.0, 0.0]])
    exclude = csr_matrix((np.array([True, False, True]), (np.array([0, 0, 0]), np.array([0, 1, 0]))), shape=(1, 4))
    got, _ = top_k_rows(scores, 2, exclude)
    assert got.tolist() == [[1, 2]]


def test_co_rated_counts_match_the_product():
    rng = np.random.default_rng(5)
    rated = csr_matrix((rng.random((50, 30)) < 0.25).astype(np.int32))
    indices, counts = co_rated_counts(rated.T.tocsr(), rated, 4)
    dense = (rated.T @ rated).toarray()
    np.fill_diagonal(dense, 0)
    for m in range(30):
        order = [j for j in sorted(range(30), key=lambda j: (-dense[m, j], j)) if dense[m, j] > 0][:4]
        assert indices[m, : len(order)].tolist() == order
        assert counts[m, : len(order)].tolist() == dense[m, order].tolist()
        assert (indices[m, len(order):] == -1).all()


def test_best_match_picks_the_most_similar_rated_movie():
    rng = np.random.default_rng(7)
    unit = rng.normal(size=(12, 4)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    rated = csr_matrix(np.array([[1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], [0] * 12, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]]))
    items = np.array([[5, 6], [5, -1], [-1, 7]])
    got = best_match(items, rated, unit)
    for u, slot in [(0, 0), (0, 1), (2, 1)]:
        seen = rated[u].indices
        assert got[u, slot] == seen[np.argmax(unit[seen] @ unit[items[u, slot]])]
    assert got[1].tolist() == [-1, -1] and got[2, 0] == -1
