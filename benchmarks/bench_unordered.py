#!/usr/bin/env python3
"""Logs without time: the default recommendations against EASE on a random held-out rating per user.

    python benchmarks/bench_unordered.py --ratings path/to/ml-latest-small path/to/ml-100k --synthetic 1000000
    python benchmarks/bench_unordered.py --ratings path/to/ml-100k --split val      # the split choices are made on

Each log is read, then made unordered in code: its timestamps are dropped and
its rows shuffled (seed 1), so nothing of the original order survives.
``--synthetic N`` adds a ``build.py synthetic`` log of N ratings (drawn in
memory, as ``build.py synthetic --ratings N`` would write it) treated the same way.  Every log is evaluated twice with the
build's default settings: unordered (random leave-one-out) and, as it came,
with its timestamps (leave-last-out by time), so both kinds of figures are
printed side by side.  Per log and protocol it prints HR@10 ± standard error
of the default recommendations, of EASE (lambda tuned on val) and of
Word2Vec's own scorer, their ratio, and the seconds the evaluation took.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def unordered(dataset, seed: int = 1):
    """The dataset without timestamps, its rows shuffled."""
    import numpy as np

    from embedder.values import Interactions

    log = dataset.interactions
    rows = np.random.default_rng(seed).permutation(len(log))
    return replace(dataset, name=f"{dataset.name} (unordered)", order=None, interactions=Interactions(
        log.user_ids, log.item_ids, log.user[rows], log.item[rows], None if log.rating is None else log.rating[rows], None))


def config_for(argv: list[str]):
    import os

    from embedder.cli import build_parser
    from embedder.config import config_from_args
    from embedder.ratings.datasets import KNOWN

    return config_from_args(build_parser().parse_args(argv + ["--quiet"]), dict(os.environ), KNOWN)


def report_line(name: str, report) -> str:
    rows = report.rows
    default = next(r for r in rows if r.default)
    ease = next((r for r in rows if r.family == "baseline" and r.method.startswith("EASE (")), None)
    w2v = max((r for r in rows if r.family == "item2vec"), key=lambda r: r.hr)
    ratio = f"{default.hr / ease.hr:.2f}x" if ease and ease.hr else "–"
    return (f"{name:34s} {report.split['protocol']:28s} default {default.hr:.4f} ± {default.hr_se:.4f} "
            f"({default.method}) | EASE {ease.hr if ease else float('nan'):.4f} ± {ease.hr_se if ease else 0:.4f} | "
            f"best Word2Vec {w2v.hr:.4f} ({w2v.method}) | default/EASE {ratio} | {report.seconds:.0f} s")


def _named(dataset, source: Path):
    return replace(dataset, name=source.name) if dataset.name in ("ratings", "ratings.csv") else dataset


def _synthetic(ratings: int):
    from embedder.synthetic.logs import SyntheticSpec, make_log, to_dataset

    full = SyntheticSpec()
    spec = replace(full.scaled(ratings / full.ratings), ratings=ratings)
    return to_dataset(make_log(spec), name=f"synthetic {ratings:,}")


def main(argv=None) -> int:
    from embedder.quality.runner import EvalOptions, run
    from embedder.ratings.readers import read_dataset

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ratings", nargs="*", default=[], help="MovieLens folders (or ratings files)")
    p.add_argument("--synthetic", type=int, metavar="N", help="also a synthetic log of N ratings")
    p.add_argument("--split", choices=("test", "val"), default="test")
    p.add_argument("--only", choices=("unordered", "ordered"), help="one protocol only (default: both)")
    args = p.parse_args(argv)

    datasets = [lambda source=Path(r): _named(read_dataset(source), source) for r in args.ratings]
    if args.synthetic:
        datasets.append(lambda: _synthetic(args.synthetic))
    config = config_for(["--dataset", "demo"])
    for load in datasets:
        dataset = load()
        for kind in [args.only] if args.only else ["unordered", "ordered"]:
            data = unordered(dataset) if kind == "unordered" else dataset
            started = time.perf_counter()
            report = run(data, config.training(), EvalOptions(split=args.split))
            report.seconds = time.perf_counter() - started
            print(report_line(data.name, report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
