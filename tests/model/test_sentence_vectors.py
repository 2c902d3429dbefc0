"""SIF / uSIF / mean against the definitions, computed by hand on a tiny case."""

import numpy as np
import pytest

from embedder.model.sentence_vectors import sentence_vectors, word_weights
from embedder.values import Sequences, WordVectors

# Three sentences over four words: s0 = [a, b], s1 = [a, c], s2 = [a, a, d, a]
WORDS = np.array(["a", "b", "c", "d"], dtype=object)
VECTORS = np.array([[1.0, 0.0, 0.5], [0.0, 2.0, 0.0], [1.0, 1.0, -1.0], [-2.0, 0.5, 1.0]], dtype=np.float32)
SENTENCES = [[0, 1], [0, 2], [0, 0, 3, 0]]


def tiny():
    indptr = np.cumsum([0] + [len(s) for s in SENTENCES])
    seq = Sequences(
        sentence_ids=np.array(["u0", "u1", "u2"], dtype=object),
        token_ids=WORDS,
        indptr=indptr,
        tokens=np.array([t for s in SENTENCES for t in s], dtype=np.int32),
    )
    return seq, WordVectors(ids=WORDS, vectors=VECTORS)


def by_hand(weights):
    """(1/|s|) * sum of weight(w) * v_w, one sentence at a time."""
    return np.array([sum(weights[w] * VECTORS[w].astype(np.float64) for w in s) / len(s) for s in SENTENCES])


COUNTS = np.array([5, 1, 1, 1])  # a appears 5 times in 8 tokens, b, c and d once
P = COUNTS / COUNTS.sum()


def test_mean_is_the_plain_average():
    seq, wv = tiny()
    out = sentence_vectors(seq, wv, "mean")
    np.testing.assert_allclose(out.vectors, by_hand(np.ones(4)), rtol=1e-6)


def test_sif_weights_and_first_component_removed():
    seq, wv = tiny()
    a = 1e-3
    weights = a / (a + P)
    np.testing.assert_allclose(word_weights(COUNTS, "sif", alpha=a), weights, rtol=1e-6)
    raw = by_hand(weights)
    u = np.linalg.svd(raw, full_matrices=False)[2][0]  # first right singular vector, uncentred
    expected = raw - np.outer(raw @ u, u)
    out = sentence_vectors(seq, wv, "sif", alpha=a)
    np.testing.assert_allclose(out.vectors, expected, rtol=1e-5, atol=1e-9)
    assert out.ids.tolist() == ["u0", "u1", "u2"]


def test_usif_weights_follow_ethayarajh():
    seq, wv = tiny()
    v, n = 4, 8 / 3  # vocabulary size, mean sentence length (2+2+4)/3
    threshold = 1 - (1 - 1 / v) ** n
    share = np.count_nonzero(P > threshold) / v
    assert share == 0.25  # only "a" is frequent enough
    a = (1 - share) / (share * v / 2)
    weights = a / (a / 2 + P)
    np.testing.assert_allclose(word_weights(COUNTS, "usif", mean_length=n), weights, rtol=1e-5)
    raw = by_hand(weights)
    _, s, vt = np.linalg.svd(raw, full_matrices=False)
    share_sv = s**2 / (s**2).sum()
    expected = raw - (raw @ vt.T * share_sv) @ vt
    out = sentence_vectors(seq, wv, "usif")
    np.testing.assert_allclose(out.vectors, expected, rtol=1e-4, atol=1e-6)


def test_rejects_vectors_of_another_vocabulary():
    seq, wv = tiny()
    shuffled = WordVectors(ids=WORDS[::-1], vectors=VECTORS)
    with pytest.raises(ValueError):
        sentence_vectors(seq, shuffled, "sif")


def test_unknown_method():
    with pytest.raises(ValueError):
        word_weights(COUNTS, "tfidf")


def test_large_input_is_finite_and_shaped():
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 50, size=2000)
    tokens = rng.zipf(1.5, size=lengths.sum()) % 300
    seq = Sequences(
        sentence_ids=np.arange(2000).astype(str).astype(object),
        token_ids=np.arange(300).astype(str).astype(object),
        indptr=np.concatenate([[0], np.cumsum(lengths)]),
        tokens=tokens.astype(np.int32),
    )
    wv = WordVectors(ids=seq.token_ids, vectors=rng.standard_normal((300, 16)).astype(np.float32))
    for method in ("sif", "usif", "mean"):
        out = sentence_vectors(seq, wv, method)
        assert out.vectors.shape == (2000, 16) and out.vectors.dtype == np.float32
        assert np.isfinite(out.vectors).all()
