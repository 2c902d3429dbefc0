"""A 1-D convolutional autoencoder over movie descriptions, in Keras 3.

A movie's *description* is a word sequence: its title's words, its genres,
and -- where the dataset has them -- its user tags (``tags.csv`` /
``tags.dat``, most used first) and its tag-genome tags (``genome-scores.csv``
with ``genome-tags.csv``: the most relevant tags above ``genome_relevance``).
Word2Vec (gensim, trained on the descriptions themselves, seeded, one
thread) turns it into a ``length x word_dim`` matrix, zero-padded.

The autoencoder is one-dimensional: ``Conv1D`` + ``MaxPooling1D`` twice, a
dense bottleneck, then ``Dense`` + ``UpSampling1D`` + ``Conv1D`` back to the
input's shape (``length`` is a multiple of 4 so the shapes meet exactly; the
model's output shape is checked against its input's).  The loss is the mean
squared error over the real words only (padding rows weigh 0).  The
bottleneck is the movie embedding.

A movie with no description at all (a placeholder title from a ratings log
without a movies file, no genres, no tags) has nothing to encode: instead of
the code of an all-zero matrix it gets the mean code of the described movies
(the centre of the map), and the count is reported.

Reported: the reconstruction MSE on the validation movies, the share of the
word-vector variance it explains, and (by ``embedders``) the genre Jaccard@10
of each movie's neighbours -- partly by construction, as genres are words of
the description.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from embedder.errors import DataError
from embedder.values import Dataset
from embedder.tf_models import TrainLog, TrainParams, fit, seed_everything, tensorflow
from embedder.ratings.catalogue import positions
from embedder.tf_models.data import title_words

TAG_FILES = ("tags.csv", "tags.dat")
GENOME_FILES = ("genome-scores.csv", "genome-tags.csv")


@dataclass(frozen=True)
class AutoencoderParams:
    """Description, word-vector and network settings.

    ``word_epochs`` 50 rather than gensim's 5: the description corpus is tiny
    (a few words per movie), and on ml-100k 50 epochs raised the genre
    Jaccard@10 of the bottleneck's neighbours from 0.39 to 0.65 (20 epochs).
    """

    length: int = 32
    word_dim: int = 32
    word_epochs: int = 50
    word_window: int = 5
    max_tags: int = 10
    genome_tags: int = 10
    genome_relevance: float = 0.8
    filters: tuple[int, int] = (64, 32)
    kernel: int = 3
    dim: int = 32
    val_fraction: float = 0.1
    train: TrainParams = field(default_factory=lambda: TrainParams(max_epochs=40, patience=3, batch_size=64, learning_rate=2e-3))

    def settings(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Descriptions:
    """One word list per movie (``movie_ids`` order) and where the words came from."""

    words: list[list[str]]
    sources: tuple[str, ...]
    tagged: int = 0


@dataclass(frozen=True)
class AutoencoderResult:
    """The bottleneck per movie, the reconstruction figures and the fallback count."""

    movie_vectors: np.ndarray
    reconstruction_mse: float
    explained_variance: float
    no_text: int
    described: int
    sources: tuple[str, ...]
    log: TrainLog


def text_sources(dataset: Dataset) -> list[Path]:
    """The tag and genome files beside the dataset's ratings file (none for the demo)."""
    folder = Path(dataset.source).parent
    if not Path(dataset.source).is_file():
        return []
    return [folder / name for name in TAG_FILES + GENOME_FILES if (folder / name).is_file()]


def text_checksum(dataset: Dataset) -> str:
    """SHA-256 over the tag and genome files (part of the model cache key)."""
    digest = hashlib.sha256()
    for path in text_sources(dataset):
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def describe_movies(dataset: Dataset, movie_ids, params: AutoencoderParams = AutoencoderParams()) -> Descriptions:
    """Title words, genre names and tags of each movie, cut to ``params.length`` words."""
    from embedder.ratings.genres import NO_GENRE

    movie_ids = np.asarray(movie_ids)
    rows = positions(dataset.movies.ids, movie_ids)
    tags = _read_tags(dataset, movie_ids, params)
    sources = ["title words", "genres"] + [path.name for path in text_sources(dataset)]
    words = []
    for i, r in enumerate(rows):
        text = title_words(dataset.movies.titles[r], dataset.movies.ids[r]) if r >= 0 else []
        text += [g.lower() for g in (dataset.movies.genres[r] if r >= 0 else ()) if g not in NO_GENRE]
        text += tags.get(i, [])
        words.append(text[: params.length])
    return Descriptions(words=words, sources=tuple(sources), tagged=len(tags))


def _read_tags(dataset: Dataset, movie_ids: np.ndarray, params: AutoencoderParams) -> dict[int, list[str]]:
    """Per movie row: words of its most used user tags, then of its most relevant genome tags."""
    import pandas as pd

    found: dict[int, list[str]] = {}
    for path in text_sources(dataset):
        if path.name.startswith("tags."):
            if path.suffix == ".csv":
                table = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=["movieId", "tag"])
            else:
                table = pd.read_csv(path, sep="::", engine="python", header=None, names=["userId", "movieId", "tag", "timestamp"],
                                    dtype=str, keep_default_na=False, encoding="latin-1")
            table = table.assign(tag=table["tag"].str.strip().str.lower())
            table = table[table["tag"] != ""]
            counts = table.groupby(["movieId", "tag"]).size().reset_index(name="n")
            counts = counts.sort_values(["movieId", "n", "tag"], ascending=[True, False, True])
            best = counts.groupby("movieId").head(params.max_tags)
        elif path.name == "genome-scores.csv" and (path.parent / "genome-tags.csv").is_file():
            scores = pd.read_csv(path, dtype={"movieId": str, "tagId": str, "relevance": float})
            names = pd.read_csv(path.parent / "genome-tags.csv", dtype=str, keep_default_na=False)
            scores = scores[scores["relevance"] >= params.genome_relevance]
            scores = scores.sort_values(["movieId", "relevance", "tagId"], ascending=[True, False, True])
            best = scores.groupby("movieId").head(params.genome_tags).merge(names, on="tagId", how="left")
            best = best.assign(tag=best["tag"].str.lower())
        else:
            continue
        row = positions(movie_ids, best["movieId"].to_numpy(dtype=object))
        for r, tag in zip(row.tolist(), best["tag"].tolist()):
            if r >= 0:
                found.setdefault(r, []).extend(title_words(tag))
    return found


def train_autoencoder(dataset: Dataset, movie_ids, params: AutoencoderParams = AutoencoderParams(), *, seed: int = 0,
                      progress: bool = False) -> AutoencoderResult:
    """Describe the movies, embed their words, train the autoencoder; the bottleneck per movie of ``movie_ids``."""
    if params.length % 4:
        raise ValueError(f"the description length must be a multiple of 4 (two poolings by 2), got {params.length}")
    descriptions = describe_movies(dataset, movie_ids, params)
    matrices, mask = _matrices(descriptions.words, params, seed)
    has_text = mask.any(axis=1)
    described = np.flatnonzero(has_text)
    if len(described) < 2:
        raise DataError("the autoencoder needs at least two movies with a description (title words, genres or tags)")
    rng = np.random.default_rng(seed)
    order = rng.permutation(described)
    n_val = max(1, int(round(params.val_fraction * len(order))))
    val, train = order[:n_val], order[n_val:] if len(order) > n_val else order[:n_val]

    tf, keras = tensorflow()
    seed_everything(seed)
    model, encoder = _model(params, seed)
    if tuple(model.output_shape[1:]) != tuple(model.input_shape[1:]):
        raise AssertionError(f"autoencoder output {model.output_shape} does not match its input {model.input_shape}")
    model.compile(optimizer=keras.optimizers.Adam(params.train.learning_rate), loss="mse")
    log = fit(model, matrices[train], matrices[train], sample_weight=mask[train].astype(np.float32),
              validation=(matrices[val], matrices[val], mask[val].astype(np.float32)), params=params.train,
              progress=progress, desc="autoencoder")

    rebuilt = model.predict(matrices[val], batch_size=1024, verbose=0)
    real = mask[val]
    mse = float(((rebuilt - matrices[val]) ** 2).sum(axis=-1)[real].sum() / (real.sum() * params.word_dim))
    words = matrices[mask]
    variance = float(((words - words.mean(axis=0)) ** 2).mean())
    codes = np.asarray(encoder.predict(matrices, batch_size=1024, verbose=0), dtype=np.float32)
    if (~has_text).any():
        codes[~has_text] = codes[has_text].mean(axis=0)
    return AutoencoderResult(
        movie_vectors=np.ascontiguousarray(codes),
        reconstruction_mse=mse,
        explained_variance=1.0 - mse / variance if variance > 0 else float("nan"),
        no_text=int((~has_text).sum()),
        described=int(has_text.sum()),
        sources=descriptions.sources,
        log=log,
    )


def _matrices(words: list[list[str]], params: AutoencoderParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Descriptions -> (movies x length x word_dim) word-vector matrices and the real-word mask."""
    from gensim.models import Word2Vec

    sentences = [w for w in words if w]
    matrices = np.zeros((len(words), params.length, params.word_dim), dtype=np.float32)
    mask = np.zeros((len(words), params.length), dtype=bool)
    if not sentences:
        return matrices, mask
    model = Word2Vec(sentences, vector_size=params.word_dim, window=params.word_window, min_count=1, sg=1,
                     epochs=params.word_epochs, seed=seed, workers=1)
    for i, text in enumerate(words):
        if text:
            matrices[i, : len(text)] = model.wv[text]
            mask[i, : len(text)] = True
    return matrices, mask


def _model(params: AutoencoderParams, seed: int):
    """The autoencoder and its encoder (input matrix -> bottleneck)."""
    tf, keras = tensorflow()
    layers = keras.layers
    f1, f2 = params.filters
    quarter = params.length // 4

    x = keras.Input((params.length, params.word_dim), name="description")
    h = layers.Conv1D(f1, params.kernel, padding="same", activation="relu", name="encode_conv_1")(x)
    h = layers.MaxPooling1D(2, name="encode_pool_1")(h)
    h = layers.Conv1D(f2, params.kernel, padding="same", activation="relu", name="encode_conv_2")(h)
    h = layers.MaxPooling1D(2, name="encode_pool_2")(h)
    code = layers.Dense(params.dim, name="bottleneck")(layers.Flatten(name="encode_flatten")(h))
    h = layers.Dense(quarter * f2, activation="relu", name="decode_dense")(code)
    h = layers.Reshape((quarter, f2), name="decode_reshape")(h)
    h = layers.UpSampling1D(2, name="decode_up_1")(h)
    h = layers.Conv1D(f1, params.kernel, padding="same", activation="relu", name="decode_conv_1")(h)
    h = layers.UpSampling1D(2, name="decode_up_2")(h)
    out = layers.Conv1D(params.word_dim, params.kernel, padding="same", name="reconstruction")(h)
    return keras.Model(x, out, name="conv1d_autoencoder"), keras.Model(x, code, name="encoder")
