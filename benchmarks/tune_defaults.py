#!/usr/bin/env python3
"""Choose the Word2Vec and recommendation defaults on the val split (never on test).

    python benchmarks/tune_defaults.py --ratings path/to/ml-latest-small --out val-small.jsonl
    python benchmarks/tune_defaults.py --ratings path/to/ml-100k --seeds 0 1 --configs 'window=30,epochs=8'

For every Word2Vec setting (``--configs``: comma-separated overrides of the
build's defaults, one setting per argument; ``order=shuffle`` reshuffles), and
every seed, it trains on the val split's training data (one worker thread)
and measures on the val targets: the similar-movies figures (genre Jaccard@10
of the neighbours, next-item HR@10), HR/NDCG@10 of the SIF / uSIF / mean
cosine user vectors, and HR/NDCG@10 of the io scoring over a grid of recency
``decay`` x popularity ``prior``.  One JSON line per (setting, seed) goes to
``--out``; a summary per setting is printed.  The selection rule and its
outcome are in the README's "Quality" section.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DECAYS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
PRIORS = (0.0, 0.25, 0.5, 0.6, 0.75, 1.0)


def parse_config(text: str) -> dict:
    """``'window=30,epochs=8'`` -> Word2VecParams overrides (``order=shuffle`` -> shuffle=True)."""
    out = {}
    for part in filter(None, text.split(",")):
        key, value = part.split("=")
        if key == "order":
            out["shuffle"] = value == "shuffle"
        elif key in ("vector_size", "window", "epochs", "negative"):
            out[key] = int(value)
        else:
            out[key] = float(value)
    return out


def main(argv=None) -> int:
    from embedder.quality.evaluate import leave_last_out, make_task, measure, rank_users, similar_figures
    from embedder.timing import Timer
    from embedder.model.word2vec import Word2VecParams, train_word_vectors
    from embedder.ratings.readers import read_dataset
    from embedder.model.recommend import ScoringParams
    from embedder.quality.scorers import item2vec_methods, io_method
    from embedder.model.sequences import SequenceParams, make_sequences
    from embedder.model.sentence_vectors import METHODS, sentence_vectors

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ratings", required=True, help="a MovieLens folder")
    p.add_argument("--configs", nargs="*", default=[""], help="Word2Vec overrides, e.g. 'window=30,epochs=8' ('' = defaults)")
    p.add_argument("--seeds", nargs="*", type=int, default=[0, 1])
    p.add_argument("--out", help="append one JSON line per (setting, seed) here")
    args = p.parse_args(argv)

    dataset = read_dataset(Path(args.ratings))
    task = make_task(dataset, leave_last_out(dataset.interactions, "val"))
    sequences, _ = make_sequences(task.split.train, SequenceParams())
    for text in args.configs:
        params = replace(Word2VecParams(workers=1), **parse_config(text))
        summary = []
        for seed in args.seeds:
            cpu = time.process_time()
            with Timer() as timer:
                words = train_word_vectors(sequences, replace(params, seed=seed))
            cpu = time.process_time() - cpu
            vectors = {m: sentence_vectors(sequences, words, m).vectors for m in METHODS}
            methods = item2vec_methods(task, sequences, words, vectors, ScoringParams(), timer.seconds)
            sim = similar_figures(task, methods[0].similarity)
            record = {"dataset": dataset.name, "config": text, "seed": seed, "settings": params.settings(),
                      "train_seconds": timer.seconds, "train_cpu": cpu, "genre_jaccard": sim.genre_jaccard,
                      "next_hr": sim.next_hr, "cosine": {}, "io": {}}
            for method in methods[:len(METHODS)]:
                f = measure(task, rank_users(task, method.scores))
                record["cosine"][method.settings["user_vectors"]] = [f.hr, f.ndcg, f.coverage]
            for decay in DECAYS:
                for prior in PRIORS:
                    m = io_method(task, sequences, words, ScoringParams("io", decay=decay, prior=prior), "io")
                    f = measure(task, rank_users(task, m.scores))
                    record["io"][f"{decay},{prior}"] = [f.hr, f.ndcg, f.coverage]
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(record) + "\n")
            summary.append(record)
        _print_summary(text, summary)
    return 0


def _print_summary(text: str, records: list[dict]) -> None:
    import numpy as np

    mean = lambda get: float(np.mean([get(r) for r in records]))
    best = max(records[0]["io"], key=lambda key: mean(lambda r: r["io"][key][1]))
    cos = " ".join(f"{m} {mean(lambda r: r['cosine'][m][0]):.4f}/{mean(lambda r: r['cosine'][m][1]):.4f}"
                   for m in records[0]["cosine"])
    print(f"{records[0]['dataset']} [{text or 'defaults'}] cpu {mean(lambda r: r['train_cpu']):.1f}s "
          f"gJac {mean(lambda r: r['genre_jaccard']):.3f} nextHR {mean(lambda r: r['next_hr']):.4f} | cosine {cos} | "
          f"io best (decay,prior)=({best}) {mean(lambda r: r['io'][best][0]):.4f}/{mean(lambda r: r['io'][best][1]):.4f}",
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
