"""Sentences -> word vectors with gensim Word2Vec (skip-gram, negative sampling).

In the default orientation the words are movies, so these are the movie
vectors; with ``--orientation movies`` the words are users.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, replace

import numpy as np

from embedder.model.sequences import (
    GENSIM_MAX_SENTENCE,
    ShuffledSentences,
    as_token_lists,
    first_seen_counts,
    write_corpus_file,
)
from embedder.values import Sequences, WordVectors


@dataclass(frozen=True)
class Word2VecParams:
    """Word2Vec settings.  Defaults are item2vec settings, not gensim's text ones.

    One model serves the map and the recommendations (the held-out
    evaluation, docs/quality.md: chosen on the val split of ml-latest-small and ml-100k, the
    figures are there).  Time-ordered sentences with a wide window capture
    the sessions in which people rate similar films together: they gave the
    most genre-coherent neighbours and, scored through ``syn1neg`` with
    recency (``recommend.py``), recommendations above EASE's on held-out data;
    reshuffling every epoch (``shuffle=True``, the item2vec "set" view) was
    worse on both.  ``ns_exponent=1.0`` gave the most genre-coherent
    neighbours (docs/quality.md); ``sample=0`` because subsampling
    at 1e-5..1e-4 is catastrophic on corpora of ~100k ratings.  10 epochs of
    32 dimensions beat 5 epochs of 50 on both figures (genre Jaccard@10
    0.360 / 0.386 against 0.348 / 0.388; recommendation NDCG@10 +10%) for
    about 1.2x the training time; windows of 30-40 added ~0.005 of genre
    Jaccard on ml-latest-small for 1.5x the time and ranked worse.
    """

    vector_size: int = 32
    window: int = 20
    epochs: int = 10
    negative: int = 5
    ns_exponent: float = 1.0
    sample: float = 0.0
    alpha: float = 0.025
    #: Reshuffle every sentence every epoch; None (auto): only when the log has no order (``for_log``).
    shuffle: bool | None = None
    seed: int = 0
    workers: int = 2
    #: Feed gensim a temporary corpus file (``corpus_file`` mode) instead of
    #: in-memory sentences.  Same model; how it scales with --workers differs
    #: (docs/scale.md).  Not a model setting, so not in ``settings()``.
    corpus_file: bool = False

    def for_log(self, ordered: bool, *, can_shuffle: bool = True) -> "Word2VecParams":
        """The settings for a log that is (or is not) ordered: ``shuffle`` None becomes a choice.

        An unordered log is a set of movies per user, so its sentences are
        reshuffled every epoch (the item2vec "set" view; on shuffled
        ml-latest-small it ranked the held-out movie higher than one fixed
        random order, ``benchmarks/bench_unordered.py``).  A corpus file or
        Spark's Word2Vec cannot reshuffle (``can_shuffle``): they keep the one
        random order the log was arranged in.
        """
        if self.shuffle is not None:
            return self
        return replace(self, shuffle=not ordered and can_shuffle and not self.corpus_file)

    def settings(self) -> dict:
        """The settings as a plain dict (for the site and the summary)."""
        settings = {"sg": 1, "hs": 0, **asdict(self)}
        del settings["corpus_file"]
        return settings


def train_word_vectors(sequences: Sequences, params: Word2VecParams, *, progress: bool = False) -> WordVectors:
    """Train skip-gram Word2Vec on the sentences.

    Returns input vectors (and the output vectors ``syn1neg``) as float32
    arrays whose rows follow ``sequences.token_ids``, whatever order gensim
    keeps its vocabulary in.  With ``workers=1`` and a fixed seed the result
    is byte-identical from run to run.
    """
    from gensim.models import Word2Vec

    model = Word2Vec(
        vector_size=params.vector_size,
        window=params.window,
        min_count=1,  # rare words were already filtered by make_sequences
        sg=1,
        hs=0,
        negative=params.negative,
        ns_exponent=params.ns_exponent,
        sample=params.sample,
        alpha=params.alpha,
        seed=params.seed,
        workers=params.workers,
        epochs=params.epochs,
    )
    # The counts are known: no Python-speed scan of every token to build the vocabulary.
    pieces = int(np.sum(-(-sequences.lengths() // GENSIM_MAX_SENTENCE)))
    model.build_vocab_from_freq(first_seen_counts(sequences), corpus_count=pieces)
    callbacks = [_EpochBar(params.epochs)] if progress else []
    total_words = int(len(sequences.tokens))
    if params.corpus_file:
        with tempfile.TemporaryDirectory(prefix="reelspace-corpus-") as folder:
            path = os.path.join(folder, "corpus.txt")
            write_corpus_file(sequences, path)
            model.train(corpus_file=path, total_examples=pieces, total_words=total_words, epochs=params.epochs,
                        callbacks=callbacks)
    else:
        sentences = as_token_lists(sequences)
        corpus = ShuffledSentences(sentences, params.seed) if params.shuffle else sentences
        model.train(corpus, total_examples=pieces, total_words=total_words, epochs=params.epochs, callbacks=callbacks)
        del sentences, corpus
    for callback in callbacks:
        callback.close()

    rows = np.fromiter((model.wv.key_to_index[key] for key in sequences.token_ids.tolist()), dtype=np.int64, count=len(sequences.token_ids))
    return WordVectors(
        ids=sequences.token_ids,
        vectors=np.ascontiguousarray(model.wv.vectors[rows], dtype=np.float32),
        output_vectors=np.ascontiguousarray(model.syn1neg[rows], dtype=np.float32),
        settings=params.settings(),
    )


class _EpochBar:
    """A tqdm bar that advances once per Word2Vec epoch (a gensim callback)."""

    def __init__(self, epochs: int):
        from tqdm import tqdm

        self._bar = tqdm(total=epochs, desc="word2vec", unit="epoch", leave=False)

    # gensim calls these hooks by name; it does not require the base class.
    def on_train_begin(self, model):
        pass

    def on_epoch_begin(self, model):
        pass

    def on_epoch_end(self, model):
        self._bar.update(1)

    def on_train_end(self, model):
        pass

    def close(self):
        self._bar.close()
