#!/usr/bin/env python3
"""Benchmark the whole build on a MovieLens-25M-shaped synthetic log.

    python benchmarks/bench_scale.py                       # 25M ratings, gensim's reference settings
    python benchmarks/bench_scale.py --scale 0.1 --epochs 1

1. Makes the seeded synthetic log once (``embedder.synthetic.logs``, ml-25m format)
   in ``--data`` (default: the reelspace cache folder's ``synthetic-25m``).
2. Builds the full site from it with ``build.py``'s options (per-stage table,
   peak RSS of the build).
3. Trains gensim Word2Vec alone on the same sentences and settings, the way a
   gensim user would (``Word2Vec(sentences, ...)``: vocabulary scan and
   training), and prints the ratio of the two.
4. Neighbours: the chunked numpy baseline (``argpartition``) against the
   build's search, with HNSW's recall@10 measured against exact answers on
   sampled rows; the baseline's time on the users is extrapolated from a
   sample of rows (printed as such).
5. Feeding gensim: in-memory sentences against ``corpus_file`` mode, one
   epoch on the first ``--feed-share`` of the sentences.

The model settings default to ``--vector-size 100 --window 5 --epochs 5``,
the settings of the issue's reference measurement (gensim's defaults for those
three); everything else is reelspace's.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

print = __import__("functools").partial(print, flush=True)  # figures appear as they are measured
REFERENCE = ["--vector-size", "100", "--window", "5", "--epochs", "5"]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    import argparse

    from embedder.cli import build_parser
    from embedder.config import config_from_args, with_out_dir
    from embedder.ratings.datasets import KNOWN, default_cache_dir
    from embedder.pipeline import build

    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--scale", type=float, default=1.0, help="share of ML-25M's size (default 1: 25,000,095 ratings)")
    own.add_argument("--data", help="folder for the synthetic log (made once, then reused)")
    own.add_argument("--feed-share", type=float, default=0.1, help="share of the sentences for the feeding comparison")
    own.add_argument("--skip", default="", help="comma-separated: alone,neighbours,feed")
    ours, rest = own.parse_known_args(argv)
    skip = set(filter(None, ours.skip.split(",")))

    data = Path(ours.data) if ours.data else default_cache_dir(os.environ) / (
        "synthetic-25m" if ours.scale == 1 else f"synthetic-{ours.scale:g}")
    stats = _synthetic(data, ours.scale)
    print(f"log                {data}: {stats}")

    args = build_parser().parse_args(REFERENCE + ["--ratings", str(data)] + rest)
    args.quiet = True
    config = config_from_args(args, dict(os.environ), KNOWN)
    print(f"word2vec settings  {config.word2vec.settings()}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.out == "output":
            config = with_out_dir(config, Path(tmp) / "site")
        rss_before = peak_rss_mb()
        start = time.perf_counter()
        report = build(config, warn=lambda message: None)
        whole = time.perf_counter() - start
        rss_build = peak_rss_mb()
        _table(report, whole)
        print(f"peak RSS of the build: {rss_build:,.0f} MB (before it: {rss_before:,.0f} MB)")
        print(f"site: {report.site_bytes / 1e6:,.0f} MB; projector points: {dict(report.shapes)}")

        if "neighbours" not in skip:
            _neighbours(config, report)

        from embedder.model.sequences import make_sequences
        from embedder.ratings.sources import load_dataset

        dataset = load_dataset(config.data, progress=False)
        sequences, _ = make_sequences(dataset.interactions, config.sequences)
        del dataset
        if "alone" not in skip:
            alone = _gensim_alone(sequences, config.word2vec)
            print(f"{'gensim alone':<18} {alone:8.1f} s   (Word2Vec(sentences, ...): vocabulary scan + training)")
            print(f"ratio whole build / gensim alone: {whole / alone:.3f}   (target <= 1.15)")
        if "feed" not in skip:
            _feeding(sequences, config.word2vec, ours.feed_share)
    return 0


def _synthetic(folder: Path, scale: float) -> str:
    from embedder.synthetic.logs import SyntheticSpec, write_movielens

    if (folder / "ratings.csv").is_file():
        return "reused"
    spec = SyntheticSpec() if scale == 1 else SyntheticSpec().scaled(scale)
    start = time.perf_counter()
    stats = write_movielens(spec, folder)
    return (f"made in {time.perf_counter() - start:.1f} s: {stats.ratings:,} ratings, {stats.users:,} users, "
            f"{stats.movies:,} movies; per user median {stats.median_length:g}, max {stats.max_length:,}")


def _table(report, whole: float) -> None:
    print(f"dataset            {report.ratings:,} ratings, {report.users:,} users, {report.movies:,} movies")
    print(f"{'stage':<18} {'seconds':>8} {'share':>7}")
    for stage, seconds in report.timings.items():
        print(f"{stage:<18} {seconds:8.1f} {seconds / whole:7.1%}")
    other = whole - report.timings.get("word2vec", 0.0)
    print(f"{'whole build':<18} {whole:8.1f}")
    print(f"{'all but word2vec':<18} {other:8.1f} {other / whole:7.1%}")


def _gensim_alone(sequences, params) -> float:
    from gensim.models import Word2Vec

    from embedder.model.sequences import as_token_lists

    sentences = as_token_lists(sequences)
    start = time.perf_counter()
    Word2Vec(sentences, vector_size=params.vector_size, window=params.window, min_count=1, sg=1, hs=0,
             negative=params.negative, ns_exponent=params.ns_exponent, sample=params.sample, alpha=params.alpha,
             seed=params.seed, workers=params.workers, epochs=params.epochs)
    return time.perf_counter() - start


def _neighbours(config, report) -> None:
    """The build's neighbour search against the chunked numpy baseline, on the vectors the build wrote."""
    from embedder.model.neighbours import exact_nearest, nearest, normalise, recall_at_k

    rng = np.random.default_rng(0)
    folder = Path(config.site.out_dir) / "projector"
    for what, (_, d) in zip(("movies", "users"), list(report.shapes.values())[:2]):
        vectors = np.fromfile(folder / f"{what}.bytes", dtype="<f4").reshape(-1, d)
        n = len(vectors)
        start = time.perf_counter()
        found = nearest(vectors, 10, method=config.site.neighbour_search, threads=config.run.workers)
        ours = time.perf_counter() - start
        sample = np.sort(rng.choice(n, size=min(n, 2000), replace=False))
        exact = exact_nearest(vectors, 10, rows=sample)
        recall = recall_at_k(found, exact, sample)
        rows = n if n <= 60_000 else 8_192
        start = time.perf_counter()
        _numpy_baseline(normalise(vectors), 10, rows)
        baseline = (time.perf_counter() - start) * n / rows
        how = "measured" if rows == n else f"extrapolated from {rows:,} rows"
        print(f"neighbours {what:<7} {n:>8,}: ours {ours:6.1f} s, recall@10 {recall:.4f} (2,000 sampled rows); "
              f"chunked numpy argpartition {baseline:7.1f} s ({how}); {baseline / ours:4.1f}x faster")


def _numpy_baseline(unit: np.ndarray, k: int, rows: int, chunk: int = 2048) -> None:
    for start in range(0, rows, chunk):
        stop = min(start + chunk, rows)
        block = unit[start:stop] @ unit.T
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        part = np.argpartition(block, -k, axis=1)[:, -k:]
        order = np.argsort(-np.take_along_axis(block, part, axis=1), axis=1)
        np.take_along_axis(part, order, axis=1)


def _feeding(sequences, params, share: float) -> None:
    from embedder.model.word2vec import train_word_vectors
    from embedder.values import Sequences

    n = max(1, int(len(sequences) * share))
    part = Sequences(sequences.sentence_ids[:n], sequences.token_ids, sequences.indptr[:n + 1],
                     sequences.tokens[:sequences.indptr[n]])
    used = np.unique(part.tokens)
    remap = np.full(len(sequences.token_ids), -1, dtype=np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    part = Sequences(part.sentence_ids, sequences.token_ids[used], part.indptr, remap[part.tokens])
    for corpus_file in (False, True):
        start = time.perf_counter()
        train_word_vectors(part, replace(params, epochs=1, corpus_file=corpus_file))
        seconds = time.perf_counter() - start
        name = "corpus_file" if corpus_file else "in-memory"
        print(f"feeding gensim: {name:<11} {seconds:6.1f} s for one epoch of {len(part.tokens):,} tokens "
              f"({len(part.tokens) / seconds:,.0f} words/s, {params.workers} workers)")


if __name__ == "__main__":
    sys.exit(main())
