"""The scale options through the whole pipeline on small data: --max-points, --neighbour-search, --corpus-file, user neighbours."""

import json
import re
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from build import main
from embedder.ratings.demo import make_demo
from embedder.model.word2vec import Word2VecParams, train_word_vectors
from embedder.model.sequences import SequenceParams, as_token_lists, first_seen_counts, make_sequences

FAST = ["--epochs", "2", "--vector-size", "8", "-q"]


def payload(path):
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.index(",") + 1: text.rindex(")")])


def projector_config(site):
    return json.loads((site / "projector" / "projector_config.json").read_text())


@pytest.mark.slow
def test_max_points_keeps_the_most_rated_in_the_projector_and_everything_in_the_explorer(tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["--dataset", "demo", "--out", str(out), "--max-points", "50", *FAST], env={}) == 0
    dataset = make_demo(seed=0)
    inter = dataset.interactions
    config = projector_config(out)
    movies = next(e for e in config["embeddings"] if e["tensorName"].startswith("movies"))
    users = next(e for e in config["embeddings"] if e["tensorName"].startswith("users"))
    assert movies["tensorShape"][0] == 50 and users["tensorShape"][0] == 50
    assert (out / "projector" / movies["tensorPath"]).stat().st_size == 50 * movies["tensorShape"][1] * 4
    # The 50 most-rated movies, no other: their titles in the metadata.
    counts = np.bincount(inter.item, minlength=len(inter.item_ids))
    top = set(np.argsort(-counts, kind="stable")[:50].tolist())
    rows = (out / "projector" / movies["metadataPath"]).read_text(encoding="utf-8").splitlines()[1:]
    assert len(rows) == 50
    titles = {str(dataset.movies.titles[i]) for i in top}
    assert {row.split("\t")[0] for row in rows} == titles
    with Image.open(out / "projector" / movies["sprite"]["imagePath"]) as sprite:
        tile = movies["sprite"]["singleImageDim"][0]
        assert sprite.size[0] * sprite.size[1] >= 50 * tile * tile
    # The explorer keeps every movie and user; the index page says what the projector holds.
    explorer = out / "explorer"
    assert len(payload(explorer / "movies-ids.js")) == len(dataset.movies)
    assert len(payload(explorer / "users-ids.js")["ids"]) == len(inter.user_ids)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("projector: the 50 most-rated") == 2
    assert f"{len(dataset.movies):,} × 8" in index
    summary = capsys.readouterr().out
    assert summary.count("(projector: the 50 most-rated (--max-points))") == 2


@pytest.mark.slow
def test_max_points_above_the_size_changes_nothing(tmp_path):
    out = tmp_path / "site"
    assert main(["--dataset", "demo", "--out", str(out), "--max-points", "100000", *FAST], env={}) == 0
    assert "projector: the" not in (out / "index.html").read_text(encoding="utf-8")


def test_bad_max_points_is_one_line(tmp_path, capsys):
    assert main(["--dataset", "demo", "--out", str(tmp_path / "s"), "--max-points", "1", *FAST], env={}) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--max-points must be at least 2" in err


@pytest.mark.slow
def test_hnsw_search_gives_every_user_ten_similar_users_in_the_explorer(tmp_path):
    out = tmp_path / "site"
    assert main(["--dataset", "demo", "--out", str(out), "--neighbour-search", "hnsw", *FAST], env={}) == 0
    shard = payload(out / "explorer" / "users" / "0.js")
    assert all(len(row) == 10 for row in shard["similar"])
    assert all(shard["start"] + i not in row for i, row in enumerate(shard["similar"]))
    assert all(a >= b for row in shard["similar_scores"] for a, b in zip(row, row[1:]))
    neighbours = json.loads((out / "data" / "neighbours.json").read_text())
    assert all(len(row) == 10 for row in neighbours["neighbours"])


def test_vocabulary_from_counts_is_the_one_a_scan_builds():
    from gensim.models import Word2Vec

    sequences, _ = make_sequences(make_demo(seed=1).interactions, SequenceParams())
    scanned = Word2Vec(vector_size=4, min_count=1)
    scanned.build_vocab(as_token_lists(sequences))
    counted = Word2Vec(vector_size=4, min_count=1)
    counted.build_vocab_from_freq(first_seen_counts(sequences))
    assert scanned.wv.index_to_key == counted.wv.index_to_key


@pytest.mark.slow
def test_corpus_file_mode_trains_a_reproducible_model_of_the_same_shape():
    sequences, _ = make_sequences(make_demo(seed=0).interactions, SequenceParams())
    params = Word2VecParams(vector_size=8, epochs=2, workers=1, corpus_file=True)
    a, b = train_word_vectors(sequences, params), train_word_vectors(sequences, params)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    memory = train_word_vectors(sequences, replace(params, corpus_file=False))
    assert a.vectors.shape == memory.vectors.shape and a.output_vectors.shape == memory.output_vectors.shape
    assert "corpus_file" not in a.settings


def test_corpus_file_with_shuffled_order_is_refused(tmp_path, capsys):
    assert main(["--dataset", "demo", "--out", str(tmp_path / "s"), "--corpus-file", "--order", "shuffle", *FAST], env={}) == 1
    assert re.search(r"--corpus-file .* --order shuffle", capsys.readouterr().err)
