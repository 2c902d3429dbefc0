"""Logs with and without time: detecting the order, arranging the rows, and what the build and evaluation say."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedder.errors import DataError
from embedder.quality.evaluate import leave_last_out
from embedder.ratings.order import arrange, detect_order, ordered_dataset, timed_share
from embedder.values import Dataset, Movies
from tests.helpers import interactions


def log_of(rows, with_time=True):
    return interactions(rows, with_time=with_time)


def dataset_of(log):
    ids = log.item_ids
    movies = Movies(ids=ids, titles=np.array([f"Movie {i}" for i in ids], dtype=object), years=np.zeros(len(ids), int),
                    genres=tuple(() for _ in ids))
    return Dataset(name="t", source="t.csv", interactions=log, movies=movies)


TIMED = [("u1", "a", 4, 10), ("u1", "b", 4, 20), ("u2", "a", 3, 5), ("u2", "c", 5, 7), ("u3", "b", 4, 1), ("u3", "c", 2, 2)]


def test_timestamps_that_order_each_user_make_a_time_ordered_log():
    order = detect_order(log_of(TIMED))
    assert order.kind == "time" and order.ordered and "100% of users" in order.reason
    assert order.protocol() == "leave-last-out by time"


def test_no_timestamp_column_is_an_unordered_log():
    order = detect_order(log_of(TIMED, with_time=False), seed=3)
    assert order.kind == "none" and not order.ordered and order.reason == "the log has no timestamp column"
    assert order.protocol() == "random leave-one-out (seed 3)"
    assert "unordered" in order.describe() and "random rating" in order.describe()


def test_timestamps_equal_within_each_user_cannot_order_it():
    rows = [(u, i, r, {"u1": 100, "u2": 200, "u3": 300}[u]) for u, i, r, _ in TIMED]
    assert timed_share(log_of(rows)) == 0.0
    order = detect_order(log_of(rows))
    assert order.kind == "none" and "one timestamp" in order.reason
    constant = [(u, i, r, 7) for u, i, r, _ in TIMED]
    assert detect_order(log_of(constant)).kind == "none"


def test_a_log_where_most_users_rated_at_one_time_is_unordered():
    rows = [(f"u{u}", f"m{i}", 4, 1 if u else i) for u in range(4) for i in range(3)]  # only u0 has distinct times
    assert timed_share(log_of(rows)) == pytest.approx(0.25)
    assert "only 25% of users" in detect_order(log_of(rows)).reason


def test_the_user_can_say_the_file_order_is_the_order_or_that_there_is_none():
    log = log_of(TIMED, with_time=False)
    assert detect_order(log, "file").kind == "file"
    assert detect_order(log_of(TIMED), "none").kind == "none"


def test_asking_for_time_order_without_usable_timestamps_is_one_clear_error():
    with pytest.raises(DataError) as caught:
        detect_order(log_of(TIMED, with_time=False), "time", source="log.csv")
    text = str(caught.value)
    assert text.startswith("log.csv: --log-order time, but the log has no timestamp column")
    assert "--log-order file" in text and "\n" not in text


def test_arranging_an_unordered_log_shuffles_rows_with_the_seed_and_keeps_every_rating():
    rows = [(f"u{u}", f"m{i:02d}", 4, 0) for u in range(5) for i in range(20)]
    data = dataset_of(log_of(rows, with_time=False))
    first = ordered_dataset(data, seed=1)
    again = ordered_dataset(data, seed=1)
    other = ordered_dataset(data, seed=2)
    log = first.interactions
    assert first.order.kind == "none" and log.timestamp is None
    assert np.array_equal(log.user, again.interactions.user) and np.array_equal(log.item, again.interactions.item)
    assert not np.array_equal(log.item, other.interactions.item)
    pairs = lambda x: sorted(zip(x.user.tolist(), x.item.tolist()))
    assert pairs(log) == pairs(data.interactions)
    assert ordered_dataset(first) is first  # arranged once


def test_a_sorted_file_order_does_not_leak_into_the_held_out_rating():
    # Every user's rows sorted by movie id, no timestamps: leave-last-out on the file order would always hold out
    # the highest id.  Arranged as unordered, the held-out rating is a random one.
    rows = [(f"u{u}", f"m{i:02d}", 4, 0) for u in range(40) for i in range(12)]
    data = dataset_of(log_of(rows, with_time=False))
    in_file = leave_last_out(data.interactions, "test")
    assert set(data.interactions.item_ids[in_file.targets]) == {"m11"}
    split = leave_last_out(ordered_dataset(data).interactions, "test")
    held = data.interactions.item_ids[split.targets]
    assert len(set(held)) >= 8


def test_file_order_keeps_the_rows_and_sets_the_timestamps_aside():
    data = dataset_of(log_of(TIMED))
    arranged = arrange(data, detect_order(data.interactions, "file"))
    assert arranged.interactions.timestamp is None
    assert np.array_equal(arranged.interactions.item, data.interactions.item)
    timed = ordered_dataset(data)
    assert timed.order.kind == "time" and timed.interactions is data.interactions


# --- through the build and the evaluation ---------------------------------------------------------


def unordered_csv(tmp_path):
    """The demo's log without its timestamp column, each user's rows sorted by movie id (a file order that means nothing)."""
    from embedder.ratings.demo import make_demo

    demo = make_demo()
    log = demo.interactions
    rows = np.lexsort((log.item, log.user))
    path = tmp_path / "baskets.csv"
    lines = ["user,item,rating"] + [f"{log.user_ids[log.user[r]]},{log.item_ids[log.item[r]]},{log.rating[r]:g}" for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_build_of_an_unordered_log_says_so_everywhere_and_recommends_with_ease(tmp_path, capsys):
    from embedder.cli import main

    out = tmp_path / "site"
    code = main(["--ratings", str(unordered_csv(tmp_path)), "--out", str(out), "--epochs", "1", "--layouts", "pca", "-q"],
                env={})
    printed = capsys.readouterr().out
    assert code == 0
    assert "the log is unordered (the log has no timestamp column)" in printed
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "The log is unordered (the log has no timestamp column)" in index
    assert "EASE item-item weights" in index and "Why:" in index and "logs without an order" in index
    card = json.loads((out / "data" / "model_card.json").read_text(encoding="utf-8"))
    assert card["order"]["kind"] == "none" and card["order"]["protocol"] == "random leave-one-out (seed 0)"
    assert card["settings"]["recommendations"]["method"] == "ease" and card["settings"]["word2vec"]["shuffle"] is True
    assert card["recommender"]["describe"].startswith("EASE item-item weights over the 400 most-rated supported movies")
    assert "EASE item-item weights over the 400 most-rated supported movies" in (out / "explorer.html").read_text("utf-8")


@pytest.mark.slow
def test_evaluate_holds_out_a_random_rating_on_an_unordered_log(tmp_path, capsys):
    from embedder.cli import main

    code = main(["evaluate", "--ratings", str(unordered_csv(tmp_path)), "--epochs", "1", "--no-baselines", "--json", "-q"],
                env={})
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["split"]["protocol"] == "random leave-one-out (seed 0)" and report["split"]["ordered"] is False
    default = [row for row in report["rows"] if row["default"]]
    assert len(default) == 1 and default[0]["family"] == "recommender" and default[0]["method"].startswith("EASE")
    assert default[0]["hr"] > max(row["hr"] for row in report["rows"] if row["method"] == "popularity")
    assert not any("recent" in row["method"] for row in report["rows"])
