"""Vectors -> 2-D layouts of every point (PCA, UMAP, t-SNE), seeded, and projector bookmarks.

The Embedding Projector computes t-SNE on a 10,000-point sample and UMAP on
5,000 (PROJECTOR_FORMAT.md §7); reelspace computes them at build time over
*all* points, ships them to its own explorer and to the projector as
bookmarks (§5), so one click shows the whole catalogue.

* ``pca``: the two leading principal components of the unit-length vectors
  (what the projector's "sphereize" does), by an eigendecomposition of the
  D x D covariance -- milliseconds, always computed.
* ``tsne``: openTSNE over cosine neighbours (exact, from BLAS products, up to
  ``EXACT_KNN_MAX`` points; Annoy above), PCA initialisation, 250 early
  exaggeration + 500 iterations; Barnes-Hut below ``FFT_FROM`` points,
  FFT-interpolated gradients above.
* ``umap``: umap-learn over the same exact neighbours (its own NN-descent
  above ``EXACT_KNN_MAX``); ``random_state`` makes it single-threaded and
  reproducible.

openTSNE and umap-learn (with numba) are imported only inside the functions
that use them: importing umap alone costs seconds, and its first fit in a
process compiles numba code (see ``auto_layouts`` for the measured costs).
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import ConfigError
from .neighbours import normalise

#: Every layout reelspace can compute, in the order they are offered.
LAYOUTS = ("pca", "tsne", "umap")
LABELS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
#: The package each layout needs, for an actionable error when it is missing.
PACKAGES = {"tsne": ("openTSNE", "openTSNE"), "umap": ("umap", "umap-learn")}

#: ``--layouts auto`` adds t-SNE when the movies and the users together are
#: at most this many points.  Measured on this project's 2-core machine
#: (openTSNE 1.0, Barnes-Hut, 750 iterations, one other process busy):
#: 400 points ~1 s, 1,700 ~4.4 s, 3,000 ~8.5 s, 9,724 (ml-latest-small's
#: movies) ~38 s -- too slow for the 15 s default build; the demo (400 movies
#: + 600 users) and ml-100k's users fit.  UMAP is never chosen by ``auto``:
#: importing umap-learn takes ~2-3 s and its first fit in a process ~4 s of
#: numba compilation before any work (9,724 points: ~13 s in all).
AUTO_TSNE_MAX_POINTS = 2_500
#: Up to this many points, neighbours are exact (chunked BLAS products).
EXACT_KNN_MAX = 20_000
#: From this many points on, t-SNE uses FFT-interpolated gradients (Barnes-Hut below).
FFT_FROM = 10_000
#: t-SNE and UMAP need this many points on both sides; smaller catalogues get PCA only.
MIN_POINTS = 10
TSNE_EARLY_ITERATIONS = 250
TSNE_ITERATIONS = 500
TSNE_PERPLEXITY = 30.0
UMAP_NEIGHBOURS = 15
UMAP_MIN_DIST = 0.1


@dataclass(frozen=True)
class Layout:
    """One 2-D layout of one embedding: ``coords[i]`` is point ``i``."""

    name: str
    coords: np.ndarray
    settings: dict = field(default_factory=dict)

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


def auto_layouts(n_movies: int, n_users: int) -> tuple[str, ...]:
    """The default layouts for a catalogue of this size (see ``AUTO_TSNE_MAX_POINTS``)."""
    names = ["pca"]
    if n_movies + n_users <= AUTO_TSNE_MAX_POINTS and importlib.util.find_spec("openTSNE") is not None:
        names.append("tsne")
    return tuple(names)


def compute_layouts(movie_vectors, user_vectors, names: tuple[str, ...] | None, *, seed: int = 0,
                    progress: bool = False) -> Layouts:
    """Every requested layout of the movies and of the users.

    ``names`` None means ``auto_layouts``.  The same seed gives the same
    coordinates (for the same library versions).
    """
    import time

    names = auto_layouts(len(movie_vectors), len(user_vectors)) if names is None else names
    if min(len(movie_vectors), len(user_vectors)) < MIN_POINTS:
        names = ("pca",)
    bar = _bar(len(names) * 2, progress)
    movies, users, seconds = {}, {}, {}
    try:
        for name in names:
            for what, vectors, into in (("movies", movie_vectors, movies), ("users", user_vectors, users)):
                if bar is not None:
                    bar.set_postfix_str(f"{LABELS[name]} of {len(vectors):,} {what}")
                start = time.perf_counter()
                into[name] = layout(name, vectors, seed=seed)
                seconds[f"{name} {what}"] = time.perf_counter() - start
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    # A degenerate input (e.g. identical vectors) can make t-SNE or UMAP diverge: keep the finite layouts.
    kept = tuple(n for n in names if n == "pca" or (np.isfinite(movies[n].coords).all() and np.isfinite(users[n].coords).all()))
    if not np.isfinite(movies["pca"].coords).all() or not np.isfinite(users["pca"].coords).all():
        raise ValueError("the vectors give a non-finite PCA layout")
    return Layouts(names=kept, movies={n: movies[n] for n in kept}, users={n: users[n] for n in kept}, seconds=seconds)


def layout(name: str, vectors, *, seed: int = 0) -> Layout:
    """One layout of ``vectors`` (N x D) by name; N >= 2."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) < 2:
        raise ValueError(f"a layout needs at least two vectors, got shape {vectors.shape}")
    if name == "pca":
        return Layout("pca", pca_2d(vectors), {"sphereized": True})
    if name == "tsne":
        return tsne_2d(vectors, seed=seed)
    if name == "umap":
        return umap_2d(vectors, seed=seed)
    raise ValueError(f"unknown layout {name!r}")


def pca_2d(vectors) -> np.ndarray:
    """The first two principal components of the unit-length, centred vectors.

    The sign of each component is fixed (its largest loading is positive), so
    the picture does not flip between runs or machines.
    """
    x = normalise(np.asarray(vectors, dtype=np.float32)).astype(np.float64)
    x -= x.mean(axis=0)
    if x.shape[1] == 1:
        return np.column_stack([x[:, 0], np.zeros(len(x))]).astype(np.float32)
    _, components = np.linalg.eigh(x.T @ x)
    top = components[:, ::-1][:, :2]
    signs = np.sign(top[np.abs(top).argmax(axis=0), [0, 1]])
    top = top * np.where(signs == 0, 1, signs)
    return np.ascontiguousarray(x @ top, dtype=np.float32)


def cosine_knn(vectors, k: int, *, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` cosine neighbours of every row (itself excluded), best first.

    Returns ``(indices int64, similarities float32)``.  One BLAS product per
    chunk of rows and ``argpartition``: linear memory, fast up to a few ten
    thousand rows.
    """
    unit = normalise(np.asarray(vectors, dtype=np.float32))
    n = len(unit)
    k = min(k, n - 1)
    indices = np.empty((n, k), dtype=np.int64)
    similarities = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, chunk):
        block = unit[start:start + chunk] @ unit.T
        rows = np.arange(len(block))
        block[rows, rows + start] = -np.inf
        part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(block, part, axis=1)
        # Best first; equal scores by lower index, so the result does not depend on argpartition.
        order = sort_rows(part, values)
        indices[start:start + len(block)] = np.take_along_axis(part, order, axis=1)
        similarities[start:start + len(block)] = np.take_along_axis(values, order, axis=1)
    return indices, similarities


def sort_rows(part: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row, the order that sorts ``values`` descending, equal values by ``part`` ascending."""
    n, k = part.shape
    rows = np.repeat(np.arange(n), k)
    flat = np.lexsort((part.ravel(), -values.ravel(), rows))
    return (flat - rows * k).reshape(n, k)


def _cosine_distances(similarities: np.ndarray) -> np.ndarray:
    """Euclidean distances between unit vectors from their cosine similarities."""
    return np.sqrt(np.maximum(0.0, 2.0 - 2.0 * similarities.astype(np.float64)))


def tsne_2d(vectors, *, seed: int = 0, n_jobs: int | None = None) -> Layout:
    """openTSNE over cosine neighbours with PCA initialisation, seeded.

    ``n_jobs`` defaults to 1 for Barnes-Hut (small inputs: a second thread
    costs more than it gains, measured) and 2 for FFT gradients.
    """
    _require("tsne")
    from openTSNE import TSNEEmbedding, affinity, initialization
    from openTSNE.nearest_neighbors import PrecomputedNeighbors

    unit = normalise(np.asarray(vectors, dtype=np.float32)).astype(np.float64)
    n = len(unit)
    perplexity = float(min(TSNE_PERPLEXITY, max(1.0, (n - 1) / 3)))
    k = min(n - 1, max(1, int(3 * perplexity)))
    n_jobs_knn = n_jobs or 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if n <= EXACT_KNN_MAX:
            indices, similarities = cosine_knn(unit, k)
            knn = PrecomputedNeighbors(indices, _cosine_distances(similarities))
            affinities = affinity.PerplexityBasedNN(knn_index=knn, perplexity=perplexity, n_jobs=n_jobs_knn, random_state=seed)
        else:
            affinities = affinity.PerplexityBasedNN(unit, perplexity=perplexity, method="annoy", metric="euclidean",
                                                    n_jobs=n_jobs or 2, random_state=seed)
        start = initialization.pca(unit, random_state=seed)
        method = "fft" if n >= FFT_FROM else "bh"
        n_jobs = n_jobs or (2 if method == "fft" else 1)
        embedding = TSNEEmbedding(start, affinities, n_jobs=n_jobs, random_state=seed, negative_gradient_method=method)
        # No callbacks: openTSNE evaluates the KL divergence for them, which doubles the cost.
        embedding = embedding.optimize(TSNE_EARLY_ITERATIONS, exaggeration=12, momentum=0.5)
        embedding = embedding.optimize(TSNE_ITERATIONS, momentum=0.8)
    learning_rate = max(200.0, n / 12.0)
    settings = {
        "perplexity": perplexity,
        "iterations": TSNE_EARLY_ITERATIONS + TSNE_ITERATIONS,
        "learning_rate": round(learning_rate, 3),
        "neighbours": "exact cosine" if n <= EXACT_KNN_MAX else "annoy",
        "gradient": method,
    }
    return Layout("tsne", np.ascontiguousarray(embedding, dtype=np.float32), settings)


def umap_2d(vectors, *, seed: int = 0) -> Layout:
    """umap-learn over cosine neighbours, seeded (which also makes it single-threaded)."""
    _require("umap")
    unit = normalise(np.asarray(vectors, dtype=np.float32))
    n = len(unit)
    k = max(2, min(UMAP_NEIGHBOURS, n - 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        umap = _import_umap()
        options = dict(n_neighbors=k, min_dist=UMAP_MIN_DIST, n_components=2, random_state=seed, verbose=False)
        if n <= EXACT_KNN_MAX:
            # umap-learn wants each point as its own first neighbour, at distance 0.
            indices, similarities = cosine_knn(unit, k - 1)
            indices = np.column_stack([np.arange(n), indices])
            distances = np.column_stack([np.zeros(n), _cosine_distances(similarities)]).astype(np.float32)
            options.update(metric="euclidean", precomputed_knn=(indices, distances, None))
            if n <= k + 1:
                options["init"] = "random"  # a spectral layout needs more points than neighbours
        else:
            options.update(metric="cosine")
        coords = umap.UMAP(**options).fit_transform(unit)
    settings = {"n_neighbors": k, "min_dist": UMAP_MIN_DIST, "metric": "cosine"}
    return Layout("umap", np.ascontiguousarray(coords, dtype=np.float32), settings)


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


def _bar(total: int, progress: bool):
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="layouts", unit="layout", leave=False, file=sys.stderr)


# --- projector bookmarks (PROJECTOR_FORMAT.md §5) ------------------------------------------


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
            f"{result.label} of all {n:,} {what}, computed at build time · coloured by {colour_by}",
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
              subset: bool = False) -> dict[str, list[dict]]:
    """``{slug: [State, ...]}`` for ``projector_files(bookmarks=...)``: movies by ``genre``, users by ``top_genre``.

    ``subset``: the bundle holds only the most-rated rows (``--max-points``), which the labels say.
    """
    what = "most-rated {}" if subset else "{}"
    return {
        movie_slug: projector_states(layouts.movies, movie_shape, what=what.format("movies"), colour_by="genre", label_by="title"),
        user_slug: projector_states(layouts.users, user_shape, what=what.format("users"), colour_by="top_genre", label_by="user"),
    }
