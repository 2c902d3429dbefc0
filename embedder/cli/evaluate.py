"""``build.py evaluate``: the build's data and model settings (from ``embedder.settings``), plus what to report."""

from __future__ import annotations

import argparse
import json
import sys


DESCRIPTION = """\
Measure the build's embeddings on held-out data.

Each user's last-rated movie (by time; users with >= 5 ratings) is held out
-- or, on a log without a usable order, a random one (seeded by --seed);
the model is trained on the rest with the same settings the build uses (one
worker thread, so --seed makes it deterministic) and every method ranks all
movies, rated ones excluded.  Reported per method: HR@10, NDCG@10, catalogue
coverage@10, the genre Jaccard@10 of movies' nearest neighbours (movies with
>= 10 ratings) against random neighbours, next-item HR@10 by similarity to
the last training movie, and training time -- beside popularity, item-kNN and
EASE, whose settings are chosen on a validation split (each user's
second-to-last movie).

With --engine spark the same split's training ratings also go to Spark, where
the Spark engine's recommender (movies rated close to the user's latest ones,
counted on the cluster) is trained and ranks every user's movies; its row,
"spark: ...", is measured beside the local ones and compared with the local
default.  The local rows are trained as the local engine trains them.
"""

EPILOG = """\
examples:
  {cmd} evaluate --ratings path/to/ml-latest-small
  {cmd} evaluate --ratings path/to/ml-100k --json > ml-100k.json
  {cmd} evaluate --dataset demo --split val --repeats 3
  {cmd} evaluate --ratings path/to/ml-100k --window 5 --rec-decay 1   # try other settings
  {cmd} evaluate --config output/build.json     # the settings of an earlier build
  {cmd} evaluate --ratings path/to/ml-100k --engine spark --spark-master local[4]   # and the Spark row
"""

#: The settings groups ``evaluate`` takes: what it trains and scores, and how it runs (no site options).
GROUPS = ("data", "sentences", "word2vec", "user_vectors", "recommendations", "engine", "run")


def evaluate_parser() -> argparse.ArgumentParser:
    """The build's data and model options (from the settings schema) and the evaluate options."""
    from embedder.invocation import command
    from embedder.settings import add_options

    p = argparse.ArgumentParser(prog=f"{command()} evaluate", description=DESCRIPTION,
                                epilog=EPILOG.format(cmd=command()), formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(p, GROUPS)
    g = p.add_argument_group("evaluate")
    g.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    g.add_argument("--split", choices=("test", "val"), default="test",
                   help="report the test split (default) or the validation split the defaults are chosen on")
    g.add_argument("--repeats", type=int, default=1, metavar="N",
                   help="train Word2Vec with N seeds (--seed, --seed+1, ...) and report mean and spread (default 1)")
    g.add_argument("--no-baselines", action="store_true", help="skip item-kNN and EASE (popularity is always reported)")
    return p


def main(argv: list[str], env: dict) -> int:
    """Run ``build.py evaluate``."""
    from dataclasses import replace

    from embedder.config import config_from_args
    from embedder.errors import ConfigError
    from embedder.quality.runner import EvalOptions, run
    from embedder.ratings.datasets import KNOWN
    from embedder.ratings.sources import load_dataset

    args = evaluate_parser().parse_args(argv)
    if args.repeats < 1:
        raise ConfigError(f"--repeats must be at least 1, got {args.repeats}")
    config = config_from_args(args, env, KNOWN)
    quiet = not config.run.progress or not sys.stderr.isatty()
    config = replace(config, run=replace(config.run, progress=False))  # no build progress bars: evaluate says its steps
    spark = config.spark if config.engine == "spark" else None
    config = replace(config, engine="local", spark=None)  # the local rows are the local engine's
    say = (lambda message: None) if quiet else (lambda message: print(f"evaluate: {message}", file=sys.stderr))
    dataset = load_dataset(config.data, progress=not quiet, warn=lambda m: print(m, file=sys.stderr))
    report = run(dataset, config.training(),
                 EvalOptions(split=args.split, repeats=args.repeats, baselines=not args.no_baselines, spark=spark),
                 say=say)
    print(json.dumps(report.to_dict(), indent=1, ensure_ascii=False) if args.json else report.table())
    return 0
