"""Layouts -> Embedding Projector bookmarks (docs/projector-format.md, "Bookmarks"): the build's maps open in the projector.

The first bookmark of each tensor is its default map (t-SNE of the
supported points, computed at build time), so the projector opens on the
same picture as the explorer; then UMAP when it was asked for; then PCA,
which the projector computes itself.
"""

from __future__ import annotations

import numpy as np

from embedder.maps.layouts import TSNE_PERPLEXITY, UMAP_MIN_DIST, UMAP_NEIGHBOURS, Layout, Layouts


def projector_states(layouts: dict[str, Layout], shape: tuple[int, int], *, what: str, colour_by: str,
                     label_by: str | None = None) -> list[dict]:
    """Projector bookmarks for one embedding: its t-SNE and UMAP layouts, then PCA coloured by ``colour_by``.

    Each State carries every field the projector requires (§5) plus
    ``dataSetDimensions``; t-SNE and UMAP States hold the build's
    coordinates for *all* ``N`` points as ``tsne-0/1`` or ``umap-0/1``.  The
    PCA State has no projections (the projector computes PCA itself); it
    selects nothing and colours by ``colour_by``.
    """
    n, d = int(shape[0]), int(shape[1])
    states = []
    for name in ("tsne", "umap"):
        if name not in layouts:
            continue
        result = layouts[name]
        coords = _rounded(result.coords)
        if len(coords) != n:
            raise ValueError(f"the {name} layout has {len(coords)} points, the embedding {n}")
        keys = (f"{name}-0", f"{name}-1")
        state = _state(
            f"{result.label} of the {n:,} {what}, computed at build time · coloured by {colour_by}",
            name, [{keys[0]: x, keys[1]: y} for x, y in coords], (n, d), colour_by, label_by,
        )
        if name == "tsne":
            state.update(tSNEIteration=int(result.settings.get("iterations", 750)),
                         tSNEPerplexity=float(result.settings.get("perplexity", TSNE_PERPLEXITY)),
                         tSNELearningRate=float(result.settings.get("learning_rate", 200.0)))
        else:
            state.update(umapNeighbors=int(result.settings.get("n_neighbors", UMAP_NEIGHBOURS)),
                         umapMinDist=float(result.settings.get("min_dist", UMAP_MIN_DIST)))
        states.append(state)
    states.append(_state(f"PCA · coloured by {colour_by}", "pca", [], (n, d), colour_by, label_by))
    return states


def _state(label: str, projection: str, projections: list, shape, colour_by: str, label_by: str | None) -> dict:
    state = {
        "label": label,
        "isSelected": False,
        "selectedProjection": projection,
        "projections": projections,
        "pcaComponentDimensions": [0, 1],
        "tSNEIteration": 0,
        "tSNEPerplexity": TSNE_PERPLEXITY,
        "tSNELearningRate": 10.0,
        "tSNEis3d": False,
        "umapIs3d": False,
        "umapNeighbors": UMAP_NEIGHBOURS,
        "umapMinDist": UMAP_MIN_DIST,
        "selectedPoints": [],
        "dataSetDimensions": [int(shape[0]), int(shape[1])],
        "selectedColorOptionName": colour_by,
        "forceCategoricalColoring": False,
    }
    if label_by:
        state["selectedLabelOption"] = label_by
    return state


def _rounded(coords: np.ndarray) -> list[tuple[float, float]]:
    """Coordinates scaled to about [-50, 50] and rounded to 4 decimals (smaller JSON, same picture)."""
    coords = np.asarray(coords, dtype=np.float64)
    centre = (coords.max(axis=0) + coords.min(axis=0)) / 2
    extent = float(np.max(coords.max(axis=0) - coords.min(axis=0))) or 1.0
    scaled = np.round((coords - centre) * (100.0 / extent), 4)
    scaled[scaled == 0] = 0.0  # no "-0.0" in the JSON
    return [(float(x), float(y)) for x, y in scaled]


def bookmarks(layouts: Layouts, movie_shape, user_shape, *, movie_slug: str = "movies", user_slug: str = "users",
              subset: bool = False, support=None) -> dict[str, list[dict]]:
    """``{slug: [State, ...]}`` for ``projector_files(bookmarks=...)``: movies by ``genre``, users by ``top_genre``.

    ``subset``: the bundle holds only the most-rated rows (``--max-points``);
    ``support`` (``embedder.support.Support``): only the points rated at
    least ``min_ratings`` times.  The labels say which points they show.
    """
    what = "most-rated {}" if subset else "{}"
    if support is not None and support.min_ratings > 1:
        what += f" rated at least {support.min_ratings} times"
    return {
        movie_slug: projector_states(layouts.movies, movie_shape, what=what.format("movies"), colour_by="genre", label_by="title"),
        user_slug: projector_states(layouts.users, user_shape, what=what.format("users"), colour_by="top_genre", label_by="user"),
    }
