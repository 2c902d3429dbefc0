"""publish gist: against a local stand-in for GitHub's gist API, asserting the exact requests."""

import argparse
import json
import logging
import shutil
import socket
from pathlib import Path

import pytest

from build import main
from embedder.publish import gist as gist_module
from embedder.publish import share_link
from embedder.publish.gist import flat_name, raw_url
from tests.fake_github import FakeGitHub

TOKEN = "ghp_TESTtoken_that_must_never_leak_0123456789"
FAST = ["--dataset", "demo", "--deterministic", "--epochs", "2", "--vector-size", "8", "-q"]
DATA_FILES = ("movies.tsv", "movies_metadata.tsv", "users.tsv", "users_metadata.tsv",
              "movies_bookmarks.json", "users_bookmarks.json")  # bookmarks: the layouts


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One demo site (movies with a sprite, users without) for the whole module."""
    site = tmp_path_factory.mktemp("gist") / "site"
    assert main([*FAST, "--out", str(site), "--base-url", "https://octo.github.io/movies/"], env={}) == 0
    return site


@pytest.fixture
def site(built, tmp_path):
    """A private copy, so a test may change it."""
    copy = tmp_path / "site"
    shutil.copytree(built, copy)
    return copy


@pytest.fixture
def github():
    fake = FakeGitHub(TOKEN)
    yield fake
    fake.close()


def publish(site, fake_url, *extra, token=TOKEN, capsys=None):
    env = {"GITHUB_TOKEN": token} if token else {}
    code = main(["publish", "gist", "--site", str(site), "--api-url", fake_url, *extra], env=env)
    out, err = capsys.readouterr() if capsys else ("", "")
    return code, out, err


def expected_config(site, raw_base, revision):
    """The site's relative config, rewritten as the gist must hold it."""
    config = json.loads((site / "projector" / "projector_config.json").read_text())
    for entry in config["embeddings"]:
        entry["tensorPath"] = entry["tensorPath"].replace(".bytes", ".tsv")
        entry.pop("sprite", None)
        for key in ("tensorPath", "metadataPath", "bookmarksPath"):
            if key in entry:
                entry[key] = f"{raw_base}/raw/{revision}/{entry[key]}"
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


def error_line(err):
    """The one error line (progress lines may precede it)."""
    errors = [line for line in err.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and err.splitlines()[-1] == errors[0], err
    return errors[0]


def share_line(out):
    return next(line.split("share link: ", 1)[1] for line in out.splitlines() if "share link: " in line)


@pytest.mark.slow
def test_create_uploads_flat_tsv_files_then_pins_the_config_to_their_revision(site, github, capsys):
    code, out, err = publish(site, github.url, capsys=capsys)
    assert code == 0, err
    assert github.calls()[0] == ("POST", "/gists")
    gist_id = next(iter(github.gists))
    assert github.calls() == [("POST", "/gists"), ("PATCH", f"/gists/{gist_id}")]
    create, config_update = github.requests

    # The data files, flat, byte for byte; TSV tensors; no sprite, no config yet.
    files = {name: {"content": (site / "projector" / name).read_text()} for name in DATA_FILES}
    assert create.body == {
        "description": "demo embeddings for the Embedding Projector: movies · word2vec 400x8, users · SIF 600x8 (reelspace 0.1.0)",
        "public": False,
        "files": files,
    }
    for request in github.requests:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["Accept"] == "application/vnd.github+json"
        assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
        assert request.headers["User-Agent"].startswith("reelspace/")

    # The config names the revision that holds the data, with gist raw URLs.
    data_revision, config_revision = [h["version"] for h in reversed(github.gists[gist_id]["history"])]
    raw_base = f"https://gist.githubusercontent.com/octo/{gist_id}"
    config = expected_config(site, raw_base, data_revision)
    assert config_update.body == {"files": {"projector_config.json": {"content": config}}}
    assert f"{raw_base}/raw/{data_revision}/movies.tsv" in config

    # The share link opens the config as of its own revision, percent-encoded.
    assert share_line(out) == (
        "https://projector.tensorflow.org/?config=https%3A%2F%2Fgist.githubusercontent.com%2Focto%2F"
        f"{gist_id}%2Fraw%2F{config_revision}%2Fprojector_config.json"
    )
    assert f"https://gist.github.com/octo/{gist_id}" in out
    assert "projector/movies_sprite.png" in out  # said to be left out
    assert f"--gist {gist_id}" in out


@pytest.mark.slow
def test_update_with_nothing_new_only_reads_the_gist(site, github, capsys):
    assert publish(site, github.url, capsys=capsys)[0] == 0
    gist_id = next(iter(github.gists))
    history = list(github.gists[gist_id]["history"])
    del github.requests[:]
    code, out, _ = publish(site, github.url, "--gist", gist_id, capsys=capsys)
    assert code == 0
    assert github.calls() == [("GET", f"/gists/{gist_id}")]
    assert github.gists[gist_id]["history"] == history
    assert "no changes" in out
    assert f"%2Fraw%2F{history[0]['version']}%2Fprojector_config.json" in share_line(out)


@pytest.mark.slow
def test_update_sends_only_changed_files_then_a_newly_pinned_config(site, github, capsys):
    assert publish(site, github.url)[0] == 0
    gist_id = next(iter(github.gists))
    users = site / "projector" / "users.tsv"
    users.write_text("0.5\t" + users.read_text().split("\t", 1)[1])
    del github.requests[:]
    code, out, _ = publish(site, github.url, "--gist", gist_id, "--description", "my movies", capsys=capsys)
    assert code == 0
    assert github.calls() == [("GET", f"/gists/{gist_id}"), ("PATCH", f"/gists/{gist_id}"), ("PATCH", f"/gists/{gist_id}")]
    data, config = github.requests[1].body, github.requests[2].body
    assert data == {"description": "my movies", "files": {"users.tsv": {"content": users.read_text()}}}
    revisions = [h["version"] for h in github.gists[gist_id]["history"]]
    assert config == {"files": {"projector_config.json": {"content": expected_config(
        site, f"https://gist.githubusercontent.com/octo/{gist_id}", revisions[1])}}}
    assert github.gists[gist_id]["files"]["users.tsv"] == users.read_text()
    assert "published to gist" in out


@pytest.mark.slow
def test_public_gist_on_an_enterprise_api_base(site, capsys):
    fake = FakeGitHub(TOKEN, prefix="/api/v3", login="me")
    try:
        code, out, _ = publish(site, fake.url, "--public", "--description", "Movies", capsys=capsys)
    finally:
        fake.close()
    assert code == 0
    assert fake.requests[0].path == "/api/v3/gists"
    assert fake.requests[0].body["public"] is True and fake.requests[0].body["description"] == "Movies"


@pytest.mark.slow
def test_an_interrupted_create_is_finished_by_the_next_run(site, github, capsys):
    github.fail_next(method="PATCH", drop=True)
    code, _, err = publish(site, github.url, capsys=capsys)
    gist_id = next(iter(github.gists))
    assert code == 1
    err = error_line(err)
    assert f"gist {gist_id} was created with the data but without its config" in err
    assert f"--gist {gist_id}" in err
    assert "projector_config.json" not in github.gists[gist_id]["files"]

    del github.requests[:]
    code, out, _ = publish(site, github.url, "--gist", gist_id, capsys=capsys)
    assert code == 0
    assert github.calls() == [("GET", f"/gists/{gist_id}"), ("PATCH", f"/gists/{gist_id}")]
    data_revision = github.gists[gist_id]["history"][1]["version"]
    assert github.requests[1].body == {"files": {"projector_config.json": {"content": expected_config(
        site, f"https://gist.githubusercontent.com/octo/{gist_id}", data_revision)}}}
    assert "share link: https://projector.tensorflow.org/?config=" in out


@pytest.mark.slow
def test_an_interrupted_update_keeps_the_old_link_working_and_is_finished_next_time(site, github, capsys):
    assert publish(site, github.url)[0] == 0
    gist_id = next(iter(github.gists))
    old_config = github.gists[gist_id]["files"]["projector_config.json"]
    users = site / "projector" / "users.tsv"
    users.write_text("0.25\t" + users.read_text().split("\t", 1)[1])
    # The data update goes through, the config update does not.
    github.fail_next(502, {"message": "Server Error"}, method="PATCH", after=1)
    github.requests.clear()
    code, _, err = publish(site, github.url, "--gist", gist_id, capsys=capsys)
    assert code == 1
    err = error_line(err)
    assert "the old share link keeps working" in err and "run the same command again" in err
    assert github.gists[gist_id]["files"]["projector_config.json"] == old_config
    assert github.gists[gist_id]["files"]["users.tsv"] == users.read_text()

    # The next run sees the data in place but the config pinned to an older revision.
    github.requests.clear()
    assert publish(site, github.url, "--gist", gist_id)[0] == 0
    assert github.calls() == [("GET", f"/gists/{gist_id}"), ("PATCH", f"/gists/{gist_id}")]
    data_revision = github.gists[gist_id]["history"][1]["version"]
    assert f"/raw/{data_revision}/users.tsv" in github.gists[gist_id]["files"]["projector_config.json"]
    github.requests.clear()
    assert publish(site, github.url, "--gist", gist_id)[0] == 0
    assert github.calls() == [("GET", f"/gists/{gist_id}")]  # and now it is stable


REFUSALS = [
    pytest.param(401, {"message": "Bad credentials"}, {}, "GitHub refused the token in $GITHUB_TOKEN (401 Bad credentials)", id="401"),
    pytest.param(403, {"message": "Resource not accessible by personal access token"}, {},
                 "needs the gist scope (classic token) or Gists read and write permission", id="403-scope"),
    pytest.param(403, {"message": "API rate limit exceeded for user ID 1."},
                 {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000000"},
                 "GitHub's API rate limit for this token is used up until 22:13 UTC", id="403-rate-limit"),
    pytest.param(403, {"message": "You have exceeded a secondary rate limit."}, {"Retry-After": "60"},
                 "GitHub asked to slow down (secondary rate limit): try again in 60 s", id="403-secondary"),
    pytest.param(429, {"message": "Too many requests"}, {}, "secondary rate limit", id="429"),
    pytest.param(422, {"message": "Validation Failed", "errors": [{"resource": "Gist", "field": "files", "code": "missing_field"}]}, {},
                 "GitHub rejected the gist (422 Validation Failed: Gist files missing_field)", id="422"),
]


@pytest.mark.slow
@pytest.mark.parametrize("status, body, headers, expected", REFUSALS)
def test_refusals_give_one_clear_line_and_publish_nothing(site, github, capsys, status, body, headers, expected):
    github.fail_next(status, body, headers)
    code, out, err = publish(site, github.url, capsys=capsys)
    assert code == 1
    error = error_line(err)
    assert expected in error and error.endswith("nothing was published")
    assert github.gists == {} and github.calls() == [("POST", "/gists")]


@pytest.mark.slow
def test_a_wrong_token_is_refused_by_the_server(site, github, capsys):
    code, _, err = publish(site, github.url, token="ghp_wrong", capsys=capsys)
    assert code == 1 and "(401 Bad credentials)" in err and "ghp_wrong" not in err


@pytest.mark.slow
def test_unknown_gist_is_a_404_line(site, github, capsys):
    code, _, err = publish(site, github.url, "--gist", "0123abcd", capsys=capsys)
    assert code == 1 and "gist 0123abcd was not found (404)" in err and "nothing was changed" in err


@pytest.mark.slow
def test_network_failure_is_one_line(site, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = publish(site, f"http://127.0.0.1:{port}", capsys=capsys)
    assert code == 1
    assert error_line(err) == (
        f"error: could not reach the GitHub API at http://127.0.0.1:{port} ([Errno 111] Connection refused); nothing was published"
    )


@pytest.mark.slow
def test_missing_token_and_plain_http_are_refused_before_any_request(site, github, capsys):
    code, _, err = publish(site, github.url, token=None, capsys=capsys)
    assert code == 1 and "$GITHUB_TOKEN is not set" in err and "--token-env" in err
    code, _, err = publish(site, "http://api.example.com", capsys=capsys)
    assert code == 1 and "--api-url must be an https:// URL" in err
    assert github.requests == []


@pytest.mark.slow
def test_token_env_names_another_variable(site, github, capsys):
    code = main(["publish", "gist", "--site", str(site), "--api-url", github.url, "--token-env", "MY_GIST_TOKEN"],
                env={"MY_GIST_TOKEN": TOKEN, "GITHUB_TOKEN": "other"})
    assert code == 0 and github.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.slow
def test_files_over_github_limits_are_refused_before_uploading(site, github, capsys, monkeypatch):
    big = site / "projector" / "users_metadata.tsv"
    big.write_bytes(big.read_bytes() + b"x" * gist_module.MAX_FILE_BYTES)
    code, _, err = publish(site, github.url, capsys=capsys)
    assert code == 1
    assert "projector/users_metadata.tsv is 10.0 MB, but GitHub serves gist files only up to 10 MB" in err
    assert "python build.py publish gh-pages" in err
    big.write_bytes(big.read_bytes()[: -gist_module.MAX_FILE_BYTES])
    monkeypatch.setattr(gist_module, "MAX_TOTAL_BYTES", 100_000)
    code, _, err = publish(site, github.url, capsys=capsys)
    assert code == 1 and "more than reelspace uploads to a gist (50 MB)" in err and "publish gh-pages" in err
    assert github.requests == []


@pytest.mark.slow
def test_dry_run_lists_the_upload_and_contacts_nobody(site, github, capsys):
    code, out, _ = publish(site, github.url, "--dry-run", token=None, capsys=capsys)
    assert code == 0 and github.requests == []
    assert "dry run: would create a secret gist" in out
    for name in DATA_FILES:
        assert name in out


@pytest.mark.slow
def test_the_token_is_never_printed_logged_written_or_uploaded(site, github, capsys, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    assert publish(site, github.url)[0] == 0
    gist_id = next(iter(github.gists))
    github.fail_next(500, {"message": f"echoing {TOKEN}"})  # even a server that echoes it
    code, out, err = publish(site, github.url, "--gist", gist_id, capsys=capsys)
    assert code == 1 and "echoing ***" in err
    assert TOKEN not in out + err + caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    for request in github.requests:
        assert TOKEN not in json.dumps(request.body)
    assert TOKEN not in json.dumps(github.gists)
    namespace = argparse.Namespace(token_env="T", api_url=github.url, public=False, description=None, gist=None)
    options = gist_module.options_from_args(namespace, {"T": TOKEN})
    assert options.token.reveal() == TOKEN
    assert TOKEN not in repr(options) and TOKEN not in str(options.token)


def test_flat_names_raw_urls_and_the_share_link():
    assert flat_name("movies.tsv") == "movies.tsv"
    assert flat_name("oss_data/movies.tsv") == "oss_data--movies.tsv"
    for bad in ("gistfile1.txt", ".hidden", "projector_config.json"):
        with pytest.raises(Exception):
            flat_name(bad)
    assert raw_url("https://gist.githubusercontent.com/u/1", "abc", "a b.tsv") == "https://gist.githubusercontent.com/u/1/raw/abc/a%20b.tsv"
    assert share_link("https://h/x?y=1&z#w") == "https://projector.tensorflow.org/?config=https%3A%2F%2Fh%2Fx%3Fy%3D1%26z%23w"


def test_a_site_without_build_json_is_explained(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = publish(tmp_path / "empty", "https://api.github.com", capsys=capsys)
    assert code == 1 and "rebuild it with python build.py" in err
    assert not Path(tmp_path / "empty" / "build.json").exists()


# --- answers that are not a gist ------------------------------------------------------

NOT_A_GIST = [
    pytest.param(b"[]", "JSON that is not an object ([])", id="array"),
    pytest.param(b'"x"', 'JSON that is not an object ("x")', id="string"),
    pytest.param(b"null", "JSON that is not an object (null)", id="null"),
    pytest.param(b"42", "JSON that is not an object (42)", id="number"),
    pytest.param(b"<html>Bad gateway</html>", "a body that is not JSON ('<html>Bad gateway</html>')", id="html"),
    pytest.param(b"", "a body that is not JSON (an empty body)", id="empty"),
    pytest.param(b"\xff\xfe\x00garbage", "a body that is not JSON (", id="not-text"),
    pytest.param(b'{"id": "abc"}', "a gist whose files is not what GitHub sends (missing)", id="object-without-files"),
    pytest.param(b'{"id": ["a"], "files": {}}', 'a gist whose id is not what GitHub sends (["a"])', id="id-array"),
]


@pytest.mark.slow
@pytest.mark.parametrize("raw, expected", NOT_A_GIST)
def test_a_create_answered_with_something_not_a_gist_is_one_line(site, github, capsys, raw, expected):
    github.fail_next(201, raw=raw, method="POST")
    code, out, err = publish(site, github.url, capsys=capsys)
    assert code == 1 and out == ""
    error = error_line(err)
    assert error.startswith(f"error: the GitHub API at {github.url} answered POST /gists with 201 and {expected}")
    assert error.endswith("GitHub may have created a gist all the same: look among your gists, "
                          "and delete it or finish it with --gist ID")  # not "nothing was published": it may have been
    assert github.calls() == [("POST", "/gists")]


@pytest.mark.slow
@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"null", b"not json"])
def test_an_update_reading_something_not_a_gist_changes_nothing(site, github, capsys, raw):
    assert publish(site, github.url)[0] == 0
    gist_id = next(iter(github.gists))
    github.requests.clear()
    github.fail_next(200, raw=raw, method="GET")
    code, _, err = publish(site, github.url, "--gist", gist_id, "--description", "new", capsys=capsys)
    assert code == 1
    error = error_line(err)
    assert f"answered GET /gists/{gist_id} with 200 and " in error and error.endswith("; nothing was changed")
    assert github.calls() == [("GET", f"/gists/{gist_id}")]


@pytest.mark.slow
def test_a_long_or_control_character_answer_is_cut_to_one_printable_line(site, github, capsys):
    github.fail_next(200, raw=b"<html>\x1b[2J\r\nline two\n" + b"x" * 5000 + f" {TOKEN}".encode(), method="POST")
    code, _, err = publish(site, github.url, capsys=capsys)
    error = error_line(err)
    assert code == 1 and "\x1b" not in error and "\r" not in error and len(error) < 400
    assert "a body that is not JSON ('<html> [2J line two xxx" in error and "...'" in error
    assert TOKEN not in err


def drop(key):
    return lambda gist: {k: v for k, v in gist.items() if k != key}


TAMPERED = [
    pytest.param(drop("history"), "a gist whose history is not what GitHub sends (missing)", id="no-history"),
    pytest.param(lambda g: {**g, "history": []}, "a gist whose history is not what GitHub sends ([])", id="empty-history"),
    pytest.param(lambda g: {**g, "history": [{"version": "../../elsewhere"}]}, "a gist whose history is not", id="bad-revision"),
    pytest.param(lambda g: {**g, "id": "0ther"}, "another gist (0ther) than the one asked for", id="another-gist"),
    pytest.param(lambda g: {**g, "files": ["movies.tsv"]}, 'a gist whose files is not what GitHub sends (["movies.tsv"])', id="files-array"),
    pytest.param(lambda g: {**g, "files": {"a.tsv": {"raw_url": 7}}}, "a gist whose files.a.tsv.raw_url is not", id="raw-url-number"),
    pytest.param(lambda g: {**g, "files": {}, "owner": None}, "a gist with neither an owner nor a raw_url", id="no-raw-address"),
    pytest.param(lambda g: {**g, "html_url": {"x": 1}}, 'a gist whose html_url is not what GitHub sends ({"x": 1})', id="html-url-object"),
    pytest.param(lambda g: {**g, "owner": "octo"}, 'a gist whose owner is not what GitHub sends ("octo")', id="owner-string"),
]


@pytest.mark.slow
@pytest.mark.parametrize("edit, expected", TAMPERED)
def test_an_update_answered_with_a_broken_gist_says_the_state_and_the_next_run_finishes(site, github, capsys, edit, expected):
    assert publish(site, github.url)[0] == 0
    gist_id = next(iter(github.gists))
    users = site / "projector" / "users.tsv"
    users.write_text("0.125\t" + users.read_text().split("\t", 1)[1])
    github.requests.clear()
    github.tamper_next(edit, method="PATCH")  # the data update is carried out, its answer is broken
    code, _, err = publish(site, github.url, "--gist", gist_id, capsys=capsys)
    assert code == 1
    error = error_line(err)
    assert f"answered PATCH /gists/{gist_id} with 200 and {expected}" in error
    assert error.endswith(f"gist {gist_id} may hold the new data now, but its config still points at the previous "
                          "revision (the old share link keeps working): run the same command again to finish")
    assert github.calls() == [("GET", f"/gists/{gist_id}"), ("PATCH", f"/gists/{gist_id}")]

    github.requests.clear()
    code, out, _ = publish(site, github.url, "--gist", gist_id, capsys=capsys)
    assert code == 0 and "published to gist" in out
    data_revision = github.gists[gist_id]["history"][1]["version"]
    assert f"/raw/{data_revision}/users.tsv" in github.gists[gist_id]["files"]["projector_config.json"]


@pytest.mark.slow
def test_a_create_answered_with_a_gist_without_revision_sends_nothing_more(site, github, capsys):
    github.tamper_next(lambda g: {**g, "history": [{"version": None}]}, method="POST")
    code, _, err = publish(site, github.url, capsys=capsys)
    error = error_line(err)
    assert code == 1 and 'answered POST /gists with 201 and a gist whose history is not what GitHub sends ([{"version": null}])' in error
    assert "GitHub may have created a gist all the same" in error
    assert github.calls() == [("POST", "/gists")]


@pytest.mark.slow
def test_a_broken_answer_to_the_config_update_of_a_new_gist_says_how_to_finish(site, github, capsys):
    github.tamper_next(lambda g: [], method="PATCH")
    code, _, err = publish(site, github.url, capsys=capsys)
    gist_id = next(iter(github.gists))
    error = error_line(err)
    assert code == 1 and f"answered PATCH /gists/{gist_id} with 200 and JSON that is not an object ([])" in error
    assert error.endswith(f"whether its config was written is unknown: run the same command with --gist {gist_id} to finish")


@pytest.mark.slow
@pytest.mark.parametrize("status, raw, headers, expected", [
    pytest.param(500, b'{"message": "boom", "errors": 5}', {}, "GitHub answered POST /gists with 500 boom", id="errors-not-a-list"),
    pytest.param(502, b"[1, 2]", {}, "GitHub answered POST /gists with 502 Bad Gateway", id="array-body"),
    pytest.param(500, b'{"message": "a\\u001b[31m\\nb"}', {}, "GitHub answered POST /gists with 500 a [31m b", id="control-characters"),
    pytest.param(403, b'{"message": "API rate limit exceeded"}', {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "9" * 30},
                 "GitHub's API rate limit for this token is used up: try again then", id="reset-beyond-any-calendar"),
    pytest.param(429, b"{}", {"Retry-After": "soon, or never"}, "try again in a minute", id="retry-after-not-a-number"),
])
def test_hostile_refusals_are_one_line(site, github, capsys, status, raw, headers, expected):
    github.fail_next(status, raw=raw, headers=headers)
    code, _, err = publish(site, github.url, capsys=capsys)
    error = error_line(err)
    assert code == 1 and expected in error and error.endswith("nothing was published")


@pytest.mark.slow
@pytest.mark.parametrize("gist_id", ["../../user", "abc def", "https://gist.github.com/octo/abc", ""])
def test_a_gist_option_that_is_no_gist_id_is_refused_before_any_request(site, github, capsys, gist_id):
    code, _, err = publish(site, github.url, "--gist", gist_id, capsys=capsys)
    assert code == 1 and "is not a gist ID" in error_line(err)
    assert github.requests == []


@pytest.mark.slow
def test_a_config_naming_files_outside_the_projector_folder_is_refused_before_any_request(site, github, capsys):
    config = site / "projector" / "projector_config.json"
    doc = json.loads(config.read_text())
    doc["embeddings"][1]["metadataPath"] = "oss_data/../../build.json"
    config.write_text(json.dumps(doc))
    code, _, err = publish(site, github.url, capsys=capsys)
    assert code == 1 and "names 'oss_data/../../build.json', which is not a file in projector/" in error_line(err)
    assert github.requests == []


@pytest.mark.slow
def test_a_bad_base_url_in_build_json_is_refused_before_any_request(site, github, capsys):
    manifest = site / "build.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "base_url": "javascript:alert(1)"}))
    code, _, err = publish(site, github.url, capsys=capsys)
    assert code == 1 and "its base URL 'javascript:alert(1)' must be an https:// URL" in error_line(err)
    manifest.write_text("[]")
    code, _, err = publish(site, github.url, capsys=capsys)
    assert code == 1 and "build.json is not a JSON object" in error_line(err)
    assert github.requests == []
