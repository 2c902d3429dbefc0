"""Sentences -> word vectors with gensim Word2Vec (skip-gram, negative sampling).

In the default orientation the words are movies, so these are the movie
vectors; with ``--orientation movies`` the words are users.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .sequences import ShuffledSentences, as_token_lists
from .values import Sequences, WordVectors


@dataclass(frozen=True)
class Word2VecParams:
    """Word2Vec settings.  Defaults are item2vec settings, not gensim's text ones.

    The defaults are the "similar movies / projector neighbourhoods" profile
    measured in ../shared/QUALITY.md §4-§5 on ml-latest-small and ml-1m: with
    time-ordered sentences a wide window (20) captures the sessions in which
    people rate similar films together; ``ns_exponent=1.0`` (negatives drawn
    in proportion to popularity) gave the most genre-coherent neighbours
    (genre-Jaccard@10 0.347 / 0.733 against 0.236 / 0.589 for gensim's text
    defaults); ``sample=0`` because subsampling at 1e-5..1e-4 was catastrophic
    on corpora of ~100k ratings (it drops almost every movie), and 1e-3 was no
    better than 0; 5 epochs suffice for this profile and keep the build fast.
    ``vector_size`` 50-200 and ``negative`` 5-15 made no measurable difference,
    so 50 keeps the files small.  ``shuffle=True`` reshuffles every user's
    movies on each epoch (the item2vec "set" view), which is better for
    user recommendations but worse for neighbourhoods.
    """

    vector_size: int = 50
    window: int = 20
    epochs: int = 5
    negative: int = 5
    ns_exponent: float = 1.0
    sample: float = 0.0
    alpha: float = 0.025
    shuffle: bool = False
    seed: int = 0
    workers: int = 2

    def settings(self) -> dict:
        """The settings as a plain dict (for the site and the summary)."""
        return {"sg": 1, "hs": 0, **asdict(self)}


def train_word_vectors(sequences: Sequences, params: Word2VecParams, *, progress: bool = False) -> WordVectors:
    """Train skip-gram Word2Vec on the sentences.

    Returns input vectors (and the output vectors ``syn1neg``) as float32
    arrays whose rows follow ``sequences.token_ids``, whatever order gensim
    keeps its vocabulary in.  With ``workers=1`` and a fixed seed the result
    is byte-identical from run to run.
    """
    from gensim.models import Word2Vec

    sentences = as_token_lists(sequences)
    corpus = ShuffledSentences(sentences, params.seed) if params.shuffle else sentences
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
    model.build_vocab(corpus)
    callbacks = [_EpochBar(params.epochs)] if progress else []
    total_words = int(len(sequences.tokens))
    model.train(corpus, total_examples=len(sentences), total_words=total_words, epochs=params.epochs, callbacks=callbacks)
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
