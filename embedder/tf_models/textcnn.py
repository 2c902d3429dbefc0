"""The rating-regression model of the MovieLens-1M text-CNN recommender, in Keras 3.

Two towers, each ending in a ``feature_dim``-d feature vector (tanh):

* **user**: embeddings of the user id and, where the data has them (ml-100k
  ``u.user``, ml-1m ``users.dat``, the demo), gender, age group and
  occupation, each through a dense layer, concatenated, then dense;
* **movie**: the movie id embedding and the sum of its genres' embeddings,
  each through a dense layer, and a text CNN over the title's words --
  convolutions with window sizes 2-5 over the word embeddings, max-pooled
  over the title and concatenated, then dropout -- all concatenated, then
  dense.

The prediction is the dot product of the two feature vectors, trained with
the mean squared error on the ratings: a random ``test_fraction`` of them is
held out (the reference's 80/20 split), and a ``val_fraction`` of the rest
stops training early.  Exported: both feature matrices (the movie embedding
and the user embedding), the test RMSE, and the reference's three lists --
similar movies (cosine of movie features), a user's favourites (highest
predicted ratings among unrated movies) and "people who liked X also liked"
(the users predicted to rate X highest, and the movies they are predicted to
rate highest).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from embedder.errors import DataError
from embedder.values import Dataset
from embedder.tf_models import TrainLog, TrainParams, fit, seed_everything, tensorflow
from embedder.ratings.catalogue import positions
from embedder.tf_models.data import genre_matrix, title_words

#: ml-1m's age groups; ml-100k's ages (in years) are put into them.
AGE_GROUPS = ((18, "Under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (50, "45-49"), (56, "50-55"), (999, "56+"))
USER_ATTRIBUTES = ("gender", "age", "occupation")


@dataclass(frozen=True)
class TextCNNParams:
    """The reference's network (embedding 32, windows 2-5, 8 filters each, 200-d features, dropout 0.5).

    Training differs from the reference's (Adam 1e-4, batch 256, 5 epochs):
    Adam 2e-3 on batches of 512 with early stopping reaches the same test MSE
    (~0.91 on ml-100k) in 2-4 epochs.
    """

    embed_dim: int = 32
    feature_dim: int = 200
    title_length: int = 15
    windows: tuple[int, ...] = (2, 3, 4, 5)
    filters: int = 8
    dropout: float = 0.5
    test_fraction: float = 0.2
    val_fraction: float = 0.1
    train: TrainParams = field(default_factory=lambda: TrainParams(max_epochs=10, patience=2, batch_size=512, learning_rate=2e-3))

    def settings(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TextCNNResult:
    """Movie and user feature matrices, test figures and the three example lists."""

    movie_vectors: np.ndarray
    user_vectors: np.ndarray
    test_rmse: float
    test_mse: float
    test_ratings: int
    user_features: tuple[str, ...]
    log: TrainLog
    examples: list = field(default_factory=list)


@dataclass(frozen=True)
class _Inputs:
    """Model inputs per rating row: user codes, movie codes, title words, genres."""

    users: dict[str, np.ndarray]
    user_vocab: dict[str, int]
    movie: np.ndarray
    titles: np.ndarray
    genres: np.ndarray
    n_words: int


def train_textcnn(dataset: Dataset, movie_ids, user_ids, params: TextCNNParams = TextCNNParams(), *, seed: int = 0,
                  progress: bool = False, examples: bool = True) -> TextCNNResult:
    """Train on the ratings of ``movie_ids`` and export feature vectors for ``movie_ids`` and ``user_ids``."""
    inter = dataset.interactions
    if inter.rating is None:
        raise DataError("the textcnn model regresses ratings, and this log has no rating column",
                        fix="drop textcnn from --embedders, or give the ratings column in --columns")
    movie_ids = np.asarray(movie_ids)
    column = positions(movie_ids, inter.item_ids)[inter.item]
    rows = np.flatnonzero(column >= 0)
    inputs = _inputs(dataset, movie_ids, params.title_length)
    user, movie, rating = inter.user[rows].astype(np.int32), column[rows].astype(np.int32), inter.rating[rows].astype(np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    n_test = int(round(params.test_fraction * len(rows)))
    n_val = int(round(params.val_fraction * (len(rows) - n_test)))
    if len(rows) - n_test - n_val < 1 or n_val < 1 or n_test < 1:
        raise DataError(f"the textcnn model needs more ratings than {len(rows)} to split into train, validation and test")
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]

    tf, keras = tensorflow()
    seed_everything(seed)
    model, user_tower, movie_tower = _model(inputs, params, seed)
    model.compile(optimizer=keras.optimizers.Adam(params.train.learning_rate), loss="mse")

    def x(part):
        return _features(inputs, user[part], movie[part])

    log = fit(model, x(train), rating[train], validation=(x(val), rating[val]), params=params.train, progress=progress,
              desc="textcnn")
    predicted = model.predict(x(test), batch_size=4096, verbose=0).reshape(-1)
    mse = float(np.mean((predicted - rating[test]) ** 2))

    movies_x = _movie_features(inputs, np.arange(len(movie_ids), dtype=np.int32))
    movie_vectors = np.asarray(movie_tower.predict(movies_x, batch_size=4096, verbose=0), dtype=np.float32)
    codes = positions(inter.user_ids, user_ids)
    if (codes < 0).any():
        raise ValueError("user_ids must all occur in the ratings log")
    user_vectors = np.asarray(user_tower.predict(_user_features(inputs, codes.astype(np.int32)), batch_size=4096, verbose=0),
                              dtype=np.float32)
    lists = _examples(dataset, movie_ids, user_ids, movie_vectors, user_vectors, user, movie) if examples else []
    return TextCNNResult(
        movie_vectors=np.ascontiguousarray(movie_vectors),
        user_vectors=np.ascontiguousarray(user_vectors),
        test_rmse=float(np.sqrt(mse)),
        test_mse=mse,
        test_ratings=int(n_test),
        user_features=("id",) + tuple(name for name in USER_ATTRIBUTES if name in inputs.users),
        log=log,
        examples=lists,
    )


# --- inputs -------------------------------------------------------------------------------


def age_group(value: str) -> str:
    """An age in years (ml-100k) -> ml-1m's group; labels (ml-1m, the demo's numbers too) pass through."""
    text = str(value).strip()
    if not text.isdigit():
        return text
    age = int(text)
    return next(label for limit, label in AGE_GROUPS if age < limit)


def _inputs(dataset: Dataset, movie_ids: np.ndarray, title_length: int) -> _Inputs:
    inter = dataset.interactions
    users = {"id": np.arange(len(inter.user_ids), dtype=np.int32)}
    vocab = {"id": len(inter.user_ids)}
    if dataset.users is not None:
        rows = positions(dataset.users.ids, inter.user_ids)
        for name in USER_ATTRIBUTES:
            values = dataset.users.attributes.get(name)
            if values is None:
                continue
            text = np.array(["" if r < 0 else str(values[r]).strip() for r in rows], dtype=object)
            if name == "age":
                text = np.array([age_group(t) if t else "" for t in text], dtype=object)
            if not any(text):
                continue
            # Code 0 is "unknown" (an empty value); the others follow sorted labels.
            labels, codes = np.unique(text, return_inverse=True)
            codes = codes + (0 if labels[0] == "" else 1)
            users[name] = codes.astype(np.int32)
            vocab[name] = int(codes.max()) + 1
    rows = positions(dataset.movies.ids, movie_ids)
    genres, _ = genre_matrix(dataset.movies, rows)
    if genres.shape[1] == 0:
        genres = np.zeros((len(rows), 1), np.float32)
    words = [title_words(dataset.movies.titles[r], dataset.movies.ids[r]) for r in rows]
    vocabulary = {w: i + 1 for i, w in enumerate(sorted({w for title in words for w in title}))}
    titles = np.zeros((len(rows), title_length), dtype=np.int32)
    for i, title in enumerate(words):
        codes = [vocabulary[w] for w in title][: titles.shape[1]]
        titles[i, : len(codes)] = codes
    return _Inputs(users=users, user_vocab=vocab, movie=np.arange(len(rows), dtype=np.int32), titles=titles,
                   genres=genres, n_words=len(vocabulary) + 1)


def _user_features(inputs: _Inputs, codes: np.ndarray) -> dict[str, np.ndarray]:
    return {f"user_{name}": values[codes] for name, values in inputs.users.items()}


def _movie_features(inputs: _Inputs, movies: np.ndarray) -> dict[str, np.ndarray]:
    return {"movie_id": movies, "movie_genres": inputs.genres[movies], "movie_title": inputs.titles[movies]}


def _features(inputs: _Inputs, users: np.ndarray, movies: np.ndarray) -> dict[str, np.ndarray]:
    return {**_user_features(inputs, users), **_movie_features(inputs, movies)}


# --- the model --------------------------------------------------------------------------------


def _model(inputs: _Inputs, params: TextCNNParams, seed: int):
    """The rating model and its two towers (sharing weights)."""
    tf, keras = tensorflow()
    layers = keras.layers
    d = params.embed_dim

    user_in, user_parts = {}, []
    for name, size in inputs.user_vocab.items():
        x = keras.Input((), dtype="int32", name=f"user_{name}")
        user_in[f"user_{name}"] = x
        width = d if name == "id" else d // 2
        e = layers.Embedding(size, width, name=f"user_{name}_embedding")(x)
        user_parts.append(layers.Dense(d, activation="relu", name=f"user_{name}_fc")(e))
    u = layers.Concatenate(name="user_combine")(user_parts) if len(user_parts) > 1 else user_parts[0]
    user_feature = layers.Dense(params.feature_dim, activation="tanh", name="user_feature")(u)
    user_tower = keras.Model(user_in, user_feature, name="user_tower")

    movie_id = keras.Input((), dtype="int32", name="movie_id")
    genres = keras.Input((inputs.genres.shape[1],), dtype="float32", name="movie_genres")
    title = keras.Input((params.title_length,), dtype="int32", name="movie_title")
    m_id = layers.Dense(d, activation="relu", name="movie_id_fc")(layers.Embedding(len(inputs.movie), d, name="movie_id_embedding")(movie_id))
    # A multi-hot row times a genre-embedding matrix is the sum of the movie's genre embeddings.
    g_sum = layers.Dense(d, use_bias=False, name="genre_embedding_sum")(genres)
    m_genre = layers.Dense(d, activation="relu", name="movie_genres_fc")(g_sum)
    words = layers.Embedding(inputs.n_words, d, name="title_word_embedding")(title)
    pooled = [
        layers.GlobalMaxPooling1D(name=f"title_pool_{w}")(layers.Conv1D(params.filters, w, activation="relu", name=f"title_conv_{w}")(words))
        for w in params.windows
        if w <= params.title_length
    ]
    text = layers.Dropout(params.dropout, seed=seed, name="title_dropout")(layers.Concatenate(name="title_cnn")(pooled))
    m = layers.Concatenate(name="movie_combine")([m_id, m_genre, text])
    movie_feature = layers.Dense(params.feature_dim, activation="tanh", name="movie_feature")(m)
    movie_tower = keras.Model({"movie_id": movie_id, "movie_genres": genres, "movie_title": title}, movie_feature, name="movie_tower")

    rating = layers.Dot(axes=1, name="rating")([user_feature, movie_feature])
    model = keras.Model({**user_in, "movie_id": movie_id, "movie_genres": genres, "movie_title": title}, rating, name="textcnn")
    return model, user_tower, movie_tower


# --- the reference's three lists -------------------------------------------------------------------


def _examples(dataset: Dataset, movie_ids, user_ids, movie_vectors, user_vectors, user, movie, k: int = 5) -> list[dict]:
    """Similar movies, a user's favourites and "people who liked X also liked", for the most-rated movie."""
    from embedder.model.neighbours import normalise

    rows = positions(dataset.movies.ids, movie_ids)
    titles = np.asarray(dataset.movies.titles)[rows]
    counts = np.bincount(movie, minlength=len(movie_ids))
    x = int(np.argmax(counts))
    unit = normalise(movie_vectors)
    similar = unit @ unit[x]
    similar[x] = -np.inf
    lists = [{"title": f"Similar to {titles[x]}", "items": [str(titles[j]) for j in np.argsort(-similar, kind="stable")[:k]]}]

    code_of = positions(user_ids, dataset.interactions.user_ids)
    rated_by = np.flatnonzero(movie == x)
    fans = [u for u in user[rated_by] if code_of[u] >= 0]
    if fans:
        u = int(fans[0])
        row = int(code_of[u])
        scores = movie_vectors @ user_vectors[row]
        scores[movie[user == u]] = -np.inf
        lists.append({"title": f"Favourites for user {user_ids[row]} (unrated, highest predicted rating)",
                      "items": [str(titles[j]) for j in np.argsort(-scores, kind="stable")[:k]]})
    likers = np.argsort(-(user_vectors @ movie_vectors[x]), kind="stable")[:20]
    also = (user_vectors[likers] @ movie_vectors.T).mean(axis=0)
    also[x] = -np.inf
    lists.append({"title": f"People who liked {titles[x]} also liked",
                  "items": [str(titles[j]) for j in np.argsort(-also, kind="stable")[:k]]})
    return lists
