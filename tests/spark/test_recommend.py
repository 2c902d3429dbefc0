"""The Spark engine's recommender: pair counts and picks equal a plain-Python reference, and it recommends well.

The co-occurrence counts and the top partners must equal a loop over the
sentences exactly; the recommendations must equal a reference of the same
model (scores to float32 rounding); on the demo's held-out ratings the
recommender must beat popularity by far; and ``evaluate --engine spark``
must print the local default row and the Spark row side by side.
One SparkSession (local[2]) serves the module.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from tests.spark.support import NEEDS_SPARK, fast_spark
from embedder.model.sequences import SequenceParams
from embedder.quality import baselines
from embedder.quality.evaluate import leave_last_out, make_task, measure, rank_users
from embedder.ratings.demo import make_demo
from embedder.ratings.order import ordered_dataset
from embedder.spark.session import SparkParams, spark_session

pytestmark = NEEDS_SPARK

FAST_SPARK = fast_spark(2)


@pytest.fixture(scope="module")
def spark():
    session = spark_session(SparkParams(master="local[2]", conf=FAST_SPARK))
    yield session
    session.stop()


def make_corpus(spark, sentences: dict[int, list[int]]):
    """A SparkCorpus as the recommender reads it: ``frame`` (sentence, words), ``groups``, ``words``."""
    import pyarrow as pa

    groups = np.array(sorted(sentences), dtype=np.int64)
    table = pa.table({"sentence": pa.array(groups, pa.int64()),
                      "words": pa.array([sentences[g] for g in groups], pa.list_(pa.int32()))})
    words = np.array(sorted({w for s in sentences.values() for w in s}), dtype=np.int64)
    return SimpleNamespace(frame=spark.createDataFrame(table), groups=groups, words=words)


def random_sentences(seed: int, n_sentences: int = 40, n_words: int = 25, longest: int = 14) -> dict[int, list[int]]:
    """Sentences of distinct movie codes (not 0..n: codes are sparse, as after filtering), a few popular movies."""
    rng = np.random.default_rng(seed)
    codes = np.sort(rng.choice(1000, n_words, replace=False)) + 3
    weights = 1.0 / np.arange(1, n_words + 1)
    out = {}
    for s in rng.choice(5000, n_sentences, replace=False):
        size = int(rng.integers(1, longest + 1))
        out[int(s)] = [int(c) for c in rng.choice(codes, size, replace=False, p=weights / weights.sum())]
    return out


def pairs_reference(sentences: dict[int, list[int]], window: int) -> Counter:
    """n(a, b) by a loop: every two places at most ``window`` apart, both directions, no movie with itself."""
    n = Counter()
    for words in sentences.values():
        for i, a in enumerate(words):
            for b in words[i + 1:i + 1 + window]:
                if a != b:
                    n[a, b] += 1
                    n[b, a] += 1
    return n


@pytest.mark.parametrize("window", [1, 3, 50])
def test_co_occurrence_equals_a_loop_over_the_sentences(spark, window):
    from embedder.spark.pairs import co_occurrence

    sentences = {**random_sentences(1), 9001: [7, 8, 7, 9], 9002: [5]}  # a repeated movie; a one-movie sentence
    table = co_occurrence(make_corpus(spark, sentences), window).toArrow()
    found = {(a, b): n for a, b, n in zip(*(table.column(c).to_pylist() for c in ("a", "b", "n")))}
    assert found == dict(pairs_reference(sentences, window))
    assert len(found) == table.num_rows  # one row per (a, b)


def test_top_pairs_are_the_largest_counts_ties_to_the_lower_row(spark):
    from embedder.spark.pairs import co_occurrence, top_pairs

    sentences = random_sentences(2)
    corpus = make_corpus(spark, sentences)
    partners, counts = top_pairs(co_occurrence(corpus, 3), corpus.words, 4)
    n = pairs_reference(sentences, 3)
    row = {code: r for r, code in enumerate(corpus.words)}
    for a, code in enumerate(corpus.words):
        ranked = sorted(((-c, row[b]) for (x, b), c in n.items() if x == code))[:4]
        expected = [r for _, r in ranked] + [-1] * (4 - len(ranked))
        assert partners[a].tolist() == expected
        assert counts[a].tolist() == [-c for c, _ in ranked] + [0] * (4 - len(ranked))


@dataclass
class Reference:
    items: list
    scores: list
    because: list


def recommend_reference(sentences, words, supported, params, k) -> list[Reference]:
    """The co-occurrence recommender written out plainly (``embedder.spark.recommend``'s docstring)."""
    n = pairs_reference(sentences, params.window)
    count = Counter(w for s in sentences.values() for w in s)
    allowed = {w for w, ok in zip(words.tolist(), supported) if ok}
    sim = {(a, b): c / (count[a] ** params.alpha * count[b] ** params.beta) for (a, b), c in n.items() if b in allowed}
    partners = {}
    for (a, b), s in sim.items():
        partners.setdefault(a, []).append((-s, b))
    partners = {a: sorted(p)[:params.neighbours] for a, p in partners.items()}
    popular = sorted(allowed, key=lambda w: (-count[w], w))[:4 * k]
    out = []
    for g in sorted(sentences):
        history = sentences[g]
        recent = history[::-1][:params.last_k] if params.last_k else history[::-1]
        total = sum(params.decay ** age for age in range(len(recent)))
        score, best = {}, {}
        for age, a in enumerate(recent):
            weight = params.decay ** age / total
            for s, b in partners.get(a, []):
                term = -s * weight
                score[b] = score.get(b, 0.0) + term
                if b not in best or (term, -a) > best[b]:
                    best[b] = (term, -a)
        picks = sorted((-np.float32(v), b) for b, v in score.items() if b not in history)[:k]
        picked = {b for _, b in picks}
        items = [b for _, b in picks] + [w for w in popular if w not in history and w not in picked][:k - len(picks)]
        scores = [float(-s) for s, _ in picks] + [0.0] * (len(items) - len(picks))
        because = [-best[b][1] for _, b in picks] + [-1] * (len(items) - len(picks))
        out.append(Reference(items, scores, because))
    return out


def test_recommendations_equal_the_reference(spark):
    from embedder.spark.recommend import PairParams, spark_recommendations

    sentences = random_sentences(3, n_sentences=60, n_words=30)
    sentences[9003] = [3, 4]  # two movies seen nowhere else: the list is topped up with popular ones
    corpus = make_corpus(spark, sentences)
    supported = np.arange(len(corpus.words)) % 5 != 1
    params = PairParams(window=3, neighbours=5, last_k=6, decay=0.7, alpha=0.75, beta=0.25)
    recs = spark_recommendations(corpus, ordered=True, k=6, supported=supported, params=params)
    expected = recommend_reference(sentences, corpus.words, supported, params, 6)
    row = {code: r for r, code in enumerate(corpus.words)}
    for i, ref in enumerate(expected):
        assert recs.items[i].tolist() == [row[b] for b in ref.items] + [-1] * (6 - len(ref.items)), i
        assert np.allclose(recs.scores[i][:len(ref.scores)], ref.scores, rtol=1e-6)
        assert recs.because[i].tolist() == [row.get(b, -1) for b in ref.because] + [-1] * (6 - len(ref.because))
    assert recs.items.shape == recs.scores.shape == recs.because.shape == (len(corpus.groups), 6)
    assert recs.settings["method"] == "co-occurrence" and "within 3 places" in recs.describe


@pytest.fixture(scope="module")
def demo_split():
    """The demo log, its leave-last-out test task, and the build's training settings for it."""
    from embedder.config import make_config
    from embedder.ratings.datasets import KNOWN

    dataset = ordered_dataset(make_demo(seed=0, n_movies=200, n_users=300), "auto", seed=0)
    task = make_task(dataset, leave_last_out(dataset.interactions, "test"))
    training = make_config({"dataset": "demo"}, {}, KNOWN).training().for_log(dataset.order.ordered)
    return dataset, task, training


def test_on_the_demo_it_ranks_held_out_movies_far_above_popularity(spark, demo_split):
    from embedder.spark.evaluate import spark_picks

    dataset, task, training = demo_split
    picks = spark_picks(task, dataset, training)
    spark_figures = measure(task, picks.ranking)
    counts = baselines.popularity(task.X)
    popular = measure(task, rank_users(task, lambda rows: np.broadcast_to(counts, (len(rows), task.n_items))))
    assert spark_figures.hr >= 2 * popular.hr
    assert spark_figures.hr > 0.1
    # Lists never hold what the user rated, and only movies the build supports.
    rated = task.X[np.arange(task.n_users)].toarray().astype(bool)
    shown = picks.ranking >= 0
    assert not rated[np.nonzero(shown)[0], picks.ranking[shown]].any()
    assert (shown.sum(axis=1) == 10).all()


def test_picks_are_rated_nowhere_supported_explained_and_repeatable(spark):
    from embedder.spark.read import log_frame
    from embedder.spark.recommend import spark_recommendations
    from embedder.spark.sentences import group_sentences

    dataset = ordered_dataset(make_demo(seed=2, n_movies=80, n_users=120), "auto", seed=0)
    corpus = group_sentences(log_frame(spark, dataset), SequenceParams(), dataset.order.kind, seed=0)
    sentences = corpus.frame.toArrow()
    history = dict(zip(sentences.column("sentence").to_pylist(), sentences.column("words").to_pylist()))
    counts = Counter(w for words in history.values() for w in words)
    supported = np.array([counts[w] >= np.median(list(counts.values())) for w in corpus.words.tolist()])
    first = spark_recommendations(corpus, ordered=True, supported=supported)
    again = spark_recommendations(corpus, ordered=True, supported=supported)
    for name in ("items", "scores", "because"):
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
    for i, group in enumerate(corpus.groups.tolist()):
        rated = set(history[group])
        picked = [corpus.words[r] for r in first.items[i] if r >= 0]
        assert not rated & set(picked)
        assert all(supported[r] for r in first.items[i] if r >= 0)
        assert all(corpus.words[c] in rated for c in first.because[i] if c >= 0)
    assert (first.because >= 0).mean() > 0.9


def test_movies_the_sentence_filters_left_out_are_not_picked_either(spark):
    import pyarrow as pa

    from embedder.spark.recommend import spark_recommendations

    sentences = random_sentences(5)
    corpus = make_corpus(spark, sentences)
    plain = spark_recommendations(corpus, ordered=True, k=3)
    user = int(corpus.groups[0])
    first = int(corpus.words[plain.items[0][0]])  # as if the user had rated it below --min-rating
    rows = [(s, w) for s, words in sentences.items() for w in words] + [(user, first)]
    every = spark.createDataFrame(pa.table({"sentence": pa.array([r[0] for r in rows], pa.int64()),
                                            "b": pa.array([r[1] for r in rows], pa.int64())}))
    excluded = spark_recommendations(corpus, ordered=True, k=3, rated=every)
    assert first not in corpus.words[excluded.items[0][excluded.items[0] >= 0]].tolist()
    assert np.array_equal(excluded.items[1:], plain.items[1:])  # nobody else's list changes


def test_evaluate_engine_spark_prints_the_local_default_and_the_spark_row(spark, tmp_path, capsys):
    from embedder.cli import main

    inter = make_demo(seed=1, n_movies=80, n_users=120).interactions
    lines = [f"{u},{i},{r:.1f},{t}" for u, i, r, t in zip(inter.user_ids[inter.user], inter.item_ids[inter.item],
                                                         inter.rating.tolist(), inter.timestamp.tolist())]
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + "\n".join(lines) + "\n")
    assert main(["evaluate", "--ratings", str(tmp_path / "ratings.csv"), "--engine", "spark", "--no-baselines",
                 "--epochs", "2", "-q"], {}) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(line.startswith("* ") and "(default)" in line for line in lines), out
    spark_rows = [line for line in lines if line.startswith("  spark: co-occurrence")]
    assert len(spark_rows) == 1, out
    assert any(line.startswith("spark: co-occurrence") and "(default)" in line and "ratio" in line for line in lines)


def test_evaluate_engine_spark_without_java_fails_in_one_line(capsys):
    from embedder.cli import main

    assert main(["evaluate", "--dataset", "demo", "--engine", "spark"], {"PATH": "", "JAVA_HOME": ""}) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "--engine spark needs pyspark and Java" in err and "\n" not in err
