"""Regions of the map: dense areas found on the map, named by what sets them apart."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from embedder.maps.regions import Catalogue, _distinctive, _short, cluster, movie_regions, user_regions


def blobs(centres, per=40, spread=1.0, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(centres)), per)
    return np.asarray(centres, dtype=float)[labels] + rng.normal(scale=spread, size=(len(labels), 2)), labels


def test_cluster_finds_dense_blobs_and_the_placed_points_join_their_nearest():
    coords, truth = blobs([(0, 0), (40, 0), (0, 40)])
    fitted = np.arange(len(coords)) % 5 != 0
    member = np.ones(len(coords), dtype=bool)
    member[-3:] = False  # barely rated: in no region
    labels = cluster(coords, fitted, member, min_size=10)
    assert (labels[~member] == -1).all()
    found = labels[member & (labels >= 0)]
    assert len(np.unique(found)) == 3
    for blob in range(3):  # each blob is one region, placed points included
        inside = labels[(truth == blob) & member & (labels >= 0)]
        assert (inside == inside[0]).all()
    sizes = np.bincount(found)
    assert (np.diff(sizes) <= 0).all()  # region 0 is the biggest


def test_no_dense_area_means_no_region():
    coords = np.random.default_rng(1).uniform(size=(20, 2)) * 1000
    assert (cluster(coords, np.ones(20, bool), np.ones(20, bool), min_size=15) == -1).all()


def test_names_say_what_is_over_represented():
    coords, truth = blobs([(0, 0), (50, 0), (0, 50)], per=30)
    genres = tuple([("Horror", "Thriller")] * 30 + [("Comedy", "Romance")] * 30 + [("Drama",)] * 30)
    years = np.array([1985] * 30 + [1995, 2005, 2015] * 10 + [1970, 1980, 1990, 2000, 2010, 2020] * 5)
    counts = np.arange(90)[::-1] + 1
    titles = np.array([f"Movie {i} (2000)" for i in range(90)], dtype=object)
    found = movie_regions(coords, np.ones(90, bool), np.ones(90, bool), Catalogue(genres, years, counts, titles))
    names = {found.regions[found.labels[i]].name for i in (0, 30, 60)}
    assert "Horror · Thriller, 1980s" in names
    assert "Comedy · Romance" in names  # three decades: none of them is most of it
    assert "Drama" in names
    first = found.regions[found.labels[0]]
    assert first.titles == ("Movie 0 (2000)", "Movie 1 (2000)", "Movie 2 (2000)")  # the most rated
    assert found.names()[0] == first.name and len(found.names()) == 90


def test_a_region_without_a_distinctive_genre_is_named_after_its_best_known_title():
    coords, _ = blobs([(0, 0), (50, 0)], per=30)
    genres = tuple([("Drama",), ("Comedy",)] * 30)  # both regions hold the same mix
    titles = np.array([f"Matrix, The (1999)" if i == 0 else f"M{i} (1990)" for i in range(60)], dtype=object)
    found = movie_regions(coords, np.ones(60, bool), np.ones(60, bool),
                          Catalogue(genres, np.zeros(60, int), np.arange(60)[::-1] + 1, titles))
    assert found.regions[found.labels[0]].name == "Around The Matrix"


def test_users_regions_are_named_by_what_their_users_rate():
    coords, truth = blobs([(0, 0), (50, 0)], per=30)
    genres = tuple([("Horror",)] * 10 + [("Musical",)] * 10)
    rated = np.zeros((60, 20))
    rated[:30, :10] = 1  # the first group rates horror
    rated[30:, 10:] = 1  # the second, musicals
    rated[:, [0, 15]] = 1  # and everyone a bit of both
    catalogue = Catalogue(genres, np.zeros(20, int), rated.sum(axis=0), np.array([f"T{i}" for i in range(20)], dtype=object))
    found = user_regions(coords, np.ones(60, bool), np.ones(60, bool), csr_matrix(rated), catalogue)
    assert found.regions[found.labels[0]].name == "Horror fans"
    assert found.regions[found.labels[45]].name == "Musical fans"
    assert "T15" not in found.regions[found.labels[0]].titles  # everyone rates it: not what sets them apart


def test_distinctive_and_short():
    assert _distinctive({"A": 0.6, "B": 0.5, "C": 0.1}, {"A": 0.2, "B": 0.45, "C": 0.01}, 0.25, 1.4, 2) == ["A"]
    assert _short("Matrix, The (1999)") == "The Matrix"
    assert _short("Star Wars: Episode IV - A New Hope (1977)") == "Star Wars"
    assert _short("Independence Day (a.k.a. ID4) (1996)") == "Independence Day"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0])
def test_every_planted_demo_cluster_gets_a_region_named_after_its_genre(seed, tmp_path):
    """The demo's eight planted taste clusters: each region made of one of them names its genre."""
    pytest.importorskip("openTSNE")
    from embedder.ratings.demo import CLUSTERS, make_demo_with_truth
    from embedder.ratings.catalogue import catalogue_rows
    from embedder.maps.stage import make_maps, map_inputs
    from embedder.model.word2vec import Word2VecParams, train_word_vectors
    from embedder.model.sequences import SequenceParams, make_sequences
    from embedder.model.support import support
    from embedder.model.sentence_vectors import sentence_vectors

    dataset, truth = make_demo_with_truth(seed=seed)
    sequences, _ = make_sequences(dataset.interactions, SequenceParams())
    words = train_word_vectors(sequences, Word2VecParams(epochs=5, workers=1, seed=seed))
    users = sentence_vectors(sequences, words)
    trusted = support(sequences, words.ids, users.ids)
    catalogue, _, by_user = map_inputs(dataset, words.ids, users.ids)
    maps = make_maps(words.vectors, users.vectors, trusted, catalogue, by_user, seed=seed, picture=False)
    regions = maps.movie_regions
    planted = truth[catalogue_rows(dataset, words.ids)]
    named = set()
    for r, region in enumerate(regions.regions):
        members = planted[regions.labels == r]
        majority = np.bincount(members, minlength=len(CLUSTERS)).argmax()
        if np.mean(members == majority) > 0.5:
            genre = CLUSTERS[majority].genres[0]
            assert genre in region.name, (region.name, CLUSTERS[majority].name)
            named.add(majority)
    assert named == set(range(len(CLUSTERS)))
