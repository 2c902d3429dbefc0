"""The synthetic demo log: Dataset invariants, determinism, planted clusters."""

from __future__ import annotations

import re

import numpy as np
import pytest

from embedder.ratings.demo import CLUSTERS, make_demo, make_demo_with_truth
from embedder.errors import ConfigError

MOVIELENS_GENRES = {
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
}


@pytest.fixture(scope="module")
def demo():
    return make_demo_with_truth(seed=0)


def _arrays(dataset):
    it, mv, us = dataset.interactions, dataset.movies, dataset.users
    return [it.user_ids, it.item_ids, it.user, it.item, it.rating, it.timestamp,
            mv.ids, mv.titles, mv.years, us.ids, *us.attributes.values()]


def test_dataset_invariants(demo):
    dataset, _ = demo
    it, movies = dataset.interactions, dataset.movies
    assert np.array_equal(movies.ids, it.item_ids)
    assert it.user_ids.dtype.kind == "U" and it.item_ids.dtype.kind == "U"
    assert it.user.dtype == np.int32 and it.item.dtype == np.int32
    assert it.rating.dtype == np.float32 and it.timestamp.dtype == np.int64
    assert len(it.user) == len(it.item) == len(it.rating) == len(it.timestamp)
    assert it.user.min() == 0 and it.user.max() == len(it.user_ids) - 1
    assert np.array_equal(np.unique(it.item), np.arange(len(it.item_ids)))  # every movie rated
    assert len(set(it.item_ids.tolist())) == len(it.item_ids)
    assert len(movies.titles) == len(movies.years) == len(movies.genres) == len(movies)


def test_no_duplicate_user_movie_pairs(demo):
    it = demo[0].interactions
    pairs = it.user.astype(np.int64) * len(it.item_ids) + it.item
    assert len(np.unique(pairs)) == len(pairs)


def test_movies_look_like_movielens(demo):
    movies = demo[0].movies
    assert all(re.fullmatch(r".+ \((\d{4})\)", t) for t in movies.titles)
    assert all(t.endswith(f"({y})") for t, y in zip(movies.titles, movies.years))
    assert len(set(movies.titles.tolist())) == len(movies)
    joined = "\n".join(movies.titles)
    assert "&" in joined and "'" in joined and re.search(r" 2: ", joined)
    assert movies.years.min() >= 1930 and movies.years.max() <= 2023
    assert np.median(movies.years) > 1976  # skewed recent
    assert all(1 <= len(g) <= 3 and set(g) <= MOVIELENS_GENRES for g in movies.genres)


def test_ratings_and_timestamps(demo):
    it = demo[0].interactions
    assert set(np.unique(it.rating).tolist()) <= {x / 2 for x in range(1, 11)}
    assert 3.0 < it.rating.mean() < 4.0
    same_user = it.user[1:] == it.user[:-1]
    assert np.all(np.diff(it.user) >= 0)  # grouped by user, in time order
    assert np.all(np.diff(it.timestamp)[same_user] > 0)
    first = it.timestamp[np.r_[True, ~same_user]]
    assert first.min() >= 820454400 and first.max() < 1546300800  # 1996..2018
    gaps = np.diff(it.timestamp)[same_user]
    assert np.percentile(gaps, 10) < 60 and np.percentile(gaps, 99) > 86400


def test_history_lengths_are_heavy_tailed(demo):
    lengths = np.bincount(demo[0].interactions.user)
    assert lengths.min() >= 5
    assert 30 <= np.median(lengths) <= 50
    assert lengths.max() >= 150


def test_users_have_attributes(demo):
    dataset = demo[0]
    users = dataset.users
    assert np.array_equal(users.ids, dataset.interactions.user_ids)
    assert set(users.attributes) == {"age", "gender", "occupation"}
    for values in users.attributes.values():
        assert len(values) == len(users) and values.dtype.kind == "U"
    assert set(users.attributes["gender"].tolist()) == {"M", "F"}
    assert all(7 <= int(a) <= 73 for a in users.attributes["age"])


def test_same_seed_same_arrays():
    a, b = make_demo(seed=3), make_demo(seed=3)
    for x, y in zip(_arrays(a), _arrays(b)):
        assert np.array_equal(x, y)
    assert a.movies.genres == b.movies.genres


def test_different_seeds_differ():
    a, b = make_demo(seed=1), make_demo(seed=2)
    assert not np.array_equal(a.movies.titles, b.movies.titles)
    assert len(a.interactions) != len(b.interactions) or not np.array_equal(
        a.interactions.item, b.interactions.item)


def test_sizes_are_configurable():
    dataset, cluster = make_demo_with_truth(seed=0, n_movies=60, n_users=40)
    assert 54 <= len(dataset.movies) <= 60
    assert len(dataset.users) == 40 == len(dataset.interactions.user_ids)
    assert len(cluster) == len(dataset.movies)
    assert set(cluster.tolist()) == set(range(len(CLUSTERS)))


def test_rejects_too_few_movies():
    with pytest.raises(ConfigError):
        make_demo(n_movies=3)


def test_co_rating_within_cluster_beats_across(demo):
    dataset, cluster = demo
    it = dataset.interactions
    seen = np.zeros((len(it.user_ids), len(it.item_ids)))
    seen[it.user, it.item] = 1
    together = seen.T @ seen
    same = cluster[:, None] == cluster[None, :]
    off_diagonal = ~np.eye(len(cluster), dtype=bool)
    assert together[same & off_diagonal].mean() > 2.5 * together[~same].mean()


def test_consecutive_ratings_stay_in_a_cluster(demo):
    dataset, cluster = demo
    it = dataset.interactions
    same_user = it.user[1:] == it.user[:-1]
    stay = (cluster[it.item][1:] == cluster[it.item][:-1])[same_user].mean()
    chance = (np.bincount(cluster[it.item]) / len(it.item)) ** 2
    assert stay > 0.6 > 3 * chance.sum()


def test_favourite_clusters_get_higher_ratings(demo):
    dataset, cluster = demo
    it = dataset.interactions
    counts = np.zeros((len(it.user_ids), len(CLUSTERS)))
    np.add.at(counts, (it.user, cluster[it.item]), 1)
    favourite = counts.argmax(axis=1)
    in_favourite = cluster[it.item] == favourite[it.user]
    assert it.rating[in_favourite].mean() > it.rating[~in_favourite].mean() + 0.5


def test_cluster_genres_and_eras_differ(demo):
    dataset, cluster = demo
    movies = dataset.movies
    horror = [g for g, c in zip(movies.genres, cluster) if CLUSTERS[c].name == "horror"]
    assert sum("Horror" in g for g in horror) > 0.7 * len(horror)
    era = {CLUSTERS[c].name: np.median(movies.years[cluster == c]) for c in range(len(CLUSTERS))}
    assert era["musical"] < 1980 < era["sci-fi action"]
