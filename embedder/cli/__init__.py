"""The command line: parse, make the config, call one function, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys

from embedder import __version__
from embedder.errors import ReelspaceError
from embedder.model.word2vec import Word2VecParams
from embedder.ratings.order import CHOICES as LOG_ORDERS
from embedder.model.sequences import SequenceParams
from embedder.model.support import DEFAULT_MIN_RATINGS

DESCRIPTION = """\
Turn a ratings log into embeddings you can see and share.

Each user's rated movies, in time order, are a sentence; gensim Word2Vec learns
movie vectors from them and SIF / uSIF / mean (the fse algorithms) turn each
user's sentence into a user vector.  The result is a static site in --out:
Embedding Projector files (float32 and TSV tensors, metadata, sprite, config),
an index page with a picture of the labelled map, the explorer (every movie
and user on a zoomable t-SNE map with named regions) and nearest-neighbour
lists.

With no data option it builds MovieLens ml-latest-small (downloaded once and
cached; the built-in demo dataset when offline).
"""

EPILOG = """\
examples:
  python build.py                                   # ml-latest-small (or the demo when offline)
  python build.py --dataset demo                    # the built-in synthetic dataset, no download
  python build.py --ratings ../shared/data/ml-100k  # a MovieLens folder, format auto-detected
  python build.py --ratings ratings.dat --sep '::' --columns user,item,rating,timestamp
  python build.py --base-url https://me.github.io/movies/   # adds the "Open in Embedding Projector" link
  python build.py validate output/                  # check a built site against the projector's rules
  python build.py --layouts pca,tsne,umap           # every layout in the explorer and as projector bookmarks
  python build.py --embedders w2v,softmax,textcnn,autoencoder   # the four designs side by side (TensorFlow)
  python build.py publish gh-pages                  # push output/ to the gh-pages branch of origin
  python build.py publish gist                      # upload the projector files to a gist ($GITHUB_TOKEN)
  python build.py evaluate --ratings ../shared/data/ml-100k   # held-out HR@10, NDCG@10, genre Jaccard vs baselines
  python build.py --evaluate                        # the same figures in the index page's model card
  python build.py --engine spark --ratings ml-25m --spark-master spark://host:7077   # the heavy stages on Spark
  python build.py synthetic /tmp/ml-synth --scale 0.01   # a seeded MovieLens-25M-shaped log (1.0 = full size)
  tensorboard --logdir output/tensorboard           # the same embeddings in TensorBoard

reproducibility: --deterministic trains with one worker thread, and with the
same --seed the output is byte-identical from run to run.  gensim documents
that its results can also depend on Python's string hashing; reelspace's
Word2Vec path does not hash strings for initialisation (gensim 4 seeds vectors
from --seed alone), and the byte-identity is checked across interpreter runs in
the tests, but set PYTHONHASHSEED=0 if you compare runs on other gensim versions.

environment: REELSPACE_DATA (dataset cache folder), REELSPACE_MIRROR (base URL
that replaces https://files.grouplens.org/datasets/movielens/).
"""


def build_parser(known_datasets) -> argparse.ArgumentParser:
    """The ``build`` command's options, with the defaults of the typed params."""
    w2v, seq = Word2VecParams(), SequenceParams()
    p = argparse.ArgumentParser(
        prog="build.py",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"reelspace {__version__}")

    g = p.add_argument_group("data")
    g.add_argument("--dataset", metavar="NAME", help=f"a known dataset, downloaded once and cached: demo, {', '.join(sorted(known_datasets))}")
    g.add_argument("--ratings", metavar="PATH", help="a ratings file or a MovieLens folder (format auto-detected)")
    g.add_argument("--sep", metavar="SEP", help="field separator of --ratings, e.g. ',' '\\t' '::' (auto-detected by default)")
    g.add_argument("--columns", metavar="ROLES", help="the columns of --ratings in order, from user,item,rating,timestamp; '-' skips one")
    g.add_argument("--header", dest="header", action="store_true", default=None, help="--ratings has a header line")
    g.add_argument("--no-header", dest="header", action="store_false", help="--ratings has no header line (default: auto-detect)")
    g.add_argument("--encoding", metavar="ENC", help="text encoding of --ratings (default utf-8)")
    g.add_argument("--movies", metavar="FILE", help="an items file for a generic --ratings log")
    g.add_argument("--movies-sep", metavar="SEP", help="field separator of --movies")
    g.add_argument("--movies-columns", metavar="ROLES", help="the columns of --movies in order, from item,title,genres,year; '-' skips one")
    g.add_argument("--movies-header", dest="movies_header", action="store_true", default=None, help="--movies has a header line")
    g.add_argument("--no-movies-header", dest="movies_header", action="store_false", help="--movies has no header line")
    g.add_argument("--movies-encoding", metavar="ENC", help="text encoding of --movies (e.g. latin-1)")
    g.add_argument("--strict", action="store_true", help="make skipped rows (malformed, duplicates, bad bytes) an error")
    g.add_argument("--log-order", choices=LOG_ORDERS, default="auto",
                   help="the order of each user's ratings: auto (default) is time when timestamps order them, else none; "
                        "file: the file's rows are in the order users rated; none: an unordered log (no recency; "
                        "sentences reshuffled; evaluation holds out a random rating)")

    g = p.add_argument_group("sentences")
    g.add_argument("--orientation", choices=("users", "movies"), default=seq.orientation,
                   help="users: a sentence per user, words are movies (default); movies: a sentence per movie, words are its users")
    g.add_argument("--order", choices=("auto", "time", "shuffle"), default="auto",
                   help="words in the log's order (time, or the file's with --log-order file) or reshuffled every "
                        "epoch; auto (default): the log's order, reshuffled when the log has none")
    g.add_argument("--min-rating", type=float, default=seq.min_rating, metavar="R", help="drop ratings below R (default: keep all)")
    g.add_argument("--min-count", type=int, default=seq.min_count, metavar="N", help=f"drop words seen fewer than N times (default {seq.min_count})")
    g.add_argument("--min-length", type=int, default=seq.min_length, metavar="N", help=f"drop sentences shorter than N words (default {seq.min_length})")

    g = p.add_argument_group("word2vec (skip-gram, negative sampling)")
    g.add_argument("--vector-size", type=int, default=w2v.vector_size, metavar="D", help=f"dimensions (default {w2v.vector_size})")
    g.add_argument("--window", type=int, default=w2v.window, metavar="N", help=f"context window (default {w2v.window})")
    g.add_argument("--epochs", type=int, default=w2v.epochs, metavar="N", help=f"passes over the corpus (default {w2v.epochs})")
    g.add_argument("--negative", type=int, default=w2v.negative, metavar="N", help=f"negative samples (default {w2v.negative})")
    g.add_argument("--ns-exponent", type=float, default=w2v.ns_exponent, metavar="X", help=f"negative-sampling exponent (default {w2v.ns_exponent})")
    g.add_argument("--sample", type=float, default=w2v.sample, metavar="T", help=f"down-sampling threshold (default {w2v.sample:g})")
    g.add_argument("--alpha", type=float, default=w2v.alpha, metavar="LR", help=f"initial learning rate (default {w2v.alpha})")
    g.add_argument("--seed", type=int, default=w2v.seed, help=f"random seed (default {w2v.seed})")
    g.add_argument("--workers", type=int, default=w2v.workers, metavar="N", help=f"training threads (default {w2v.workers})")
    g.add_argument("--deterministic", action="store_true", help="one worker thread: byte-identical output for the same --seed")
    g.add_argument("--corpus-file", action="store_true",
                   help="feed gensim a temporary corpus file (its corpus_file mode) instead of in-memory sentences: "
                        "less memory, scales better past 2 workers (README \"Scale\")")

    g = p.add_argument_group("user vectors")
    g.add_argument("--user-vectors", choices=("sif", "usif", "mean"), default="sif", help="SIF (default), uSIF or plain mean")
    g.add_argument("--sif-alpha", type=float, default=1e-3, metavar="A", help="SIF's smoothing constant a (default 1e-3)")

    g = p.add_argument_group("embedders (TensorFlow models beside Word2Vec)")
    g.add_argument("--embedders", default="w2v", metavar="LIST",
                   help="embeddings to build side by side, from w2v,softmax,textcnn,autoencoder (default w2v; w2v is always "
                        "the base); the others need TensorFlow and are cached under the dataset cache folder's models/")
    g.add_argument("--model-epochs", type=int, metavar="N",
                   help="most epochs per TensorFlow model (default: each model's own; all stop early on a validation split)")
    g.add_argument("--retrain", action="store_true", help="retrain the TensorFlow models even when the model cache has them")
    g.add_argument("--no-model-cache", action="store_true", help="neither read nor write the model cache")

    g = p.add_argument_group("engine (where the heavy stages run; README \"Beyond one machine: Apache Spark\")")
    g.add_argument("--engine", choices=("local", "spark"), default="local",
                   help="local: pyarrow, numpy and gensim in this process (default); spark: read, sentences, Word2Vec "
                        "and user vectors on Apache Spark (pip install -r requirements-spark.txt; Java 17+)")
    g.add_argument("--spark-master", metavar="URL",
                   help="where Spark runs: local[4], spark://host:7077, yarn, k8s://... (default: what spark-submit "
                        "or spark-defaults.conf gives, else local[*])")
    g.add_argument("--spark-conf", action="append", metavar="KEY=VALUE",
                   help="a Spark setting, e.g. spark.driver.memory=8g or spark.executor.instances=4; repeatable")
    g.add_argument("--spark-word2vec-partitions", type=int, metavar="N",
                   help="numPartitions of Spark's Word2Vec (default 1: one sequential SGD, the closest to gensim; "
                        "more trains in parallel, with coarser vectors)")

    g = p.add_argument_group("site")
    g.add_argument("--out", default="output", metavar="DIR", help="where the site goes (default output/); replaced whole on success")
    g.add_argument("--base-url", metavar="URL", help="https:// address the site will be served at; adds the projector link and hosted config")
    g.add_argument("--posters", metavar="DIR", help="local poster images named by movie id, IMDb id (tt0114709) or TMDB id, for the sprite")
    g.add_argument("--neighbours", type=int, default=10, metavar="K", help="neighbours listed per movie (default 10)")
    g.add_argument("--min-support", type=int, default=DEFAULT_MIN_RATINGS, metavar="N",
                   help=f"movies and users rated fewer than N times are kept out of neighbour lists, the map's layout and "
                        f"regions and the projector files; they stay searchable, placed beside the nearest well-rated "
                        f"point (default {DEFAULT_MIN_RATINGS}; 1 keeps everyone)")
    g.add_argument("--max-points", type=int, metavar="N",
                   help="keep only the N most-rated movies and the N most active users in the projector files "
                        "(the explorer keeps them all); for catalogues too big for the projector to stay responsive")
    g.add_argument("--neighbour-search", choices=("auto", "exact", "hnsw"), default="auto",
                   help="how nearest neighbours are found: exact, hnsw (an HNSW graph, recall@10 >= 0.99 measured), "
                        "or auto (default: exact up to 60,000 points)")
    g.add_argument("--sprite-tile", type=int, default=64, metavar="PX", help="preferred thumbnail size; shrunk to fit 8192 px (default 64)")
    g.add_argument("--tensorboard-logdir", metavar="DIR", help="where the TensorBoard logdir goes (default OUT/tensorboard/)")
    g.add_argument("--no-tensorboard", action="store_true", help="write no TensorBoard logdir")
    g.add_argument("--projector-html", metavar="PATH",
                   help="a standalone projector index.html (your clone of tensorflow/embedding-projector-standalone) to self-host in OUT/projector/")
    g.add_argument("--layouts", default="auto", metavar="LIST",
                   help="2-D layouts for the explorer and the projector bookmarks, from pca,tsne,umap (PCA always); "
                        "default auto: t-SNE (the default map) and PCA")
    g.add_argument("--movie-pages", action="store_true", help="also write a static page per movie, movies/<id>.html (no JavaScript)")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bars (they are shown only on a terminal anyway)")

    # Issue 5: how recommendations are scored, and --evaluate for the model card (embedder.cli.evaluate).
    from embedder.cli.evaluate import add_build_options

    add_build_options(p)
    return p


def main(argv: list[str] | None = None, env: dict | None = None) -> int:
    """Run ``build.py``; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ if env is None else env)
    try:
        if argv[:1] == ["validate"]:
            return _validate(argv[1:])
        if argv[:1] == ["evaluate"]:  # issue 5: held-out figures (embedder.cli.evaluate)
            from embedder.cli.evaluate import main as evaluate_main

            return evaluate_main(argv[1:], env)
        if argv[:1] == ["publish"]:
            from embedder.publish import main as publish_main

            return publish_main(argv[1:], env)
        if argv[:1] == ["synthetic"]:  # a MovieLens-25M-shaped synthetic log (embedder.cli.synthetic)
            from embedder.cli.synthetic import main as synthetic_main

            return synthetic_main(argv[1:])
        if argv[:1] == ["build"]:
            argv = argv[1:]
        return _build(argv, env)
    except ReelspaceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        from embedder.output import interrupted_message

        print(interrupted_message(), file=sys.stderr)  # what each output folder holds now, read from the disk
        return 130


def _build(argv: list[str], env: dict) -> int:
    from embedder.config import config_from_args, output_targets
    from embedder.ratings.datasets import KNOWN
    from embedder.output import hold_targets
    from embedder.pipeline import build

    args = build_parser(KNOWN).parse_args(argv)
    # Progress bars are for people at a terminal, not for logs and pipes.
    args.quiet = args.quiet or not sys.stderr.isatty()
    config = config_from_args(args, env, KNOWN)
    # One build per output folder at a time: locked before training, released on any exit.
    with hold_targets(output_targets(config.site)):
        report = build(config)
    print(report.summary())
    return 0


def _validate(argv: list[str]) -> int:
    from embedder.site.validate import main as validate_main

    return validate_main(argv)
