"""What a build adds for sharing: build.json, a self-hosted projector page, the index page's links."""

import functools
import json
import threading
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urljoin

import pytest

from build import main

FAST = ["--dataset", "demo", "--deterministic", "--epochs", "2", "--vector-size", "8", "-q"]
BASE_URL = "https://octo.github.io/movies/"
FAKE_PROJECTOR = b"<!doctype html><title>Embedding projector</title><vz-projector-dashboard></vz-projector-dashboard>\n"

# Whole builds and a local server; the fast tier's golden demo site covers the sharing files.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def self_hosted(tmp_path_factory):
    """A site built with --base-url and a (fake) standalone projector page with its favicon."""
    root = tmp_path_factory.mktemp("sharing")
    page = root / "standalone" / "index.html"
    page.parent.mkdir()
    page.write_bytes(FAKE_PROJECTOR)
    (page.parent / "favicon.png").write_bytes(b"\x89PNG fake")
    out = root / "site"
    assert main([*FAST, "--out", str(out), "--base-url", BASE_URL, "--projector-html", str(page)], env={}) == 0
    return out


def serve(directory):
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_the_page_is_copied_beside_the_data_with_the_config_it_opens_by_default(self_hosted):
    projector = self_hosted / "projector"
    assert (projector / "index.html").read_bytes() == FAKE_PROJECTOR
    assert (projector / "favicon.png").read_bytes() == b"\x89PNG fake"
    assert (projector / "oss_data" / "oss_demo_projector_config.json").read_bytes() == (projector / "projector_config.json").read_bytes()


def test_the_self_hosted_projector_loads_everything_from_its_own_origin(self_hosted):
    """The page fetches its default config and every path in it relative to itself: all on one host."""
    server = serve(self_hosted)
    try:
        page = f"http://127.0.0.1:{server.server_address[1]}/projector/index.html"
        with urllib.request.urlopen(page, timeout=10) as answer:
            assert answer.read() == FAKE_PROJECTOR
        with urllib.request.urlopen(urljoin(page, "oss_data/oss_demo_projector_config.json"), timeout=10) as answer:
            config = json.loads(answer.read())
        paths = [e[k] for e in config["embeddings"] for k in ("tensorPath", "metadataPath") if k in e]
        paths += [e["sprite"]["imagePath"] for e in config["embeddings"] if "sprite" in e]
        assert paths and all(not p.startswith(("http:", "https:", "/")) for p in paths)
        for path in paths:
            with urllib.request.urlopen(urljoin(page, path), timeout=10) as answer:  # resolved against the page
                assert answer.status == 200 and answer.read() == (self_hosted / "projector" / path).read_bytes()
    finally:
        server.shutdown()
        server.server_close()


def test_the_index_page_shows_the_share_link_the_self_hosted_page_and_tensorboard(self_hosted):
    index = (self_hosted / "index.html").read_text()
    link = "https://projector.tensorflow.org/?config=https%3A%2F%2Focto.github.io%2Fmovies%2Fprojector%2Fprojector_config.hosted.json"
    assert f'href="{link}"' in index and f"Share link: <code>{link}</code>" in index
    assert 'href="projector/index.html">Open the self-hosted projector' in index
    assert "tensorboard --logdir tensorboard" in index
    hosted = json.loads((self_hosted / "projector" / "projector_config.hosted.json").read_text())
    assert hosted["embeddings"][0]["tensorPath"] == "https://octo.github.io/movies/projector/movies.bytes"


def test_build_json_says_what_was_built_without_local_paths_or_times(self_hosted):
    text = (self_hosted / "build.json").read_text()
    manifest = json.loads(text)
    assert manifest["dataset"] == "demo" and manifest["generator"] == "reelspace 0.1.0"
    assert manifest["embeddings"] == [{"name": "movies · word2vec", "shape": [400, 8]}, {"name": "users · SIF", "shape": [600, 8]}]
    assert manifest["base_url"] == BASE_URL
    settings = manifest["settings"]  # every setting, as --config tables, but local paths
    assert settings["word2vec"]["vector_size"] == 8 and settings["run"]["deterministic"] is True
    assert settings["data"]["dataset"] == "demo" and "out" not in settings.get("site", {})
    assert manifest["projector"]["self_hosted"] == "projector/index.html"
    assert manifest["projector"]["link"].startswith("https://projector.tensorflow.org/?config=https%3A%2F%2Focto.github.io")
    assert manifest["tensorboard"] == "tensorboard"
    assert str(self_hosted.parent) not in text


def test_a_missing_projector_page_is_a_config_error_and_nothing_is_fetched(tmp_path, capsys):
    code = main([*FAST, "--out", str(tmp_path / "site"), "--projector-html", str(tmp_path / "nope.html")], env={})
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "--projector-html" in err and "is not a file" in err
    assert not (tmp_path / "site").exists()


def test_without_base_url_or_page_the_index_has_neither(tmp_path):
    out = tmp_path / "site"
    assert main([*FAST, "--out", str(out)], env={}) == 0
    index = (out / "index.html").read_text()
    assert "Share link" not in index and "Open the self-hosted projector" not in index
    manifest = json.loads((out / "build.json").read_text())
    assert manifest["base_url"] is None and manifest["projector"]["link"] is None and manifest["projector"]["self_hosted"] is None
