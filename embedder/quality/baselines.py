"""Reference recommenders that give every figure context: popularity, item-kNN, EASE.

Each works on the binary training matrix ``X`` (users x catalogue items, scipy
CSR) and gives (a) scores for users from their query rows and (b) an item
similarity for the "similar movies" figures.  A query row is normally the
user's whole training history; a last-k query row holds only their most recent
movies (the same recency trick the Word2Vec scorer can use).

* **popularity**: the number of training ratings, the same list for everyone.
* **item-kNN** (cosine): ``S_ij = x_i . x_j / (|x_i| |x_j| + shrink)`` on the
  item columns of ``X``, each item keeping its ``neighbours`` most similar
  items; a user's score for ``i`` is the sum of ``S_ji`` over their movies.
* **EASE** (Steck, WWW 2019): ``P = (X'X + lambda I)^-1``,
  ``B = I - P / diag(P)`` (zero diagonal); scores are ``x_u B``.  Closed form,
  one dense ``n_items x n_items`` Cholesky inverse.
"""

from __future__ import annotations

import numpy as np

#: EASE needs two dense float64 item x item matrices; past this many items it is skipped.
EASE_MAX_ITEMS = 25_000


def popularity(X) -> np.ndarray:
    """Training rating count of every item."""
    return np.asarray(X.sum(axis=0), dtype=np.float64).ravel()


def gram(X) -> np.ndarray:
    """The dense item co-occurrence matrix ``X'X`` (float64)."""
    Xf = X.astype(np.float64)
    return np.asarray((Xf.T @ Xf).toarray())


def cosine_similarity(G: np.ndarray, shrink: float = 0.0) -> np.ndarray:
    """Item-item cosine from the co-occurrence matrix, with shrinkage, zero diagonal."""
    norms = np.sqrt(np.diag(G))
    S = G / (np.outer(norms, norms) + shrink + 1e-12)
    np.fill_diagonal(S, 0.0)
    return S.astype(np.float32)


def keep_top_neighbours(S: np.ndarray, n: int) -> np.ndarray:
    """Keep, in each column ``i``, the ``n`` largest entries (``i``'s neighbours); zero the rest."""
    if n <= 0 or n >= S.shape[0] - 1:
        return S
    cut = -np.partition(-S, n - 1, axis=0)[n - 1]
    # Ties at the cut may keep a few more than n; that is harmless and deterministic.
    return np.where(S >= cut[None, :], S, 0.0).astype(np.float32)


def ease(G: np.ndarray, lam: float, *, dtype=np.float32) -> np.ndarray:
    """EASE's item-item weights ``B`` (zero diagonal) from ``G = X'X``.

    The inverse is a Cholesky factorisation and LAPACK's inverse-from-factor
    (half the work of a general inverse).  float32 is the default: ~5x faster
    than float64 here, and with ``lam >= 1`` on a 0/1 Gram matrix the results
    agree to ranking precision (checked in the tests).
    """
    from scipy.linalg import lapack

    potrf, potri = (lapack.spotrf, lapack.spotri) if dtype == np.float32 else (lapack.dpotrf, lapack.dpotri)
    A = np.array(G, dtype=dtype)
    A[np.diag_indices_from(A)] += lam
    c, info = potrf(A, lower=True, overwrite_a=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE: X'X + {lam} I is not positive definite (info={info})")
    P, info = potri(c, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE: inverse failed (info={info})")
    P = np.tril(P) + np.tril(P, -1).T
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0.0)
    return B.astype(np.float32)


def scores_from(Q, W: np.ndarray) -> np.ndarray:
    """Query rows (sparse users x items) times an item-item weight matrix."""
    return np.asarray(Q.astype(np.float32) @ W, dtype=np.float32)
