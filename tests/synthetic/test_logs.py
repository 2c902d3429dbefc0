"""The MovieLens-25M-shaped synthetic log: exact shape, no repeats, determinism, the ml-25m files, the CLI."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import embedder.synthetic.logs as synthetic
from embedder.cli import main
from embedder.errors import BuildError, ConfigError
from embedder.ratings.readers import read_dataset
from embedder.synthetic.logs import SyntheticSpec, check_spec, log_stats, make_log, to_dataset, write_movielens
from embedder.synthetic.movies import GENRES, NO_GENRES, TASTES
from embedder.synthetic.sampling import HALF_STARS

SMALL = SyntheticSpec().scaled(0.01)  # 250,001 ratings, 1,625 users, 5,905 movies
TINY = SyntheticSpec(ratings=20_000, users=100, movies=400, max_length=400, max_movie_id=1_000)
FIRST, LAST = 789_652_009, 1_574_327_703  # ml-25m's first and last timestamp


@pytest.fixture(scope="module")
def log():
    return make_log(SMALL)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, log):
    out = tmp_path_factory.mktemp("synthetic") / "ml-synth"
    write_movielens(SMALL, out, log=log)
    return out


def lengths_of(log):
    return np.bincount(log.user, minlength=log.spec.users)


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).iterdir())}


# --- the spec -------------------------------------------------------------------


def test_defaults_are_ml_25m():
    spec = SyntheticSpec()
    assert (spec.ratings, spec.users, spec.movies, spec.max_length, spec.min_length) == \
        (25_000_095, 162_541, 59_047, 32_202, 20)


def test_scaled_keeps_the_shape():
    assert (SMALL.ratings, SMALL.users, SMALL.median_length, SMALL.min_length) == (250_001, 1_625, 70, 20)
    assert SMALL.max_length <= SMALL.movies < SyntheticSpec().movies
    assert SMALL.ratings / SMALL.users == pytest.approx(SyntheticSpec().ratings / SyntheticSpec().users, rel=1e-3)
    for bad in (0, -0.5, 1.5):
        with pytest.raises(ConfigError):
            SyntheticSpec().scaled(bad)


@pytest.mark.parametrize("change, words", [
    ({"max_length": 6_000}, "exceeds the movies"),
    ({"ratings": 1_000}, "too few"),
    ({"median_length": 10}, "min_length <= median_length"),
    ({"taste_share": 1.0}, "taste_share"),
    ({"clusters": 19}, "clusters"),
])
def test_impossible_specs_are_refused_in_one_line(change, words):
    with pytest.raises(ConfigError) as error:
        check_spec(replace(SMALL, **change))
    assert words in str(error.value) and "\n" not in str(error.value)


# --- the log ----------------------------------------------------------------------


def test_totals_are_exact(log):
    assert len(log) == SMALL.ratings
    lengths = lengths_of(log)
    assert (lengths > 0).sum() == SMALL.users
    assert len(np.unique(log.movie)) == len(log.catalogue) == SMALL.movies  # every movie is rated


def test_user_lengths_have_the_asked_shape(log):
    lengths = lengths_of(log)
    assert lengths.min() >= SMALL.min_length
    assert abs(np.median(lengths) - SMALL.median_length) <= 1
    assert lengths.max() == SMALL.max_length
    assert lengths.mean() > 2 * np.median(lengths)  # heavy tail: a few users rate a great deal


def test_rows_are_in_ml_25m_order_without_repeated_pairs(log):
    key = log.user.astype(np.int64) * len(log.catalogue) + log.movie
    assert (np.diff(key) > 0).all()  # by user, then movieId (the catalogue is sorted by id), each pair once
    assert (np.diff(log.catalogue.ids) > 0).all()


def test_popularity_is_zipf_like(log):
    counts = np.sort(np.bincount(log.movie))[::-1]
    top = counts[: len(counts) // 100].sum() / counts.sum()
    assert top > 0.10  # the top 1% of movies hold more than ten times their share
    assert 0.3 < counts[0] / SMALL.users < 0.8  # the most-rated movie: about half of the users, as in ml-25m
    rank = np.arange(1, len(counts) + 1)
    middle = (rank >= 10) & (rank <= len(counts) // 4)
    slope = np.polyfit(np.log(rank[middle]), np.log(counts[middle]), 1)[0]
    assert -2.0 < slope < -0.6
    assert (counts <= 3).mean() > 0.05  # and many movies have only a handful of ratings


def test_heaviest_user_of_a_whole_catalogue_rates_every_movie():
    log = make_log(TINY)
    heaviest = np.argmax(lengths_of(log))
    assert sorted(log.movie[log.user == heaviest]) == list(range(400))


def test_ratings_are_half_stars_with_ml_25m_shares(log):
    assert log.stars.min() >= 1 and log.stars.max() <= 10  # 0.5 .. 5.0
    shares = np.bincount(log.stars, minlength=11)[1:] / len(log)
    assert np.abs(shares - np.array(HALF_STARS) / sum(HALF_STARS)).max() < 0.01
    assert np.argmax(shares) == 7  # 4.0 is the most common
    assert 3.45 < log_stats(log).mean_rating < 3.6


def test_favourite_clusters_are_rated_higher(log):
    favourite = log.catalogue.cluster[log.movie] == log.favourite[log.user, 0]
    assert log.stars[favourite].mean() > log.stars[~favourite].mean() + 0.3


def test_timestamps_come_in_sessions_within_ml_25m_years(log):
    assert log.timestamp.min() >= FIRST and log.timestamp.max() <= LAST
    order = np.lexsort((log.timestamp, log.user))
    user, when = log.user[order], log.timestamp[order]
    same = user[1:] == user[:-1]
    gaps = np.diff(when)[same]
    assert (gaps >= 0).all()
    assert np.median(gaps) < 600  # most ratings follow the previous one within minutes
    assert 0.01 < (gaps > 86_400).mean() < 0.2  # and some come days or years later
    assert len(np.unique(log.timestamp)) > 0.9 * len(log)


def test_same_seed_gives_identical_arrays_and_another_seed_does_not(log):
    again = make_log(SMALL)
    for name in ("user", "movie", "stars", "timestamp"):
        assert np.array_equal(getattr(log, name), getattr(again, name)), name
    assert np.array_equal(log.catalogue.titles, again.catalogue.titles)
    other = make_log(replace(SMALL, seed=1))
    assert not np.array_equal(log.movie, other.movie)
    assert not np.array_equal(log.catalogue.titles, other.catalogue.titles)


def test_genres_list_the_planted_cluster(log):
    genres = log.catalogue.genres
    listed = genres != NO_GENRES
    primary = np.array([t.genre for t in TASTES])[log.catalogue.cluster]
    assert all(p in g.split("|") for p, g in zip(primary[listed], genres[listed]))
    assert 0.02 < (~listed).mean() < 0.15  # ml-25m: 1 movie in 12 has "(no genres listed)"
    assert {g for cell in genres[listed] for g in cell.split("|")} <= set(GENRES)


def test_word2vec_neighbours_recover_the_planted_clusters():
    from embedder.model.word2vec import Word2VecParams, train_word_vectors
    from embedder.model.sequences import SequenceParams, make_sequences

    spec = SyntheticSpec(ratings=40_000, users=300, movies=600, max_length=300, max_movie_id=1_800, clusters=6)
    log = make_log(spec)
    sequences, _ = make_sequences(to_dataset(log).interactions, SequenceParams(min_count=5))
    vectors = train_word_vectors(sequences, Word2VecParams(vector_size=16, window=10, epochs=3, workers=1)).vectors
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cluster = log.catalogue.cluster[np.searchsorted(log.catalogue.ids, sequences.token_ids.astype(int))]
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -2)
    neighbours = np.argsort(-similarity, axis=1)[:, :10]
    agree = (cluster[neighbours] == cluster[:, None]).mean()
    chance = ((np.bincount(cluster) / len(cluster)) ** 2).sum()
    assert agree > 0.6 and agree > 2.5 * chance, (agree, chance)


# --- the folder -------------------------------------------------------------------


def test_folder_reads_back_as_a_movielens_release(folder, log):
    dataset = read_dataset(folder)
    assert dataset.name == "ml-synth" and Path(dataset.source).name == "ratings.csv"
    assert dataset.notes == ()
    it = dataset.interactions
    assert (len(it), len(it.user_ids), len(dataset.movies)) == (SMALL.ratings, SMALL.users, SMALL.movies)
    assert np.array_equal(it.user_ids[it.user].astype(np.int64), log.user + 1)
    assert np.array_equal(it.item_ids[it.item].astype(np.int64), log.catalogue.ids[log.movie])
    assert np.array_equal(it.rating, log.stars / 2)
    assert np.array_equal(it.timestamp, log.timestamp)
    title = dict(zip(log.catalogue.ids.astype(str), log.catalogue.titles))
    assert [title[i] for i in dataset.movies.ids] == list(dataset.movies.titles)
    assert any('"' in t for t in dataset.movies.titles) and any(", The (" in t for t in dataset.movies.titles)
    assert (dataset.movies.years >= 1902).all()
    assert set(dataset.movies.links) == {"imdb", "tmdb"}
    assert all(len(i) == 7 for i in dataset.movies.links["imdb"])
    expected = to_dataset(log)
    assert dict(zip(expected.movies.ids, expected.movies.genres)) == dict(zip(dataset.movies.ids,
                                                                              dataset.movies.genres))


def test_files_have_the_ml_25m_format(folder):
    ratings = (folder / "ratings.csv").read_text().splitlines()
    assert ratings[0] == "userId,movieId,rating,timestamp"
    user, movie, rating, when = ratings[1].split(",")
    assert user == "1" and rating in {f"{s / 2:.1f}" for s in range(1, 11)} and len(when) in (9, 10)
    assert (folder / "movies.csv").read_text().startswith("movieId,title,genres\n")
    assert (folder / "links.csv").read_text().startswith("movieId,imdbId,tmdbId\n")
    readme = (folder / "README.txt").read_text()
    assert readme.startswith(synthetic.MARK) and "NOT MovieLens data" in readme and "seed=0" in readme


def test_writing_is_byte_identical_for_a_seed(tmp_path, folder):
    write_movielens(SMALL, tmp_path / "again")
    assert digest(tmp_path / "again") == digest(folder)


def test_an_existing_log_is_replaced_only_with_force(tmp_path):
    out = tmp_path / "log"
    write_movielens(TINY, out)
    with pytest.raises(BuildError, match="--force"):
        write_movielens(replace(TINY, seed=1), out)
    before = digest(out)
    write_movielens(replace(TINY, seed=1), out, force=True)
    assert digest(out) != before and sorted(p.name for p in tmp_path.iterdir()) == ["log"]


def test_a_folder_it_did_not_write_is_never_replaced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,1\n")
    with pytest.raises(BuildError, match="not a synthetic log"):
        write_movielens(SMALL, mine, force=True)
    assert sorted(p.name for p in mine.iterdir()) == ["ratings.csv"]


def test_an_interrupted_write_leaves_nothing_behind(tmp_path, monkeypatch):
    def fail(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(synthetic, "_write_rows", fail)  # after ratings.csv is written
    with pytest.raises(KeyboardInterrupt):
        write_movielens(TINY, tmp_path / "log")
    assert list(tmp_path.iterdir()) == []


# --- the command ------------------------------------------------------------------


def test_cli_writes_the_folder_and_says_what_next(tmp_path, capsys):
    out = tmp_path / "ml-synth"
    assert main(["synthetic", str(out), "--ratings", "30000", "--seed", "2"]) == 0
    stdout = capsys.readouterr().out.splitlines()
    assert len(stdout) == 2
    assert "30,000 ratings" in stdout[0] and "median 70" in stdout[0] and "most-rated movie" in stdout[0]
    assert stdout[1] == f"next: python build.py --ratings {out}"
    dataset = read_dataset(out)
    assert len(dataset.interactions) == 30_000
    assert main(["synthetic", str(out), "--ratings", "30000", "--seed", "2"]) == 1  # exists: needs --force
    assert "--force" in capsys.readouterr().err
    assert main(["synthetic", str(out), "--scale", "0.001", "--force"]) == 0


@pytest.mark.parametrize("argv, code", [
    (["--scale", "2"], 2), (["--scale", "x"], 2), (["--ratings", "0"], 2), (["--ratings", "9", "--scale", "0.1"], 2),
    (["--no-such-flag"], 2), (["--ratings", "100"], 1), (["--seed", "-1", "--scale", "0.001"], 1),
])
def test_cli_bad_arguments_are_one_line(tmp_path, capsys, argv, code):
    assert main(["synthetic", str(tmp_path / "out"), *argv]) == code
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and "error" in captured.err
    assert not (tmp_path / "out").exists()
