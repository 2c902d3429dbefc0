#!/usr/bin/env python3
"""Benchmark the map: the support rule, the default layout, the regions, and their cost.

    python benchmarks/bench_map.py                                   # ml-latest-small, ml-100k, two long-tail logs
    python benchmarks/bench_map.py --log ml-100k=PATH --log small=PATH:0.7
    python benchmarks/bench_map.py --scale /tmp/synth25m --epochs 1  # the layout at MovieLens-25M size

For each log (``NAME=PATH``, optionally ``:SHARE`` to drop that share of its
users, seeded, for a long tail), Word2Vec is trained with the build's
defaults and the figures of the issue are printed for several support rules:

* ``rare``: the share of the similar-list slots of the 100 most-rated movies
  that hold a movie rated fewer than 5 times (goal <= 1%);
* ``gJac``: genre Jaccard@10 of the lists of the anchor movies (rated at
  least 10 times, with a genre), against item-kNN's (cosine on the binary
  matrix) over the whole catalogue and over the same candidates;
* for the default rule, the default map (``embedder.maps.stage``): genre Jaccard@10
  on the map against the vectors' own, neighbourhood preservation, the layout
  seconds of movies and users, the regions and the whole map stage.

``--scale DIR`` reads a ``build.py synthetic`` log instead, trains a quick
Word2Vec (``--epochs``, default 1: the layout's cost does not depend on it;
``--vectors-cache`` keeps the vectors between runs) and times the map stage of
all its movies and users.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

print = __import__("functools").partial(print, flush=True)  # figures appear as they are measured
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
RULES = (1, 2, 3, 5, 10, 20)
RARE = 5
TOP = 100


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", action="append", metavar="NAME=PATH[:SHARE]",
                        help="a ratings log to measure; SHARE drops that share of its users (default: the four logs above)")
    parser.add_argument("--scale", metavar="DIR", help="time the map stage on this (synthetic, ml-25m-sized) log instead")
    parser.add_argument("--epochs", type=int, default=None, help="Word2Vec epochs (default: the build's; 1 with --scale)")
    parser.add_argument("--vectors-cache", metavar="FILE", help="with --scale: keep the trained vectors in this .npz")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if args.scale:
        return scale(Path(args.scale), epochs=args.epochs or 1, cache=args.vectors_cache, workers=args.workers)
    logs = [parse_log(text) for text in args.log] if args.log else default_logs()
    if not logs:
        print(f"no logs: pass --log NAME=PATH (the defaults read {SHARED})")
        return 1
    for name, path, share in logs:
        measure(name, path, share, epochs=args.epochs, workers=args.workers)
    return 0


def parse_log(text: str) -> tuple[str, Path, float]:
    name, _, rest = text.partition("=")
    path, _, share = rest.partition(":") if not Path(rest).exists() else (rest, "", "")
    return name, Path(path), float(share or 0)


def default_logs() -> list[tuple[str, Path, float]]:
    logs = []
    if (SHARED / "ml-latest-small").is_dir():
        logs.append(("ml-latest-small", SHARED / "ml-latest-small", 0.0))
    if (SHARED / "ml-100k").is_dir():
        logs.append(("ml-100k", SHARED / "ml-100k", 0.0))
    if (SHARED / "ml-latest-small").is_dir():
        logs.append(("ml-latest-small, 70% of users removed", SHARED / "ml-latest-small", 0.7))
    synthetic = Path(os.environ.get("TMPDIR", "/tmp")) / "reelspace-synthetic-0.004"
    if not synthetic.is_dir():
        from embedder.synthetic.logs import SyntheticSpec, write_movielens

        write_movielens(SyntheticSpec().scaled(0.004), synthetic, force=True, progress=False)
    logs.append(("synthetic --scale 0.004", synthetic, 0.0))
    return logs


def load(path: Path, share: float, epochs: int | None, workers: int):
    """The dataset (minus ``share`` of its users), its sentences, and Word2Vec trained with the build's defaults."""
    from embedder.model.word2vec import Word2VecParams, train_word_vectors
    from embedder.ratings.readers import ReadSpec, read_dataset
    from embedder.model.sequences import SequenceParams, make_sequences
    from embedder.model.sentence_vectors import sentence_vectors
    from embedder.values import Interactions

    dataset = read_dataset(path, ReadSpec())
    if share:
        inter = dataset.interactions
        gone = np.random.default_rng(0).random(len(inter.user_ids)) < share
        keep = ~gone[inter.user]
        inter = Interactions(inter.user_ids, inter.item_ids, inter.user[keep], inter.item[keep],
                             None if inter.rating is None else inter.rating[keep],
                             None if inter.timestamp is None else inter.timestamp[keep])
        dataset = replace(dataset, interactions=inter)
    sequences, _ = make_sequences(dataset.interactions, SequenceParams())
    params = Word2VecParams(workers=workers, **({"epochs": epochs} if epochs else {}))
    start = time.perf_counter()
    words = train_word_vectors(sequences, params)
    trained = time.perf_counter() - start
    return dataset, sequences, words, sentence_vectors(sequences, words), trained


def measure(name: str, path: Path, share: float, *, epochs: int | None, workers: int) -> None:
    from embedder.quality.baselines import cosine_similarity, gram
    from embedder.ratings.catalogue import catalogue_rows
    from embedder.maps.stage import make_maps, map_inputs
    from embedder.quality.metrics import genre_jaccard, genre_matrix
    from embedder.model.neighbours import nearest
    from embedder.maps.regions import Catalogue
    from embedder.model.support import support

    dataset, sequences, words, users, trained = load(path, share, epochs, workers)
    rows = catalogue_rows(dataset, words.ids)
    counts = sequences.token_counts()
    genres = tuple(dataset.movies.genres[r] for r in rows)
    matrix, _ = genre_matrix(genres)
    anchors = np.flatnonzero((counts >= 10) & matrix.any(axis=1))
    popular = np.lexsort((np.arange(len(counts)), -counts))[:TOP]
    print(f"\n== {name}: {len(sequences.tokens):,} ratings, {len(users.ids):,} users, {len(words.ids):,} movies "
          f"({np.mean(counts < RARE):.0%} rated fewer than {RARE} times); Word2Vec {trained:.1f} s; "
          f"{len(anchors):,} anchors")

    def figures(lists: np.ndarray) -> tuple[float, float]:
        slots = lists[popular]
        slots = slots[slots >= 0]
        return float(np.mean(counts[slots] < RARE)), genre_jaccard(lists, matrix, anchors)

    # item-kNN on the same ratings: cosine of the binary user x movie matrix.
    X = sentences_matrix(sequences)
    similarity = cosine_similarity(gram(X))
    print(f"{'rule':<34} {'listed':>8} {'rare':>7} {'gJac@10':>8} {'item-kNN same':>14}")
    _, knn_all = figures(top_lists(similarity, np.ones(len(counts), dtype=bool)))
    print(f"{'item-kNN, every movie':<34} {len(counts):>8,} {'':>7} {knn_all:8.3f}")
    for min_ratings in RULES:
        allowed = counts >= min_ratings
        lists = nearest(words.vectors, 10, candidates=allowed, method="exact").indices
        rare, jaccard = figures(lists)
        _, knn = figures(top_lists(similarity, allowed))
        label = f"rated >= {min_ratings} times" + (" (default)" if min_ratings == RARE else "")
        print(f"{label:<34} {int(allowed.sum()):>8,} {rare:7.1%} {jaccard:8.3f} {knn:14.3f}")
    shrunk = (words.vectors / np.linalg.norm(words.vectors, axis=1, keepdims=True))
    scores = shrunk @ shrunk.T * (counts / (counts + 1.0))[None, :]
    np.fill_diagonal(scores, -np.inf)
    rare, jaccard = figures(np.argsort(-scores, axis=1, kind="stable")[:, :10])
    print(f"{'cosine x n/(n+1) (shrinkage)':<34} {len(counts):>8,} {rare:7.1%} {jaccard:8.3f}")

    trusted = support(sequences, words.ids, users.ids)
    _, _, rated = map_inputs(dataset, words.ids, users.ids)
    catalogue = Catalogue(genres, np.asarray(dataset.movies.years)[rows], counts, np.asarray(dataset.movies.titles)[rows])
    start = time.perf_counter()
    maps = make_maps(words.vectors, users.vectors, trusted, catalogue, rated, threads=workers, title=name)
    stage = time.perf_counter() - start
    movies, people = maps.quality["movies"], maps.quality["users"]
    print(f"default map ({maps.default}): movies genre Jaccard@10 {movies.genre_map:.3f} on the map / "
          f"{movies.genre_vectors:.3f} in the vectors = {movies.genre_ratio:.2f}x; preservation@10 movies "
          f"{movies.preservation:.2f}, users {people.preservation:.2f}")
    print(f"layout seconds: movies {movies.seconds:.1f} ({movies.points:,} fitted), users {people.seconds:.1f} "
          f"({people.points:,}); regions: {len(maps.movie_regions.regions)} movies, {len(maps.user_regions.regions)} users; "
          f"whole map stage {stage:.1f} s")
    print("biggest movie regions: " + "; ".join(r.name for r in maps.movie_regions.regions[:8]))


def sentences_matrix(sequences):
    from scipy.sparse import csr_matrix

    users = np.repeat(np.arange(len(sequences)), sequences.lengths())
    X = csr_matrix((np.ones(len(sequences.tokens), dtype=np.float32), (users, sequences.tokens)),
                   shape=(len(sequences), len(sequences.token_ids)))
    X.sum_duplicates()
    X.data[:] = 1
    return X


def top_lists(similarity: np.ndarray, allowed: np.ndarray, k: int = 10) -> np.ndarray:
    """Each row's ``k`` most similar allowed columns (itself excluded), ties to the lower column."""
    scores = np.where(allowed[None, :], similarity, -np.inf).astype(np.float64)
    np.fill_diagonal(scores, -np.inf)
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def scale(folder: Path, *, epochs: int, cache: str | None, workers: int) -> int:
    """The map stage on a MovieLens-25M-sized log: time and figures."""
    import resource

    from embedder.ratings.catalogue import catalogue_rows
    from embedder.maps.stage import make_maps, map_inputs
    from embedder.ratings.readers import ReadSpec, read_dataset
    from embedder.maps.regions import Catalogue
    from embedder.model.sequences import SequenceParams, make_sequences
    from embedder.model.support import support

    dataset = read_dataset(folder, ReadSpec())
    sequences, _ = make_sequences(dataset.interactions, SequenceParams())
    if cache and Path(cache).exists():
        saved = np.load(cache)
        words_vectors, user_vectors = saved["movies"], saved["users"]
        print(f"vectors: from {cache}")
    else:
        from embedder.model.word2vec import Word2VecParams, train_word_vectors
        from embedder.model.sentence_vectors import sentence_vectors

        start = time.perf_counter()
        words = train_word_vectors(sequences, Word2VecParams(epochs=epochs, workers=workers))
        words_vectors, user_vectors = words.vectors, sentence_vectors(sequences, words).vectors
        print(f"vectors: Word2Vec, {epochs} epoch(s), {time.perf_counter() - start:.0f} s")
        if cache:
            np.savez(cache, movies=words_vectors, users=user_vectors)
    rows = catalogue_rows(dataset, sequences.token_ids)
    trusted = support(sequences, sequences.token_ids, sequences.sentence_ids)
    catalogue = Catalogue(tuple(dataset.movies.genres[r] for r in rows), np.asarray(dataset.movies.years)[rows],
                          sequences.token_counts(), np.asarray(dataset.movies.titles)[rows])
    _, _, rated = map_inputs(dataset, sequences.token_ids, sequences.sentence_ids)
    print(f"log: {len(sequences.tokens):,} ratings; {trusted.describe()}")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    maps = make_maps(words_vectors, user_vectors, trusted, catalogue, rated, threads=workers, title=folder.name)
    stage = time.perf_counter() - start
    for key, seconds in maps.layouts.seconds.items():
        print(f"layout {key:<16} {seconds:7.1f} s")
    for side in ("movies", "users"):
        print(f"{side:<7} {maps.quality[side].describe()}; {len(maps.regions(side).regions)} regions")
    print(f"whole map stage (layouts of {len(words_vectors) + len(user_vectors):,} points, regions, figures, picture): "
          f"{stage:.1f} s (budget 180 s); peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB "
          f"(before the stage {before:,.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
