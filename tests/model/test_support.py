"""The support rule: who has enough ratings to be listed, fitted and put in the projector."""

from __future__ import annotations

import numpy as np

from embedder.model.neighbours import nearest
from embedder.model.sequences import SequenceParams, make_sequences
from embedder.model.support import DEFAULT_MIN_RATINGS, MIN_SUPPORTED, everyone, support
from tests.helpers import interactions


def log(counts: dict[str, int], users: int = 30):
    """A log where movie ``m`` is rated by the first ``counts[m]`` users (one rating each, in time order)."""
    rows, t = [], 0
    for movie, n in counts.items():
        for u in range(n):
            t += 1
            rows.append((f"u{u % users}", movie, 4.0, t))
    return interactions(rows)


def test_counts_come_from_the_sentences_in_both_orientations():
    counts = {f"m{i}": 2 + i for i in range(15)}  # m0 rated twice ... m14 16 times
    counts["everyone"] = 16  # rated by all 16 users, so that no user is left with one rating (a sentence of one is dropped)
    inter = log(counts)
    sequences, _ = make_sequences(inter, SequenceParams())
    movie_ids = np.array(list(counts), dtype=object)
    found = support(sequences, movie_ids, sequences.sentence_ids)
    assert found.movie_counts.tolist() == list(counts.values())
    assert found.movies.tolist() == [n >= DEFAULT_MIN_RATINGS for n in counts.values()]
    assert np.array_equal(found.user_counts, sequences.lengths())
    # Sentences per movie: the movies are the sentences, their lengths the counts.
    by_movie, _ = make_sequences(inter, SequenceParams(orientation="movies"))
    flipped = support(by_movie, movie_ids, by_movie.token_ids, orientation="movies")
    assert flipped.movie_counts.tolist() == list(counts.values())
    assert np.array_equal(flipped.movies, found.movies)


def test_unknown_ids_count_zero_and_the_rule_is_off_when_too_few_pass():
    counts = {f"m{i}": 2 for i in range(12)}
    counts["hit"] = 9
    sequences, _ = make_sequences(log(counts), SequenceParams())
    ids = np.array(list(counts) + ["never-rated"], dtype=object)
    found = support(sequences, ids, sequences.sentence_ids)
    assert found.movie_counts[-1] == 0
    # Only one movie has 5 ratings: fewer than MIN_SUPPORTED, so every movie stays in.
    assert 1 < MIN_SUPPORTED and found.movies.all() and found.off == ("movies",)
    assert "rule is off" in found.describe()


def test_candidates_keep_rare_movies_out_of_every_list():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 8)).astype(np.float32)
    found = support(*_sequences_with(rng, 60))
    lists = nearest(vectors, 10, candidates=found.movies)
    assert not found.movies.all() and found.movies.any()
    assert found.movies[lists.indices].all()  # nobody lists a barely-rated movie, rare movies included


def _sequences_with(rng, n_movies):
    counts = {f"m{i}": int(c) for i, c in enumerate(rng.integers(1, 12, n_movies))}
    sequences, _ = make_sequences(log(counts, users=40), SequenceParams())
    return sequences, np.array(list(counts), dtype=object), sequences.sentence_ids


def test_everyone_and_describe():
    rule = everyone(3, 2)
    assert rule.movies.all() and rule.users.all() and rule.min_ratings == 1
    counts = {f"m{i}": 6 + i for i in range(12)}
    sequences, _ = make_sequences(log(counts), SequenceParams())
    line = support(sequences, np.array(list(counts), dtype=object), sequences.sentence_ids).describe()
    assert "rated at least 5 times" in line and "12 of 12 movies" in line
