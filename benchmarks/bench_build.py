#!/usr/bin/env python3
"""Benchmark a whole build: per-stage wall time, peak RSS, and build / Word2Vec-alone.

    python benchmarks/bench_build.py --ratings path/to/ml-latest-small
    python benchmarks/bench_build.py --dataset demo --epochs 10

Takes the same data and model options as ``build.py`` (the site goes to a
temporary folder unless --out is given).  After the build it trains gensim
Word2Vec alone on the same sentences with the same settings, so the ratio says
what everything else costs on top of training.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    from embedder.cli import build_parser
    from embedder.config import config_from_args, with_out_dir
    from embedder.ratings.datasets import KNOWN
    from embedder.model.word2vec import train_word_vectors
    from embedder.pipeline import build
    from embedder.model.sequences import make_sequences
    from embedder.ratings.sources import load_dataset

    args = build_parser().parse_args(argv)
    args.quiet = True
    config = config_from_args(args, dict(os.environ), KNOWN)
    with tempfile.TemporaryDirectory() as tmp:
        if args.out == "output":
            config = with_out_dir(config, Path(tmp) / "site")
        start = time.perf_counter()
        report = build(config)
        whole = time.perf_counter() - start
        rss_build = peak_rss_mb()

        dataset = load_dataset(config.data, progress=False)
        sequences, _ = make_sequences(dataset.interactions, config.sequences)
        start = time.perf_counter()
        train_word_vectors(sequences, config.word2vec)
        alone = time.perf_counter() - start

    print(f"dataset            {report.dataset}: {report.ratings:,} ratings, {report.users:,} users, {report.movies:,} movies")
    print(f"word2vec settings  {config.word2vec.settings()}")
    print(f"{'stage':<18} {'seconds':>8}")
    for stage, seconds in report.timings.items():
        print(f"{stage:<18} {seconds:8.2f}")
    print(f"{'whole build':<18} {whole:8.2f}")
    print(f"{'word2vec alone':<18} {alone:8.2f}")
    print(f"ratio whole build / word2vec alone: {whole / alone:.2f}")
    print(f"peak RSS during the build: {rss_build:.0f} MB")
    print(f"site size: {report.site_bytes / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
