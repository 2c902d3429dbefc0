"""The recommender of unordered logs: EASE over the supported movies, its lambda chosen on held-out ratings.

Without time, the Word2Vec scorer loses what made it strong (the user's
latest movies say most about the next one): on ml-latest-small, ml-100k and a
1M-rating synthetic log with their rows shuffled it reaches 0.67-0.79x EASE's
HR@10 on a random held-out rating (``benchmarks/bench_unordered.py``).  There
the build recommends with EASE (Steck, WWW 2019; ``baselines.ease``) instead:

* **which movies**: the supported ones (rated at least ``--min-support``
  times, the rule the neighbour lists use), at most ``MAX_ITEMS`` of the
  most-rated.  A movie outside them is never recommended; on the measured logs
  this cost nothing (it also keeps barely-rated noise out of the lists);
* **lambda**: chosen at build time by NDCG@10 on one random held-out rating
  per user (at most ``VAL_USERS`` users), by a walk over ``LAMBDAS`` that
  stops when the neighbours score lower -- unless ``--rec-lambda`` fixes it;
* **"because you rated X"**: X is the rated movie with the largest weight
  ``B[X, i]`` towards the recommended movie ``i`` -- the largest single term of
  its score.

``fit_ease`` trains from a binary (users x movies) matrix; ``ease_lists`` ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedder.quality import baselines

#: At most this many movies (the most-rated supported ones): two dense float32 matrices of this size squared.
MAX_ITEMS = 10_000
#: The lambdas tried, in the order of the walk (it starts at ``START``).
LAMBDAS = (3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0, 30000.0)
START = 300.0
#: Users whose held-out rating is ranked when choosing lambda (a seeded sample beyond this).
VAL_USERS = 5_000
K = 10


@dataclass(frozen=True)
class EaseModel:
    """EASE weights over ``columns`` (movie columns of the matrix it was fitted on).

    ``weights[a, b]`` is how much rating ``columns[a]`` counts towards
    ``columns[b]`` (zero diagonal).  ``tried`` maps each lambda tried to its
    held-out NDCG@10 (empty when ``--rec-lambda`` fixed it).
    """

    columns: np.ndarray
    weights: np.ndarray
    lam: float
    tried: dict

    def describe(self) -> str:
        """One line for people: what the recommender does."""
        how = (f"λ={self.lam:g}, chosen on one held-out rating per user" if self.tried else f"λ={self.lam:g}")
        return f"EASE item-item weights over the {len(self.columns):,} most-rated supported movies ({how})"

    def scores(self, rated) -> np.ndarray:
        """Scores of the covered movies (``columns``) for each row of a binary (users x all movies) matrix."""
        return baselines.scores_from(rated[:, self.columns], self.weights)

    def settings(self) -> dict:
        return {"method": "ease", "lambda": self.lam, "movies": int(len(self.columns)),
                "lambdas_tried": {f"{k:g}": round(v, 5) for k, v in self.tried.items()}}


def ease_columns(X, candidates: np.ndarray | None = None, max_items: int = MAX_ITEMS) -> np.ndarray:
    """The movie columns EASE covers: the candidates, at most ``max_items`` of the most-rated (ties: lower column)."""
    counts = np.asarray(X.sum(axis=0)).ravel()
    allowed = np.ones(X.shape[1], dtype=bool) if candidates is None else np.asarray(candidates, dtype=bool)
    allowed &= counts > 0
    picked = np.flatnonzero(allowed)
    if len(picked) > max_items:
        picked = np.sort(picked[np.lexsort((picked, -counts[picked]))[:max_items]])
    return picked


def fit_ease(X, candidates: np.ndarray | None = None, *, lam: float | None = None, seed: int = 0,
             max_items: int = MAX_ITEMS, say=lambda message: None) -> EaseModel:
    """EASE on the binary (users x movies) CSR matrix ``X``, over the supported movies.

    ``lam`` None chooses lambda on a seeded held-out rating per user.
    """
    columns = ease_columns(X, candidates, max_items)
    Xc = _binary(X[:, columns])
    tried: dict = {}
    if lam is None:
        lam, tried = choose_lambda(Xc, seed=seed, say=say)
    say(f"EASE λ={lam:g} on {len(columns):,} movies")
    return EaseModel(columns=columns, weights=baselines.ease(_gram(Xc), lam), lam=lam, tried=tried)


def choose_lambda(X, *, seed: int = 0, say=lambda message: None) -> tuple[float, dict]:
    """The lambda of ``LAMBDAS`` with the best NDCG@10 on one random held-out rating per user.

    The walk starts at ``START``, tries both neighbours, and keeps going the
    way that scored higher until a step scores lower.
    """
    train, users, targets = _hold_out(X, seed)
    if len(users) == 0:
        return START, {}
    G = _gram(train)
    tried: dict = {}

    def score(lam):
        if lam not in tried:
            say(f"EASE: trying λ={lam:g}")
            B = baselines.ease(G, lam)
            tried[lam] = _ndcg(train, B, users, targets)
        return tried[lam]

    at = LAMBDAS.index(START)
    score(LAMBDAS[at])
    steps = [s for s in (-1, 1) if 0 <= at + s < len(LAMBDAS)]
    for s in steps:
        score(LAMBDAS[at + s])
    direction = max(steps, key=lambda s: (tried[LAMBDAS[at + s]], s))
    if tried[LAMBDAS[at + direction]] > tried[LAMBDAS[at]]:
        at += direction
        while 0 <= at + direction < len(LAMBDAS) and score(LAMBDAS[at + direction]) > tried[LAMBDAS[at]]:
            at += direction
    best = max(tried, key=lambda lam: (tried[lam], -abs(np.log(lam / START))))
    return best, dict(sorted(tried.items()))


def ease_lists(model: EaseModel, rated, k: int = K, *, exclude=None,
               chunk: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-``k`` movie columns per user row of ``rated`` (CSR over all movies), rated ones excluded.

    ``exclude`` (same shape) adds movies not to recommend -- ratings the
    sentence filters dropped, say.  Returns ``(items, scores, because)``:
    movie columns best first (-1 pads a user with fewer than ``k``
    candidates), their scores, and for each the rated movie with the largest
    weight towards it (-1 when none has any).
    """
    from embedder.model.kernels import best_weight, top_k_rows
    from embedder.quality.metrics import rows_per_block

    rated = _binary(rated)
    n_users, n_movies = rated.shape
    banned = rated if exclude is None else _binary(rated + _binary(exclude))
    k = min(k, len(model.columns))
    cols = model.columns
    position = np.full(n_movies, -1, dtype=np.int64)
    position[cols] = np.arange(len(cols))
    chunk = chunk or rows_per_block(len(cols))
    items = np.full((n_users, k), -1, dtype=np.int64)
    scores = np.zeros((n_users, k), dtype=np.float32)
    for start in range(0, n_users, chunk):
        stop = min(n_users, start + chunk)
        s = model.scores(rated[start:stop])
        found, values = top_k_rows(s, k, banned[start:stop][:, cols])
        ok = (found >= 0) & np.isfinite(values)
        items[start:stop] = np.where(ok, cols[np.maximum(found, 0)], -1)
        scores[start:stop] = np.where(ok, values, 0.0)
    because = best_weight(items, rated, model.weights, position)
    return items, scores, because


def _binary(X):
    X = X.tocsr().astype(np.float32)
    X.sum_duplicates()
    X.data[:] = 1.0
    X.eliminate_zeros()
    return X


def _gram(X) -> np.ndarray:
    """``X'X`` as a dense float32 matrix (exact: counts stay far below 2**24)."""
    return np.asarray((X.T @ X).toarray(), dtype=np.float32)


def _hold_out(X, seed: int):
    """One random rating of each user with at least two (at most ``VAL_USERS`` users): (train, users, targets)."""
    from scipy.sparse import csr_matrix

    rng = np.random.default_rng(seed)
    lengths = np.diff(X.indptr)
    users = np.flatnonzero(lengths >= 2)
    if len(users) > VAL_USERS:
        users = np.sort(rng.choice(users, VAL_USERS, replace=False))
    picks = X.indptr[users] + (rng.random(len(users)) * lengths[users]).astype(np.int64)
    targets = X.indices[picks].astype(np.int64)
    keep = np.ones(X.nnz, dtype=bool)
    keep[picks] = False
    row = np.repeat(np.arange(X.shape[0]), lengths)
    train = csr_matrix((X.data[keep], (row[keep], X.indices[keep])), shape=X.shape)
    return train, users, targets


def _ndcg(train, B: np.ndarray, users: np.ndarray, targets: np.ndarray) -> float:
    from embedder.quality.metrics import ndcg, rows_per_block, target_ranks, top_k

    chunk = rows_per_block(train.shape[1])
    gains = []
    for start in range(0, len(users), chunk):
        rows = users[start:start + chunk]
        ranking = top_k(baselines.scores_from(train[rows], B), K, exclude=train[rows])
        gains.append(ndcg(target_ranks(ranking, targets[start:start + chunk]), K))
    return float(np.concatenate(gains).mean())
