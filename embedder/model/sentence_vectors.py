"""Sentences + word vectors -> one vector per sentence: SIF, uSIF or mean.

The definitions are those of the ``fse`` library (Borchers), vectorised:

* a sentence vector is the weighted mean of its word vectors,
  ``v_s = (1/|s|) * sum_w weight(w) * v_w``, computed for all sentences at
  once as a sparse (sentences x words) matrix times the word matrix;
* **mean**: weight 1, nothing removed;
* **SIF** (Arora et al., ICLR 2017): ``weight = a / (a + p(w))`` with
  ``a = 1e-3`` and ``p(w)`` the word's relative frequency in the corpus; then
  the projection on the first singular vector of the sentence matrix is
  removed;
* **uSIF** (Ethayarajh, 2018): ``weight = a / (a/2 + p(w))`` where ``a`` is
  derived from the vocabulary size ``V`` and the mean sentence length ``n``:
  ``threshold = 1 - (1 - 1/V)^n``, ``alpha = |{w : p(w) > threshold}| / V``,
  ``a = (1 - alpha) / (alpha * V/2)``; then the first 5 singular vectors are
  removed, each weighted by its share of the squared singular values.

fse computes the singular vectors with a randomised truncated SVD (no
centring); here they come from the exact eigendecomposition of the small
``d x d`` Gram matrix, which is the same subspace, deterministic and fast.
"""

from __future__ import annotations

import numpy as np

from embedder.values import Sequences, SentenceVectors, WordVectors

METHODS = ("sif", "usif", "mean")

#: fse's defaults: SIF's smoothing constant and the number of components removed.
SIF_ALPHA = 1e-3
SIF_COMPONENTS = 1
USIF_COMPONENTS = 5

_EPS = np.finfo(np.float32).eps


def word_weights(counts: np.ndarray, method: str, *, alpha: float = SIF_ALPHA, mean_length: float | None = None) -> np.ndarray:
    """Per-word weights from corpus counts, as fse defines them."""
    p = counts.astype(np.float64) / counts.sum()
    if method == "mean":
        return np.ones(len(counts), dtype=np.float32)
    if method == "sif":
        return (alpha / (alpha + p)).astype(np.float32)
    if method == "usif":
        if not mean_length or mean_length <= 0:
            raise ValueError("uSIF needs the mean sentence length")
        v = len(counts)
        threshold = 1.0 - (1.0 - 1.0 / v) ** mean_length
        share = np.count_nonzero(p > threshold) / v
        a = (1.0 - share) / (share * v / 2.0 + _EPS)
        return (a / (a / 2.0 + p)).astype(np.float32)
    raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def weighted_means(sequences: Sequences, vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``(1/|s|) * sum weight(w) v_w`` for every sentence, as one sparse product."""
    from scipy.sparse import csr_matrix

    lengths = sequences.lengths().astype(np.float64)
    per_token = weights[sequences.tokens].astype(np.float64) / np.repeat(lengths, sequences.lengths())
    matrix = csr_matrix(
        (per_token.astype(np.float32), sequences.tokens, sequences.indptr),
        shape=(len(sequences), len(sequences.token_ids)),
    )
    # csr_matrix sums duplicate (sentence, word) entries, which is what a word
    # repeated in a sentence should contribute.
    return np.asarray(matrix @ vectors.astype(np.float32), dtype=np.float32)


def principal_components(matrix: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``n`` singular values and right singular vectors of ``matrix`` (uncentred)."""
    return gram_components(matrix.T.astype(np.float64) @ matrix.astype(np.float64), n)


def gram_components(gram: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``principal_components`` of a matrix given its ``d x d`` Gram matrix ``M.T @ M`` (made on a cluster, say)."""
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    top = np.argsort(eigenvalues)[::-1][:n]
    singular = np.sqrt(np.clip(eigenvalues[top], 0.0, None))
    components = eigenvectors[:, top].T
    # Fix each component's sign so the output does not depend on LAPACK's choice.
    signs = np.sign(components[np.arange(len(top)), np.abs(components).argmax(axis=1)])
    return singular, components * signs[:, None]


def remove_components(matrix: np.ndarray, components: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Subtract each row's (optionally weighted) projection on the components."""
    scaled = components if weights is None else components * weights[:, None]
    projection = (matrix.astype(np.float64) @ scaled.T) @ components
    return (matrix - projection).astype(np.float32)


def sentence_vectors(sequences: Sequences, words: WordVectors, method: str = "sif", *, alpha: float = SIF_ALPHA) -> SentenceVectors:
    """SIF, uSIF or mean vectors for every sentence.

    Parameters
    ----------
    sequences
        The sentences; word frequencies are counted from them.
    words
        Word vectors whose rows follow ``sequences.token_ids``.
    method
        ``"sif"`` (default), ``"usif"`` or ``"mean"``.
    alpha
        SIF's smoothing constant ``a``.

    Returns
    -------
    SentenceVectors
        float32, one row per sentence, in ``sequences.sentence_ids`` order.
    """
    if len(words.ids) != len(sequences.token_ids) or not np.array_equal(words.ids, sequences.token_ids):
        raise ValueError("word vectors do not follow the sentences' vocabulary")
    counts = sequences.token_counts()
    weights = word_weights(counts, method, alpha=alpha, mean_length=float(sequences.lengths().mean()))
    matrix = weighted_means(sequences, words.vectors, weights)
    if method == "sif":
        _, components = principal_components(matrix, SIF_COMPONENTS)
        matrix = remove_components(matrix, components)
    elif method == "usif":
        n = min(USIF_COMPONENTS, matrix.shape[1])
        singular, components = principal_components(matrix, n)
        share = singular**2 / max(float((singular**2).sum()), _EPS)
        matrix = remove_components(matrix, components, share)
    return SentenceVectors(ids=sequences.sentence_ids, vectors=matrix, method=method)
