"""The command line, through build.main(argv): real builds on tiny data."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from build import main
from embedder.output import MARKER

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
FAST = ["--epochs", "2", "--vector-size", "8", "-q"]


def closed_port_url():
    """A loopback URL nothing listens on: downloads fail at once, without touching the network."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def offline_env(tmp_path):
    return {"REELSPACE_DATA": str(tmp_path / "cache"), "REELSPACE_MIRROR": closed_port_url()}


def run(argv, env=None, capsys=None):
    code = main(argv, env=env if env is not None else {})
    out, err = capsys.readouterr() if capsys else ("", "")
    return code, out, err


def tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


def write_log(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_demo_build_writes_a_valid_site(tmp_path, capsys):
    out = tmp_path / "site"
    code, stdout, _ = run(["--dataset", "demo", "--out", str(out), *FAST], capsys=capsys)
    assert code == 0
    files = tree(out)
    for name in ("index.html", ".nojekyll", MARKER, "data/neighbours.json", "projector/projector_config.json",
                 "projector/movies.bytes", "projector/movies.tsv", "projector/movies_metadata.tsv",
                 "projector/movies_sprite.png", "projector/users.bytes", "projector/users_metadata.tsv"):
        assert name in files, name
    assert "projector/projector_config.hosted.json" not in files
    assert "built demo" in stdout and "http.server" in stdout
    assert run(["validate", str(out)])[0] == 0


@pytest.mark.slow
def test_same_seed_deterministic_is_byte_identical_across_processes(tmp_path):
    argv = ["--dataset", "demo", "--deterministic", "--seed", "3", *FAST]
    assert main(argv + ["--out", str(tmp_path / "a")], env={}) == 0
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, str(ROOT / "build.py"), *argv, "--out", str(tmp_path / "b")], check=True, cwd=ROOT, env=env, capture_output=True)
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


@pytest.mark.slow
def test_base_url_adds_hosted_config_and_projector_link(tmp_path):
    out = tmp_path / "site"
    assert main(["--dataset", "demo", "--out", str(out), "--base-url", "https://me.github.io/movies", *FAST], env={}) == 0
    hosted = (out / "projector" / "projector_config.hosted.json").read_text()
    assert "https://me.github.io/movies/projector/movies.bytes" in hosted
    index = (out / "index.html").read_text()
    assert "https://projector.tensorflow.org/?config=https%3A%2F%2Fme.github.io%2Fmovies%2Fprojector%2Fprojector_config.hosted.json" in index


def test_http_base_url_is_refused_in_one_line(tmp_path, capsys):
    code, _, err = run(["--dataset", "demo", "--out", str(tmp_path / "s"), "--base-url", "http://me.example/"], capsys=capsys)
    assert code == 1 and err.count("\n") == 1 and "https://" in err
    assert not (tmp_path / "s").exists()


def test_bad_numbers_are_all_reported_at_once(tmp_path, capsys):
    code, _, err = run(["--dataset", "demo", "--window", "0", "--vector-size", "1", "--out", str(tmp_path / "s")], capsys=capsys)
    assert code == 1 and "--window" in err and "--vector-size" in err and "Traceback" not in err


def test_missing_ratings_file_is_one_line_and_writes_nothing(tmp_path, capsys):
    code, _, err = run(["--ratings", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "s")], capsys=capsys)
    assert code == 1 and err.startswith("error: ") and "nope.csv" in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_failed_build_keeps_the_previous_site(tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["--dataset", "demo", "--out", str(out), *FAST], env={}) == 0
    before = tree(out)
    empty = write_log(tmp_path / "ratings.csv", ["userId,movieId,rating,timestamp"])
    code, _, err = run(["--ratings", str(empty), "--out", str(out), *FAST], capsys=capsys)
    assert code == 1 and "ratings.csv" in err
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ratings.csv", "site"]


def test_refuses_to_replace_a_folder_it_did_not_build(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    code, _, err = run(["--dataset", "demo", "--out", str(mine), *FAST], capsys=capsys)
    assert code == 1 and "not built by reelspace" in err
    assert (mine / "notes.txt").read_text() == "keep me"


def test_out_inside_the_data_folder_is_refused(tmp_path, capsys):
    log = write_log(tmp_path / "ratings.csv", ["1,10,4,1", "1,11,5,2", "2,10,3,3", "2,11,4,4"])
    code, _, err = run(["--ratings", str(log), "--out", str(tmp_path), *FAST], capsys=capsys)
    assert code == 1 and "--out" in err


@pytest.mark.slow
def test_default_run_offline_falls_back_to_the_demo_with_one_warning(tmp_path, capsys):
    code, stdout, err = run(["--out", str(tmp_path / "s"), *FAST], env=offline_env(tmp_path), capsys=capsys)
    assert code == 0 and "built demo" in stdout
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "ml-latest-small" in warnings[0] and "demo" in warnings[0]


def test_explicit_dataset_offline_is_an_error(tmp_path, capsys):
    code, _, err = run(["--dataset", "ml-100k", "--out", str(tmp_path / "s"), *FAST], env=offline_env(tmp_path), capsys=capsys)
    assert code == 1 and "ml-100k" in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_default_run_uses_the_cache_without_downloading(tmp_path, capsys):
    cached = tmp_path / "cache" / "ml-latest-small"
    cached.mkdir(parents=True)
    rows = ["userId,movieId,rating,timestamp"] + [f"{u},{m},{(u + m) % 5 + 1}.0,{u * 100 + m}" for u in range(1, 9) for m in range(1, 7)]
    write_log(cached / "ratings.csv", rows)
    write_log(cached / "movies.csv", ["movieId,title,genres"] + [f'{m},"Movie {m}, The ({1990 + m})",Drama|Comedy' for m in range(1, 7)])
    code, stdout, _ = run(["--out", str(tmp_path / "s"), *FAST], env=offline_env(tmp_path), capsys=capsys)
    assert code == 0 and "built ml-latest-small" in stdout and "48 ratings" in stdout


def test_generic_log_with_nasty_titles_is_escaped_and_sanitised(tmp_path):
    log = write_log(tmp_path / "plays.tsv", [f"u{u}\t{m}\t{t}" for u in range(6) for t, m in enumerate(["007", "008", "009", "010"])])
    movies = write_log(tmp_path / "items.psv", [
        "007|<script>alert(1)</script> (1999)|Action",
        "008|Tom & Jerry \"The Movie\" (1992)|Animation|Comedy",
        "009|Amélie (2001)|Romance",
        "010|Plain (2000)|Drama",
    ])
    out = tmp_path / "site"
    argv = ["--ratings", str(log), "--sep", "\\t", "--columns", "user,item,timestamp", "--no-header",
            "--movies", str(movies), "--movies-sep", "|", "--movies-columns", "item,title,genres", "--no-movies-header",
            "--out", str(out), *FAST]
    assert main(argv, env={}) == 0
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in index and "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    metadata = (out / "projector" / "movies_metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert len(metadata) == 5 and all(line.count("\t") == metadata[0].count("\t") for line in metadata)
    assert any("Amélie" in line for line in metadata)


@pytest.mark.slow
def test_movies_orientation(tmp_path):
    out = tmp_path / "site"
    assert main(["--dataset", "demo", "--orientation", "movies", "--out", str(out), *FAST], env={}) == 0
    assert "users · word2vec" in (out / "projector" / "projector_config.json").read_text(encoding="utf-8").replace("\\u00b7", "·")


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"], env={})
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--dataset", "--ratings", "--columns", "--deterministic", "--base-url", "--user-vectors", "PYTHONHASHSEED"):
        assert flag in text


@pytest.mark.shared
@pytest.mark.skipif(not (SHARED / "ml-latest-small").is_dir(), reason="../shared/data/ml-latest-small is not present")
def test_end_to_end_on_ml_latest_small(tmp_path, capsys):
    out = tmp_path / "site"
    code, stdout, _ = run(["--ratings", str(SHARED / "ml-latest-small"), "--out", str(out), "-q"], capsys=capsys)
    assert code == 0
    # The file has 100,837 rows: GroupLens' README counts 100,836, plus one appended row of user 999 for
    # movie 999999, which movies.csv does not list; that user's single rating is too short a sentence.
    assert "100,837 ratings, 611 users" in stdout
    assert "users · SIF: 610 x 32" in stdout and "movies · word2vec: 9,724 x 32" in stdout  # the default: 32 dimensions
    assert run(["validate", str(out)])[0] == 0


@pytest.mark.slow
def test_posters_replace_generated_thumbnails(tmp_path):
    from PIL import Image

    posters = tmp_path / "posters"
    posters.mkdir()
    Image.new("RGB", (90, 120), (0, 255, 0)).save(posters / "1.jpg")  # demo movie id "1" is row 0
    out = tmp_path / "site"
    assert main(["--dataset", "demo", "--posters", str(posters), "--out", str(out), *FAST], env={}) == 0
    sprite = Image.open(out / "projector" / "movies_sprite.png").convert("RGB")
    r, g, b = sprite.getpixel((32, 32))  # centre of tile 0
    assert g > 200 and r < 60 and b < 60


def test_missing_posters_folder_is_a_config_error(tmp_path, capsys):
    code, _, err = run(["--dataset", "demo", "--posters", str(tmp_path / "none"), "--out", str(tmp_path / "s")], capsys=capsys)
    assert code == 1 and "--posters" in err
