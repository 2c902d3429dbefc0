"""The leave-last-out split, the protocol, and `build.py evaluate` on the demo."""

import json

import numpy as np
import pytest

from build import main
from embedder.ratings.demo import make_demo
from embedder.quality.evaluate import MIN_RATINGS, leave_last_out, make_task
from embedder.quality.model_card import FIELDS
from tests.helpers import interactions

FAST = ["--epochs", "2", "--vector-size", "8", "-q"]


def log():
    """u1 rates 6 movies (two at the last second), u2 only 4 (dropped), u3 5 with a repeated rating."""
    rows = [
        ("u1", "a", 4, 10), ("u1", "b", 4, 20), ("u1", "c", 4, 30), ("u1", "d", 4, 40),
        ("u1", "f", 4, 60), ("u1", "e", 4, 60),  # tie at t=60: file order decides, so "e" is last
        ("u2", "a", 4, 5), ("u2", "b", 4, 6), ("u2", "c", 4, 7), ("u2", "x", 4, 8),
        ("u3", "c", 4, 1), ("u3", "b", 4, 2), ("u3", "a", 4, 3), ("u3", "d", 4, 4), ("u3", "c", 4, 5),
    ]
    return interactions(rows)


def pairs(split):
    t = split.train
    return {(t.user_ids[u], t.item_ids[i]) for u, i in zip(t.user, t.item)}


def names(split):
    t = split.train
    return [(t.user_ids[u], t.item_ids[i]) for u, i in zip(split.users, split.targets)]


def test_test_split_holds_out_the_last_movie_by_time_then_file_row():
    split = leave_last_out(log(), "test")
    assert names(split) == [("u1", "e"), ("u3", "c")]
    assert ("u2", "a") not in pairs(split)  # fewer than MIN_RATINGS ratings: left out altogether
    assert MIN_RATINGS == 5
    assert pairs(split) == {("u1", x) for x in "abcdf"} | {("u3", x) for x in "bad"}


def test_no_held_out_pair_is_ever_in_training():
    for holdout in ("test", "val"):
        split = leave_last_out(log(), holdout)
        assert not set(names(split)) & pairs(split)
    # u3 rated c twice: its first rating of c is dropped from training as well
    assert ("u3", "c") not in pairs(leave_last_out(log(), "test"))


def test_val_split_removes_the_test_movie_and_targets_the_one_before():
    split = leave_last_out(log(), "val")
    assert names(split) == [("u1", "f"), ("u3", "d")]
    assert pairs(split) == {("u1", x) for x in "abcd"} | {("u3", x) for x in "cba"}


def test_no_leakage_on_the_demo_and_targets_unseen_in_training_are_minus_one():
    dataset = make_demo()
    for holdout in ("test", "val"):
        split = leave_last_out(dataset.interactions, holdout)
        train = set(zip(split.train.user.tolist(), split.train.item.tolist()))
        assert not train & set(zip(split.users.tolist(), split.targets.tolist()))
        task = make_task(dataset, split)
        assert task.n_users == len(split.users)
        seen = set(split.train.item_ids[split.train.item])
        for col, item in zip(task.targets, split.train.item_ids[split.targets]):
            assert (col >= 0) == (item in seen)
            assert col < 0 or task.catalogue[col] == item
        assert task.X.shape == (task.n_users, task.n_items)
        # each history is in time order: its last movie is the user's latest training rating
        train = split.train
        order = np.lexsort((np.arange(len(train)), train.timestamp, train.user))
        latest = order[np.cumsum(np.bincount(train.user[order]))[np.unique(train.user)] - 1]
        assert task.catalogue[task.last_items()].tolist() == train.item_ids[train.item[latest]].tolist()


def run(argv, capsys):
    code = main(argv, env={})
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_evaluate_on_the_demo_writes_json_with_every_field(capsys):
    code, out, _ = run(["evaluate", "--dataset", "demo", "--json", *FAST], capsys)
    assert code == 0
    report = json.loads(out)
    for key in ("dataset", "split", "k", "random_genre_jaccard", "settings", "tuned_on_val", "seeds", "rows",
                "comparisons", "seconds", "fields"):
        assert key in report, key
    assert report["split"]["name"] == "test" and report["split"]["users"] == 600
    methods = [row["method"] for row in report["rows"]]
    assert methods[0] == "popularity" and any(m.startswith("item-kNN") for m in methods)
    assert any(m.startswith("EASE (") for m in methods) and any(m.startswith("EASE · recent") for m in methods)
    assert {"SIF", "uSIF", "mean"} <= {m.split(" · ")[1] for m in methods if m.startswith("item2vec")}
    for row in report["rows"]:
        assert set(FIELDS) <= set(row), row["method"]
        assert 0 <= row["hr"] <= 1 and 0 <= row["ndcg"] <= row["hr"] and 0 < row["coverage"] <= 1
        assert row["genre_jaccard"] is None or 0 <= row["genre_jaccard"] <= 1
    assert sum(row["default"] for row in report["rows"]) == 1
    assert report["settings"]["word2vec"]["workers"] == 1
    assert report["tuned_on_val"]["chosen_on"] == "val"
    # the demo's planted clusters make neighbours far more genre-coherent than random ones
    item2vec = next(row for row in report["rows"] if row["default"])
    assert item2vec["genre_jaccard"] > 2 * report["random_genre_jaccard"]


@pytest.mark.slow
def test_evaluate_is_deterministic_for_a_seed_and_prints_a_table(capsys):
    argv = ["evaluate", "--dataset", "demo", "--json", "--no-baselines", "--seed", "3", *FAST]
    first = json.loads(run(argv, capsys)[1])
    second = json.loads(run(argv, capsys)[1])
    strip = lambda report: [{k: v for k, v in row.items() if k != "train_seconds"} for row in report["rows"]]
    assert strip(first) == strip(second) and first["seeds"] == [3]
    code, out, _ = run(["evaluate", "--dataset", "demo", "--no-baselines", "--split", "val", *FAST], capsys)
    assert code == 0
    assert "val split" in out and "HR@10" in out and "gJac@10" in out and "* item2vec" in out
    assert "baselines not run" in out


def test_evaluate_reports_bad_options_in_one_line(capsys):
    code, _, err = run(["evaluate", "--dataset", "demo", "--rec-decay", "0", "--repeats", "1", *FAST], capsys)
    assert code == 1 and "--rec-decay must be in (0, 1]" in err


@pytest.mark.slow
def test_build_writes_the_model_card_settings_always_and_figures_with_evaluate(tmp_path, capsys):
    out = tmp_path / "site"
    quick = ["--layouts", "pca", "--no-tensorboard", *FAST]
    assert run(["--dataset", "demo", "--out", str(out), *quick], capsys)[0] == 0
    card = json.loads((out / "data" / "model_card.json").read_text())
    assert card["evaluation"] is None and card["settings"]["recommendations"]["method"] == "io"
    index = (out / "index.html").read_text()
    assert "Model card" in index and "--evaluate" in index
    assert run(["--dataset", "demo", "--out", str(out), "--evaluate", *quick], capsys)[0] == 0
    card = json.loads((out / "data" / "model_card.json").read_text())
    assert card["evaluation"]["split"]["name"] == "test"
    index = (out / "index.html").read_text()
    assert "EASE (λ=" in index and "(default)" in index
    assert np.isclose(sum(r["default"] for r in card["evaluation"]["rows"]), 1)
