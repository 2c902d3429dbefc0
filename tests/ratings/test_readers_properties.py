"""Property-based tests of the readers: random hostile logs are read correctly or refused in one line.

Hypothesis writes logs with random separators, quoting, encodings, line
ends, blank lines, odd ids (huge, negative, zero-padded, accented, holding
the separator), duplicate rows and bad rows of known kinds, and reads them
with ``read_dataset``.  The property: the result is a ``ReelspaceError`` with
a one-line message, or a dataset in which every data line is accounted for
(kept, or counted in a note that names the line of the first of its kind),
whose ids are exactly those written (never merged, zeros kept), and whose
rating and timestamp for each (user, item) are those of its latest row.
Runs are derandomized, so CI sees the same examples every time.
"""

from __future__ import annotations

import codecs
import datetime
import re
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedder.cli import main
from embedder.errors import DataError, ReelspaceError
from embedder.ratings.readers import ReadSpec, read_dataset

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])
SEPS = (",", ";", "\t", "|", "::")
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "latin-1 unflagged", "utf-16", "utf-16 flagged", "utf-16-le flagged")
# No digit in a header alias: an id holding a digit is never taken for a column name.
WORD = "abcxyzABCXYZ \u00e9\u00df\u00f8\u00fc-_."  # non-ASCII letters here are invalid UTF-8 alone in latin-1
WIDE = "\u65e5\u672c\u0416"  # not latin-1
BAD_KINDS = ("short", "long", "empty item", "empty user", "rating", "timestamp", "stray quote")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

# Property-based: hundreds of generated logs; tests/ratings/test_readers*.py hold the fast examples.
pytestmark = pytest.mark.slow


@dataclass
class Log:
    """A generated log: the file's bytes, how to read it, and what every data line is."""

    data: bytes
    spec: ReadSpec
    encoding: str
    lines: list[str]
    header_line: bool
    rows: dict[int, tuple[str, str, float, int | None]] = field(default_factory=dict)  # line -> a valid row
    bad: dict[int, str] = field(default_factory=dict)  # line -> the kind of bad row

    @property
    def data_lines(self) -> int:
        return len(self.rows) + len(self.bad)


def quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


@st.composite
def ids(draw, wide: bool, sep: str) -> str:
    """One id: zero-padded, huge, negative, or a word holding a digit (maybe the separator, quoted later)."""
    kind = draw(st.sampled_from(["padded", "huge", "negative", "word", "word"]))
    if kind == "padded":
        return str(draw(st.integers(0, 999))).zfill(draw(st.integers(1, 6)))
    if kind == "huge":
        return str(draw(st.integers(10**18, 10**30)))
    if kind == "negative":
        return str(draw(st.integers(-10**6, -1)))
    letters = WORD + (WIDE if wide else "") + (sep if len(sep) == 1 else "") + '"'
    word = draw(st.text(alphabet=letters, min_size=0, max_size=5))
    word = word + str(draw(st.integers(0, 99))) + draw(st.text(alphabet=letters, max_size=2))
    return word if word.strip() else word + "1"


def ratings() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(-5, 10).map(str), st.sampled_from(["3.5", "04", "1e1", "0.5", "+2", "-0"]))


def timestamps() -> st.SearchStrategy[str]:
    moments = st.datetimes(min_value=datetime.datetime(1, 1, 2), max_value=datetime.datetime(9999, 12, 30))
    return st.one_of(st.integers(-2**40, 2**40).map(str),
                     moments.map(lambda moment: moment.isoformat()),
                     moments.map(lambda moment: f"{moment.year:04d}{moment.strftime('-%m-%dT%H:%M:%SZ')}"),
                     moments.map(lambda moment: moment.date().isoformat()),
                     # nanoseconds: pandas then holds only years 1677-2262
                     moments.map(lambda moment: moment.replace(microsecond=0).isoformat() + ".123456789"))


def seconds(text: str) -> int:
    """Expected epoch seconds of a timestamp cell, worked out with the standard library."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)
    delta = moment - _EPOCH
    return delta.days * 86400 + delta.seconds


@st.composite
def logs(draw, header_flag: bool = True) -> Log:
    """A log file with known rows, bad rows and blank lines, read with an explicit separator and roles."""
    sep = draw(st.sampled_from(SEPS))
    quoting = len(sep) == 1
    encoding = draw(st.sampled_from(ENCODINGS))
    timed = draw(st.booleans())
    roles = ("user", "item", "rating", "timestamp") if timed else ("user", "item", "rating")
    wide = encoding.startswith("utf")
    separator_ok = quoting  # an id may hold the separator only where it can be quoted
    users = draw(st.lists(ids(wide, sep if separator_ok else ""), min_size=1, max_size=5, unique=True))
    items = draw(st.lists(ids(wide, sep if separator_ok else ""), min_size=1, max_size=5, unique=True))
    if not quoting:  # without quoting a cell cannot hold a quote either
        users = [user.replace('"', "q") for user in users]
        items = [item.replace('"', "q") for item in items]
        users, items = list(dict.fromkeys(users)), list(dict.fromkeys(items))
    header_line = draw(st.booleans())
    lines: list[str] = [sep.join(roles)] if header_line else []
    log = Log(b"", ReadSpec(), encoding, lines, header_line)
    for _ in range(draw(st.integers(1, 14))):
        if draw(st.integers(0, 9)) == 0:
            lines.append("")  # a blank line is not a row
        if draw(st.integers(0, 4)) == 0:
            kind = draw(st.sampled_from([k for k in BAD_KINDS if (k != "timestamp" or timed)
                                         and (k != "stray quote" or quoting)]))
            lines.append(bad_row(kind, sep, timed))
            log.bad[len(lines)] = kind
            continue
        user, item = draw(st.sampled_from(users)), draw(st.sampled_from(items))
        rating, stamp = draw(ratings()), draw(timestamps())
        cells = [user, item, rating] + ([stamp] if timed else [])
        lines.append(sep.join(quote(cell) if quoting and (draw(st.booleans()) or needs_quote(cell, sep))
                              else cell for cell in cells))
        log.rows[len(lines)] = (user, item, float(rating), seconds(stamp) if timed else None)
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(lines) + (end if draw(st.booleans()) else "")
    log.data = encode(text, encoding)
    header = draw(st.sampled_from([None, header_line])) if header_flag else header_line
    flagged = {"latin-1": "latin-1", "utf-16 flagged": "utf-16", "utf-16-le flagged": "utf-16-le"}
    log.spec = ReadSpec(sep=sep, columns=roles, header=header, encoding=flagged.get(encoding))
    return log


def needs_quote(cell: str, sep: str) -> bool:
    return sep in cell or '"' in cell or cell != cell.strip()


def bad_row(kind: str, sep: str, timed: bool) -> str:
    """One line that is malformed for a known reason."""
    cells = ["7u", "7i", "4"] + (["100"] if timed else [])
    if kind == "short":
        cells.pop()
    elif kind == "long":
        cells.append("x")
    elif kind == "empty item":
        cells[1] = ""
    elif kind == "empty user":
        cells[0] = "  "
    elif kind == "rating":
        cells[2] = "n/a"
    elif kind == "timestamp":
        cells[3] = "yesterday"
    elif kind == "stray quote":
        cells[1] = '"' + cells[1]  # the quote runs to the end of the line: one cell short
    return sep.join(cells)


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + text.encode("utf-8")
    if encoding.startswith("latin-1"):
        return text.encode("latin-1")
    if encoding == "utf-16-le flagged":
        return text.encode("utf-16-le")
    return text.encode("utf-16" if encoding.startswith("utf-16") else "utf-8")


def expected_error(log: Log) -> tuple[int, str] | None:
    """The line and words of the one error this log must raise, or None when it must be read."""
    if log.encoding == "latin-1 unflagged":
        for number, line in enumerate(log.lines, 1):
            if any(ord(char) > 127 for char in line):
                return number, "not utf-8 text"
    if not log.rows:
        return None if log.bad else (0, "no ratings")
    return None


def counted(notes, pattern: str) -> tuple[int, int | None]:
    """``(count, first line)`` of the one note matching ``pattern`` (a regex with two groups), else (0, None)."""
    found = [re.search(pattern, note) for note in notes]
    found = [match for match in found if match]
    assert len(found) <= 1, notes
    if not found:
        return 0, None
    return int(found[0].group(1).replace(",", "")), int(found[0].group(2))


def check_dataset(log: Log, dataset) -> None:
    """Every data line kept or counted; ids exact; the latest row of each pair kept."""
    for note in dataset.notes:
        assert "\n" not in note and len(note) < 300, note
    malformed, first_bad = counted(dataset.notes, r"skipped ([\d,]+) malformed rows? \(first at line (\d+)")
    duplicates, _ = counted(dataset.notes, r"dropped ([\d,]+) duplicate ratings? .*\(first at line (\d+)")
    header_at = next((int(m.group(1)) for m in map(re.compile(r"took line (\d+) for the header").search,
                                                    dataset.notes) if m), None)
    as_header = int(header_at is not None)
    inter = dataset.interactions
    assert len(inter) + malformed + duplicates + as_header == log.data_lines
    rows = dict(log.rows)
    if as_header:  # only a line that is not a valid row may be taken for a header
        assert log.spec.header is None and not log.header_line and header_at not in log.rows
        rows.pop(header_at, None)
        log.bad.pop(header_at, None)
    if log.bad:
        assert first_bad == min(log.bad)
    latest: dict[tuple[str, str], tuple] = {}
    for line in sorted(rows):
        user, item, rating, stamp = rows[line]
        earlier = latest.get((user, item))
        if earlier is None or stamp is None or stamp >= earlier[1]:
            latest[(user, item)] = (rating, stamp)
    got = {(inter.user_ids[u], inter.item_ids[i]): (float(r), None if inter.timestamp is None else int(t))
           for u, i, r, t in zip(inter.user, inter.item, inter.rating,
                                 inter.timestamp if inter.timestamp is not None else [None] * len(inter))}
    assert set(got) == set(latest)  # no id merged, none altered (zeros, spaces, case kept)
    for pair, (rating, stamp) in latest.items():
        assert got[pair][0] == np.float32(rating) and got[pair][1] == stamp, pair
    assert set(inter.user_ids) == {user for user, _ in latest} and set(inter.item_ids) == {item for _, item in latest}


def read_or_refuse(tmp_path, log: Log, name: str = "log.txt"):
    """The dataset read from ``log``, or the ReelspaceError it raised (checked to be one short line)."""
    path = tmp_path / name
    path.write_bytes(log.data)
    try:
        return read_dataset(path, log.spec)
    except ReelspaceError as error:
        message = str(error)
        assert "\n" not in message and len(message) < 400, message
        return error


@settings(max_examples=300, **SETTINGS)
@given(log=logs())
def test_every_line_is_kept_or_counted(tmp_path, log: Log):
    result = read_or_refuse(tmp_path, log)
    wanted = expected_error(log)
    if wanted is not None:
        assert isinstance(result, DataError), (wanted, result)
        line, words = wanted
        assert words in str(result) and (result.line == line or not line), (wanted, str(result))
        return
    if isinstance(result, DataError) and not log.rows:
        return  # nothing to keep: a one-line error is right
    assert not isinstance(result, Exception), str(result)
    check_dataset(log, result)


@settings(max_examples=120, **SETTINGS)
@given(log=logs(header_flag=False), detect=st.sampled_from(["sep", "columns", "both"]))
def test_detection_never_loses_a_line_silently(tmp_path, log: Log, detect: str):
    """Without --sep or --columns the guesses may fail, but only with one line, or with every line counted."""
    spec = log.spec
    log.spec = ReadSpec(sep=None if detect != "columns" else spec.sep,
                        columns=None if detect != "sep" else spec.columns, header=spec.header, encoding=spec.encoding)
    result = read_or_refuse(tmp_path, log)
    if isinstance(result, Exception):
        return
    notes = result.notes
    for note in notes:
        assert "\n" not in note and len(note) < 300, note
    malformed, _ = counted(notes, r"skipped ([\d,]+) malformed rows? \(first at line (\d+)")
    duplicates, _ = counted(notes, r"dropped ([\d,]+) duplicate ratings? .*\(first at line (\d+)")
    as_header = sum("for the header" in note for note in notes)
    assert len(result.interactions) + malformed + duplicates + as_header == log.data_lines


TITLE = st.lists(st.sampled_from(list("abc XYZ\t\n,;|<>&'\"\u00e9\u65e5") + ["<b>", "&amp;", "</script>", " (1999)"]),
                 min_size=1, max_size=12).map("".join)


@settings(max_examples=120, **SETTINGS)
@given(titles=st.lists(TITLE.filter(lambda title: title.strip()), min_size=1, max_size=6),
       sep=st.sampled_from([",", ";", "\t", "|"]), encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
       end=st.sampled_from(["\n", "\r\n"]))
def test_titles_with_tabs_newlines_and_html_are_read_whole(tmp_path, titles, sep, encoding, end):
    ids = [f"{i:03d}" for i in range(len(titles))]
    lines = [f"item{sep}title"] + [f"{movie}{sep}{quote(title)}" for movie, title in zip(ids, titles)]
    movies = tmp_path / "items.txt"
    movies.write_bytes(encode(end.join(lines) + end, encoding))
    log = tmp_path / "log.csv"
    log.write_text("".join(f"u{n},{movie}\n" for n in range(2) for movie in ids))
    dataset = read_dataset(log, ReadSpec(movies=str(movies), movies_sep=sep, movies_columns=("item", "title")))
    found = dict(zip(dataset.movies.ids, dataset.movies.titles))
    for movie, title in zip(ids, titles):
        # A title keeps its tabs, markup and inner line breaks; only its surrounding spaces are trimmed.
        expected = title.replace("\r\n", "\n").strip()
        if found[movie] != expected:
            # A title whose later line could pass for a whole row is split line by line: counted, never silent.
            assert found[movie] == f"movie {movie}", (found[movie], expected)
            assert any(note.startswith("items.txt: skipped") for note in dataset.notes), dataset.notes


@settings(max_examples=4, **SETTINGS)
@given(log=logs())
def test_a_build_ends_in_a_site_or_one_error_line(tmp_path_factory, capsys, log: Log):
    folder = tmp_path_factory.mktemp("build")
    path = folder / "log.txt"
    path.write_bytes(log.data)
    spec = log.spec
    argv = ["--ratings", str(path), "--out", str(folder / "site"), "--epochs", "1", "-q", "--layouts", "pca",
            "--sep", spec.sep, "--columns", ",".join(spec.columns), "--min-length", "1", "--min-count", "1"]
    argv += [] if spec.header is None else ["--header" if spec.header else "--no-header"]
    argv += [] if spec.encoding is None else ["--encoding", spec.encoding]
    code = main(argv, env={})
    err = capsys.readouterr().err
    assert "Traceback" not in err and code in (0, 1)
    if code == 1:
        assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1, err
    else:
        assert (folder / "site" / "index.html").is_file()


@pytest.mark.parametrize("text", ["\u00e9", "\u00df1", "a\u00fc"])
def test_the_latin1_alphabet_is_never_valid_utf8(text):
    """The generator's premise: its accented letters, written in latin-1 without a flag, must be refused."""
    with pytest.raises(UnicodeDecodeError):
        (text + "x").encode("latin-1").decode("utf-8")
