"""The map in a whole build: support, the default layout, regions, the picture, and where each shows."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from PIL import Image

from tests.helpers import with_rare_movies

if importlib.util.find_spec("openTSNE") is None:  # found, not imported: collection stays quick
    pytest.skip("openTSNE is not installed", allow_module_level=True)

# Whole builds; the fast tier's golden demo site covers the map stage.
pytestmark = pytest.mark.slow


def payload(path):
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.index(",") + 1: text.rindex(")")])


def build_demo(tmp_path, *extra):
    from embedder.cli import build_parser
    from embedder.config import config_from_args
    from embedder.ratings.datasets import KNOWN
    from embedder.ratings.demo import make_demo
    from embedder.pipeline import build

    dataset = with_rare_movies(make_demo(seed=0), n=12)
    out = tmp_path / "site"
    args = build_parser().parse_args(["--dataset", "demo", "--out", str(out), "--epochs", "3", "-q",
                                           "--deterministic", *extra])
    report = build(config_from_args(args, {}, KNOWN), dataset=dataset, warn=lambda message: None)
    return out, report, dataset


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo(tmp_path_factory.mktemp("maps"), "--movie-pages")


def test_rare_movies_are_in_no_list_but_have_their_own(demo):
    out, report, dataset = demo
    doc = json.loads((out / "data" / "neighbours.json").read_text())
    rare = [doc["ids"].index(f"rare-{i}") for i in range(12)]
    assert doc["min_support"] == 5 and all(doc["supported"][r] == 0 for r in rare)
    assert sum(doc["supported"]) == len(doc["ids"]) - 12
    listed = {j for row in doc["neighbours"] for j in row}
    assert not listed & set(rare)
    for r in rare:  # their own list: the nearest supported movies
        assert len(doc["neighbours"][r]) == 10 and all(doc["supported"][j] for j in doc["neighbours"][r])


def test_the_projector_holds_the_supported_movies_on_the_tsne_map_with_regions(demo):
    out, report, dataset = demo
    config = json.loads((out / "projector" / "projector_config.json").read_text())
    movies = next(e for e in config["embeddings"] if e["tensorName"].startswith("movies"))
    n = len(dataset.movies) - 12
    assert movies["tensorShape"][0] == n
    rows = (out / "projector" / movies["metadataPath"]).read_text(encoding="utf-8").splitlines()
    header = rows[0].split("\t")
    assert "region" in header and len(rows) == n + 1
    assert not any("Rarely Seen" in row for row in rows)
    regions = {row.split("\t")[header.index("region")] for row in rows[1:]}
    assert 2 <= len(regions) <= 50  # colourable in the projector
    states = json.loads((out / "projector" / movies["bookmarksPath"]).read_text())
    assert states[0]["selectedProjection"] == "tsne" and len(states[0]["projections"]) == n
    assert "rated at least 5 times" in states[0]["label"]


def test_index_page_shows_the_picture_the_rule_and_the_figures(demo):
    out, report, dataset = demo
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<meta property="og:image" content="map.png">' in index
    assert 'name="twitter:card" content="summary_large_image"' in index
    assert '<img src="map.png"' in index
    assert "rated at least 5 times" in index and "genre Jaccard@10" in index
    assert 'href="explorer.html#region=0"' in index
    with Image.open(out / "map.png") as picture:
        assert picture.size == (1200, 630)
    card = json.loads((out / "data" / "model_card.json").read_text())["map"]
    assert card["min_support"] == 5 and card["supported"]["movies"] == len(dataset.movies) - 12
    assert card["layout"] == "tsne" and card["movies"]["genre_ratio"] >= 0.9
    assert card["movies"]["layout_seconds"] is None  # --deterministic: no wall-clock time in the files
    assert card["movies"]["regions"] and card["users"]["regions"]
    summary = report.summary()
    assert "support: points rated at least 5 times" in summary and "movies map: t-SNE of" in summary


def test_the_explorer_knows_who_is_rare_and_the_regions(demo):
    out, report, dataset = demo
    points = payload(out / "explorer" / "movies-points.js")
    ids = payload(out / "explorer" / "movies-ids.js")
    import base64

    rare = np.frombuffer(base64.b64decode(points["rare"]), dtype=np.uint8)
    assert sorted(i for i, flag in zip(ids, rare) if flag) == sorted(f"rare-{i}" for i in range(12))
    regions = payload(out / "explorer" / "regions-movies.js")
    member = np.frombuffer(base64.b64decode(regions["member"]), dtype=np.uint8)
    assert len(member) == len(ids) and (member[rare == 1] == 255).all()
    assert set(regions["centres"]) == {"pca", "tsne"} and len(regions["colours"]) == len(regions["names"])
    manifest_text = (out / "explorer.html").read_text(encoding="utf-8")
    assert '"min_support": 5' in manifest_text and '"default_layout": "tsne"' in manifest_text
    page = (out / "movies" / "rare-0.html").read_text(encoding="utf-8")
    assert "Rated fewer than 5 times" in page and "Nearest well-rated movies" in page


def test_min_support_one_keeps_everyone(tmp_path):
    out, report, dataset = build_demo(tmp_path, "--min-support", "1", "--layouts", "pca")
    doc = json.loads((out / "data" / "neighbours.json").read_text())
    assert sum(doc["supported"]) == len(doc["ids"])
    config = json.loads((out / "projector" / "projector_config.json").read_text())
    assert config["embeddings"][0]["tensorShape"][0] == len(dataset.movies)
    assert "rare" not in payload(out / "explorer" / "movies-points.js")
