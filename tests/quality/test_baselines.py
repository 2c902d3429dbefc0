"""Popularity, item-kNN and EASE: exact values on tiny matrices, and sense on the demo."""

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from embedder.quality import baselines
from embedder.ratings.demo import make_demo
from embedder.quality.evaluate import leave_last_out, make_task, measure, rank_users

X = csr_matrix(np.array([
    [1, 1, 0, 0],
    [1, 1, 1, 0],
    [0, 1, 1, 0],
    [0, 0, 1, 1],
], dtype=np.float32))


def test_popularity_and_gram():
    assert baselines.popularity(X).tolist() == [2, 3, 3, 1]
    G = baselines.gram(X)
    assert G[0, 1] == 2 and G[1, 1] == 3 and G[0, 3] == 0


def test_cosine_similarity_with_shrink_by_hand():
    S = baselines.cosine_similarity(baselines.gram(X), shrink=1.0)
    assert S[0, 1] == pytest.approx(2 / (np.sqrt(2) * np.sqrt(3) + 1))
    assert S[2, 3] == pytest.approx(1 / (np.sqrt(3) * 1 + 1))
    assert np.all(np.diag(S) == 0)
    assert np.allclose(S, S.T)


def test_keep_top_neighbours_keeps_n_per_column():
    S = np.array([[0, 3, 1], [2, 0, 5], [4, 1, 0]], dtype=np.float32)
    kept = baselines.keep_top_neighbours(S, 1)
    assert kept.tolist() == [[0, 3, 0], [0, 0, 5], [4, 0, 0]]
    assert baselines.keep_top_neighbours(S, 0) is S


def test_ease_matches_the_closed_form_in_float64_and_float32():
    G = baselines.gram(X)
    lam = 2.0
    P = np.linalg.inv(G + lam * np.eye(4))
    expected = -P / np.diag(P)[None, :]
    np.fill_diagonal(expected, 0.0)
    assert np.allclose(baselines.ease(G, lam, dtype=np.float64), expected, atol=1e-6)
    assert np.allclose(baselines.ease(G, lam), expected, atol=1e-4)
    scores = baselines.scores_from(X, baselines.ease(G, lam))
    assert scores.shape == (4, 4) and scores.dtype == np.float32


def test_ease_and_item_knn_beat_popularity_on_the_demo():
    dataset = make_demo()
    task = make_task(dataset, leave_last_out(dataset.interactions, "test"))
    G = baselines.gram(task.X)
    pop = baselines.popularity(task.X)
    B = baselines.ease(G, 100.0)
    S = baselines.keep_top_neighbours(baselines.cosine_similarity(G, 10.0), 20)
    hr = {
        "popularity": measure(task, rank_users(task, lambda rows: np.broadcast_to(pop, (len(rows), task.n_items)))).hr,
        "ease": measure(task, rank_users(task, lambda rows: baselines.scores_from(task.X[rows], B))).hr,
        "knn": measure(task, rank_users(task, lambda rows: baselines.scores_from(task.X[rows], S))).hr,
    }
    assert hr["ease"] > 2 * hr["popularity"] and hr["knn"] > 2 * hr["popularity"]
