"""``build.py evaluate``: the build's data and model options, plus what to report; and the build's
recommendation-scoring options and ``--evaluate``.
"""

from __future__ import annotations

import argparse
import json
import sys

from embedder.model.recommend import SCORINGS, ScoringParams

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
"""

EPILOG = """\
examples:
  python build.py evaluate --ratings ../shared/data/ml-latest-small
  python build.py evaluate --ratings ../shared/data/ml-100k --json > ml-100k.json
  python build.py evaluate --dataset demo --split val --repeats 3
  python build.py evaluate --ratings ../shared/data/ml-100k --window 5 --rec-decay 1   # try other settings
"""

#: Option groups of the build parser that say nothing to ``evaluate`` (hidden from its --help).
_NOT_FOR_EVALUATE = ("site", "embedders", "model card")


def add_build_options(parser: argparse.ArgumentParser) -> None:
    """The build's options for how recommendations are scored, and ``--evaluate``."""
    d = ScoringParams()
    g = parser.add_argument_group("recommendations (embedder.model.recommend)")
    g.add_argument("--rec-scoring", choices=SCORINGS, default=d.method,
                   help="io: user context . Word2Vec output vectors (syn1neg) + popularity prior; cosine: against the "
                        "input vectors; ease: EASE over the supported movies; auto (default): io on ordered logs, "
                        "ease on unordered ones")
    g.add_argument("--rec-decay", type=float, default=d.decay, metavar="G",
                   help=f"recency: the user context weighs their k-th most recent movie G^k (default {d.decay:g}; 1 = plain mean)")
    g.add_argument("--rec-last-k", type=int, default=d.last_k, metavar="K",
                   help=f"use only the last K rated movies (default {d.last_k}: all)")
    g.add_argument("--rec-prior", type=float, default=d.prior, metavar="W",
                   help=f"weight of log(rating count) added to io scores (default {d.prior:g})")
    g.add_argument("--rec-lambda", type=float, default=d.lam, metavar="L",
                   help="EASE's regularisation (ease scoring; default: chosen on one held-out rating per user)")
    g = parser.add_argument_group("model card")
    g.add_argument("--evaluate", action="store_true",
                   help="also run the evaluation (as `build.py evaluate`) and put its table in the index page's model card")


def scoring_from_args(args) -> ScoringParams:
    """The scoring settings from parsed arguments (defaults where a parser lacks them)."""
    d = ScoringParams()
    return ScoringParams(
        method=getattr(args, "rec_scoring", d.method),
        decay=getattr(args, "rec_decay", d.decay),
        last_k=getattr(args, "rec_last_k", d.last_k),
        prior=getattr(args, "rec_prior", d.prior),
        lam=getattr(args, "rec_lambda", d.lam),
    )


def evaluate_parser(known_datasets) -> argparse.ArgumentParser:
    """The build's parser (same data and model options), re-labelled, with the evaluate options."""
    from embedder.cli import build_parser

    p = build_parser(known_datasets)
    p.prog = "build.py evaluate"
    p.description = DESCRIPTION
    p.epilog = EPILOG
    for group in p._action_groups:
        if group.title and group.title.startswith(_NOT_FOR_EVALUATE):
            for action in group._group_actions:
                action.help = argparse.SUPPRESS
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
    from embedder.config import config_from_args
    from embedder.ratings.datasets import KNOWN
    from embedder.errors import ConfigError
    from embedder.quality.evaluate import EvalOptions, run
    from embedder.ratings.sources import load_dataset

    args = evaluate_parser(KNOWN).parse_args(argv)
    if args.repeats < 1:
        raise ConfigError(f"--repeats must be at least 1, got {args.repeats}")
    quiet = args.quiet or not sys.stderr.isatty()
    args.quiet = True  # no build progress bars; evaluate prints its own steps
    config = config_from_args(args, env, KNOWN)
    say = (lambda message: None) if quiet else (lambda message: print(f"evaluate: {message}", file=sys.stderr))
    dataset = load_dataset(config.data, progress=not quiet, warn=lambda m: print(m, file=sys.stderr))
    report = run(dataset, config, config.scoring,
                 EvalOptions(split=args.split, repeats=args.repeats, baselines=not args.no_baselines), say=say)
    print(json.dumps(report.to_dict(), indent=1, ensure_ascii=False) if args.json else report.table())
    return 0
