"""Hostile input for the readers: every case ends in a correct dataset or one clear line, never a traceback.

Each test makes its input in ``tmp_path``: dates past pandas' range, pipes,
stray quotes, UTF-16, latin-1 ids, a MovieLens-named folder of another
shape, compressed files.  The CLI tests run the real build on a tiny log.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import os
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from embedder.cli import main
from embedder.errors import DataError
from embedder.ratings.readers import ReadSpec, read_dataset
from tests.helpers import error_line

FAST = ["--epochs", "1", "-q", "--layouts", "pca"]


def write(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def log_text(users: int = 6, items: int = 5, header: bool = True) -> str:
    """A clean log in which every user rates every item once: ``users * items`` rows."""
    rows = [f"{u},{i},{(u + i) % 5 + 1},{1000 + u * items + i}"
            for u in range(1, users + 1) for i in range(1, items + 1)]
    return ("user,item,rating,timestamp\n" if header else "") + "\n".join(rows) + "\n"


def build(argv: list[str], capsys) -> tuple[int, str]:
    """Run the CLI; return the exit status and stderr (asserting no traceback)."""
    code = main([*argv, *FAST], env={})
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


# --- ISO dates outside pandas' nanosecond range ---------------------------------


def test_iso_dates_outside_pandas_range(tmp_path: Path):
    log = write(tmp_path, "log.csv", "user,item,rating,timestamp\n"
                "1,a,4,2300-01-01\n"
                "1,b,4,1500-06-01T12:00:00Z\n"
                "2,a,4,9999-12-31T23:59:59\n"
                "2,b,4,2262-04-12T00:00:00.123456789\n"  # nanoseconds make pandas keep the narrow range
                "3,a,4,1969-12-31T23:59:59.5\n")
    dataset = read_dataset(log, strict=True)
    assert list(dataset.interactions.timestamp) == [10413792000, -14818680000, 253402300799, 9223372800, -1]
    assert dataset.notes[0].startswith("no movies file")


def test_iso_date_past_year_9999_is_a_malformed_row(tmp_path: Path):
    log = write(tmp_path, "log.csv", "user,item,rating,timestamp\n1,a,4,2020-01-01\n1,b,4,12000-01-01\n")
    assert read_dataset(log).notes[0] == ("log.csv: skipped 1 malformed row (first at line 3: timestamp "
                                          "'12000-01-01' is neither epoch seconds nor an ISO-8601 date)")


def test_build_with_a_date_in_2300(tmp_path: Path, capsys):
    text = log_text().replace(",1007\n", ",2300-01-01T00:00:00Z\n")
    assert "2300" in text
    code, err = build(["--ratings", str(write(tmp_path, "log.csv", text)), "--out", str(tmp_path / "site")], capsys)
    assert code == 0, err


# --- pipes and devices -----------------------------------------------------------


def fifo(folder: Path, name: str, content: bytes) -> Path:
    """A named pipe that a thread fills with ``content`` once, as ``<(zcat f.gz)`` does.

    Opened again, it gives nothing (a few times, so that a reader that
    reopens it fails instead of waiting forever).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    os.mkfifo(path)

    def feed():
        for data in [content] + [b""] * 8:
            with open(path, "wb") as pipe:
                pipe.write(data)

    threading.Thread(target=feed, daemon=True).start()
    return path


def test_ratings_and_movies_from_pipes(tmp_path: Path):
    ratings = fifo(tmp_path, "63", log_text().encode())
    movies = fifo(tmp_path, "62", b"item,title\n1,One (1999)\n2,Two\n")
    dataset = read_dataset(ratings, ReadSpec(movies=str(movies)))
    assert len(dataset.interactions) == 30
    assert dict(zip(dataset.movies.ids, dataset.movies.titles))["1"] == "One (1999)"
    assert dataset.source == str(ratings) and dataset.name == "ratings"  # not the descriptor's number


def test_compressed_ratings_from_a_pipe(tmp_path: Path):
    ratings = fifo(tmp_path, "63", gzip.compress(log_text().encode()))
    assert len(read_dataset(ratings).interactions) == 30


def test_errors_in_a_pipe_name_the_pipe(tmp_path: Path):
    ratings = fifo(tmp_path, "63", b"user,item,rating\n1,a,4\n1,b,x\n")
    with pytest.raises(DataError) as caught:
        read_dataset(ratings, strict=True)
    assert str(caught.value).startswith(f"{ratings}:3: rating 'x' is not a number")


def test_a_character_device_is_read_not_refused():
    with pytest.raises(DataError) as caught:
        read_dataset("/dev/null")
    assert str(caught.value).startswith("/dev/null:1: the file is empty")


def test_build_from_a_pipe(tmp_path: Path, capsys):
    ratings = fifo(tmp_path, "63", log_text().encode())
    movies = fifo(tmp_path, "62", b"item,title\n1,One\n")
    code, err = build(["--ratings", str(ratings), "--movies", str(movies), "--out", str(tmp_path / "site")], capsys)
    assert code == 0, err
    # A pipe's name is its file descriptor's number: the site is named "ratings" instead.
    assert "<title>ratings · reelspace</title>" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


# --- stray quotes ------------------------------------------------------------------


def stray_quote_log() -> tuple[str, int]:
    """A 266-row log (267 lines with the header) whose line 23 opens a quote it never closes."""
    lines = log_text(users=38, items=7).splitlines()
    assert len(lines) == 267
    lines[22] = '4,1,"4'
    return "\n".join(lines) + "\n", 23


def test_a_stray_quote_loses_only_its_own_line(tmp_path: Path, tier: str):
    text, bad = stray_quote_log()
    dataset = read_dataset(write(tmp_path, "ratings.csv", text))
    assert len(dataset.interactions) == 265
    assert dataset.notes[0] == (f"ratings.csv: skipped 1 malformed row (first at line {bad}: "
                                "expected 4 columns, found 3)")
    with pytest.raises(DataError) as caught:
        read_dataset(tmp_path / "ratings.csv", strict=True)
    assert caught.value.line == bad


def test_quotes_that_close_lines_later_still_keep_every_line(tmp_path: Path, tier: str):
    # The quote opened on line 3 closes on line 6: the lines between are rows of their own.
    text = 'user,item,rating\n1,a,4\n2,"b,4\n3,c,5\n4,d,5\n5,e",3\n6,f,1\n'
    dataset = read_dataset(write(tmp_path, "log.csv", text))
    assert list(dataset.interactions.user_ids) == ["1", "3", "4", "5", "6"]
    assert list(dataset.interactions.item_ids) == ["a", "c", "d", 'e"', "f"]
    assert dataset.notes[0] == "log.csv: skipped 1 malformed row (first at line 3: expected 3 columns, found 2)"


def test_a_swallowing_quote_past_the_csv_field_limit(tmp_path: Path):
    # The csv module gives up on a field over 128 kB; the lines are then split one by one.
    rows = [f"{u},{i},3" for u in range(1, 3001) for i in (1, 2)]
    rows[5] = '9,"9,3'
    dataset = read_dataset(write(tmp_path, "log.csv", "\n".join(rows) + "\n"), ReadSpec(sep=",", header=False))
    assert len(dataset.interactions) == 5999
    assert "first at line 6: expected 3 columns, found 2" in dataset.notes[0]


def test_notes_quote_long_cells_briefly(tmp_path: Path, tier: str):
    text = "user,item,rating\n1,a,4\n2,b," + "x" * 5000 + "\n3,c," + '"' + "y" * 5000 + "\n"
    dataset = read_dataset(write(tmp_path, "log.csv", text))
    assert len(dataset.interactions) == 1
    assert len(dataset.notes[0]) < 200 and "'xxxxxxxx" in dataset.notes[0] and "..." in dataset.notes[0]


def test_a_stray_quote_in_movies_skips_only_its_line(tmp_path: Path):
    log = write(tmp_path, "log.csv", "1,10\n1,11\n1,12\n2,10\n")
    movies = write(tmp_path, "items.csv", 'item,title\n10,Ten\n11,"Eleven, open\n12,Twelve\n13,"Line\nbreak"\n')
    dataset = read_dataset(log, ReadSpec(movies=str(movies)))
    titles = dict(zip(dataset.movies.ids, dataset.movies.titles))
    # The quote opened on line 3 closes on line 5: lines 3-6 are split one by one; 3 opened it, 6 is short.
    assert titles == {"10": "Ten", "11": "movie 11", "12": "Twelve"}
    assert ("items.csv: skipped 2 malformed rows (first at line 3: a quote opened on this line is not closed "
            "before the next row)") in dataset.notes


# --- encodings ---------------------------------------------------------------------

MOVIES_TSV = "item\ttitle\n1\tAm\u00e9lie (2001)\n2\t\u5343\u3068\u5343\u5c0b\u306e\u795e\u96a0\u3057 (2001)\n"


@pytest.mark.parametrize("encoding, flag", [("utf-16", "utf-16"), ("utf-16", None), ("utf-16-le", "utf-16-le"),
                                            ("utf-16-be", "utf-16-be"), ("utf-32", None), ("utf-8-sig", None)])
def test_movies_in_utf16_keep_their_titles(tmp_path: Path, encoding: str, flag: str | None):
    log = write(tmp_path, "log.csv", "1,1\n1,2\n")
    movies = write(tmp_path, "items.tsv", MOVIES_TSV, encoding=encoding)
    dataset = read_dataset(log, ReadSpec(movies=str(movies), movies_encoding=flag), strict=True)
    assert list(dataset.movies.titles) == ["Am\u00e9lie (2001)",
                                           "\u5343\u3068\u5343\u5c0b\u306e\u795e\u96a0\u3057 (2001)"]
    assert list(dataset.movies.years) == [2001, 2001]


@pytest.mark.parametrize("sep", [",", "::", "\t"])
def test_ratings_in_utf16_with_the_flag(tmp_path: Path, sep: str):
    text = log_text().replace(",", sep)
    path = write(tmp_path, "log.txt", text, encoding="utf-16")
    dataset = read_dataset(path, ReadSpec(encoding="utf-16"), strict=True)
    assert len(dataset.interactions) == 30 and list(dataset.interactions.user_ids[:2]) == ["1", "2"]


def test_utf16_without_a_mark_or_flag_is_named(tmp_path: Path):
    path = write(tmp_path, "log.csv", log_text(), encoding="utf-16-le")
    with pytest.raises(DataError) as caught:
        read_dataset(path)
    assert str(caught.value) == (f"{path}:1: looks like UTF-16 (little-endian, every other byte is zero) "
                                 "(pass --encoding utf-16-le)")
    assert len(read_dataset(path, ReadSpec(encoding="utf-16-le")).interactions) == 30


def test_invalid_utf16_names_its_line(tmp_path: Path):
    data = log_text().encode("utf-16-le")
    path = write(tmp_path, "log.csv", codecs.BOM_UTF16_LE + data[:200] + b"\x00\xdc" + data[200:])  # lone surrogate
    with pytest.raises(DataError) as caught:
        read_dataset(path)
    assert caught.value.line == log_text()[:100].count("\n") + 1 == 8
    assert "not valid utf-16 text" in str(caught.value)


def test_latin1_ids_are_refused_not_merged(tmp_path: Path, capsys):
    names = ("jos\u00e9", "jos\u00e8", "jos\u00eb")
    text = "user,item,rating\n" + "".join(f"{u},{i},4\n" for u in names for i in "abc")
    path = write(tmp_path, "log.csv", text, encoding="latin-1")
    with pytest.raises(DataError) as caught:
        read_dataset(path)
    assert str(caught.value) == (f"{path}:2: not utf-8 text: b'jos\\xe9,a,4' "
                                 "(pass --encoding latin-1, or the file's real encoding)")
    dataset = read_dataset(path, ReadSpec(encoding="latin-1"), strict=True)
    assert list(dataset.interactions.user_ids) == ["jos\u00e9", "jos\u00e8", "jos\u00eb"]
    assert len(dataset.interactions) == 9
    code, err = build(["--ratings", str(path), "--out", str(tmp_path / "site")], capsys)
    assert code == 1 and error_line(err).startswith(f"error: {path}:2: not utf-8 text")


def test_latin1_in_a_line_with_a_stray_quote_is_refused(tmp_path: Path):
    path = write(tmp_path, "log.csv", b'user,item,rating\n1,a,4\n2,"caf\xe9,4\n3,b,4\n')
    with pytest.raises(DataError, match=r"log.csv:3: not utf-8 text"):
        read_dataset(path)


# --- a MovieLens-named folder of another shape ---------------------------------------


def tweetings(root: Path) -> Path:
    """A folder laid out like MovieTweetings: ratings.dat as ml-1m's, users.dat ``user::twitter_id``, utf-8 titles."""
    folder = root / "tweetings"
    write(folder, "ratings.dat", "".join(f"{u}::{i:07d}::{(u + i) % 10 + 1}::{1000 + u * 10 + i}\n"
                                         for u in range(1, 6) for i in range(1, 5)))
    write(folder, "users.dat", "".join(f"{u}::{177651718 + u}\n" for u in range(1, 6)))
    write(folder, "movies.dat", "".join(f"{i:07d}::Caf\u00e9 {i} (2013)::Drama|Comedy\n" for i in range(1, 5)))
    return folder


def test_an_unreadable_users_file_is_a_note(tmp_path: Path):
    dataset = read_dataset(tweetings(tmp_path), strict=True)
    assert len(dataset.interactions) == 20 and dataset.users is None
    assert dataset.notes == ("users.dat: not read, it does not have the expected shape "
                             "(line 1: expected 5 columns (user,-,-,-,-), found 2)",)
    assert dataset.movies.titles[0] == "Caf\u00e9 1 (2013)"  # utf-8, not latin-1 mojibake
    assert list(dataset.interactions.item_ids[:2]) == ["0000001", "0000002"]


def test_explicit_options_win_over_the_users_sibling(tmp_path: Path, capsys):
    folder = tweetings(tmp_path)
    spec = ReadSpec(sep="::", columns=("user", "item", "rating", "timestamp"))
    dataset = read_dataset(folder / "ratings.dat", spec, strict=True)
    assert dataset.users is None and dataset.notes == ()
    code, err = build(["--ratings", str(folder / "ratings.dat"), "--sep", "::", "--columns",
                       "user,item,rating,timestamp", "--out", str(tmp_path / "site")], capsys)
    assert code == 0 and "users.dat" not in err


def test_an_unreadable_links_file_is_a_note(tmp_path: Path):
    folder = tmp_path / "ml-latest-small"
    write(folder, "ratings.csv", log_text())
    write(folder, "links.csv", "")
    dataset = read_dataset(folder)
    assert "links.csv: not read, it does not have the expected shape (line 1: the file is empty)" in dataset.notes


def test_an_explicit_movies_file_that_does_not_parse_is_an_error(tmp_path: Path):
    log = write(tmp_path, "log.csv", "1,a\n")
    movies = write(tmp_path, "items.csv", "")
    with pytest.raises(DataError, match="items.csv:1: the file is empty"):
        read_dataset(log, ReadSpec(movies=str(movies)))


# --- compressed input ----------------------------------------------------------------


def zipped(*members: str) -> bytes:
    import io
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in members:
            archive.writestr(name, log_text())
    return buffer.getvalue()


@pytest.mark.parametrize("name, pack", [("log.csv.gz", gzip.compress), ("log.csv.bz2", bz2.compress),
                                        ("log.csv.xz", lzma.compress), ("log.zip", lambda data: zipped("log.csv")),
                                        ("log.bin", gzip.compress)],  # found by its first bytes, not its name
                         ids=["gzip", "bzip2", "xz", "zip", "gzip named .bin"])
def test_compressed_logs_are_read(tmp_path: Path, name: str, pack):
    path = write(tmp_path, name, pack(log_text().encode()))
    dataset = read_dataset(path, strict=True)
    assert len(dataset.interactions) == 30 and dataset.source == str(path)


def test_errors_in_compressed_logs_name_the_file_and_line(tmp_path: Path):
    path = write(tmp_path, "log.csv.gz", gzip.compress(b"user,item,rating\n1,a,4\n1,b,x\n"))
    with pytest.raises(DataError) as caught:
        read_dataset(path, strict=True)
    assert str(caught.value).startswith(f"{path}:3: rating 'x' is not a number")
    assert "log.csv.gz: skipped 1 malformed row" in read_dataset(path).notes[0]


def test_a_gzipped_movielens_ratings_file_finds_its_siblings(tmp_path: Path):
    folder = tmp_path / "ml-latest-small"
    write(folder, "ratings.csv.gz", gzip.compress(log_text().encode()))
    write(folder, "movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n")
    dataset = read_dataset(folder / "ratings.csv.gz")
    assert dataset.name == "ml-latest-small" and dataset.movies.titles[0] == "Toy Story (1995)"


@pytest.mark.parametrize("name, data, problem", [
    ("two.zip", zipped("a.csv", "b.csv"), "compressed input: the zip holds 2 files (a.csv, b.csv)"),
    ("cut.csv.gz", gzip.compress(b"user,item\n" * 100)[:30], "compressed input: cannot unpack this gzip file"),
    ("log.csv.zst", b"(\xb5/\xfd" + b"\x00" * 20, "compressed input: zstd is not supported"),
    ("data.bin", b"PAR1\x00\x00\x15\x04" * 64, "not a text file"),
], ids=["zip of two", "cut gzip", "zstd", "binary"])
def test_unreadable_compressed_input_is_one_line(tmp_path: Path, name: str, data: bytes, problem: str, capsys):
    path = write(tmp_path, name, data)
    with pytest.raises(DataError) as caught:
        read_dataset(path)
    assert str(caught.value).startswith(f"{path}") and problem in str(caught.value)
    code, err = build(["--ratings", str(path), "--out", str(tmp_path / "site")], capsys)
    assert code == 1 and problem in error_line(err)


def test_no_temporary_copies_are_left(tmp_path: Path, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    read_dataset(write(tmp_path, "log.csv.gz", gzip.compress(log_text().encode())))
    with pytest.raises(DataError):
        read_dataset(write(tmp_path, "bad.csv.gz", gzip.compress(b"user,item,rating\n1,a,x\n")))
    assert list((tmp_path / "tmp").iterdir()) == []


def test_ids_keep_leading_zeros_and_spaces_apart(tmp_path: Path, tier: str):
    path = write(tmp_path, "log.csv", 'user,item\n007,1\n7,1\n"007",2\n 7,2\n')
    inter = read_dataset(path).interactions
    assert list(inter.user_ids) == ["007", "7", " 7"]
    assert np.array_equal(inter.user, [0, 1, 0, 2])
