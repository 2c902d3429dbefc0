import numpy as np
import pytest

from embedder.errors import DataError
from embedder.model.sequences import SequenceParams, ShuffledSentences, as_token_lists, make_sequences
from tests.helpers import interactions

LOG = [
    ("u1", "m3", 4.0, 30),
    ("u1", "m1", 5.0, 10),
    ("u2", "m2", 2.0, 5),
    ("u1", "m2", 3.0, 20),
    ("u2", "m1", 4.5, 5),   # same second as the row above: file order breaks the tie
    ("u3", "m1", 1.0, 1),   # a user with one rating
]


def sentences(seq):
    return {sid: seq.token_ids[seq.tokens[a:b]].tolist() for sid, a, b in zip(seq.sentence_ids, seq.indptr[:-1], seq.indptr[1:])}


def test_users_are_sentences_in_time_order():
    seq, report = make_sequences(interactions(LOG), SequenceParams())
    assert sentences(seq) == {"u1": ["m1", "m2", "m3"], "u2": ["m2", "m1"]}
    assert report.dropped_short_sentences == 1  # u3


def test_without_timestamps_file_order_is_kept():
    seq, _ = make_sequences(interactions(LOG, with_time=False), SequenceParams())
    assert sentences(seq)["u1"] == ["m3", "m1", "m2"]


def test_movies_orientation_makes_audiences():
    seq, _ = make_sequences(interactions(LOG), SequenceParams(orientation="movies"))
    assert sentences(seq) == {"m1": ["u3", "u2", "u1"], "m2": ["u2", "u1"]}


def test_min_rating_and_min_count():
    seq, report = make_sequences(interactions(LOG), SequenceParams(min_rating=3.0))
    assert report.dropped_low_ratings == 2
    assert sentences(seq) == {"u1": ["m1", "m2", "m3"]}  # u2 kept only m1: too short
    seq, report = make_sequences(interactions(LOG), SequenceParams(min_count=2))
    assert report.dropped_rare_words == 1  # m3
    assert sentences(seq) == {"u1": ["m1", "m2"], "u2": ["m2", "m1"]}
    with pytest.raises(DataError, match="no sentences left"):
        make_sequences(interactions(LOG), SequenceParams(min_rating=3.0, min_count=2))


def test_long_sentences_are_split_not_truncated():
    rows = [("u", f"m{i}", 1.0, i) for i in range(25)] + [("v", "m0", 1.0, 0), ("v", "m1", 1.0, 1)]
    seq, _ = make_sequences(interactions(rows), SequenceParams())
    lists = as_token_lists(seq, max_length=10)
    assert [len(s) for s in lists] == [10, 10, 5, 2]
    assert sum(lists[:3], []) == [f"m{i}" for i in range(25)]


def test_shuffled_sentences_reshuffle_each_pass_reproducibly():
    corpus = [[str(i) for i in range(20)]]
    first, second = list(ShuffledSentences(corpus, 1)), None
    again = ShuffledSentences(corpus, 1)
    a1, a2 = list(again), list(again)
    assert first == a1 and a1 != a2
    assert sorted(a2[0], key=int) == corpus[0]
