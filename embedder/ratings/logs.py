"""The ratings log: read with pyarrow on all cores, every bad row still located by its line.

A clean file takes the fast path (typed columns, ids dictionary-encoded).  When
pyarrow rejects rows, a second pass finds their physical line numbers without a
Python loop per row, so a note or a ``--strict`` error can name the exact line.

Each physical line of a ratings log is one row: a quote left open ends with
its line, so one stray quote cannot swallow the rows after it.  The few lines
with an odd number of quotes are split in Python; pyarrow reads the rest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from embedder.ratings.cell_values import as_numpy, parse_numbers, parse_timestamps
from embedder.ratings.decoding import first_undecodable
from embedder.errors import DataError
from embedder.ratings.formats import SKIP, Check, TableFormat, Tally, data_records, plural, settle, shown, split_line
from embedder.values import Interactions

FIX_MALFORMED = "correct or delete the row, or drop --strict to skip malformed rows"
FIX_ENCODING = "pass --encoding latin-1, or the file's real encoding"


def read_log(path, fmt: TableFormat, strict: bool) -> tuple[Interactions, np.ndarray | None, tuple[str, ...]]:
    """Read a resolved ratings log: ``(interactions, line of each row or None, notes)``.

    Three tiers, each only when the one before cannot vouch for every row:
    a multithreaded pyarrow read with typed columns (clean files, one record
    per line; lines are ``None``, see :func:`row_lines`); a single-threaded
    pyarrow read that reports the line of each bad row (and splits lines
    with an open quote in Python); the csv module, row by row.  Text that
    is not valid in the encoding is refused: replacement characters could
    merge distinct ids.
    """
    source = _arrow_source(Path(path), fmt)
    if source is not None:
        interactions = _read_log_fast(source, fmt)
        if interactions is not None and _one_line_each(path, source, fmt, len(interactions)):
            return interactions, None, ()
        located = _read_log_located(path, source, fmt, strict)
        if located is not None:
            return located
    bad = first_undecodable(path, fmt.encoding)
    if bad is not None:
        raise DataError(f"not {fmt.encoding} text: {shown(bad[1])}", path=path, line=bad[0], fix=FIX_ENCODING)
    return _read_log_slowly(path, fmt, strict)


def row_lines(path, fmt: TableFormat, lines: np.ndarray | None, rows: np.ndarray, total: int) -> np.ndarray:
    """Physical line of each of ``rows`` among ``total`` rows read; ``lines`` as returned by :func:`read_log`."""
    if lines is not None:
        return lines[rows]
    found = _data_lines(path, fmt.skip_lines)
    if len(found) != total:
        # Quoted newlines: only a real CSV parse knows where rows start.
        found = np.fromiter((line for line, _ in data_records(path, fmt, Tally())), dtype=np.int64)
    return found[rows]


def encode(users, items, rating, timestamp) -> Interactions:
    """Build Interactions from arrow string columns of user and item ids (codes in first-appearance order)."""
    user_ids, user = _codes(users)
    item_ids, item = _codes(items)
    return Interactions(user_ids=user_ids, item_ids=item_ids, user=user, item=item, rating=rating,
                        timestamp=timestamp)


def _read_log_fast(source: tuple, fmt: TableFormat) -> Interactions | None:
    """Parse the log with typed columns on all cores; None unless every row is clean."""
    try:
        table = _arrow_table(source, fmt, typed=True)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    rating = as_numpy(table["rating"]) if "rating" in table.column_names else None
    if rating is not None and not np.isfinite(rating).all():
        return None
    timestamp = as_numpy(table["timestamp"]) if "timestamp" in table.column_names else None
    interactions = encode(table["user"], table["item"], rating, timestamp)
    if _blank(pa.array(interactions.user_ids, pa.string())).any() or \
            _blank(pa.array(interactions.item_ids, pa.string())).any():
        return None
    return interactions


def _read_log_located(path, source: tuple, fmt: TableFormat, strict: bool):
    """Parse the log as text on one thread, where pyarrow numbers the rows it rejects; None if lines are unclear."""
    data = _quoted_bytes(path, source, fmt)
    if data is not None:
        return _read_log_quoted(path, data, source[1], fmt, strict)
    located = _locate(source, fmt, _data_lines(path, fmt.skip_lines))
    if located is None:
        return None  # lone carriage returns: records and lines disagree
    table, lines, malformed = located
    return _finish(path, strict, table, lines, malformed, Tally())


def _quoted_bytes(path, source: tuple, fmt: TableFormat) -> bytes | None:
    """The file's bytes when its quotes could join lines (CSV quoting, and a quote in it); else None."""
    if not fmt.quoting:
        return None
    data = source[0] if isinstance(source[0], bytes) else Path(path).read_bytes()
    return data if b'"' in data else None


def _locate(source: tuple, fmt: TableFormat, records: np.ndarray):
    """``(text table, line of each row, malformed tally)``; None unless each record is one of ``records`` (lines)."""
    rejected: list = []
    try:
        table = _arrow_table(source, fmt, typed=False, rejected=rejected)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if any(row.number is None for row in rejected):
        return None
    # pyarrow numbers records (non-blank lines) after the skipped lines, which it counts too.
    if len(records) != table.num_rows + len(rejected):
        return None
    ordinals = np.array([row.number - fmt.skip_lines - 1 for row in rejected], dtype=np.int64)
    malformed = Tally()
    for row, line in zip(rejected, records[ordinals]):
        malformed.add(int(line), f"expected {row.expected_columns} columns, found {row.actual_columns}")
    return table, np.delete(records, ordinals), malformed


def _read_log_quoted(path, data: bytes, delimiter: str, fmt: TableFormat, strict: bool):
    """Split the lines with an odd number of quotes one by one in Python, and the rest with pyarrow.

    Those lines are blanked (with carriage returns, so that every line keeps
    its number) before pyarrow reads the file; None when that is not enough
    to make each record one line (a quote in the middle of a cell).
    """
    starts, ends, blank = _line_spans(data)
    opened = _odd_quote_lines(data, starts, ends, fmt.skip_lines)
    patched = bytearray(data) if len(opened) else data
    for i in opened:
        patched[starts[i]:ends[i]] = b"\r" * int(ends[i] - starts[i])
    numbers = np.arange(1, len(starts) + 1)
    keep = ~blank & (numbers > fmt.skip_lines)
    keep[opened] = False
    located = _locate((bytes(patched), delimiter), fmt, numbers[keep])
    if located is None:
        return None
    table, lines, malformed = located
    if not len(opened):
        return _finish(path, strict, table, lines, malformed, Tally())
    undecodable, extra, extra_lines = Tally(), {role: [] for role in table.column_names}, []
    for i in opened:
        raw = data[starts[i]:ends[i]]
        try:
            cells = split_line(raw.decode(fmt.encoding), delimiter, True)
        except UnicodeDecodeError:
            undecodable.add(int(i) + 1, f"not {fmt.encoding} text: {shown(raw)}")
            continue
        if len(cells) != len(fmt.columns):
            malformed.add(int(i) + 1, f"expected {len(fmt.columns)} columns, found {len(cells)}")
            continue
        extra_lines.append(int(i) + 1)
        for role in extra:
            extra[role].append(cells[fmt.columns.index(role)])
    columns, lines = _merge(table, lines, extra, np.asarray(extra_lines, dtype=np.int64))
    return _finish(path, strict, columns, lines, malformed, undecodable)


def _odd_quote_lines(data: bytes, starts: np.ndarray, ends: np.ndarray, skip: int) -> np.ndarray:
    """Indexes of the data lines (after ``skip``) holding an odd number of double quotes."""
    quotes = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 34)
    owner = np.searchsorted(starts, quotes, side="right") - 1
    odd = np.flatnonzero(np.bincount(owner, minlength=len(starts)) % 2 == 1)
    return odd[odd >= skip]


def _merge(table: pa.Table, lines: np.ndarray, extra: dict, extra_lines: np.ndarray):
    """The rows of ``table`` and the rows split in Python, as string columns in line order."""
    order = pa.array(np.argsort(np.r_[lines, extra_lines], kind="stable"))
    columns = {role: pa.concat_arrays([table[role].combine_chunks(), pa.array(extra[role], pa.string())]).take(order)
               for role in table.column_names}
    return columns, np.r_[lines, extra_lines][order.to_numpy()]


def _one_line_each(path, source: tuple, fmt: TableFormat, rows: int) -> bool:
    """Whether each of the ``rows`` records read is one physical line: surely so when the file has no quote."""
    if not fmt.quoting:
        return True
    quotes = newlines = 0
    last = b"\n"
    for block in [source[0]] if isinstance(source[0], bytes) else _blocks(path):
        quotes += block.count(b'"')
        newlines += block.count(b"\n")
        last = block[-1:] or last
    if not quotes:
        return True
    lines = newlines + (last != b"\n")
    # Equal counts leave no room for a blank line or a record over two lines; else count the non-blank ones.
    return lines - fmt.skip_lines == rows or len(_data_lines(path, fmt.skip_lines)) == rows


def _blocks(path, size: int = 1 << 24):
    """The file's bytes, ``size`` at a time."""
    with open(path, "rb") as handle:
        yield from iter(lambda: handle.read(size), b"")


def _read_log_slowly(path, fmt: TableFormat, strict: bool):
    """Read the log row by row with the csv module, to know the line of every row and problem."""
    wanted = [(i, role) for i, role in enumerate(fmt.columns) if role != SKIP]
    cells: dict[str, list[str]] = {role: [] for _, role in wanted}
    lines: list[int] = []
    malformed, undecodable = Tally(), Tally()
    for line, row in data_records(path, fmt, undecodable, whole=lambda *record: False):
        if len(row) != len(fmt.columns):
            malformed.add(line, f"expected {len(fmt.columns)} columns, found {len(row)}")
            continue
        lines.append(line)
        for i, role in wanted:
            cells[role].append(row[i])
    columns = {role: pa.array(values, pa.string()) for role, values in cells.items()}
    return _finish(path, strict, columns, np.asarray(lines, dtype=np.int64), malformed, undecodable)


def _finish(path, strict: bool, columns, lines: np.ndarray, malformed: Tally, undecodable: Tally):
    """Check the cells of rows that split correctly, report all problems, and encode the good rows."""
    rating, timestamp, keep = _check_values(columns, lines, malformed)
    settle(path, True, [Check(undecodable, "", FIX_ENCODING)])  # replacement characters could merge ids
    notes = settle(path, strict, [Check(malformed, f"skipped {plural(malformed.count, 'malformed row')}",
                                        FIX_MALFORMED)])
    rows = pa.array(np.flatnonzero(keep))
    interactions = encode(columns["user"].take(rows), columns["item"].take(rows),
                          None if rating is None else rating[keep], None if timestamp is None else timestamp[keep])
    return interactions, lines[keep], notes


def _check_values(columns, lines: np.ndarray, malformed: Tally):
    """Parse ratings and timestamps, find empty ids: ``(rating, timestamp, keep mask)``; bad rows go to the tally."""
    names = columns.column_names if isinstance(columns, pa.Table) else list(columns)
    problems = [(_blank(columns["user"]), lambda i: "empty user id"),
                (_blank(columns["item"]), lambda i: "empty item id")]
    rating = timestamp = None
    if "rating" in names:
        values, ok = parse_numbers(columns["rating"])
        rating = values.astype(np.float32)
        problems.append((~ok, lambda i: f"rating {shown(columns['rating'][i].as_py())} is not a number"))
    if "timestamp" in names:
        timestamp, ok = parse_timestamps(columns["timestamp"])
        problems.append((~ok, lambda i: f"timestamp {shown(columns['timestamp'][i].as_py())} is neither "
                                        "epoch seconds nor an ISO-8601 date"))
    bad = np.zeros(len(lines), dtype=bool)
    for mask, _ in problems:
        bad |= mask
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        reason = next(describe(first) for mask, describe in problems if mask[first])
        malformed.add(int(lines[first]), reason, count=int(bad.sum()))
    return rating, timestamp, ~bad


def _blank(cells) -> np.ndarray:
    """Mask of cells that are empty or only whitespace."""
    return as_numpy(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(cells)), 0))


def _arrow_table(source: tuple, fmt: TableFormat, *, typed: bool, rejected: list | None = None) -> pa.Table:
    """Read with pyarrow; with ``rejected``, on one thread, collecting rows with a wrong column count."""
    names = [role if role != SKIP else f"skipped {i}" for i, role in enumerate(fmt.columns)]
    used = [role for role in fmt.columns if role != SKIP]
    types = {"rating": pa.float32(), "timestamp": pa.int64()} if typed else {}
    data, delimiter = source

    def reject(row) -> str:
        rejected.append(row)
        return "skip"

    return pacsv.read_csv(
        # A stream, not a path: pyarrow would guess a compression from the name (plain copies keep ".gz").
        pa.BufferReader(data) if isinstance(data, bytes) else pa.input_stream(data, compression=None),
        # pyarrow numbers rejected rows only when it reads on one thread.
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=fmt.skip_lines, encoding=fmt.encoding,
                                       block_size=1 << 24, use_threads=rejected is None),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"' if fmt.quoting else False,
                                         invalid_row_handler=None if rejected is None else reject),
        convert_options=pacsv.ConvertOptions(
            column_types={role: types.get(role, pa.string()) for role in used}, include_columns=used,
            null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False))


def _arrow_source(path: Path, fmt: TableFormat) -> tuple[str | bytes, str] | None:
    """What pyarrow reads: the path, or the bytes with a multi-character separator swapped for one byte."""
    if len(fmt.sep) == 1:
        return str(path), fmt.sep
    # pyarrow splits on one byte only: swap the separator for a control byte the file never uses.
    data = path.read_bytes()
    unit = next((byte for byte in b"\x1f\x1e\x1d\x1c\x01\x02\x03\x04\x05\x06\x07" if bytes([byte]) not in data), None)
    if unit is None:
        return None
    return data.replace(fmt.sep.encode(fmt.encoding), bytes([unit])), chr(unit)


def _codes(column) -> tuple[np.ndarray, np.ndarray]:
    """Return (vocabulary in first-appearance order, int32 codes) for a string column."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        chunks = encoded.chunks
        if not chunks:
            return np.array([], dtype=object), np.array([], dtype=np.int32)
        # The chunks normally share one dictionary already; unifying otherwise keeps the
        # first chunk's order and appends new values, which is still first-appearance order.
        if not all(chunk.dictionary.equals(chunks[-1].dictionary) for chunk in chunks):
            chunks = encoded.unify_dictionaries().chunks
        dictionary = chunks[0].dictionary
        codes = pa.chunked_array([chunk.indices for chunk in chunks]).to_numpy()
    else:
        dictionary, codes = encoded.dictionary, as_numpy(encoded.indices)
    vocabulary = np.asarray(as_numpy(dictionary), dtype=object)
    return vocabulary, codes.astype(np.int32, copy=False)


def _data_lines(path, skip: int) -> np.ndarray:
    """Physical numbers of the non-blank lines after the first ``skip`` (what pyarrow turns into rows)."""
    starts, _, blank = _line_spans(_blocks(path, 1 << 26))
    numbers = np.arange(1, len(starts) + 1)
    return numbers[~blank & (numbers > skip)]


def _line_spans(blocks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(start, end, blank)`` of each physical line of ``blocks`` (bytes, or an iterable of bytes).

    ``end`` is the offset of the line's newline (or of the end of the data).
    """
    newlines, returns, size = [], [], 0
    for block in [blocks] if isinstance(blocks, bytes) else blocks:
        codes = np.frombuffer(block, dtype=np.uint8)
        newlines.append(np.flatnonzero(codes == 10) + size)
        returns.append(np.flatnonzero(codes == 13) + size)
        size += len(block)
    ends = np.concatenate(newlines + [np.array([size])])
    starts = np.r_[0, ends[:-1] + 1]
    if starts[-1] == size:  # nothing after the final newline
        starts, ends = starts[:-1], ends[:-1]
    length = ends - starts
    # A line that is only "\r" (a blank line of a CRLF file) is blank too.
    blank = (length == 0) | ((length == 1) & np.isin(starts, np.concatenate(returns)))
    return starts, ends, blank
