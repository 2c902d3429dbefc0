"""The embedders compared on the site: the index page's table and the explorer's *Layout* menu.

``side_by_side`` makes the index page's table (each embedder's own figures,
the genre Jaccard@10 of every movie embedding, training, build time) and
``explorer_layouts`` adds each embedder's layouts to the explorer's *Layout*
menu.  The models are trained by ``embedder.tf_models.embedders``; the genre
figure is ``embedder.quality``'s, on its held-out protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedder.quality.evaluate import leave_last_out, make_task, random_jaccard
from embedder.quality.metrics import genre_jaccard as mean_genre_jaccard
from embedder.ratings.catalogue import positions
from embedder.tf_models.embedders import format_figure
from embedder.values import Dataset


@dataclass(frozen=True)
class GenreReference:
    """What the genre Jaccard@k of a movie embedding is measured against (rows follow ``movie_ids``)."""

    genres: np.ndarray
    anchors: np.ndarray
    random: float


def genre_reference(dataset: Dataset, movie_ids) -> GenreReference:
    """Each movie's genres, the anchor movies and the random expectation.

    The anchors are those of ``embedder.quality.evaluate``'s protocol (movies
    with >= 10 training ratings and a genre, on the test split) and the
    random figure its exact expectation.
    """
    from embedder.tf_models.data import genre_matrix

    rows = positions(dataset.movies.ids, movie_ids)
    genres = genre_matrix(dataset.movies, rows)[0].astype(bool)
    task = make_task(dataset, leave_last_out(dataset.interactions, "test"))
    anchors = positions(movie_ids, task.catalogue[task.anchors])
    return GenreReference(genres, np.sort(anchors[anchors >= 0]), random_jaccard(task))


def genre_jaccard(reference: GenreReference, vectors, k: int = 10) -> float:
    """Mean genre Jaccard between each anchor movie and its ``k`` cosine neighbours (among all rows)."""
    from embedder.model.neighbours import nearest

    return mean_genre_jaccard(nearest(vectors, k).indices, reference.genres, reference.anchors)


def side_by_side(dataset: Dataset, movie_ids, w2v_vectors, w2v_seconds: float | None, extras,
                 w2v_title: str = "Word2Vec + SIF (core)") -> dict:
    """The index page's table: every embedder's own figures, genre Jaccard@10, training and build time.

    The genre Jaccard@10 of each movie embedding's cosine neighbours is the
    one figure measured the same way for all of them (see ``genre_jaccard``).
    A model's time is its training time as recorded in the model cache, so a
    rebuild from the cache renders the same page; ``w2v_seconds`` None (the
    pipeline passes it with ``--deterministic``) leaves Word2Vec's wall time
    out for the same reason.
    """
    rows = []
    reference = genre_reference(dataset, movie_ids)
    models = [("w2v", w2v_title, w2v_vectors, None, {}, {}, w2v_seconds, (), ())]
    models += [(m.name, m.title, m.movie_vectors, m.user_vectors, m.figures, m.training, m.seconds, m.examples, m.notes)
               for m in extras]
    for name, title, movies, users, figures, training, seconds, examples, notes in models:
        jaccard = genre_jaccard(reference, movies)
        tensors = f"movies {len(movies):,} × {movies.shape[1]}"
        if users is not None:
            tensors += f" · users {len(users):,} × {users.shape[1]}"
        rows.append({
            "name": name,
            "title": title,
            "tensors": tensors,
            "figures": [format_figure(k, v) for k, v in figures.items()],
            "genre_jaccard": "n/a" if jaccard != jaccard else f"{jaccard:.3f}",
            "training": _training_line(training),
            "seconds": "—" if seconds is None else f"{seconds:.1f} s",
            "examples": [dict(example) for example in examples],
            "notes": list(notes),
        })
    random_figure = reference.random
    return {"rows": rows, "random_jaccard": "n/a" if random_figure != random_figure else f"{random_figure:.3f}"}


def _training_line(training: dict) -> str:
    if not training:
        return ""
    line = f"{training.get('epochs', '?')} epochs, best {training.get('best_epoch', '?')}"
    return line + (" (early stop)" if training.get("stopped_early") else "")


# --- the explorer's Layout menu -----------------------------------------------------------------------


def explorer_layouts(layouts, extras, dataset: Dataset, movie_ids, user_ids, *, seed: int = 0, support=None,
                     threads: int = 1):
    """The w2v layouts plus, per extra embedder, the same layouts of its vectors (named ``<embedder>-<layout>``).

    The explorer offers every layout in its *Layout* menu, so each embedder
    becomes a choice there (labelled e.g. ``softmax · PCA``).  As for w2v,
    a layout is fitted on the ``support``-ed rows and the others are placed
    (``embedder.maps.layouts``).  A model without user vectors (the autoencoder)
    places each user at the mean position of the movies they rated in that
    layout.
    """
    from embedder.maps.layouts import LABELS, Layout, Layouts, MapPoints, layout

    names, movies, users = list(layouts.names), dict(layouts.movies), dict(layouts.users)
    rated = None
    for model in extras:
        for base in layouts.names:
            name = f"{model.name}-{base}"
            settings = dict(layouts.movies[base].settings, embedding=model.name,
                            label=f"{model.name} · {LABELS.get(base, base)}")
            movie_layout = layout(base, MapPoints(model.movie_vectors, None if support is None else support.movies,
                                                  None if support is None else support.movie_counts),
                                  seed=seed, threads=threads)
            if model.user_vectors is not None:
                user_coords = layout(base, MapPoints(model.user_vectors, None if support is None else support.users),
                                     seed=seed, threads=threads).coords
            else:
                if rated is None:
                    rated = _rated_means(dataset, movie_ids, user_ids)
                user_coords = np.asarray(rated @ movie_layout.coords, dtype=np.float32)
                settings["users"] = "each user at the mean position of their rated movies"
            movies[name] = Layout(name, movie_layout.coords, settings)
            users[name] = Layout(name, user_coords, settings)
            names.append(name)
    return Layouts(names=tuple(names), movies=movies, users=users, seconds=dict(layouts.seconds))


def _rated_means(dataset: Dataset, movie_ids, user_ids):
    """A sparse (users x movies) matrix whose rows average each user's rated movies."""
    from scipy.sparse import csr_matrix, diags

    inter = dataset.interactions
    cols = positions(movie_ids, inter.item_ids)[inter.item]
    rows = positions(user_ids, inter.user_ids)[inter.user]
    keep = (cols >= 0) & (rows >= 0)
    matrix = csr_matrix((np.ones(int(keep.sum()), np.float32), (rows[keep], cols[keep])), shape=(len(user_ids), len(movie_ids)))
    counts = np.asarray(matrix.sum(axis=1)).ravel()
    return diags(1.0 / np.maximum(counts, 1)) @ matrix
