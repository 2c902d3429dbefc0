"""Tiny and odd logs through the whole build: a correct site or one clear line, never a traceback."""

from __future__ import annotations

import pytest

from embedder.cli import main
from tests.helpers import error_line

FAST = ["--epochs", "1", "-q", "--layouts", "pca"]


def run(argv, capsys):
    code = main(argv, env={})
    out, err = capsys.readouterr()
    return code, out, err


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_one_user_is_one_line_naming_the_file(tmp_path, capsys):
    log = write(tmp_path / "one.csv", "user,item,rating,timestamp\n1,1,4,1\n1,2,4,2\n1,3,3,3\n")
    code, _, err = run(["--ratings", str(log), "--out", str(tmp_path / "site"), *FAST], capsys)
    assert code == 1
    assert error_line(err).startswith(f"error: {log}: only 1 user and 3 movies left") and "--min-length" in err
    assert not (tmp_path / "site").exists()


def test_one_movie_is_one_line(tmp_path, capsys):
    log = write(tmp_path / "one.csv", "user,item,rating,timestamp\n1,1,4,1\n2,1,4,2\n3,1,5,5\n")
    code, _, err = run(["--ratings", str(log), "--out", str(tmp_path / "site"), "--min-length", "1", *FAST], capsys)
    assert code == 1 and "3 users and 1 movie left" in error_line(err)
    # With the default --min-length 2 nobody has two movies: no sentence is left, also said in one line.
    code, _, err = run(["--ratings", str(log), "--out", str(tmp_path / "site"), *FAST], capsys)
    assert code == 1 and "no sentences left" in error_line(err)


def test_two_users_and_two_movies_make_a_site(tmp_path, capsys):
    log = write(tmp_path / "two.csv", "user,item,rating,timestamp\n1,1,4,1\n1,2,4,2\n2,1,3,3\n2,2,3,4\n")
    code, out, _ = run(["--ratings", str(log), "--out", str(tmp_path / "site"), *FAST], capsys)
    assert code == 0 and (tmp_path / "site" / "index.html").is_file() and "built" in out


def test_very_long_item_ids_with_movie_pages(tmp_path, capsys):
    long_a, long_b = "a" * 300, "b" * 299 + "é"
    rows = [f"{u},{i},4,{t}" for t, (u, i) in enumerate([(1, long_a), (1, long_b), (1, "m3"), (2, long_a), (2, "m3"), (2, long_b)])]
    log = write(tmp_path / "long.csv", "user,item,rating,timestamp\n" + "\n".join(rows) + "\n")
    code, _, err = run(["--ratings", str(log), "--out", str(tmp_path / "site"), "--movie-pages", *FAST], capsys)
    assert code == 0, err
    pages = sorted(p.name for p in (tmp_path / "site" / "movies").iterdir())
    assert len(pages) == 3 and all(len(name.encode()) <= 130 for name in pages)


@pytest.mark.parametrize("url", ["https://host:99999/", "https://", "https://h.io/a b", "https://h.io/?x=1", "ftp://h.io/"])
def test_a_bad_base_url_is_refused_before_any_data_is_read(tmp_path, capsys, monkeypatch, url):
    import embedder.ratings.readers

    def never(*args, **kwargs):
        raise AssertionError("the data was read before the options were checked")

    monkeypatch.setattr(embedder.ratings.readers, "read_dataset", never)
    log = write(tmp_path / "r.csv", "user,item\n1,1\n")
    code, _, err = run(["--ratings", str(log), "--out", str(tmp_path / "site"), "--base-url", url, *FAST], capsys)
    assert code == 1 and error_line(err).startswith(f"error: --base-url {url!r}")
