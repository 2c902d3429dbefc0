"""``--engine spark``: Spark in local[2] gives what the local engine gives.

Grouping, the log's figures and the user vectors must match the local engine
exactly (or to float32 rounding; reading is ``test_read.py``'s); Spark's Word2Vec is a different trainer (hierarchical
softmax), so it is held to the planted clusters of the demo instead, and to
overlapping with gensim's neighbours.  One SparkSession serves the module.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from tests.spark.support import NEEDS_SPARK, fast_spark
from embedder.ratings.demo import make_demo_with_truth
from embedder.model.word2vec import Word2VecParams, train_word_vectors
from embedder.model.neighbours import nearest
from embedder.ratings.readers import read_dataset
from embedder.model.sequences import SequenceParams, make_sequences
from embedder.spark import (SparkParams, group_sentences, log_frame, missing_spark, spark_sentence_vectors,
                            spark_session, train_word2vec)
from embedder.spark.sentences import collect_sequences
from embedder.model.sentence_vectors import sentence_vectors
from embedder.values import WordVectors

pytestmark = NEEDS_SPARK

FAST_SPARK = fast_spark(2)
SMALL_W2V = Word2VecParams(vector_size=16, window=5, epochs=5, seed=0)


@pytest.fixture(scope="module")
def spark():
    session = spark_session(SparkParams(master="local[2]", conf=FAST_SPARK))
    yield session
    session.stop()


def write_movielens(folder, dataset, extra_lines=()):
    """Write ``dataset`` as a MovieLens ratings.csv + movies.csv folder; ``extra_lines`` go after the ratings."""
    folder.mkdir(parents=True, exist_ok=True)
    inter = dataset.interactions
    users, items = inter.user_ids[inter.user], inter.item_ids[inter.item]
    lines = ["userId,movieId,rating,timestamp"]
    lines += [f"{u},{i},{r:.1f},{t}" for u, i, r, t in zip(users, items, inter.rating.tolist(), inter.timestamp.tolist())]
    (folder / "ratings.csv").write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    with open(folder / "movies.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["movieId", "title", "genres"])
        for movie, title, genres in zip(dataset.movies.ids, dataset.movies.titles, dataset.movies.genres):
            writer.writerow([movie, title, "|".join(genres) or "(no genres listed)"])
    return folder


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The demo's planted clusters, small: (dataset, cluster of each movie, MovieLens folder)."""
    dataset, cluster = make_demo_with_truth(seed=0, n_movies=200, n_users=300)
    return dataset, cluster, write_movielens(tmp_path_factory.mktemp("planted") / "ml-planted", dataset)


def assert_same_sequences(spark_seq, local_seq):
    for name in ("sentence_ids", "token_ids", "indptr", "tokens"):
        assert np.array_equal(getattr(spark_seq, name), getattr(local_seq, name)), name
    assert spark_seq.tokens.dtype == local_seq.tokens.dtype == np.int32


# --- sentences ----------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [
    SequenceParams(),
    SequenceParams(min_rating=3.5),
    SequenceParams(min_count=58),
    SequenceParams(min_length=60),
    SequenceParams(min_rating=3.0, min_count=45, min_length=30),
    SequenceParams(orientation="movies", min_count=30, min_length=60),
], ids=["defaults", "min-rating", "min-count", "min-length", "all-filters", "movies"])
def test_grouping_equals_make_sequences(spark, planted, params):
    dataset, _, _ = planted
    corpus = group_sentences(log_frame(spark, dataset), params)
    local, report = make_sequences(dataset.interactions, params)
    assert_same_sequences(collect_sequences(corpus), local)
    assert corpus.report == report
    for name in ("sentence_ids", "token_ids"):  # what the driver gets: the counts only
        assert np.array_equal(getattr(corpus.counts, name), getattr(local, name)), name
    assert np.array_equal(corpus.counts.lengths(), local.lengths())
    assert np.array_equal(corpus.counts.token_counts(), local.token_counts())
    if params != SequenceParams():
        assert len(local.tokens) < len(dataset.interactions)  # the filters did remove something


def test_timestamp_ties_keep_the_file_order(spark, tmp_path):
    folder = tmp_path / "ml-ties"
    folder.mkdir()
    rows = ["u1,m10,4.0,5", "u2,m12,3.0,1", "u1,m11,4.0,3", "u1,m12,2.0,5", "u1,m13,4.0,3", "u2,m10,4.0,1",
            "u3,m10,4.0,7"]
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n")
    log = log_frame(spark, read_dataset(folder))
    corpus = group_sentences(log, SequenceParams())
    seq = collect_sequences(corpus)
    first = seq.token_ids[seq.tokens[seq.indptr[0]:seq.indptr[1]]]
    assert seq.sentence_ids.tolist() == ["u1", "u2"] and first.tolist() == ["m11", "m13", "m10", "m12"]
    assert seq.token_ids[seq.tokens[seq.indptr[1]:]].tolist() == ["m12", "m10"]
    assert corpus.report.dropped_short_sentences == 1  # u3
    assert_same_sequences(seq, make_sequences(read_dataset(folder).interactions, SequenceParams())[0])


def test_an_unordered_log_gets_a_seeded_random_order_and_file_order_is_kept_when_asked(spark, planted):
    dataset, _, _ = planted
    log = log_frame(spark, dataset)
    by_file = collect_sequences(group_sentences(log, SequenceParams(), "file"))
    shuffled = collect_sequences(group_sentences(log, SequenceParams(), "none", seed=3))
    again = collect_sequences(group_sentences(log, SequenceParams(), "none", seed=3))
    assert np.array_equal(shuffled.tokens, again.tokens)  # seeded
    assert not np.array_equal(shuffled.tokens, by_file.tokens)
    words = lambda seq, s: sorted(seq.token_ids[seq.tokens[seq.indptr[s]:seq.indptr[s + 1]]].tolist())
    assert all(words(shuffled, s) == words(by_file, s) for s in range(len(by_file)))  # the same sets
    inter = dataset.interactions
    first = np.flatnonzero(inter.user == 0)  # the file order of user 0's rows
    assert by_file.token_ids[by_file.tokens[:by_file.indptr[1]]].tolist() == inter.item_ids[inter.item[first]].tolist()


# --- user vectors -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["sif", "usif", "mean"])
def test_sentence_vectors_equal_the_local_ones(spark, planted, method):
    dataset, _, _ = planted
    corpus = group_sentences(log_frame(spark, dataset), SequenceParams(min_rating=2.0))
    rng = np.random.default_rng(1)
    tokens = corpus.counts.token_ids
    words = WordVectors(ids=tokens, vectors=rng.normal(0.3, 1.0, (len(tokens), 12)).astype(np.float32))
    got = spark_sentence_vectors(corpus, words, method, alpha=2e-3)
    want = sentence_vectors(collect_sequences(corpus), words, method, alpha=2e-3)
    assert np.array_equal(got.ids, want.ids) and got.method == want.method == method
    assert got.vectors.dtype == np.float32 and got.vectors.shape == want.vectors.shape == (len(corpus.groups), 12)
    assert np.allclose(got.vectors, want.vectors, rtol=1e-4, atol=1e-5 * np.abs(want.vectors).max())


# --- the log's figures -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["time", "none"])
def test_the_whole_logs_figures_equal_the_local_ones(spark, planted, kind):
    from embedder.ratings.catalogue import log_user_stats, movie_stats, time_range, user_genre_table
    from embedder.ratings.order import LogOrder, arrange, timed_share
    from embedder.site.explorer_lists import latest_ratings
    from embedder.site.projector import primary_genres
    from embedder.spark.figures import cluster_dataset, timed_share as spark_timed_share

    dataset, _, _ = planted
    log = log_frame(spark, dataset)
    assert spark_timed_share(log) == timed_share(dataset.interactions)
    order = LogOrder(kind, "test", 5 if kind == "none" else None)
    local = arrange(dataset, order)
    got = cluster_dataset(log, order, history=40)
    assert got.order == order and got.stats.history == 40 and got.stats.ratings == len(dataset.interactions)
    for figure in (movie_stats, log_user_stats):
        (counts, mean), (want_counts, want_mean) = figure(got), figure(local)
        assert np.array_equal(counts, want_counts) and np.allclose(mean, want_mean, rtol=1e-12)
    primary = primary_genres(dataset.movies)
    names, table = user_genre_table(got, primary)
    assert np.array_equal(names, user_genre_table(local, primary)[0])
    assert np.array_equal(table, user_genre_table(local, primary)[1])
    assert time_range(got) == time_range(local) and (time_range(got) is None) == (kind == "none")
    # Only each user's latest 40 ratings come to the driver (a random 40 when the log has no order).
    latest = got.interactions
    assert np.bincount(latest.user).max() == 40 < np.bincount(dataset.interactions.user).max()
    if kind == "time":
        want, capped = latest_ratings(dataset.interactions, 40)
        assert capped
        for name in ("user", "item", "rating", "timestamp"):
            assert np.array_equal(getattr(latest, name), getattr(want, name)), name
    else:
        assert latest.timestamp is None
        pairs = set(zip(latest.user.tolist(), latest.item.tolist()))
        assert pairs <= set(zip(dataset.interactions.user.tolist(), dataset.interactions.item.tolist()))


# --- word2vec -----------------------------------------------------------------------------------


def purity_and_neighbours(words: WordVectors, truth: np.ndarray):
    """Share of each movie's top-10 neighbours in its own planted cluster, and the neighbours."""
    found = nearest(words.vectors, 10).indices
    return float((truth[found] == truth[:, None]).mean()), found


def test_word2vec_finds_the_planted_clusters_like_gensim(spark, planted):
    dataset, cluster, _ = planted
    corpus = group_sentences(log_frame(spark, dataset), SequenceParams())
    got = train_word2vec(corpus, SMALL_W2V)
    local = train_word_vectors(collect_sequences(corpus), SMALL_W2V)
    assert np.array_equal(got.ids, local.ids) and got.vectors.shape == local.vectors.shape == (len(local.ids), 16)
    assert got.vectors.dtype == np.float32 and np.isfinite(got.vectors).all()
    assert got.output_vectors is None and got.settings["engine"] == "spark" and got.settings["hs"] == 1
    truth = cluster[np.searchsorted(dataset.movies.ids.astype(int), got.ids.astype(int))]
    purity, spark_top = purity_and_neighbours(got, truth)
    local_purity, local_top = purity_and_neighbours(local, truth)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(spark_top.tolist(), local_top.tolist())])
    # Measured over demo seeds 0-4 x Word2Vec seeds 0-1 (README): purity 1.00 for both engines (chance: 1/8),
    # overlap@10 0.47-0.50 (two unrelated orders inside perfect clusters of ~25: ~0.42; unrelated vectors: ~0.05).
    assert purity >= 0.9 and local_purity >= 0.9
    assert overlap >= 0.3
    once = replace(SMALL_W2V, epochs=1)
    assert np.array_equal(train_word2vec(corpus, once).vectors, train_word2vec(corpus, once).vectors)  # seeded


# --- the command line ---------------------------------------------------------------------------


def test_cli_builds_a_valid_site_on_spark(spark, planted, tmp_path, capsys):
    from build import main

    _, _, folder = planted
    out = tmp_path / "site"
    code = main(["--engine", "spark", "--ratings", str(folder), "--out", str(out), "--epochs", "2", "--vector-size", "8",
                 "--layouts", "pca", "-q"], env={})
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert "read " in stdout and "sentences " in stdout and "word2vec " in stdout and "user vectors " in stdout
    for name in ("index.html", "projector/projector_config.json", "projector/movies.bytes", "projector/users.bytes"):
        assert (out / name).is_file(), name
    assert main(["validate", str(out)]) == 0
    # The site and the model card name Spark's settings, not gensim's.
    card = json.loads((out / "data" / "model_card.json").read_text())
    assert card["settings"]["word2vec"]["engine"] == "spark" and card["settings"]["word2vec"]["hs"] == 1
    assert "pyspark.ml.feature.Word2Vec" in (out / "index.html").read_text(encoding="utf-8")


def test_cli_demo_on_spark(spark, tmp_path, capsys):
    from build import main

    out = tmp_path / "site"
    assert main(["--engine", "spark", "--dataset", "demo", "--out", str(out), "--epochs", "1", "--vector-size", "4",
                 "--layouts", "pca", "--no-tensorboard", "-q"], env={}) == 0
    assert "built demo" in capsys.readouterr().out


def test_cli_known_dataset_comes_from_the_cache(spark, planted, tmp_path, capsys):
    from build import main

    _, _, folder = planted
    shutil.copytree(folder, tmp_path / "cache" / "ml-latest-small")  # as `fetch` leaves it: nothing is downloaded
    out = tmp_path / "site"
    assert main(["--engine", "spark", "--dataset", "ml-latest-small", "--out", str(out), "--epochs", "1",
                 "--vector-size", "4", "--layouts", "pca", "--no-tensorboard", "-q"],
                env={"REELSPACE_DATA": str(tmp_path / "cache")}) == 0
    assert "built ml-latest-small" in capsys.readouterr().out


@pytest.mark.parametrize("argv, expected", [
    (["--ratings", "{bad}", "--strict"], "ratings.csv:3: expected 4 columns, found 2"),
    (["--ratings", "{bad}", "--spark-conf", "spark.driver.memory"], "--spark-conf 'spark.driver.memory' is not KEY=VALUE"),
    (["--ratings", "{bad}", "--negative", "10"], "hierarchical softmax"),
    (["--ratings", "{bad}", "--order", "shuffle"], "--order shuffle"),
    (["--ratings", "{bad}", "--evaluate"], "build.py evaluate --engine spark"),
    (["--ratings", "{bad}", "--rec-scoring", "ease"], "co-occurrence model trained on the cluster"),
], ids=["malformed-strict", "conf", "negative", "shuffle", "evaluate", "rec-scoring"])
def test_cli_refuses_bad_input_in_one_line(spark, tmp_path, capsys, argv, expected):
    from build import main

    (tmp_path / "ml-100k").mkdir()
    (tmp_path / "ml-100k" / "u.data").write_text("1\t2\t3\t4\n")
    (tmp_path / "ml-bad").mkdir()
    (tmp_path / "ml-bad" / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,2,3.0,4\n1,2\n")
    argv = [arg.format(ml100k=tmp_path / "ml-100k", bad=tmp_path / "ml-bad") for arg in argv]
    code = main(["--engine", "spark", *argv, "--out", str(tmp_path / "site"), "-q"], env={"REELSPACE_DATA": str(tmp_path)})
    err = capsys.readouterr().err
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in err
    assert not (tmp_path / "site").exists()


def test_spark_options_need_the_spark_engine(tmp_path, capsys):
    from build import main

    code = main(["--dataset", "demo", "--spark-master", "local[2]", "--out", str(tmp_path / "s")], env={})
    assert code == 1 and "pass --engine spark too" in capsys.readouterr().err


def test_missing_java_is_a_config_problem():
    assert missing_spark({"PATH": "/nonexistent"}) == [
        "--engine spark needs pyspark and Java 17+: pip install -r requirements-spark.txt"]
    assert missing_spark({"PATH": "/usr/bin:/bin", "JAVA_HOME": ""}) == []
