"""Scoring users against movies: recency weights, the io score, and recommend()."""

import numpy as np
import pytest

from embedder.model.recommend import ScoringParams, context_vectors, history_weights, recommend, score_io
from embedder.values import Sequences, WordVectors


def sequences():
    # user a rated movies 0, 1, 2 (in that order); user b rated 3 then 1.
    return Sequences(sentence_ids=np.array(["a", "b"], dtype=object), token_ids=np.array(["m0", "m1", "m2", "m3"], dtype=object),
                     indptr=np.array([0, 3, 5]), tokens=np.array([0, 1, 2, 3, 1], dtype=np.int32))


def words():
    vectors = np.array([[1, 0], [0, 1], [1, 1], [2, 0]], dtype=np.float32)
    output = np.array([[1, 0], [0, 1], [0, 0], [1, 1]], dtype=np.float32)
    return WordVectors(ids=np.array(["m0", "m1", "m2", "m3"], dtype=object), vectors=vectors, output_vectors=output)


def test_history_weights_decay_from_the_most_recent_movie():
    W = history_weights(sequences(), decay=0.5).toarray()
    # user a: weights 0.25, 0.5, 1 for movies 0, 1, 2, normalised by 1.75
    assert W[0] == pytest.approx([0.25 / 1.75, 0.5 / 1.75, 1 / 1.75, 0])
    assert W[1] == pytest.approx([0, 1 / 1.5, 0, 0.5 / 1.5])
    assert history_weights(sequences()).toarray()[0] == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0])
    assert history_weights(sequences(), last_k=1).toarray()[0] == pytest.approx([0, 0, 1, 0])


def test_io_score_is_context_dot_output_plus_prior_log_count():
    s, w = sequences(), words()
    contexts = context_vectors(s, w)  # plain means
    assert contexts[0] == pytest.approx([2 / 3, 2 / 3])
    counts = s.token_counts()
    assert counts.tolist() == [1, 2, 1, 1]
    scores = score_io(contexts, w, counts, prior=0.5)
    assert scores[0] == pytest.approx([2 / 3, 2 / 3 + 0.5 * np.log(2), 0, 4 / 3])


def test_recommend_excludes_rated_movies_and_pads():
    recs = recommend(sequences(), words(), k=3, params=ScoringParams(decay=1.0, prior=0.0))
    assert recs.user_ids.tolist() == ["a", "b"]
    assert recs.items[0].tolist() == [3, -1, -1]  # a rated 0, 1, 2
    assert recs.items[1].tolist() == [0, 2, -1]   # b: context (1, .5): m0 1.0, m2 0.0
    assert recs.scores[1].tolist() == pytest.approx([1.0, 0.0, 0.0])
    more = recommend(sequences(), words(), k=3, params=ScoringParams(decay=1.0, prior=0.0), users=np.array([1]),
                     exclude=np.array([[True, False, False, False]]))
    assert more.items.tolist() == [[2, -1, -1]]


def test_cosine_scoring_and_the_validation_of_settings():
    recs = recommend(sequences(), words(), k=1, params=ScoringParams(method="cosine", decay=1.0))
    assert recs.items[1].tolist() == [2]  # b: context (1, .5); cosine with m2 (1, 1) .95 beats m0 (1, 0) .89
    with pytest.raises(ValueError, match="does not score word vectors"):
        recommend(sequences(), words(), k=1, params=ScoringParams(method="ease"))


def test_recommending_leaves_the_sentences_in_time_order_and_pruning_changes_nothing():
    from embedder.ratings.demo import make_demo
    from embedder.model.word2vec import Word2VecParams, train_word_vectors
    from embedder.model.recommend import recommend
    from embedder.model.sequences import SequenceParams, make_sequences

    sequences, _ = make_sequences(make_demo(seed=2).interactions, SequenceParams())
    tokens = sequences.tokens.copy()
    words = train_word_vectors(sequences, Word2VecParams(vector_size=8, epochs=2, workers=1))
    whole = recommend(sequences, words, 10, chunk=10**9)  # one block: every movie scored
    np.testing.assert_array_equal(sequences.tokens, tokens)
    pruned = recommend(sequences, words, 10, chunk=16)  # blocks of 16 users: bounded, pruned scoring
    np.testing.assert_array_equal(pruned.items, whole.items)
    np.testing.assert_allclose(pruned.scores, whole.scores, rtol=1e-6)
    again = recommend(sequences, words, 10, chunk=10**9)
    np.testing.assert_array_equal(again.items, whole.items)
