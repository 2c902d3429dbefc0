#!/usr/bin/env python3
"""Benchmark SIF / uSIF / mean user vectors at MovieLens-25M scale.

    python benchmarks/bench_user_vectors.py [--users 162541] [--movies 59047] [--ratings 25000095] [--dim 50]

Builds synthetic sentences of that shape (heavy-tailed user lengths, Zipf-like
movie popularity) and random movie vectors, then times each method and prints
users per second.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embedder.model.sentence_vectors import METHODS, sentence_vectors  # noqa: E402
from embedder.values import Sequences, WordVectors  # noqa: E402


def synthetic(users: int, movies: int, ratings: int, dim: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    lengths = np.maximum(2, rng.lognormal(mean=np.log(70), sigma=1.1, size=users)).astype(np.int64)
    lengths = np.maximum(2, (lengths * ratings / lengths.sum()).astype(np.int64))
    tokens = (rng.zipf(1.3, size=int(lengths.sum())) - 1) % movies
    seq = Sequences(
        sentence_ids=np.arange(users).astype(str).astype(object),
        token_ids=np.arange(movies).astype(str).astype(object),
        indptr=np.concatenate([[0], np.cumsum(lengths)]),
        tokens=tokens.astype(np.int32),
    )
    words = WordVectors(ids=seq.token_ids, vectors=rng.standard_normal((movies, dim)).astype(np.float32))
    return seq, words


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=162_541)
    p.add_argument("--movies", type=int, default=59_047)
    p.add_argument("--ratings", type=int, default=25_000_095)
    p.add_argument("--dim", type=int, default=50)
    args = p.parse_args(argv)
    start = time.perf_counter()
    seq, words = synthetic(args.users, args.movies, args.ratings, args.dim)
    print(f"synthetic corpus: {len(seq):,} users, {len(seq.tokens):,} ratings, {args.movies:,} movies, d={args.dim} "
          f"(made in {time.perf_counter() - start:.1f} s)")
    for method in METHODS:
        start = time.perf_counter()
        out = sentence_vectors(seq, words, method)
        seconds = time.perf_counter() - start
        print(f"{method:<5} {seconds:6.2f} s   {len(seq) / seconds:>10,.0f} users/s   finite={bool(np.isfinite(out.vectors).all())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
