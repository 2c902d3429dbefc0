"""The recommender of unordered logs: EASE over the supported movies, lambda chosen on held-out ratings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from embedder.quality import baselines
from embedder.model.ease import LAMBDAS, choose_lambda, ease_columns, ease_lists, fit_ease
from embedder.model.kernels import best_weight
from embedder.model.word2vec import Word2VecParams
from embedder.model.recommend import ScoringParams


def planted(users=120, movies=30, seed=0):
    """Users who each rate most of one of three movie blocks, plus a little noise: EASE must find the blocks."""
    rng = np.random.default_rng(seed)
    block = np.arange(movies) % 3
    rows, cols = [], []
    for u in range(users):
        taste = u % 3
        liked = np.flatnonzero((block == taste) & (rng.random(movies) < 0.6))
        noise = rng.choice(movies, 2, replace=False)
        for m in np.unique(np.concatenate([liked, noise])):
            rows.append(u)
            cols.append(m)
    return csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(users, movies)), block


def test_lambda_is_chosen_by_a_walk_on_held_out_ratings_deterministically():
    X, _ = planted()
    lam, tried = choose_lambda(X, seed=0)
    assert lam in LAMBDAS and lam in tried and len(tried) >= 3
    assert tried[lam] == max(tried.values())
    assert choose_lambda(X, seed=0) == (lam, tried)


def test_a_fixed_lambda_is_plain_ease_on_the_supported_columns():
    X, _ = planted()
    supported = np.ones(X.shape[1], dtype=bool)
    supported[[0, 5]] = False
    model = fit_ease(X, supported, lam=50.0)
    assert model.tried == {} and model.lam == 50.0
    assert model.columns.tolist() == [c for c in range(X.shape[1]) if c not in (0, 5)]
    Xc = X[:, model.columns].toarray()
    want = baselines.ease(Xc.T @ Xc, 50.0)
    assert np.allclose(model.weights, want, atol=1e-5)
    assert "λ=50" in model.describe() and model.settings()["movies"] == X.shape[1] - 2


def test_the_most_rated_columns_are_kept_under_a_cap():
    X = csr_matrix(np.array([[1, 1, 0, 1], [1, 0, 0, 1], [1, 0, 1, 0]], dtype=np.float32))
    assert ease_columns(X, max_items=2).tolist() == [0, 3]
    assert ease_columns(X, np.array([False, True, True, True]), max_items=2).tolist() == [1, 3]


def test_lists_exclude_rated_and_unsupported_movies_and_explain_each_pick():
    X, block = planted()
    supported = np.ones(X.shape[1], dtype=bool)
    supported[29] = False
    model = fit_ease(X, supported, lam=10.0)
    extra = csr_matrix(([1.0], ([0], [int(np.setdiff1d(np.arange(29), X[0].indices)[0])])), shape=X.shape)
    items, scores, because = ease_lists(model, X, k=5, exclude=extra)
    for u in range(X.shape[0]):
        picks = items[u][items[u] >= 0]
        assert not set(picks) & set(X[u].indices) and 29 not in picks
        assert np.all(np.diff(scores[u][: len(picks)]) <= 1e-6)
    assert extra.indices[0] not in items[0]
    # Users of one block are recommended that block's movies.
    assert np.mean(block[items[:, 0]] == np.arange(X.shape[0]) % 3) > 0.9
    # "because": the rated movie with the largest weight towards the pick.
    position = np.full(X.shape[1], -1)
    position[model.columns] = np.arange(len(model.columns))
    for u in range(0, X.shape[0], 17):
        for slot in range(5):
            r = items[u, slot]
            rated = [j for j in X[u].indices if position[j] >= 0]
            weights = [model.weights[position[j], position[r]] for j in rated]
            assert because[u, slot] == rated[int(np.argmax(weights))]


def test_best_weight_pads_and_breaks_ties_to_the_lower_row():
    W = np.array([[0, 2, 1], [2, 0, 1], [1, 1, 0]], dtype=np.float32)
    rated = csr_matrix(np.array([[1, 1, 0], [0, 0, 0], [1, 0, 0]], dtype=np.float32))
    position = np.array([0, 1, 2, -1])
    items = np.array([[2, -1], [2, 0], [1, 3]])
    got = best_weight(items, rated, W, position)
    assert got.tolist() == [[0, -1], [-1, -1], [0, -1]]


def test_auto_settings_follow_the_log_order():
    auto = ScoringParams()
    assert auto.for_log(True).method == "io" and auto.for_log(True).decay == auto.decay
    unordered = auto.for_log(False)
    assert unordered.method == "ease" and unordered.settings() == {"method": "ease", "lambda": None}
    io = ScoringParams(method="io", last_k=3).for_log(False)
    assert (io.method, io.decay, io.last_k) == ("io", 1.0, 0)
    assert Word2VecParams().for_log(False).shuffle is True and Word2VecParams().for_log(True).shuffle is False
    assert Word2VecParams().for_log(False, can_shuffle=False).shuffle is False
    assert Word2VecParams(shuffle=False).for_log(False).shuffle is False
    assert Word2VecParams(corpus_file=True).for_log(False).shuffle is False


@pytest.mark.parametrize("lam", [0.0, -1.0])
def test_a_lambda_must_be_positive(lam):
    from embedder.settings import resolve

    problems = []
    resolve({"rec_lambda": lam}, problems=problems)
    assert problems == [f"--rec-lambda must be more than 0, got {lam:g}"]
