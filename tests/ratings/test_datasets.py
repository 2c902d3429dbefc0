"""Fetching known datasets, against a local HTTP server (never the network)."""

from __future__ import annotations

import hashlib
import io
import re
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import platformdirs
import pytest

from embedder.ratings.datasets import (GROUPLENS, KNOWN, KnownDataset, cached_path, default_cache_dir,
                               fetch)
from embedder.errors import DownloadError

RATINGS = b"userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n"
MOVIES = b"movieId,title,genres\n1,Toy Story (1995),Animation\n3,Heat (1995),Crime\n"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server():
    """A local server of ``files`` (path -> bytes) that records every request path."""
    files: dict[str, bytes] = {}
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield SimpleNamespace(base=f"http://127.0.0.1:{httpd.server_port}", files=files, seen=seen)
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


TINY_ZIP = make_zip({"ml-tiny/ratings.csv": RATINGS, "ml-tiny/movies.csv": MOVIES})
TINY_SHA = hashlib.sha256(TINY_ZIP).hexdigest()


def tiny(url: str, sha256: str | None = TINY_SHA, md5_url: str | None = None) -> dict:
    return {"ml-tiny": KnownDataset("ml-tiny", url, sha256, "ml-tiny", len(TINY_ZIP), md5_url)}


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_fetch_downloads_verifies_and_extracts(server, tmp_path):
    server.files["/ml-tiny.zip"] = TINY_ZIP
    cache = tmp_path / "cache"
    folder = fetch("ml-tiny", cache, progress=False, known=tiny(server.base + "/ml-tiny.zip"))
    assert folder == cache / "ml-tiny"
    assert (folder / "ratings.csv").read_bytes() == RATINGS
    assert (folder / "movies.csv").read_bytes() == MOVIES
    assert leftovers(cache) == ["ml-tiny"]  # no archive, no partial folders
    assert server.seen == ["/ml-tiny.zip"]
    assert cached_path("ml-tiny", cache, known=tiny(server.base + "/ml-tiny.zip")) == folder


def test_cache_hit_makes_no_request(server, tmp_path):
    server.files["/ml-tiny.zip"] = TINY_ZIP
    known = tiny(server.base + "/ml-tiny.zip")
    first = fetch("ml-tiny", tmp_path, progress=False, known=known)
    server.seen.clear()
    assert fetch("ml-tiny", tmp_path, progress=False, known=known) == first
    assert server.seen == []


def test_folder_placed_by_hand_counts_as_cached(server, tmp_path):
    (tmp_path / "ml-tiny").mkdir()
    (tmp_path / "ml-tiny" / "ratings.csv").write_bytes(RATINGS)
    fetch("ml-tiny", tmp_path, progress=False, known=tiny(server.base + "/ml-tiny.zip"))
    assert server.seen == []


def test_incomplete_folder_is_not_cached_and_gets_replaced(server, tmp_path):
    server.files["/ml-tiny.zip"] = TINY_ZIP
    known = tiny(server.base + "/ml-tiny.zip")
    (tmp_path / "ml-tiny").mkdir()
    (tmp_path / "ml-tiny" / "movies.csv").write_bytes(b"half")
    assert cached_path("ml-tiny", tmp_path, known=known) is None
    folder = fetch("ml-tiny", tmp_path, progress=False, known=known)
    assert (folder / "movies.csv").read_bytes() == MOVIES


def test_mirror_replaces_the_base_url(server, tmp_path):
    server.files["/mirror/ml-tiny.zip"] = TINY_ZIP
    known = tiny(GROUPLENS + "ml-tiny.zip")
    folder = fetch("ml-tiny", tmp_path, mirror=server.base + "/mirror/", progress=False, known=known)
    assert (folder / "ratings.csv").is_file()
    assert server.seen == ["/mirror/ml-tiny.zip"]


@pytest.mark.parametrize("digest_file",
                         ["{md5}  ml-tiny.zip\n", "{md5}\n", "MD5 (ml-tiny.zip) = {md5}\n"])
def test_md5_sidecar_flow(server, tmp_path, digest_file):
    md5 = hashlib.md5(TINY_ZIP).hexdigest()
    server.files["/ml-tiny.zip"] = TINY_ZIP
    server.files["/ml-tiny.zip.md5"] = digest_file.format(md5=md5).encode()
    url = server.base + "/ml-tiny.zip"
    folder = fetch("ml-tiny", tmp_path, progress=False, known=tiny(url, None, url + ".md5"))
    assert (folder / "ratings.csv").read_bytes() == RATINGS
    assert server.seen == ["/ml-tiny.zip.md5", "/ml-tiny.zip"]


def test_md5_sidecar_mismatch(server, tmp_path):
    server.files["/ml-tiny.zip"] = TINY_ZIP
    server.files["/ml-tiny.zip.md5"] = b"0" * 32 + b"  ml-tiny.zip\n"
    url = server.base + "/ml-tiny.zip"
    expected = r"checksum mismatch \(got md5:[0-9a-f]{32}, expected md5:0{32}\)"
    with pytest.raises(DownloadError, match=expected):
        fetch("ml-tiny", tmp_path, progress=False, known=tiny(url, None, url + ".md5"))


def test_unreadable_md5_sidecar(server, tmp_path):
    server.files["/ml-tiny.zip.md5"] = b"<html>not a digest</html>"
    url = server.base + "/ml-tiny.zip"
    with pytest.raises(DownloadError, match="could not read the checksum"):
        fetch("ml-tiny", tmp_path, progress=False, known=tiny(url, None, url + ".md5"))


def test_checksum_mismatch_leaves_nothing_complete(server, tmp_path):
    server.files["/ml-tiny.zip"] = TINY_ZIP
    wrong = "ab" * 32
    known = tiny(server.base + "/ml-tiny.zip", sha256=wrong)
    with pytest.raises(DownloadError) as caught:
        fetch("ml-tiny", tmp_path, progress=False, known=known)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"could not download ml-tiny from {server.base}/ml-tiny.zip: ")
    assert f"checksum mismatch (got sha256:{TINY_SHA}, expected sha256:{wrong})" in message
    assert message.endswith("the download was corrupted or the archive changed")
    assert cached_path("ml-tiny", tmp_path, known=known) is None
    assert leftovers(tmp_path) == []


def test_connection_refused_is_one_line(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/ml-tiny.zip"
    with pytest.raises(DownloadError) as caught:
        fetch("ml-tiny", tmp_path, progress=False, known=tiny(url))
    message = str(caught.value)
    assert "\n" not in message
    assert message == (f"could not download ml-tiny from {url}: connection refused; "
                       "check your connection or pass --ratings DIR")
    assert leftovers(tmp_path) == []


def test_http_404(server, tmp_path):
    url = server.base + "/ml-tiny.zip"
    expected = r"^could not download ml-tiny from .*: HTTP 404 Not Found; "
    with pytest.raises(DownloadError, match=expected) as caught:
        fetch("ml-tiny", tmp_path, progress=False, known=tiny(url))
    assert "\n" not in str(caught.value)
    assert leftovers(tmp_path) == []


def test_archive_without_ratings_file(server, tmp_path):
    broken = make_zip({"ml-tiny/movies.csv": MOVIES})
    server.files["/ml-tiny.zip"] = broken
    known = tiny(server.base + "/ml-tiny.zip", sha256=hashlib.sha256(broken).hexdigest())
    with pytest.raises(DownloadError, match="has no ratings.csv"):
        fetch("ml-tiny", tmp_path, progress=False, known=known)
    assert cached_path("ml-tiny", tmp_path, known=known) is None
    assert not (tmp_path / "ml-tiny").exists()


def test_not_a_zip(server, tmp_path):
    server.files["/ml-tiny.zip"] = b"this is not a zip file"
    with pytest.raises(DownloadError, match="could not unpack ml-tiny"):
        fetch("ml-tiny", tmp_path, progress=False, known=tiny(server.base + "/ml-tiny.zip", sha256=None))
    assert leftovers(tmp_path) == []


def test_folder_is_found_when_the_zip_names_it_differently(server, tmp_path):
    server.files["/ml-tiny.zip"] = other = make_zip({"ml-tiny-v2/ratings.csv": RATINGS})
    known = tiny(server.base + "/ml-tiny.zip", sha256=hashlib.sha256(other).hexdigest())
    folder = fetch("ml-tiny", tmp_path, progress=False, known=known)
    assert folder == tmp_path / "ml-tiny" and (folder / "ratings.csv").is_file()


def test_unknown_name_lists_the_known_ones(tmp_path):
    expected = r"unknown dataset 'ml-5m'; known datasets: .*ml-100k.*ml-latest-small"
    with pytest.raises(DownloadError, match=expected):
        fetch("ml-5m", tmp_path, progress=False)
    with pytest.raises(DownloadError, match="unknown dataset"):
        cached_path("ml-5m", tmp_path)


def test_pooch_says_nothing_and_its_logger_is_restored(server, tmp_path, capsys):
    import pooch

    server.files["/ml-tiny.zip"] = TINY_ZIP
    level = pooch.get_logger().level
    fetch("ml-tiny", tmp_path, progress=False, known=tiny(server.base + "/ml-tiny.zip"))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert pooch.get_logger().level == level


def test_progress_bar_goes_to_stderr(server, tmp_path, capsys):
    server.files["/ml-tiny.zip"] = TINY_ZIP
    fetch("ml-tiny", tmp_path, progress=True, known=tiny(server.base + "/ml-tiny.zip"))
    captured = capsys.readouterr()
    assert captured.out == "" and "B" in captured.err


def test_default_cache_dir():
    assert default_cache_dir({"REELSPACE_DATA": "/data/ml"}) == Path("/data/ml")
    assert default_cache_dir({"REELSPACE_DATA": "~/ml"}) == Path("~/ml").expanduser()
    expected = Path(platformdirs.user_cache_dir("reelspace"))
    assert default_cache_dir({}) == expected == default_cache_dir({"REELSPACE_DATA": ""})


def test_known_registry():
    assert set(KNOWN) == {"ml-latest-small", "ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m",
                          "ml-32m", "ml-latest"}
    for name, entry in KNOWN.items():
        assert entry.name == name and entry.url == f"{GROUPLENS}{name}.zip"
        assert entry.size_hint > 0
        if name in {"ml-10m", "ml-32m", "ml-latest"}:
            assert entry.sha256 is None and entry.md5_url == entry.url + ".md5"
        else:
            assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256) and entry.md5_url is None
    assert KNOWN["ml-10m"].folder == "ml-10M100K"
    assert KNOWN["ml-100k"].ratings_file == "u.data"
    assert KNOWN["ml-1m"].ratings_file == KNOWN["ml-10m"].ratings_file == "ratings.dat"
