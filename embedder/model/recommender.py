"""The build's recommender: the scorer the log's order calls for, as one value the explorer and model card use.

``ScoringParams.for_log`` has already turned ``auto`` into ``io`` (ordered
logs: Word2Vec's own objective with recency) or ``ease`` (unordered logs:
EASE over the supported movies, ``embedder.model.ease``).  ``site_recommender``
trains what the scorer needs and returns a ``Recommender``: a function from
the explorer's rated-movies matrix to ``(items, scores, because)``, and the
words that say what it is and why it was chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from embedder.model.recommend import ScoringParams
from embedder.model.sequences import sentence_matrix
from embedder.values import Sequences, WordVectors

#: Why each scorer is the default where it is (measured on held-out data: docs/quality.md).
WHY = {
    "io": "the default on logs with an order: Word2Vec's own skip-gram objective with the user's latest movies "
          "weighted most ranked held-out movies above EASE on time-ordered logs",
    "ease": "the default on logs without an order: there Word2Vec's scorer has no recency to use and reached "
            "0.67–0.79× EASE's HR@10 on held-out ratings, so EASE over the supported movies recommends",
    "cosine": "chosen with --rec-scoring cosine (it ranks held-out movies below popularity)",
}


@dataclass(frozen=True)
class Recommender:
    """What the explorer calls and the model card shows.

    ``lists(rated)`` takes the (users x movies) CSR matrix of what each user
    on the map rated and returns ``(items, scores, because)``, each
    ``(users x k)``; ``because`` is None when the explorer should pick the
    rated movie most similar to each recommendation itself.
    """

    lists: Callable
    describe: str
    why: str
    settings: dict


def site_recommender(scoring: ScoringParams, sequences: Sequences, words: WordVectors,
                     supported: np.ndarray | None = None, *, seed: int = 0, k: int = 10) -> Recommender:
    """The recommender of a build whose sentences are users (``scoring`` already made concrete by ``for_log``).

    ``supported`` marks the words (movies) the support rule lets EASE
    recommend; rows of ``rated`` follow ``sequences``' sentences and its
    columns ``sequences.token_ids``.
    """
    if scoring.method == "ease":
        from embedder.model.ease import ease_lists, fit_ease

        history = sentence_matrix(sequences)
        model = fit_ease(history, supported, lam=scoring.lam, seed=seed)
        return Recommender(lambda rated: ease_lists(model, history, k, exclude=rated), model.describe(), WHY["ease"],
                           model.settings())
    from embedder.model.recommend import recommend

    def lists(rated):
        picks = recommend(sequences, words, k=k, params=scoring, exclude=rated)
        return picks.items, picks.scores, None

    return Recommender(lists, scoring.describe(), WHY.get(scoring.method, ""), scoring.settings())
