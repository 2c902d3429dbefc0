"""The TensorBoard logdir: a real TensorBoard (no TensorFlow) serving what the build wrote.

TensorBoard is started once for the module on 127.0.0.1 with a free port,
waited for with a bounded poll, and stopped by its PID.
"""

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from build import main
from embedder.site.tensorboard import CONFIG_FILE, logdir_files, numeric_tsv, validate_logdir
from tests.regen_golden import golden_files

FAST = ["--dataset", "demo", "--deterministic", "--epochs", "2", "--vector-size", "8", "-q"]
STARTUP_SECONDS = 180  # a guard against a hung server, not a speed requirement


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("tb") / "site"
    assert main([*FAST, "--out", str(out)], env={}) == 0
    return out


@pytest.fixture(scope="module")
def tensorboard(site, tmp_path_factory):
    """The base URL of a TensorBoard serving ``site/tensorboard``."""
    log = tmp_path_factory.mktemp("tb-log") / "tensorboard.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", str(site / "tensorboard"),
             "--host", "127.0.0.1", "--port", "0", "--load_fast", "false"],
            stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        base = _wait_for_url(process, log)
        _wait_for(lambda: _get(base + "/data/plugin/projector/runs")[0] == 200, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for_url(process, log: Path) -> str:
    found = {}

    def ready():
        match = re.search(rb"http://127\.0\.0\.1:(\d+)/", log.read_bytes())
        if match:
            found["url"] = f"http://127.0.0.1:{int(match.group(1))}"
        return bool(match)

    _wait_for(ready, process, log)
    return found["url"]


def _wait_for(condition, process, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"TensorBoard exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"TensorBoard was not ready within {STARTUP_SECONDS} s: {log.read_text(errors='replace')[-2000:]}")


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read(), answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


def _projector(base: str, route: str, **query) -> tuple[int, bytes, str]:
    return _get(f"{base}/data/plugin/projector/{route}?" + urllib.parse.urlencode(query))


def _config(site: Path) -> dict:
    return json.loads((site / "projector" / "projector_config.json").read_text())


# --- against the real server ------------------------------------------------------


@pytest.mark.slow
def test_runs_lists_the_logdir_root(tensorboard):
    status, body, _ = _projector(tensorboard, "runs")
    assert status == 200 and json.loads(body) == ["."]


@pytest.mark.slow
def test_info_has_every_embedding_with_name_shape_and_assets(tensorboard, site):
    status, body, _ = _projector(tensorboard, "info", run=".")
    assert status == 200
    info = {e["tensorName"]: e for e in json.loads(body)["embeddings"]}
    for entry in _config(site)["embeddings"]:
        served = info[entry["tensorName"]]
        assert served["tensorShape"] == entry["tensorShape"]
        assert served["tensorPath"] == entry["tensorPath"].replace(".bytes", ".tsv")
        assert served["metadataPath"] == entry["metadataPath"]
    movies = info["movies · word2vec"]
    assert movies["sprite"]["imagePath"] == "movies_sprite.png"
    assert movies["sprite"]["singleImageDim"] == [64, 64]
    assert "sprite" not in info["users · SIF"]


@pytest.mark.slow
def test_tensor_bytes_equal_the_vectors(tensorboard, site):
    for entry in _config(site)["embeddings"]:
        status, body, kind = _projector(tensorboard, "tensor", run=".", name=entry["tensorName"], num_rows=100000)
        assert status == 200 and kind == "application/octet-stream"
        assert body == (site / "projector" / entry["tensorPath"]).read_bytes()  # float32, bit for bit


@pytest.mark.slow
def test_metadata_is_served_with_its_header(tensorboard, site):
    for entry in _config(site)["embeddings"]:
        status, body, _ = _projector(tensorboard, "metadata", run=".", name=entry["tensorName"], num_rows=100000)
        assert status == 200
        assert body == (site / "projector" / entry["metadataPath"]).read_bytes()
        assert body.startswith(b"title\t" if entry["tensorName"].startswith("movies") else b"user\t")


@pytest.mark.slow
def test_sprite_image_is_the_png(tensorboard, site):
    status, body, kind = _projector(tensorboard, "sprite_image", run=".", name="movies · word2vec")
    assert status == 200 and kind == "image/png"
    assert body == (site / "projector" / "movies_sprite.png").read_bytes()


# --- the logdir itself -------------------------------------------------------------


@pytest.mark.slow
def test_the_logdir_is_self_contained_and_valid(site):
    logdir = site / "tensorboard"
    assert validate_logdir(logdir) == []
    names = {p.name for p in logdir.iterdir()}
    assert names == {CONFIG_FILE, "movies.tsv", "movies_metadata.tsv", "movies_sprite.png", "users.tsv", "users_metadata.tsv",
                     "movies_bookmarks.json", "users_bookmarks.json"}  # the layouts as bookmarks
    text = (logdir / CONFIG_FILE).read_text()
    assert 'tensor_path: "movies.tsv"' in text and "tensor_shape: 400" in text and "tensor_shape: 8" in text
    assert "/" not in "".join(re.findall(r'_path: "([^"]*)"', text))


def test_bookmarks_and_awkward_names_from_the_golden_bundle():
    files = logdir_files(golden_files())
    assert files["movies_bookmarks.json"] == golden_files()["projector/movies_bookmarks.json"]
    assert 'bookmarks_path: "movies_bookmarks.json"' in files[CONFIG_FILE].decode()
    for name, data in files.items():
        assert "/" not in name
        if name.endswith(".tsv") and "metadata" not in name:
            rows = [list(map(float, line.split("\t"))) for line in data.decode("ascii").splitlines()]
            expected = np.frombuffer(golden_files()[f"projector/{name[:-4]}.bytes"], dtype="<f4")
            assert np.array_equal(np.array(rows, dtype="float32").ravel(), expected)


def test_numeric_tsv_round_trips_every_float32():
    rng = np.random.default_rng(0)
    matrix = np.concatenate([rng.normal(size=(50, 4)), rng.normal(scale=1e-30, size=(5, 4)), rng.normal(scale=1e30, size=(5, 4))]).astype("<f4")
    text = numeric_tsv(matrix).decode("ascii")
    parsed = np.array([list(map(float, line.split("\t"))) for line in text.splitlines()], dtype="float32")
    assert np.array_equal(parsed, matrix) and text.endswith("\n") and "\r" not in text


def test_validate_logdir_finds_what_tensorboard_would_refuse(tmp_path):
    for name, data in logdir_files(golden_files()).items():
        (tmp_path / name).write_bytes(data)
    assert validate_logdir(tmp_path) == []
    (tmp_path / "users.tsv").write_text("label\t1\t2\n")
    assert any("users.tsv holds something other than numbers" in p for p in validate_logdir(tmp_path))
    config = (tmp_path / CONFIG_FILE).read_text().replace('metadata_path: "movies_metadata.tsv"', 'metadata_path: "../movies_metadata.tsv"')
    (tmp_path / CONFIG_FILE).write_text(config)
    assert any("must be a relative path inside the logdir" in p for p in validate_logdir(tmp_path))


@pytest.mark.slow
def test_an_external_logdir_is_written_on_its_own(tmp_path):
    out, logdir = tmp_path / "site", tmp_path / "tb"
    assert main([*FAST, "--out", str(out), "--tensorboard-logdir", str(logdir)], env={}) == 0
    assert not (out / "tensorboard").exists()
    assert validate_logdir(logdir) == [] and (logdir / "movies.tsv").is_file()
    assert json.loads((out / "build.json").read_text())["tensorboard"] is None
    # A logdir folder inside the site stays part of the site; --no-tensorboard writes none.
    assert main([*FAST, "--out", str(out), "--tensorboard-logdir", str(out / "tb")], env={}) == 0
    assert validate_logdir(out / "tb") == [] and json.loads((out / "build.json").read_text())["tensorboard"] == "tb"
    assert main([*FAST, "--out", str(out), "--no-tensorboard"], env={}) == 0
    assert not (out / "tb").exists() and not (out / "tensorboard").exists()


@pytest.mark.slow
def test_logdir_options_that_would_clobber_are_refused(tmp_path, capsys):
    out = tmp_path / "site"
    for logdir, expected in ((out, "would replace the site"), (tmp_path, "would replace the site"),
                             (out / "projector", "would take the site's own projector")):
        assert main([*FAST, "--out", str(out), "--tensorboard-logdir", str(logdir)], env={}) == 1
        assert expected in capsys.readouterr().err
    assert main([*FAST, "--out", str(out), "--tensorboard-logdir", str(tmp_path / "x"), "--no-tensorboard"], env={}) == 1
    assert "contradict" in capsys.readouterr().err
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("mine")
    assert main([*FAST, "--out", str(out), "--tensorboard-logdir", str(tmp_path / "theirs")], env={}) == 1
    assert "refusing to replace" in capsys.readouterr().err
    assert (tmp_path / "theirs" / "notes.txt").read_text() == "mine"
