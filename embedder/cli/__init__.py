"""The command line: parse, make the config, call one function, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys

from embedder import __version__
from embedder.errors import ReelspaceError
from embedder.invocation import command

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
  {cmd}                                   # ml-latest-small (or the demo when offline)
  {cmd} --dataset demo                    # the built-in synthetic dataset, no download
  {cmd} --ratings path/to/ml-100k         # a MovieLens folder, format auto-detected
  {cmd} --ratings ratings.dat --sep '::' --columns user,item,rating,timestamp
  {cmd} --config build.toml               # settings from a file ([data], [word2vec], [site], [run] ...)
  {cmd} --config output/build.json --out rebuilt   # repeat an earlier build, elsewhere
  {cmd} --base-url https://me.github.io/movies/   # adds the "Open in Embedding Projector" link
  {cmd} validate output/                  # check a built site against the projector's rules
  {cmd} --layouts pca,tsne,umap           # every layout in the explorer and as projector bookmarks
  {cmd} --embedders w2v,softmax,textcnn,autoencoder   # the four designs side by side (TensorFlow)
  {cmd} publish gh-pages                  # push output/ to the gh-pages branch of origin
  {cmd} publish gist                      # upload the projector files to a gist ($GITHUB_TOKEN)
  {cmd} evaluate --ratings path/to/ml-100k   # held-out HR@10, NDCG@10, genre Jaccard vs baselines
  {cmd} --evaluate                        # the same figures in the index page's model card
  {cmd} --engine spark --ratings ml-25m --spark-master spark://host:7077   # the heavy stages on Spark
  {cmd} synthetic /tmp/ml-synth --scale 0.01   # a seeded MovieLens-25M-shaped log (1.0 = full size)
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


def build_parser() -> argparse.ArgumentParser:
    """The ``build`` command's options, generated from the settings schema (``embedder.settings``)."""
    from embedder.settings import add_options

    p = argparse.ArgumentParser(prog=command(), description=DESCRIPTION, epilog=EPILOG.format(cmd=command()),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"reelspace {__version__}")
    add_options(p)
    return p


def main(argv: list[str] | None = None, env: dict | None = None) -> int:
    """Run ``build.py``; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ if env is None else env)
    try:
        if argv[:1] == ["validate"]:
            return _validate(argv[1:])
        if argv[:1] == ["evaluate"]:  # held-out figures (embedder.cli.evaluate)
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
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in REQUIRED:
            raise
        print(f"error: {missing_dependency(error.name)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        from embedder.output import interrupted_message

        print(interrupted_message(), file=sys.stderr)  # what each output folder holds now, read from the disk
        return 130


#: The packages every command needs (requirements.txt): missing, they mean the wrong Python, not a bug.
REQUIRED = ("numpy", "pandas", "pyarrow", "scipy", "gensim", "jinja2", "PIL", "sklearn", "openTSNE", "numba", "tqdm",
            "pooch", "hnswlib", "ghp_import", "platformdirs", "requests", "tensorboard")


def missing_dependency(name: str) -> str:
    """One line for a missing required package: which Python ran, and the command that works."""
    from pathlib import Path

    venv = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python"
    fix = (f"run it with the project's virtualenv: {venv} build.py ... (or `source .venv/bin/activate` first)"
           if venv.exists() and Path(sys.executable).resolve() != venv.resolve() else
           "install the requirements: python -m pip install -r requirements.txt (or pip install .)")
    return f"the package {name!r} is not installed for {sys.executable}: {fix}"


def _build(argv: list[str], env: dict) -> int:
    from dataclasses import replace

    from embedder.config import build_problems, config_from_args
    from embedder.errors import ConfigError
    from embedder.folders import output_targets
    from embedder.ratings.datasets import KNOWN
    from embedder.output import hold_targets
    from embedder.pipeline import build

    args = build_parser().parse_args(argv)
    config = config_from_args(args, env, KNOWN)
    if build_problems(config):
        raise ConfigError("; ".join(build_problems(config)))
    if config.run.progress and not sys.stderr.isatty():  # progress bars are for people at a terminal, not for logs
        config = replace(config, run=replace(config.run, progress=False))
    # One build per output folder at a time: locked before training, released on any exit.
    with hold_targets(output_targets(config.site)):
        report = build(config)
    print(report.summary())
    return 0


def _validate(argv: list[str]) -> int:
    from embedder.site.validate import main as validate_main

    return validate_main(argv)
