"""``--engine spark`` on a cluster: executors in their own JVMs (``local-cluster[2,1,1024]``), not the driver's.

The build starts its own session from ``--spark-master``, reads an ml-100k
layout (``u.data`` + ``u.item`` + ``u.user``) on the executors and must
write the site a local build writes, figure for figure, while only each
user's latest ratings reach the driver.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from embedder.ratings.demo import make_demo
from tests.spark.support import NEEDS_SPARK

pytestmark = [*NEEDS_SPARK, pytest.mark.slow]

CLUSTER = "local-cluster[2,1,1024]"
GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"]


def write_ml100k(folder, dataset):
    """``dataset`` in the ml-100k layout: tab-separated u.data, pipe-separated u.item, u.genre and u.user."""
    folder.mkdir(parents=True)
    inter = dataset.interactions
    users = {uid: n + 1 for n, uid in enumerate(inter.user_ids)}
    items = {iid: n + 1 for n, iid in enumerate(dataset.movies.ids)}
    lines = [f"{users[inter.user_ids[u]]}\t{items[inter.item_ids[i]]}\t{int(round(r))}\t{t}"
             for u, i, r, t in zip(inter.user, inter.item, inter.rating.tolist(), inter.timestamp.tolist())]
    (folder / "u.data").write_text("\n".join(lines) + "\n", encoding="latin-1")
    rows = []
    for movie, title, genres in zip(dataset.movies.ids, dataset.movies.titles, dataset.movies.genres):
        flags = "|".join("1" if name in genres else "0" for name in GENRES)
        rows.append(f"{items[movie]}|{title}|01-Jan-1995||http://example.org|{flags}")
    (folder / "u.item").write_text("\n".join(rows) + "\n", encoding="latin-1")
    (folder / "u.genre").write_text("".join(f"{name}|{n}\n" for n, name in enumerate(GENRES)), encoding="latin-1")
    (folder / "u.user").write_text("".join(f"{n}|{20 + n % 40}|{'MF'[n % 2]}|other|0{n:04d}\n"
                                           for n in users.values()), encoding="latin-1")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The same ml-100k-layout log built by both engines: ``(spark site, local site, stdout of the spark build)``."""
    from build import main

    root = tmp_path_factory.mktemp("cluster")
    folder = write_ml100k(root / "ml-100k", make_demo(seed=1, n_movies=150, n_users=200))
    common = ["--ratings", str(folder), "--epochs", "2", "--vector-size", "8", "--layouts", "pca",
              "--no-tensorboard", "-q"]
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--engine", "spark", "--spark-master", CLUSTER, *common, "--out", str(root / "spark")], env={}) == 0
        assert main([*common, "--out", str(root / "local")], env={}) == 0
    return root / "spark", root / "local", out.getvalue()


def manifest(site) -> dict:
    html = (site / "explorer.html").read_text(encoding="utf-8")
    return json.loads(re.search(r'<script type="application/json" id="reelspace-manifest">(.*?)</script>', html, re.S).group(1))


def test_a_cluster_build_writes_a_valid_site(built):
    from build import main

    spark_site, _, stdout = built
    assert main(["validate", str(spark_site)]) == 0
    assert "log figures " in stdout and "recommendations " in stdout


def test_the_cluster_build_shows_the_whole_logs_figures(built):
    spark_site, local_site, _ = built
    spark_card = json.loads((spark_site / "data" / "model_card.json").read_text())
    local_card = json.loads((local_site / "data" / "model_card.json").read_text())
    assert spark_card["dataset"] == local_card["dataset"]
    assert spark_card["order"]["kind"] == local_card["order"]["kind"] == "time"
    index = (spark_site / "index.html").read_text(encoding="utf-8")
    period = re.search(r"\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d", (local_site / "index.html").read_text(encoding="utf-8"))
    assert period and period.group(0) in index
    # Users' demographics (u.user) travel with the Spark reader too.
    header = (spark_site / "projector" / "users_metadata.tsv").read_text(encoding="utf-8").splitlines()[0]
    assert header == (local_site / "projector" / "users_metadata.tsv").read_text(encoding="utf-8").splitlines()[0]
    # Counts and mean ratings per movie: the whole log's, on both engines.
    assert metadata(spark_site, "movies", ("movie_id", "ratings", "mean_rating")) == \
        metadata(local_site, "movies", ("movie_id", "ratings", "mean_rating"))


def metadata(site, name: str, columns) -> list:
    lines = [line.split("\t") for line in (site / "projector" / f"{name}_metadata.tsv").read_text("utf-8").splitlines()]
    index = [lines[0].index(column) for column in columns]
    return sorted(tuple(row[i] for i in index) for row in lines[1:])


def test_the_explorer_lists_come_from_the_cluster(built):
    spark_site, local_site, _ = built
    got, want = manifest(spark_site), manifest(local_site)
    assert got["movies"]["corated_window"] == 10 and want["movies"]["corated_window"] is None
    assert "co-occurrence" in got["users"]["scoring"]
    assert got["users"]["count"] == want["users"]["count"]
    text = (spark_site / "explorer" / "users-ids.js").read_text(encoding="utf-8")
    counts = np.array(json.loads(re.search(r'"count":\s*(\[[^\]]*\])', text).group(1)))
    local = np.array(json.loads(re.search(r'"count":\s*(\[[^\]]*\])',
                                          (local_site / "explorer" / "users-ids.js").read_text(encoding="utf-8")).group(1)))
    assert counts.sum() == local.sum() and counts.max() > 20  # the whole log's counts, past the 20 kept per user
