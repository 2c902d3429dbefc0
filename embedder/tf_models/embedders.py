"""``--embedders``: the movie (and user) embeddings a build makes, side by side.

``w2v`` is the core pipeline (Word2Vec + SIF/uSIF/mean) and always the site's
base embedding: its neighbours, sprite order and explorer come first.  The
others are the TensorFlow models of ``embedder.tf_models``; each gets the
same rows (the ``w2v`` movie and user ids, so the sprite and the metadata are
shared) and returns a ``ModelVectors``::

    name -> train(EmbedderInput, params, seed=, progress=) -> ModelVectors

| name          | movie vectors                   | user vectors      | own figures                          |
|---------------|---------------------------------|-------------------|--------------------------------------|
| ``softmax``   | ``V``, the softmax weights      | ``psi(X)``        | HR@10, precision@10 (held-out last)  |
| ``textcnn``   | movie feature vectors (200-d)   | user features     | test RMSE / MSE (random 20 %)        |
| ``autoencoder`` | bottleneck of the description | --                | reconstruction MSE, variance explained |

Every result is cached (``tf_models.cache``) under the dataset cache folder's
``models/``; TensorFlow is imported only when a model is actually trained.

``evaluation_rows`` retrains the models on the held-out split of
``embedder.quality.evaluate`` so that ``--evaluate`` ranks them in the model
card; ``embedder.tf_models.comparison`` shows them side by side on the site.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from embedder.errors import ConfigError
from embedder.timing import Timer
from embedder.values import Dataset

#: Every embedder, in the order they are offered (and shown).
EMBEDDERS = ("w2v", "softmax", "textcnn", "autoencoder")
DEFAULT_EMBEDDERS = ("w2v",)
#: Bumped when a model's code changes its output, so old cache entries are not reused.
MODEL_VERSION = 1


@dataclass(frozen=True)
class EmbedderInput:
    """What every embedder receives: the data and the rows it must export."""

    dataset: Dataset
    movie_ids: np.ndarray
    user_ids: np.ndarray


@dataclass(frozen=True)
class ModelVectors:
    """One embedder's result, aligned with ``EmbedderInput.movie_ids`` / ``user_ids``.

    ``figures`` are the model's own quality figures (name -> value);
    ``training`` summarises the fit (epochs, best epoch, validation loss);
    ``examples`` are optional lists shown on the index page (``{"title", "items"}``).
    """

    name: str
    title: str
    how: str
    movie_vectors: np.ndarray
    user_vectors: np.ndarray | None
    figures: dict[str, float]
    settings: dict
    training: dict = field(default_factory=dict)
    examples: tuple = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    cached: bool = False

    def check(self, inputs: EmbedderInput) -> "ModelVectors":
        """Raise unless the vectors are finite and of the right shapes; returns self."""
        n_movies, n_users = len(inputs.movie_ids), len(inputs.user_ids)
        for what, matrix, rows in (("movie", self.movie_vectors, n_movies), ("user", self.user_vectors, n_users)):
            if matrix is None:
                continue
            if matrix.ndim != 2 or matrix.shape[0] != rows or matrix.shape[1] < 2:
                raise ValueError(f"{self.name}: {what} vectors have shape {matrix.shape}, expected ({rows}, D >= 2)")
            if not np.isfinite(matrix).all():
                raise ValueError(f"{self.name}: {what} vectors contain NaN or infinite values")
        return self


@dataclass(frozen=True)
class Embedder:
    """A registry entry: how to train it and what else its cache key depends on."""

    name: str
    title: str
    params: object
    train: Callable[..., ModelVectors]
    key_extra: Callable[[EmbedderInput], dict] = lambda inputs: {}


def parse_embedders(text: str | None) -> tuple[str, ...]:
    """``"w2v,softmax"`` -> ``("w2v", "softmax")`` in canonical order; ConfigError for unknown names.

    ``w2v`` must be listed: it is the site's base embedding (neighbours,
    explorer, sprite order) and the others are shown beside it.
    """
    if text is None or not text.strip():
        return DEFAULT_EMBEDDERS
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = sorted(set(names) - set(EMBEDDERS))
    if unknown:
        raise ConfigError(f"--embedders: unknown embedder {', '.join(unknown)} (choose from {', '.join(EMBEDDERS)})")
    if "w2v" not in names:
        raise ConfigError("--embedders must include w2v: it is the site's base embedding, the others are shown beside it "
                          f"(e.g. --embedders w2v,{','.join(names)})")
    return tuple(name for name in EMBEDDERS if name in names)


def missing_tensorflow(names) -> list[str]:
    """The problem (one line) when a TensorFlow embedder is asked for and TensorFlow is not installed."""
    import importlib.util

    from embedder.tf_models import INSTALL_HINT

    wanted = [name for name in names if name != "w2v"]
    if wanted and (importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None):
        return [f"--embedders {','.join(wanted)} needs TensorFlow 2 with Keras 3: {INSTALL_HINT}"]
    return []


# --- the models ----------------------------------------------------------------------------


def _softmax(inputs: EmbedderInput, params, *, seed: int, progress: bool) -> ModelVectors:
    from embedder.tf_models.softmax import K, train_softmax

    result = train_softmax(inputs.dataset.interactions, inputs.dataset.movies, inputs.movie_ids, inputs.user_ids, params,
                           seed=seed, progress=progress)
    notes = (f"{result.empty_users} users with no rated movie among these get the mean user vector",) if result.empty_users else ()
    return ModelVectors(
        name="softmax",
        title="softmax retrieval DNN",
        how=(f"a user's last {params.context} rated movies as a bag" + (" with their genres and years" if params.features else "")
             + f" -> dense {'-'.join(map(str, params.hidden))} -> user vector psi; {result.loss} over every movie, "
             "whose weight matrix V is the movie vector; trained to predict each user's next movie"),
        movie_vectors=result.movie_vectors,
        user_vectors=result.user_vectors,
        figures={f"HR@{K}": result.hit_rate, f"precision@{K}": result.precision, "test users": float(result.test_users)},
        settings=params.settings(),
        training=result.log.summary(),
        notes=notes,
    )


def _textcnn(inputs: EmbedderInput, params, *, seed: int, progress: bool) -> ModelVectors:
    from embedder.tf_models.textcnn import train_textcnn

    result = train_textcnn(inputs.dataset, inputs.movie_ids, inputs.user_ids, params, seed=seed, progress=progress)
    return ModelVectors(
        name="textcnn",
        title="text-CNN rating model",
        how=(f"user ({', '.join(result.user_features)}) and movie (id, genres, a text CNN over title words, windows "
             f"{'-'.join(map(str, (min(params.windows), max(params.windows))))}) towers -> {params.feature_dim}-d features; "
             "rating = their dot product (MSE)"),
        movie_vectors=result.movie_vectors,
        user_vectors=result.user_vectors,
        figures={"test RMSE": result.test_rmse, "test MSE": result.test_mse, "test ratings": float(result.test_ratings)},
        settings=params.settings(),
        training=result.log.summary(),
        examples=tuple(result.examples),
    )


def _autoencoder(inputs: EmbedderInput, params, *, seed: int, progress: bool) -> ModelVectors:
    from embedder.tf_models.autoencoder import train_autoencoder

    result = train_autoencoder(inputs.dataset, inputs.movie_ids, params, seed=seed, progress=progress)
    notes = ((f"{result.no_text} movies have no description (no title words, genres or tags): placed at the mean "
              "of the described movies"),) if result.no_text else ()
    return ModelVectors(
        name="autoencoder",
        title="1-D conv autoencoder",
        how=(f"each movie's description ({', '.join(result.sources)}) as a {params.length} x {params.word_dim} matrix of "
             f"Word2Vec word vectors, compressed by a Conv1D/pooling/upsampling autoencoder; the {params.dim}-d bottleneck"),
        movie_vectors=result.movie_vectors,
        user_vectors=None,
        figures={"reconstruction MSE": result.reconstruction_mse, "variance explained": result.explained_variance,
                 "described movies": float(result.described)},
        settings=params.settings(),
        training=result.log.summary(),
        notes=notes,
    )


def _autoencoder_extra(inputs: EmbedderInput) -> dict:
    from embedder.tf_models.autoencoder import text_checksum

    return {"text files": text_checksum(inputs.dataset)}


def _registry() -> dict[str, Embedder]:
    from embedder.tf_models.autoencoder import AutoencoderParams
    from embedder.tf_models.softmax import SoftmaxParams
    from embedder.tf_models.textcnn import TextCNNParams

    return {
        "softmax": Embedder("softmax", "softmax retrieval DNN", SoftmaxParams(), _softmax),
        "textcnn": Embedder("textcnn", "text-CNN rating model", TextCNNParams(), _textcnn),
        "autoencoder": Embedder("autoencoder", "1-D conv autoencoder", AutoencoderParams(), _autoencoder, _autoencoder_extra),
    }


def with_max_epochs(params, max_epochs: int | None):
    """A model's params with its epoch limit replaced (None keeps the model's own)."""
    return params if max_epochs is None else replace(params, train=replace(params.train, max_epochs=int(max_epochs)))


def build_embeddings(names, inputs: EmbedderInput, *, seed: int = 0, cache_dir: Path | None = None,
                     max_epochs: int | None = None, retrain: bool = False, progress: bool = False,
                     log: Callable[[str], None] | None = None, registry: dict | None = None) -> list[ModelVectors]:
    """Train (or take from the cache) every non-``w2v`` embedder of ``names``, in order.

    ``cache_dir`` None disables the cache; ``retrain`` ignores existing
    entries (and overwrites them).  ``log`` receives one line per embedder.
    """
    from embedder.tf_models import cache

    registry = registry or _registry()
    data = None
    results = []
    for name in names:
        if name == "w2v":
            continue
        entry = registry[name]
        params = with_max_epochs(entry.params, max_epochs)
        key = None
        if cache_dir is not None:
            data = data or cache.fingerprint(inputs.dataset, inputs.movie_ids, inputs.user_ids)
            key = cache.cache_key(name, MODEL_VERSION, params.settings(), seed, data, entry.key_extra(inputs))
            found = None if retrain else cache.load(cache_dir, name, key)
            if found is not None:
                result = _from_cache(name, entry, *found)
                if result is not None and _fits(result, inputs):
                    results.append(result.check(inputs))
                    if log:
                        log(f"{name}: from the model cache ({cache.entry_dir(cache_dir, name, key)}), trained in {result.seconds:.1f} s")
                    continue
        with Timer() as timer:
            result = entry.train(inputs, params, seed=seed, progress=progress)
        result = replace(result, seconds=timer.seconds).check(inputs)
        if key is not None:
            cache.save(cache_dir, name, key, _meta(result), _arrays(result))
        results.append(result)
        if log:
            log(f"{name}: trained in {result.seconds:.1f} s ({result.training.get('epochs', '?')} epochs, best "
                f"{result.training.get('best_epoch', '?')}); " + ", ".join(format_figure(k, v) for k, v in result.figures.items()))
    return results


def _fits(result: ModelVectors, inputs: EmbedderInput) -> bool:
    return len(result.movie_vectors) == len(inputs.movie_ids) and (
        result.user_vectors is None or len(result.user_vectors) == len(inputs.user_ids))


def _meta(result: ModelVectors) -> dict:
    return {"name": result.name, "title": result.title, "how": result.how, "figures": result.figures,
            "settings": result.settings, "training": result.training, "examples": list(result.examples),
            "notes": list(result.notes), "seconds": result.seconds}


def _arrays(result: ModelVectors) -> dict[str, np.ndarray]:
    arrays = {"movie_vectors": result.movie_vectors}
    if result.user_vectors is not None:
        arrays["user_vectors"] = result.user_vectors
    return arrays


def _from_cache(name: str, entry: Embedder, meta: dict, arrays: dict) -> ModelVectors | None:
    if "movie_vectors" not in arrays:
        return None
    return ModelVectors(
        name=name,
        title=meta.get("title", entry.title),
        how=meta.get("how", ""),
        movie_vectors=np.asarray(arrays["movie_vectors"], dtype=np.float32),
        user_vectors=np.asarray(arrays["user_vectors"], dtype=np.float32) if "user_vectors" in arrays else None,
        figures={k: float(v) for k, v in meta.get("figures", {}).items()},
        settings=meta.get("settings", {}),
        training=meta.get("training", {}),
        examples=tuple(meta.get("examples", ())),
        notes=tuple(meta.get("notes", ())),
        seconds=float(meta.get("seconds", 0.0)),
        cached=True,
    )


def format_figure(name: str, value: float) -> str:
    """``"HR@10 0.120"``, ``"test ratings 20,000"``: counts as integers, rates to three decimals."""
    if value != value:  # NaN
        return f"{name} n/a"
    if float(value).is_integer() and abs(value) >= 10:
        return f"{name} {int(value):,}"
    return f"{name} {value:.4f}" if abs(value) < 0.01 else f"{name} {value:.3f}"


# --- the held-out evaluation (--evaluate) --------------------------------------------------------


def evaluation_rows(dataset: Dataset, names, *, seed: int = 0, cache_dir: Path | None = None,
                    max_epochs: int | None = None, retrain: bool = False, progress: bool = False,
                    registry: dict | None = None) -> list:
    """Rows of ``evaluate``'s report for the TensorFlow embedders, on its protocol (``--evaluate``).

    Each model is trained again on the test split's training data only (and
    cached like the build's own), so its held-out figures are honest and
    comparable with the Word2Vec and baseline rows: HR@10, NDCG@10 and
    coverage@10 from its user scores, and the similar-movie figures from the
    cosine of its movie vectors.  User scores: ``psi . V`` (softmax), the
    predicted rating (textcnn), and for the autoencoder, which has no users,
    the cosine to the mean of the user's training movies (content-based).
    """
    from embedder.model.neighbours import normalise
    from embedder.quality.evaluate import leave_last_out, make_task, measure, rank_users, similar_figures
    from embedder.quality.model_card import Row

    wanted = [name for name in names if name != "w2v"]
    if not wanted:
        return []
    task = make_task(dataset, leave_last_out(dataset.interactions, "test"))
    train = replace(dataset, interactions=task.split.train)
    inputs = EmbedderInput(train, task.catalogue, dataset.interactions.user_ids[task.split.users])
    models = build_embeddings(("w2v", *wanted), inputs, seed=seed, cache_dir=cache_dir, max_epochs=max_epochs,
                              retrain=retrain, progress=progress, registry=registry)
    rows = []
    for model in models:
        unit = normalise(model.movie_vectors)
        if model.user_vectors is not None:
            users, movies = model.user_vectors, model.movie_vectors
            scores = lambda r, users=users, movies=movies: users[r] @ movies.T
            how = "psi . V" if model.name == "softmax" else "predicted rating" if model.name == "textcnn" else "user . movie"
        else:
            profiles = normalise(np.asarray(task.X @ unit, dtype=np.float32))
            scores = lambda r, profiles=profiles, unit=unit: profiles[r] @ unit.T
            how = "cosine to the mean of the user's training movies"
        figures = measure(task, rank_users(task, scores))
        similar = similar_figures(task, lambda cols, unit=unit: unit[cols] @ unit.T)
        rows.append(Row(method=f"{model.name} ({how})", family="tensorflow", settings=model.settings, hr=figures.hr,
                        hr_se=figures.hr_se, ndcg=figures.ndcg, coverage=figures.coverage,
                        genre_jaccard=similar.genre_jaccard, next_hr=similar.next_hr, next_ndcg=similar.next_ndcg,
                        train_seconds=model.seconds, hits=figures.hits))
    return rows
