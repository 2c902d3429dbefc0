"""The softmax retrieval DNN of Google's recommendation-systems course, in Keras 3.

Input: a user's rated movies as a bag (the ``context`` most recent ones) plus,
optionally, the bag's mean genre and year features.  Hidden layers turn that
into the user embedding ``psi(X)``; the output is a softmax over every movie
whose logits are ``psi(X) . V_j``, so the output weight matrix ``V`` *is* the
movie embedding and user -> movie recommendations are dot products in one
space.

Training data (a time-respecting leave-last-out split):

* a user with at least ``min_ratings`` movies keeps their last movie as the
  **test** target and the one before it as the **validation** target (early
  stopping); everything earlier is training data;
* a training example is a position ``t`` of a user's training history: the
  bag is the movies rated before ``t``, the label the movie at ``t``
  ("what do they rate next").  Up to ``examples_per_user`` positions are drawn
  per user (seeded), so heavy raters do not dominate.

The loss is the full softmax cross-entropy while the catalogue has at most
``sampled_above`` movies, and TensorFlow's sampled softmax (negatives drawn
from the movies' popularity, validation still on the full softmax) above.

Reported: HR@10 on the test targets (the full catalogue ranked by
``psi . V``, the user's earlier movies excluded) and precision@10, which with
one held-out movie per user is HR@10 / 10.  Exported: ``psi`` of every user
from their whole history and ``V`` for every movie.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from embedder.errors import DataError
from embedder.values import Interactions, Movies
from embedder.tf_models import TrainLog, TrainParams, fit, seed_everything, tensorflow
from embedder.ratings.catalogue import positions
from embedder.tf_models.data import Histories, genre_matrix, histories, top_k_unseen, windows, year_features

K = 10


@dataclass(frozen=True)
class SoftmaxParams:
    """The softmax model's settings (defaults tuned on ml-100k's validation targets)."""

    dim: int = 32
    hidden: tuple[int, ...] = (64,)
    context: int = 100
    examples_per_user: int = 50
    features: bool = True
    min_ratings: int = 5
    sampled_above: int = 20_000
    num_sampled: int = 2_000
    train: TrainParams = field(default_factory=lambda: TrainParams(max_epochs=30, patience=2, batch_size=128, learning_rate=2e-3))

    def settings(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SoftmaxResult:
    """``V`` per movie and ``psi`` per user (same space), and the held-out figures."""

    movie_vectors: np.ndarray
    user_vectors: np.ndarray
    hit_rate: float
    precision: float
    test_users: int
    loss: str
    log: TrainLog
    empty_users: int = 0


def train_softmax(interactions: Interactions, movies: Movies, movie_ids, user_ids, params: SoftmaxParams = SoftmaxParams(),
                  *, seed: int = 0, progress: bool = False) -> SoftmaxResult:
    """Train the model and export ``V`` (rows of ``movie_ids``) and ``psi`` (rows of ``user_ids``)."""
    movie_ids = np.asarray(movie_ids)
    h = histories(interactions, movie_ids)
    split = _split(h, params, seed)
    if len(split.train_users) == 0 or len(split.eval_users) == 0:
        raise DataError(f"the softmax model needs users with at least {params.min_ratings} rated movies "
                        "(their last two are held out for validation and test)")
    features = _movie_features(movies, movie_ids) if params.features else None
    counts = np.bincount(h.items, minlength=len(movie_ids))

    tf, keras = tensorflow()
    seed_everything(seed)
    sampled = len(movie_ids) > params.sampled_above
    model = _model(len(movie_ids), features, params, counts if sampled else None, seed)
    model.compile(optimizer=keras.optimizers.Adam(params.train.learning_rate))
    x = windows(h, split.train_users, split.train_ends, params.context)
    xv = windows(h, split.eval_users, h.lengths()[split.eval_users] - 2, params.context)
    yv = h.items[h.indptr[split.eval_users] + h.lengths()[split.eval_users] - 2]
    log = fit(model, x, split.train_targets, validation=(xv, yv), params=params.train, progress=progress, desc="softmax")

    V = model.movie_matrix()
    test_context = windows(h, split.eval_users, h.lengths()[split.eval_users] - 1, params.context)
    psi_test = model.predict(test_context, batch_size=1024, verbose=0)
    seen = [h.items[h.indptr[u]:h.indptr[u + 1] - 1] for u in split.eval_users]
    top = top_k_unseen(psi_test @ V.T, K, seen)
    targets = h.items[h.indptr[split.eval_users + 1] - 1]
    hits = (top == targets[:, None]).any(axis=1)

    rows = positions(h.user_ids, user_ids)
    users = np.where(rows >= 0, rows, 0)
    lengths = np.where(rows >= 0, h.lengths()[users], 0)
    empty = lengths == 0
    context = windows(h, users, lengths, params.context)
    # An all-padding bag would average nothing (0/0); such users (none rated these movies) get the
    # average user instead, so give them any one movie to keep the batch finite, then overwrite.
    context[empty, -1] = 1
    psi = model.predict(context, batch_size=1024, verbose=0)
    if empty.any():
        psi[empty] = psi[~empty].mean(axis=0) if (~empty).any() else 0.0
    return SoftmaxResult(
        movie_vectors=np.ascontiguousarray(V, dtype=np.float32),
        user_vectors=np.ascontiguousarray(psi, dtype=np.float32),
        hit_rate=float(hits.mean()) if len(hits) else float("nan"),
        precision=float(hits.mean()) / K if len(hits) else float("nan"),
        test_users=int(len(hits)),
        loss=f"sampled softmax ({params.num_sampled} negatives)" if sampled else "full softmax",
        log=log,
        empty_users=int(empty.sum()),
    )


@dataclass(frozen=True)
class _Split:
    train_users: np.ndarray
    train_ends: np.ndarray
    train_targets: np.ndarray
    eval_users: np.ndarray


def _split(h: Histories, params: SoftmaxParams, seed: int) -> _Split:
    """Training positions (user, t) drawn per user, and the users holding out their last two movies."""
    lengths = h.lengths()
    held = np.where(lengths >= params.min_ratings, 2, 0)
    usable = lengths - held  # training movies; positions 1 .. usable-1 are examples
    rng = np.random.default_rng(seed)
    users, ends = [], []
    for u in np.flatnonzero(usable >= 2):
        steps = np.arange(1, usable[u])
        if len(steps) > params.examples_per_user:
            steps = np.sort(rng.choice(steps, params.examples_per_user, replace=False))
        users.append(np.full(len(steps), u, dtype=np.int64))
        ends.append(steps)
    train_users = np.concatenate(users) if users else np.empty(0, np.int64)
    train_ends = np.concatenate(ends) if ends else np.empty(0, np.int64)
    targets = h.items[h.indptr[train_users] + train_ends] if len(train_users) else np.empty(0, np.int64)
    return _Split(train_users, train_ends, targets.astype(np.int64), np.flatnonzero(held > 0))


def _movie_features(movies: Movies, movie_ids: np.ndarray) -> np.ndarray:
    """Genre multi-hot and (standardised year, known) per movie."""
    rows = positions(movies.ids, movie_ids)
    genres, _ = genre_matrix(movies, rows)
    return np.hstack([genres, year_features(np.asarray(movies.years)[rows])])


def _model(n_movies: int, features: np.ndarray | None, params: SoftmaxParams, counts: np.ndarray | None, seed: int):
    """The Keras model: ``call`` gives ``psi``; the loss multiplies by ``V`` (full or sampled softmax)."""
    tf, keras = tensorflow()
    layers = keras.layers
    num_sampled = min(params.num_sampled, n_movies - 1)

    ids = keras.Input((params.context,), dtype="int32", name="rated_movies")
    bag = layers.GlobalAveragePooling1D(name="bag")(layers.Embedding(n_movies + 1, params.dim, mask_zero=True, name="movie_inputs")(ids))
    parts = [bag]
    if features is not None:
        table = np.vstack([np.zeros((1, features.shape[1]), np.float32), features])
        lookup = layers.Embedding(n_movies + 1, table.shape[1], mask_zero=True, trainable=False, name="movie_features",
                                  embeddings_initializer=keras.initializers.Constant(table))
        parts.append(layers.GlobalAveragePooling1D(name="bag_features")(lookup(ids)))
    x = layers.Concatenate(name="features")(parts) if len(parts) > 1 else bag
    for i, width in enumerate(params.hidden):
        x = layers.Dense(width, activation="relu", name=f"hidden_{i}")(x)
    psi = layers.Dense(params.dim, name="user_embedding")(x)
    tower = keras.Model(ids, psi, name="user_tower")

    class SoftmaxRetrieval(keras.Model):
        """``psi(X)``; its loss is the softmax over ``psi . V`` (``V``: the movie embedding)."""

        def __init__(self):
            super().__init__(name="softmax_retrieval")
            self.tower = tower
            self.V = self.add_weight(shape=(n_movies, params.dim), name="movie_embedding",
                                     initializer=keras.initializers.RandomNormal(stddev=0.05, seed=seed))

        def call(self, x, training=False):
            return self.tower(x, training=training)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            labels = tf.cast(tf.reshape(y, (-1,)), tf.int64)
            if counts is not None and training:
                sampler = tf.random.fixed_unigram_candidate_sampler(
                    true_classes=labels[:, None], num_true=1, num_sampled=num_sampled, unique=True,
                    range_max=n_movies, unigrams=[float(c) + 1.0 for c in counts], distortion=0.75, seed=seed)
                losses = tf.nn.sampled_softmax_loss(
                    weights=self.V, biases=tf.zeros((n_movies,)), labels=labels[:, None], inputs=y_pred,
                    num_sampled=num_sampled, num_classes=n_movies, sampled_values=sampler, seed=seed)
            else:
                logits = tf.matmul(y_pred, self.V, transpose_b=True)
                losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            return tf.reduce_mean(losses)

        def movie_matrix(self) -> np.ndarray:
            return np.asarray(self.V.numpy(), dtype=np.float32)

    model = SoftmaxRetrieval()
    model(np.zeros((1, params.context), np.int32))  # build
    return model
