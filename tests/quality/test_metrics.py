"""Ranking metrics on hand-made rankings, with exact expected values."""

import math

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from embedder.quality.metrics import (MISS, coverage, genre_jaccard, genre_matrix, hit_rate, ndcg, paired_bootstrap,
                              random_genre_jaccard, standard_error, target_ranks, top_k)


def test_top_k_orders_by_score_and_breaks_ties_towards_the_lower_index():
    scores = np.array([[0.1, 0.9, 0.5, 0.9, 0.5],
                       [1.0, 1.0, 1.0, 1.0, 1.0]])
    assert top_k(scores, 3).tolist() == [[1, 3, 2], [0, 1, 2]]


def test_top_k_never_returns_an_excluded_item_and_pads_with_miss():
    scores = np.array([[5.0, 4.0, 3.0, 2.0], [5.0, 4.0, 3.0, 2.0]])
    exclude = np.array([[True, False, True, False], [True, True, True, False]])
    assert top_k(scores, 3, exclude=exclude).tolist() == [[1, 3, MISS], [3, MISS, MISS]]
    # The same with a sparse exclusion matrix.
    assert top_k(scores, 3, exclude=csr_matrix(exclude)).tolist() == [[1, 3, MISS], [3, MISS, MISS]]


def test_top_k_ranks_unscored_items_last_by_index_but_still_lists_them():
    scores = np.array([[-np.inf, 0.2, np.nan, -np.inf, 0.7]])
    assert top_k(scores, 4).tolist() == [[4, 1, 0, 2]]


def test_top_k_on_a_wide_row_matches_a_full_sort():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 20, size=(7, 300)).astype(float)  # many ties
    exclude = rng.random((7, 300)) < 0.3
    got = top_k(scores, 10, exclude=exclude)
    for row in range(7):
        keys = sorted((-scores[row, i], i) for i in range(300) if not exclude[row, i])
        assert got[row].tolist() == [i for _, i in keys[:10]]


def test_hit_rate_and_ndcg_of_known_ranks():
    ranking = np.array([[7, 1, 2], [3, 4, 5], [6, 8, 9], [1, 2, 3]])
    targets = np.array([7, 5, 0, -1])
    ranks = target_ranks(ranking, targets)
    assert ranks.tolist() == [0, 2, MISS, MISS]
    assert hit_rate(ranks, 3).tolist() == [1.0, 1.0, 0.0, 0.0]
    assert hit_rate(ranks, 2).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert ndcg(ranks, 3) == pytest.approx([1.0, 0.5, 0.0, 0.0])  # 1/log2(0+2), 1/log2(2+2)
    assert ndcg(np.array([9]), 10) == pytest.approx([1 / math.log2(11)])
    assert ndcg(np.array([10]), 10).tolist() == [0.0]


def test_a_padded_ranking_never_matches_a_missing_target():
    assert target_ranks(np.array([[4, MISS]]), np.array([-1])).tolist() == [MISS]


def test_coverage_counts_distinct_listed_items_over_the_catalogue():
    assert coverage(np.array([[0, 1], [1, 2], [2, MISS]]), 10) == pytest.approx(0.3)


def test_genre_jaccard_of_hand_made_neighbours():
    genres, names = genre_matrix([("Action", "Drama"), ("Action",), ("Drama", "Comedy"), ()])
    assert names == ["Action", "Comedy", "Drama"]
    neighbours = np.array([[1, 2], [0, 3], [0, MISS], [0, 1]])
    # movie 0 {A,D}: vs 1 {A} = 1/2, vs 2 {C,D} = 1/3 -> 5/12;  movie 2: vs 0 = 1/3 (the -1 is skipped)
    assert genre_jaccard(neighbours, genres, np.array([0])) == pytest.approx(5 / 12)
    assert genre_jaccard(neighbours, genres, np.array([0, 2])) == pytest.approx((5 / 12 + 1 / 3) / 2)
    # movie 1 {A}: vs 0 = 1/2, vs 3 {} = 0
    assert genre_jaccard(neighbours, genres, np.array([1])) == pytest.approx(1 / 4)


def test_random_genre_jaccard_is_the_exact_mean_over_all_other_movies():
    rng = np.random.default_rng(1)
    genres = rng.random((12, 5)) < 0.4
    anchors = np.array([0, 3, 7, 11])
    expected = []
    for a in anchors:
        values = []
        for b in range(12):
            if b == a:
                continue
            union = (genres[a] | genres[b]).sum()
            values.append((genres[a] & genres[b]).sum() / union if union else 0.0)
        expected.append(np.mean(values))
    assert random_genre_jaccard(genres, anchors) == pytest.approx(np.mean(expected))


def test_standard_error_and_paired_bootstrap():
    hits = np.array([1.0, 0.0, 0.0, 1.0])
    assert standard_error(hits) == pytest.approx(np.std(hits, ddof=1) / 2)
    assert paired_bootstrap(hits, hits) == (0.0, 0.0, 0.0)
    diff, low, high = paired_bootstrap(np.ones(50), np.zeros(50))
    assert (diff, low, high) == (1.0, 1.0, 1.0)
    a, b = np.r_[np.ones(30), np.zeros(70)], np.r_[np.ones(20), np.zeros(80)]
    first, again = paired_bootstrap(a, b, seed=3), paired_bootstrap(a, b, seed=3)
    assert first == again and first[1] <= 0.1 <= first[2]
