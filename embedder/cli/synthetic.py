"""``build.py synthetic``: write a seeded MovieLens-25M-shaped log (:mod:`embedder.synthetic.logs`) to a folder."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

from embedder.invocation import command
from embedder.synthetic.logs import SyntheticSpec, write_movielens

DESCRIPTION = """\
Write a seeded synthetic ratings log with the shape of MovieLens 25M in the
ml-25m file format (ratings.csv, movies.csv, links.csv, README.txt).

The full size is 25,000,095 ratings by 162,541 users of 59,047 movies: at
least 20 ratings per user, median 70, one user with 32,202; Zipf-like movie
popularity (the most-rated movie ~84k ratings); half-star ratings; timestamps
1995-2019.  Movies fall into planted taste clusters named after their primary
genre, and users favour one or two of them.  --ratings and --scale make a
smaller log of the same shape.  The folder is written atomically, and only an
empty folder or an earlier synthetic log (with --force) is replaced.
"""

EPILOG = """\
examples:
  python build.py synthetic /tmp/ml-synth-25m                 # the full size (about 30 s and 1.4 GB of memory)
  python build.py synthetic /tmp/ml-synth --scale 0.01        # 250,001 ratings, 1,625 users, 5,905 movies
  python build.py synthetic /tmp/ml-synth --ratings 1000000 --seed 3 --force
  python build.py --ratings /tmp/ml-synth                     # then build the site from it
"""


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit status 2, not argparse's usage block
        raise _UsageError(message)


def parser() -> argparse.ArgumentParser:
    """The ``synthetic`` subcommand's options."""
    p = _Parser(prog="build.py synthetic", description=DESCRIPTION, epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out_dir", metavar="OUT_DIR", help="the folder to write (created; replaced only with --force)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--ratings", type=int, metavar="N",
                      help=f"exactly N ratings, users and movies scaled to match; at most {SyntheticSpec.ratings:,} "
                           f"(the default)")
    size.add_argument("--scale", type=float, metavar="F", help="a fraction in (0, 1] of the full size")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0); the same seed writes the same bytes")
    p.add_argument("--force", action="store_true", help="replace OUT_DIR if it holds an earlier synthetic log")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar (shown only on a terminal anyway)")
    return p


def spec_from_args(args) -> SyntheticSpec:
    """The spec the options ask for; ``--ratings N`` is ``--scale N/25,000,095`` with exactly N ratings."""
    full = SyntheticSpec(seed=args.seed)
    if args.ratings is not None:
        if not 0 < args.ratings <= full.ratings:
            raise _UsageError(f"--ratings must be 1..{full.ratings}, got {args.ratings}")
        return replace(full.scaled(args.ratings / full.ratings), ratings=args.ratings)
    if args.scale is not None:
        if not 0 < args.scale <= 1:
            raise _UsageError(f"--scale must be in (0, 1], got {args.scale:g}")
        return full.scaled(args.scale)
    return full


def main(argv: list[str]) -> int:
    """Run ``build.py synthetic``; returns the exit status (errors other than usage raise ReelspaceError)."""
    try:
        args = parser().parse_args(argv)
        spec = spec_from_args(args)
    except _UsageError as problem:
        print(f"build.py synthetic: error: {problem}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    stats = write_movielens(spec, args.out_dir, force=args.force, progress=not args.quiet and sys.stderr.isatty())
    print(f"wrote {args.out_dir}: {stats.summary()}; {time.perf_counter() - started:.1f} s")
    print(f"next: {command()} --ratings {args.out_dir}")
    return 0
