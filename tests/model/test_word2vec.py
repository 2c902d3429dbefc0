"""Word2Vec on the planted-cluster demo: properties, not exact numbers."""

import numpy as np
import pytest

from embedder.ratings.demo import make_demo_with_truth
from embedder.model.word2vec import Word2VecParams, train_word_vectors
from embedder.model.neighbours import nearest
from embedder.model.sequences import SequenceParams, make_sequences

FAST = Word2VecParams(vector_size=16, epochs=3, workers=1, seed=7)


@pytest.fixture(scope="module")
def demo():
    dataset, clusters = make_demo_with_truth(seed=0, n_movies=120, n_users=200)
    sequences, _ = make_sequences(dataset.interactions, SequenceParams())
    return dataset, clusters, sequences


def test_shapes_dtypes_and_finite(demo):
    _, _, sequences = demo
    words = train_word_vectors(sequences, FAST)
    assert words.vectors.shape == (len(sequences.token_ids), 16)
    assert words.output_vectors.shape == words.vectors.shape
    assert words.vectors.dtype == np.float32 and np.isfinite(words.vectors).all()
    assert words.ids.tolist() == sequences.token_ids.tolist()


def test_taste_clusters_come_out_as_neighbours(demo):
    dataset, clusters, sequences = demo
    words = train_word_vectors(sequences, Word2VecParams(vector_size=16, epochs=5, workers=1, seed=1))
    rows = {m: i for i, m in enumerate(dataset.movies.ids.tolist())}
    truth = clusters[[rows[m] for m in words.ids.tolist()]]
    nb = nearest(words.vectors, 5)
    same = (truth[nb.indices] == truth[:, None]).mean()
    chance = np.mean([(truth == c).mean() for c in truth])
    assert same > 3 * chance, (same, chance)


def test_same_seed_one_worker_gives_identical_bytes(demo):
    _, _, sequences = demo
    a = train_word_vectors(sequences, FAST)
    b = train_word_vectors(sequences, FAST)
    assert a.vectors.tobytes() == b.vectors.tobytes()
    c = train_word_vectors(sequences, Word2VecParams(vector_size=16, epochs=3, workers=1, seed=8))
    assert a.vectors.tobytes() != c.vectors.tobytes()


def test_shuffled_order_trains_too(demo):
    _, _, sequences = demo
    words = train_word_vectors(sequences, Word2VecParams(vector_size=16, epochs=2, workers=1, shuffle=True))
    assert np.isfinite(words.vectors).all()
