"""Vectors (+ which rows to trust) -> 2-D layouts of every point: t-SNE (the default map), PCA, UMAP.

The Embedding Projector computes t-SNE on a 10,000-point sample and UMAP on
5,000 (docs/projector-format.md, "Tensors"); reelspace computes them at build time, ships
them to its own explorer and to the projector as bookmarks
(``embedder.site.bookmarks``), so one click shows the whole catalogue.

A layout is *fitted* on the supported rows (``embedder.model.support``: points
rated often enough for their vector to mean something) -- at most
``FIT_MAX`` of them, the most-rated first -- and every other row is
*placed* beside its nearest fitted row (cosine, in the embedding), with a
little seeded jitter.  Barely-rated movies then sit beside the movie they
resemble most without pulling the map apart, and a catalogue of any size
costs one fit of bounded size.  Beside the nearest row, rather than at a
weighted mean of several: measured on ml-latest-small fitted on 1,500 of its
3,650 supported movies, the nearest keeps 0.90x the vectors' genre
Jaccard@10 and 29% neighbourhood preservation, a mean of the 5 nearest
0.79x and 22% (a mean lands between the clusters its neighbours belong to).

* ``tsne`` (the default whenever openTSNE is installed): openTSNE over the
  cosine neighbours of the fitted rows (``embedder.model.neighbours``), PCA
  initialisation, Barnes-Hut gradients with ``theta`` 0.8 on ``threads``
  threads, perplexity 15, 100 early-exaggeration + 150 iterations.  Those
  settings were measured on ml-latest-small's 3,650 supported movies: the
  map keeps 0.92x the vectors' own genre Jaccard@10 and 43% neighbourhood
  preservation in 2.1 s, where openTSNE's defaults (perplexity 30, 250 +
  500 iterations, theta 0.5, one thread) keep the same in 23 s and 125 + 250
  iterations the same in 3.4 s; UMAP keeps only 0.81x, and its numba
  compilation costs ~9 s in every new process.
* ``pca``: the two leading principal components of the unit-length vectors
  (what the projector's "sphereize" does), fitted on the same rows --
  milliseconds, always computed.
* ``umap``: umap-learn over the same neighbours; ``random_state`` makes it
  single-threaded and reproducible.

openTSNE and umap-learn are imported only inside the functions that use them.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np

from embedder.errors import ConfigError
from embedder.model.neighbours import nearest, nearest_in, normalise
from embedder.timing import Stages

#: Every layout reelspace can compute, in the order they are offered.
LAYOUTS = ("pca", "tsne", "umap")
LABELS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
#: The package each layout needs, for an actionable error when it is missing.
PACKAGES = {"tsne": ("openTSNE", "openTSNE"), "umap": ("umap", "umap-learn")}
#: A layout is fitted on at most this many rows; the others are placed beside their nearest fitted rows.
FIT_MAX = 20_000
#: t-SNE and UMAP need this many fitted points on both sides; smaller catalogues get PCA only.
MIN_POINTS = 10
TSNE_PERPLEXITY = 15.0
TSNE_EARLY_ITERATIONS = 100
TSNE_ITERATIONS = 150
TSNE_THETA = 0.8
UMAP_NEIGHBOURS = 15
UMAP_MIN_DIST = 0.1


@dataclass(frozen=True)
class Layout:
    """One 2-D layout of one embedding: ``coords[i]`` is point ``i``.

    ``fitted`` marks the rows the layout was fitted on (None: all of them);
    the others were placed beside their nearest fitted rows.
    """

    name: str
    coords: np.ndarray
    settings: dict = field(default_factory=dict)
    fitted: np.ndarray | None = None

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)


@dataclass(frozen=True)
class Layouts:
    """The layouts of the movies and of the users, by name, in ``names`` order."""

    names: tuple[str, ...]
    movies: dict[str, Layout]
    users: dict[str, Layout]
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MapPoints:
    """What one side's map is made of.

    ``fit`` marks the rows a layout may be fitted on (None: all);
    ``priority`` ranks them when there are more than ``FIT_MAX`` (the movies'
    rating counts: the best-known are fitted first; None: a seeded random
    sample, as for users, whose most active members are not typical).
    """

    vectors: np.ndarray
    fit: np.ndarray | None = None
    priority: np.ndarray | None = None

    def fit_rows(self, seed: int = 0) -> np.ndarray:
        """The rows to fit, ascending."""
        n = len(self.vectors)
        rows = np.arange(n) if self.fit is None else np.flatnonzero(self.fit)
        if len(rows) <= FIT_MAX:
            return rows
        if self.priority is None:
            picked = np.random.default_rng(seed).choice(rows, FIT_MAX, replace=False)
        else:
            picked = rows[np.lexsort((rows, -np.asarray(self.priority)[rows]))[:FIT_MAX]]
        return np.sort(picked)


def parse_layouts(text: str | None) -> tuple[str, ...] | None:
    """``"pca,umap"`` -> ``("pca", "umap")`` in canonical order; ``auto``/None -> None.

    PCA is always included.  Raises ConfigError for unknown names.
    """
    if text is None or text.strip().lower() in ("", "auto"):
        return None
    names = [part.strip().lower().replace("-", "") for part in text.split(",") if part.strip()]
    unknown = sorted(set(names) - set(LAYOUTS))
    if unknown:
        raise ConfigError(f"--layouts: unknown layout {', '.join(unknown)} (choose from auto, {', '.join(LAYOUTS)})")
    return tuple(name for name in LAYOUTS if name in names or name == "pca")


def missing_packages(names) -> list[str]:
    """The problems (one line each) of layouts whose package is not installed."""
    problems = []
    for name in names or ():
        if name in PACKAGES:
            module, package = PACKAGES[name]
            if importlib.util.find_spec(module) is None:
                problems.append(f"--layouts {name} needs the {package} package: pip install {package} (or pip install -r requirements.txt)")
    return problems


def auto_layouts() -> tuple[str, ...]:
    """The default layouts: t-SNE (the default map) and PCA; PCA alone where openTSNE is not installed."""
    return ("pca", "tsne") if importlib.util.find_spec("openTSNE") is not None else ("pca",)


def compute_layouts(movies, users, names: tuple[str, ...] | None, *, seed: int = 0, threads: int = 1,
                    progress: bool = False) -> Layouts:
    """Every requested layout of the movies and of the users.

    ``movies`` and ``users`` are ``MapPoints`` (or plain vector arrays: fit
    everything).  ``names`` None means ``auto_layouts``.  The same seed gives
    the same coordinates (for the same library versions and thread count).
    """
    movies, users = (side if isinstance(side, MapPoints) else MapPoints(np.asarray(side)) for side in (movies, users))
    names = auto_layouts() if names is None else names
    if min(len(movies.fit_rows(seed)), len(users.fit_rows(seed))) < MIN_POINTS:
        names = ("pca",)
    result = {"movies": {}, "users": {}}
    with Stages(len(names) * 2, progress=progress, desc="layouts", unit="layout") as stages:
        for name in names:
            for what, points in (("movies", movies), ("users", users)):
                with stages.stage(f"{name} {what}", label=f"{LABELS[name]} of {len(points.vectors):,} {what}"):
                    result[what][name] = layout(name, points, seed=seed, threads=threads)
    movie_maps, user_maps = result["movies"], result["users"]
    # A degenerate input (e.g. identical vectors) can make t-SNE or UMAP diverge: keep the finite layouts.
    kept = tuple(n for n in names if n == "pca" or (np.isfinite(movie_maps[n].coords).all() and np.isfinite(user_maps[n].coords).all()))
    if not np.isfinite(movie_maps["pca"].coords).all() or not np.isfinite(user_maps["pca"].coords).all():
        raise ValueError("the vectors give a non-finite PCA layout")
    return Layouts(names=kept, movies={n: movie_maps[n] for n in kept}, users={n: user_maps[n] for n in kept}, seconds=stages.timings)


def layout(name: str, points, *, seed: int = 0, threads: int = 1) -> Layout:
    """One layout by name of ``points`` (``MapPoints`` or an N x D array, N >= 2): fitted, then the rest placed."""
    points = points if isinstance(points, MapPoints) else MapPoints(np.asarray(points))
    vectors = np.asarray(points.vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) < 2:
        raise ValueError(f"a layout needs at least two vectors, got shape {vectors.shape}")
    rows = points.fit_rows(seed)
    if len(rows) < 2:
        rows = np.arange(len(vectors))
    fitted = np.zeros(len(vectors), dtype=bool)
    fitted[rows] = True
    if name == "pca":
        coords, settings = pca_2d(vectors, rows), {"sphereized": True}
    elif name in ("tsne", "umap"):
        fit = tsne_2d if name == "tsne" else umap_2d
        xy, settings = fit(vectors[rows], seed=seed, threads=threads)
        coords = place(vectors, rows, xy, seed=seed, threads=threads)
    else:
        raise ValueError(f"unknown layout {name!r}")
    settings = dict(settings, fitted=int(len(rows)), placed=int(len(vectors) - len(rows)))
    return Layout(name, coords, settings, None if fitted.all() else fitted)


def place(vectors: np.ndarray, rows: np.ndarray, fitted_coords: np.ndarray, *, seed: int = 0, threads: int = 1) -> np.ndarray:
    """Coordinates of every row: the fitted ``rows`` keep ``fitted_coords``; the others are placed.

    A placed row goes beside its nearest fitted row (cosine similarity of
    the vectors): at its coordinates plus a seeded jitter of half the map's
    typical gap between neighbouring points, so that rows placed beside the
    same one do not sit on top of each other.
    """
    n = len(vectors)
    coords = np.empty((n, 2), dtype=np.float64)
    coords[rows] = fitted_coords
    others = np.setdiff1d(np.arange(n), rows)
    if len(others) == 0:
        return coords.astype(np.float32)
    found = nearest_in(vectors, others, rows, 1, threads=threads, seed=seed)
    coords[others] = coords[found.indices[:, 0]]
    coords[others] += np.random.default_rng(seed).normal(scale=0.5 * _typical_gap(fitted_coords), size=(len(others), 2))
    return coords.astype(np.float32)


def _typical_gap(coords: np.ndarray) -> float:
    """The median distance from a point to its nearest other point."""
    from scipy.spatial import cKDTree

    if len(coords) < 2:
        return 1.0
    distances, _ = cKDTree(coords).query(coords, k=2)
    return float(np.median(distances[:, 1])) or 1e-3


def pca_2d(vectors, rows: np.ndarray | None = None) -> np.ndarray:
    """The first two principal components of the unit-length, centred vectors (fitted on ``rows``, default all).

    The sign of each component is fixed (its largest loading is positive), so
    the picture does not flip between runs or machines.
    """
    x = normalise(np.asarray(vectors, dtype=np.float32)).astype(np.float64)
    fit = x if rows is None else x[rows]
    centre = fit.mean(axis=0)
    x -= centre
    if x.shape[1] == 1:
        return np.column_stack([x[:, 0], np.zeros(len(x))]).astype(np.float32)
    _, components = np.linalg.eigh((fit - centre).T @ (fit - centre))
    top = components[:, ::-1][:, :2]
    signs = np.sign(top[np.abs(top).argmax(axis=0), [0, 1]])
    top = top * np.where(signs == 0, 1, signs)
    return np.ascontiguousarray(x @ top, dtype=np.float32)


def _cosine_distances(similarities: np.ndarray) -> np.ndarray:
    """Euclidean distances between unit vectors from their cosine similarities."""
    return np.sqrt(np.maximum(0.0, 2.0 - 2.0 * similarities.astype(np.float64)))


def tsne_2d(vectors, *, seed: int = 0, threads: int = 1) -> tuple[np.ndarray, dict]:
    """openTSNE over cosine neighbours with PCA initialisation, seeded; returns (coords, settings)."""
    _require("tsne")
    from openTSNE import TSNEEmbedding, affinity, initialization
    from openTSNE.nearest_neighbors import PrecomputedNeighbors

    unit = normalise(np.asarray(vectors, dtype=np.float32))
    n = len(unit)
    perplexity = float(min(TSNE_PERPLEXITY, max(1.0, (n - 1) / 3)))
    k = min(n - 1, max(1, int(3 * perplexity)))
    found = nearest(unit, k, threads=threads, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        knn = PrecomputedNeighbors(found.indices.astype(np.int64), _cosine_distances(found.scores))
        affinities = affinity.PerplexityBasedNN(knn_index=knn, perplexity=perplexity, n_jobs=threads, random_state=seed)
        start = initialization.pca(unit.astype(np.float64), random_state=seed)
        embedding = TSNEEmbedding(start, affinities, n_jobs=threads, random_state=seed, negative_gradient_method="bh",
                                  theta=TSNE_THETA)
        # No callbacks: openTSNE evaluates the KL divergence for them, which doubles the cost.
        embedding = embedding.optimize(TSNE_EARLY_ITERATIONS, exaggeration=12, momentum=0.5)
        embedding = embedding.optimize(TSNE_ITERATIONS, momentum=0.8)
    settings = {
        "perplexity": perplexity,
        "iterations": TSNE_EARLY_ITERATIONS + TSNE_ITERATIONS,
        "learning_rate": round(max(200.0, n / 12.0), 3),
        "theta": TSNE_THETA,
        "neighbours": "cosine",
    }
    return np.ascontiguousarray(embedding, dtype=np.float32), settings


def umap_2d(vectors, *, seed: int = 0, threads: int = 1) -> tuple[np.ndarray, dict]:
    """umap-learn over cosine neighbours, seeded (which also makes it single-threaded); returns (coords, settings)."""
    _require("umap")
    unit = normalise(np.asarray(vectors, dtype=np.float32))
    n = len(unit)
    k = max(2, min(UMAP_NEIGHBOURS, n - 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        umap = _import_umap()
        options = dict(n_neighbors=k, min_dist=UMAP_MIN_DIST, n_components=2, random_state=seed, verbose=False)
        # umap-learn wants each point as its own first neighbour, at distance 0.
        found = nearest(unit, k - 1, threads=threads, seed=seed)
        indices = np.column_stack([np.arange(n), found.indices]).astype(np.int64)
        distances = np.column_stack([np.zeros(n), _cosine_distances(found.scores)]).astype(np.float32)
        options.update(metric="euclidean", precomputed_knn=(indices, distances, None))
        if n <= k + 1:
            options["init"] = "random"  # a spectral layout needs more points than neighbours
        coords = umap.UMAP(**options).fit_transform(unit)
    settings = {"n_neighbors": k, "min_dist": UMAP_MIN_DIST, "metric": "cosine"}
    return np.ascontiguousarray(coords, dtype=np.float32), settings


def _import_umap():
    """``import umap`` without TensorFlow.

    umap-learn's ``__init__`` imports its ParametricUMAP, which imports
    TensorFlow when it is installed: seconds of start-up for a class
    reelspace never uses.  While umap is imported, TensorFlow is made
    unimportable (unless it is loaded already); umap then skips it.
    """
    if "umap" in sys.modules or "tensorflow" in sys.modules:
        import umap

        return umap
    sys.modules["tensorflow"] = None  # "import tensorflow" now raises ImportError
    try:
        import umap
    finally:
        if sys.modules.get("tensorflow", 0) is None:
            del sys.modules["tensorflow"]
    return umap


def _require(name: str) -> None:
    problems = missing_packages([name])
    if problems:
        raise ConfigError(problems[0])
