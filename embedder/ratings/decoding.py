"""Any input file -> a plain file the readers can seek: pipes copied, archives unpacked, UTF-16 transcoded.

The readers open a file several times (to sniff its first lines, to parse it
with pyarrow, to locate bad lines), so an input that can be read only once
(a pipe such as ``<(zcat f.csv.gz)``, ``/dev/stdin``) is copied to a temporary
file first.  Compressed input (gzip, bzip2, xz, a zip of one file) is
unpacked the same way; it is recognised by its first bytes, not its name.
Text in an encoding that does not keep ASCII's bytes (UTF-16, UTF-32) is
transcoded to UTF-8, so that lines can be split on the byte ``\\n``.  A plain
file that needs none of this is read in place, at no cost.
"""

from __future__ import annotations

import bz2
import codecs
import functools
import gzip
import lzma
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path

from embedder.errors import DataError

_HEAD = 1 << 16
_BLOCK = 1 << 24
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"PK\x03\x04", "zip"),
          (b"PK\x05\x06", "zip"), (b"(\xb5/\xfd", "zstd"))
_OPENERS = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}
_BROKEN = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)
# UTF-32 first: its little-endian mark starts with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zip")


class Inputs:
    """The plain files made for one read, removed by :meth:`close` (use it as a context manager).

    Errors and notes name the user's file: a temporary copy keeps the
    original's file name, and :meth:`restore` puts the original path back
    into a ``DataError`` raised while reading a copy.
    """

    def __init__(self):
        self._folder: Path | None = None
        self._origin: dict[str, Path] = {}
        self._done: dict[tuple[str, str], tuple[Path, str]] = {}

    def __enter__(self) -> "Inputs":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary copies."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def plain(self, path, encoding: str = "utf-8", flag: str = "--encoding") -> tuple[Path, str]:
        """A regular, uncompressed file holding the text of ``path``, and the encoding to read it with.

        ``encoding`` is the declared one; a byte-order mark overrides it.
        ``flag`` is the option that sets it, for the fix of an error.
        """
        key = (str(path), encoding)
        if key not in self._done:
            self._done[key] = self._make_plain(Path(path), encoding, flag)
        return self._done[key]

    def restore(self, error: DataError) -> DataError:
        """``error`` naming the user's file instead of a temporary copy of it."""
        origin = self._origin.get(error.path or "")
        if origin is None:
            return error
        return DataError(error.problem, path=origin, line=error.line, fix=error.fix)

    def _make_plain(self, path: Path, encoding: str, flag: str) -> tuple[Path, str]:
        """Copy a pipe, then unpack, then transcode, each step only when needed."""
        source = path if _regular(path) else self._copy_stream(path)
        kind = compression(_head(source))
        if kind is not None:
            source = self._unpack(source, kind, path)
        encoding = text_encoding(_head(source), encoding, path, flag)
        if ascii_safe(encoding):
            return source, encoding
        return self._transcode(source, encoding, path, flag), "utf-8"

    def _target(self, origin: Path) -> Path:
        """A new temporary path with ``origin``'s file name, so that notes name the user's file."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="reelspace-input-"))
        folder = self._folder / str(len(self._origin))
        folder.mkdir()
        target = folder / (origin.name or "input")
        self._origin[str(target)] = origin
        return target

    def _copy_stream(self, path: Path) -> Path:
        """Copy a pipe or device, read once, to a temporary file."""
        target = self._target(path)
        with open(path, "rb") as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, _BLOCK)
        return target

    def _unpack(self, source: Path, kind: str, origin: Path) -> Path:
        """Decompress ``source`` (a ``kind`` file) to a temporary file; a DataError when it cannot be."""
        if kind == "zstd":
            raise DataError("compressed input: zstd is not supported", path=origin,
                            fix="unpack it first, e.g. --ratings <(zstd -dc FILE)")
        target = self._target(origin)
        try:
            if kind == "zip":
                _unzip_one(source, target, origin)
            else:
                with _OPENERS[kind](source, "rb") as stream, open(target, "wb") as out:
                    shutil.copyfileobj(stream, out, _BLOCK)
        except _BROKEN as error:
            raise DataError(f"compressed input: cannot unpack this {kind} file ({error})", path=origin,
                            fix="check that the download is complete, or unpack it yourself") from None
        return target

    def _transcode(self, source: Path, encoding: str, origin: Path, flag: str) -> Path:
        """Rewrite ``source`` from ``encoding`` to UTF-8 in a temporary file."""
        target = self._target(origin)
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        lines = 0
        with open(source, "rb") as raw, open(target, "wb") as out:
            for block in iter(lambda: raw.read(_BLOCK), b""):
                text = _decode_block(decoder, block, lines, origin, encoding, flag)
                lines += text.count("\n")
                out.write(text.encode("utf-8"))
            _decode_block(decoder, b"", lines, origin, encoding, flag, final=True)
        return target


def plain_name(name: str) -> str:
    """A file name without its compression suffix: ``ratings.csv.gz`` -> ``ratings.csv``."""
    for suffix in _COMPRESSED_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def compression(head: bytes) -> str | None:
    """The compression format a file's first bytes announce, or None."""
    kind = next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)
    if kind == "bzip2" and head[4:10] != b"1AY&SY":  # text may start with "BZh"; a bzip2 block magic follows
        return None
    return kind


def text_encoding(head: bytes, declared: str, path, flag: str) -> str:
    """The encoding to read a file with: its byte-order mark's, else ``declared``.

    Raises DataError for UTF-16 text without a mark read as an 8-bit
    encoding (every other byte zero), and for a file that is not text.
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    name = codecs.lookup(declared).name
    if name.startswith(("utf-16", "utf-32")):
        return declared
    if name == "utf-8-sig":
        return "utf-8"  # the readers skip a leading byte-order mark
    wide = _utf16_order(head)
    if wide:
        raise DataError(f"looks like UTF-16 ({wide}-endian, every other byte is zero)", path=path, line=1,
                        fix=f"pass {flag} utf-16-{wide[0].lower()}e")
    if head.count(0) * 10 > len(head) > 0:
        raise DataError("not a text file (it is full of zero bytes)", path=path, line=1,
                        fix="pass a delimited text file: CSV, TSV, or MovieLens .dat")
    return declared


@functools.lru_cache(maxsize=None)
def ascii_safe(encoding: str) -> bool:
    """Whether ``encoding`` writes ASCII as ASCII, so that lines and separators can be found in its bytes."""
    ascii_bytes = bytes(range(128))
    try:
        return ascii_bytes.decode(encoding) == ascii_bytes.decode("ascii") and "\n,".encode(encoding) == b"\n,"
    except (UnicodeError, LookupError):
        return False


def first_undecodable(path, encoding: str) -> tuple[int, bytes] | None:
    """``(line, the line's first bytes)`` of the first line that is not valid ``encoding``, else None.

    One pass in C over blocks of the file, so a long log costs a second or so.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines, tail = 0, b""
    with open(path, "rb") as raw:
        for block in iter(lambda: raw.read(_BLOCK), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                return _bad_line(tail + block, len(tail) + max(error.start, 0), lines)
            cut = block.rfind(b"\n")
            lines += block.count(b"\n")
            tail = block[cut + 1:] if cut >= 0 else tail + block
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return lines + 1, tail[:60]
    return None


def _bad_line(data: bytes, at: int, lines: int) -> tuple[int, bytes]:
    """The line number and first bytes of the line holding byte ``at`` of ``data`` (which starts a line)."""
    at = min(at, len(data) - 1)
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    return lines + data.count(b"\n", 0, start) + 1, data[start:end if end >= 0 else len(data)][:60]


def _decode_block(decoder, block: bytes, lines: int, origin, encoding: str, flag: str, final: bool = False) -> str:
    """One block decoded; a DataError naming the line (``lines`` came before the block) when it does not decode."""
    state = decoder.getstate()
    try:
        return decoder.decode(block, final)
    except UnicodeDecodeError:
        decoder.setstate(state)
        decoder.errors = "replace"
        text = decoder.decode(block, final)
        line = lines + text[: max(text.find("\ufffd"), 0)].count("\n") + 1
        raise DataError(f"not valid {encoding} text", path=origin, line=line,
                        fix=f"pass {flag} with the file's real encoding") from None


def _unzip_one(source: Path, target: Path, origin: Path) -> None:
    """Write the one file of a zip to ``target``; a DataError when the zip holds several (a dataset folder)."""
    with zipfile.ZipFile(source) as archive:
        members = [info for info in archive.infolist()
                   if not info.is_dir() and not info.filename.startswith("__MACOSX/")]
        if len(members) != 1:
            listed = ", ".join(info.filename for info in members[:3]) + (", ..." if len(members) > 3 else "")
            raise DataError(f"compressed input: the zip holds {len(members)} files ({listed or 'none'})",
                            path=origin, fix="unzip it and pass the ratings file, or the folder of a MovieLens zip")
        with archive.open(members[0]) as stream, open(target, "wb") as out:
            shutil.copyfileobj(stream, out, _BLOCK)


def _utf16_order(head: bytes) -> str | None:
    """``"little"``/``"big"`` when every other byte of ``head`` is zero, as in UTF-16 text of ASCII characters."""
    even, odd = head[0::2], head[1::2]
    pairs = min(len(even), len(odd))
    if pairs < 2:
        return None
    zero_even, zero_odd = even[:pairs].count(0), odd[:pairs].count(0)
    if zero_odd * 10 >= pairs * 4 and zero_even * 10 < pairs:
        return "little"
    if zero_even * 10 >= pairs * 4 and zero_odd * 10 < pairs:
        return "big"
    return None


def _regular(path: Path) -> bool:
    """Whether ``path`` is a regular file (not a pipe or a device, which can be read only once)."""
    return stat.S_ISREG(os.stat(path).st_mode)


def _head(path: Path) -> bytes:
    """The first bytes of a (regular) file."""
    with open(path, "rb") as handle:
        return handle.read(_HEAD)
