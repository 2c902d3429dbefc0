"""Check a written projector bundle against docs/projector-format.md, "The checklist".

The build runs ``validate_projector`` on its staged output before swapping
it in; ``python -m embedder.site.validate DIR`` does the same by hand.  Each
problem is one line that starts with the file it concerns.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import numpy as np

from embedder.site.projector import CONFIG_NAME, HOSTED_CONFIG_NAME, REQUIRED_STATE_FIELDS, SLICE_BYTES
from embedder.site.sprite import MAX_SIDE

PATH_KEYS = ("tensorPath", "metadataPath", "bookmarksPath")
# Per file, report this many bad rows and then a count of the rest.
MAX_ROW_PROBLEMS = 5
_NUMBER = rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def validate_projector(root: Path, folder: str = "projector") -> list[str]:
    """Return the problems of the bundle in ``root/folder``, one line each; [] means valid."""
    root = Path(root)
    base = root / folder
    config, problems = _read_config(root, base / CONFIG_NAME)
    if config is None:
        return problems
    embeddings = config["embeddings"]
    problems += _duplicate_names(_name(root, base / CONFIG_NAME), embeddings)
    for number, embedding in enumerate(embeddings):
        problems += _check_embedding(root, base, number, embedding)
    if (base / HOSTED_CONFIG_NAME).exists():
        problems += _check_hosted(root, base / HOSTED_CONFIG_NAME, embeddings)
    return problems


def main(argv=None) -> int:
    """Validate a built site from the command line; exit status 1 on problems."""
    parser = argparse.ArgumentParser(prog="python -m embedder.site.validate", description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="the built site (the folder holding projector/)")
    parser.add_argument("--folder", default="projector", help="projector folder inside DIR (default: projector)")
    args = parser.parse_args(argv)
    problems = validate_projector(args.directory, args.folder)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{args.directory / args.folder}: the projector bundle is valid")
    return 1 if problems else 0


def _read_config(root: Path, path: Path) -> tuple[dict | None, list[str]]:
    name = _name(root, path)
    config, problem = _read_json(path, name)
    if problem:
        return None, [problem]
    embeddings = config.get("embeddings") if isinstance(config, dict) else None
    if not isinstance(embeddings, list) or not embeddings:
        return None, [f"{name}: 'embeddings' must be a non-empty list"]
    if not all(isinstance(e, dict) for e in embeddings):
        return None, [f"{name}: every entry of 'embeddings' must be an object"]
    return config, []


def _read_json(path: Path, name: str):
    """Return ``(value, None)`` or ``(None, problem)``."""
    if not path.is_file():
        return None, f"{name}: missing"
    try:
        return json.loads(path.read_bytes().decode("utf-8")), None
    except (UnicodeDecodeError, ValueError) as error:
        return None, f"{name}: not valid JSON ({error})"


def _duplicate_names(name: str, embeddings: list[dict]) -> list[str]:
    names = [e.get("tensorName") for e in embeddings]
    duplicates = sorted({n for n in names if names.count(n) > 1 and isinstance(n, str)})
    return [f"{name}: tensorName {d!r} is used more than once (the first match wins)" for d in duplicates]


def _check_embedding(root: Path, base: Path, number: int, embedding: dict) -> list[str]:
    where = f"{_name(root, base / CONFIG_NAME)}: embedding {number} ({embedding.get('tensorName', '?')})"
    problems = []
    if not isinstance(embedding.get("tensorName"), str) or not embedding["tensorName"]:
        problems.append(f"{where}: tensorName must be a non-empty string")
    shape = embedding.get("tensorShape")
    if not _is_shape(shape):
        problems.append(f"{where}: tensorShape must be [N, D] integers with N > 1 and D > 1, not {shape!r}")
        shape = None
    if "tensorPath" not in embedding:
        problems.append(f"{where}: tensorPath is missing")
    checks = {"tensorPath": _check_tensor, "metadataPath": _check_metadata, "bookmarksPath": _check_bookmarks}
    for key, check in checks.items():
        if key in embedding:
            path, found = _locate(root, base, f"{where}: {key}", embedding[key])
            problems += found
            if path is not None and shape is not None:
                problems += check(root, path, shape)
    if "sprite" in embedding:
        problems += _check_sprite_entry(root, base, where, embedding["sprite"], shape)
    return problems


def _is_shape(shape) -> bool:
    return (
        isinstance(shape, list)
        and len(shape) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in shape)
        and shape[0] > 1
        and shape[1] > 1
    )


def _locate(root: Path, base: Path, where: str, reference) -> tuple[Path | None, list[str]]:
    """Return the existing file a relative config path names, or the problems."""
    if not isinstance(reference, str) or not reference:
        return None, [f"{where} must be a non-empty string, not {reference!r}"]
    if urlsplit(reference).scheme or reference.startswith("/"):
        return None, [f"{where} {reference!r} must be relative to the config's folder"]
    path = (base / PurePosixPath(reference)).resolve()
    if not path.is_relative_to(root.resolve()):
        return None, [f"{where} {reference!r} leaves the site directory"]
    if not path.is_file():
        return None, [f"{_name(root, path)}: missing (named by {where})"]
    return path, []


def _check_tensor(root: Path, path: Path, shape: list[int]) -> list[str]:
    # The projector picks the format by the literal ".bytes" ending (§0.3).
    if not path.name.endswith(".bytes"):
        return _check_tensor_tsv(root, path, shape)
    problems = _check_bytes(root, path, shape)
    sibling = path.with_suffix(".tsv")
    # The bundle ships a numeric TSV copy of each .bytes tensor for TensorBoard.
    if sibling.is_file():
        problems += _check_tensor_tsv(root, sibling, shape)
    return problems


def _check_bytes(root: Path, path: Path, shape: list[int]) -> list[str]:
    n, d = shape
    size = path.stat().st_size
    if size != n * d * 4:
        return [f"{_name(root, path)}: {size} bytes, expected N*D*4 = {n}*{d}*4 = {n * d * 4} (tensorShape {shape})"]
    values = np.fromfile(path, dtype="<f4")
    if not np.isfinite(values).all():
        return [f"{_name(root, path)}: contains NaN or infinite values"]
    return []


def _check_tensor_tsv(root: Path, path: Path, shape: list[int]) -> list[str]:
    n, d = shape
    name = _name(root, path)
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        return [f"{name}: must end with a newline (the projector never finishes loading otherwise)"]
    row = re.compile(_NUMBER + (rb"\t" + _NUMBER) * (d - 1) + rb"\Z")
    lines = [line for line in data.split(b"\n") if line.strip()]
    problems = []
    if len(lines) != n:
        problems.append(f"{name}: {len(lines)} rows, expected N = {n}")
    bad = [number for number, line in enumerate(lines, 1) if not row.match(line)]
    problems += _row_problems(name, bad, f"not {d} tab-separated numbers")
    return problems


def _check_metadata(root: Path, path: Path, shape: list[int]) -> list[str]:
    name = _name(root, path)
    data = path.read_bytes()
    problems = _encoding_problems(name, data)
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    numbered = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
    if not numbered:
        return problems + [f"{name}: empty"]
    header_number, header = numbered[0]
    columns = header.split("\t")
    if len(columns) < 2:
        return problems + [f"{name}:{header_number}: the header must have at least two tab-separated columns"]
    problems += _header_problems(name, header_number, columns)
    rows = numbered[1:]
    if len(rows) != shape[0]:
        hint = " (is the header row missing?)" if len(rows) == shape[0] - 1 else ""
        problems.append(f"{name}: {len(rows)} data rows, expected N = {shape[0]}{hint}")
    wrong = [number for number, line in rows if len(line.split("\t")) != len(columns)]
    problems += _row_problems(name, wrong, f"cell count differs from the header's {len(columns)} (a tab in a value?)")
    empty = [number for number, line in rows if any(not cell.strip() for cell in line.split("\t"))]
    problems += _row_problems(name, empty, "empty cell")
    return problems


def _encoding_problems(name: str, data: bytes) -> list[str]:
    problems = []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        problems.append(f"{name}: not valid UTF-8 at byte {error.start}")
    if b"\r" in data:
        problems.append(f"{name}: contains CR (write LF line ends; the projector keeps the CR in values)")
    if not data.endswith(b"\n"):
        problems.append(f"{name}: must end with a newline (the projector never finishes loading otherwise)")
    for boundary in range(SLICE_BYTES, len(data), SLICE_BYTES):
        if data[boundary] & 0xC0 == 0x80:
            problems.append(f"{name}: byte {boundary} splits a UTF-8 character across the projector's 1 MB read slices")
    return problems


def _header_problems(name: str, number: int, columns: list[str]) -> list[str]:
    problems = []
    if len(set(columns)) != len(columns):
        problems.append(f"{name}:{number}: duplicate column names in the header")
    if any(not c.strip() for c in columns):
        problems.append(f"{name}:{number}: empty column name in the header")
    for special in ("__seq_next__", "__next__"):
        if special in columns:
            problems.append(f"{name}:{number}: column {special} makes the projector draw polylines")
    return problems


def _row_problems(name: str, numbers: list[int], what: str) -> list[str]:
    problems = [f"{name}:{number}: {what}" for number in numbers[:MAX_ROW_PROBLEMS]]
    if len(numbers) > MAX_ROW_PROBLEMS:
        problems.append(f"{name}: {len(numbers) - MAX_ROW_PROBLEMS} more rows with: {what}")
    return problems


def _check_sprite_entry(root: Path, base: Path, where: str, sprite, shape) -> list[str]:
    if not isinstance(sprite, dict):
        return [f"{where}: sprite must be an object"]
    dim = sprite.get("singleImageDim")
    if not (isinstance(dim, list) and len(dim) == 2 and all(isinstance(v, int) and v > 0 for v in dim)):
        return [f"{where}: sprite.singleImageDim must be [w, h] positive integers, not {dim!r}"]
    if dim[0] != dim[1]:
        return [f"{where}: sprite.singleImageDim {dim} must be square"]
    path, problems = _locate(root, base, f"{where}: sprite.imagePath", sprite.get("imagePath"))
    return problems if path is None else _check_sprite(root, path, dim[0], shape)


def _check_sprite(root: Path, path: Path, tile: int, shape) -> list[str]:
    name = _name(root, path)
    with path.open("rb") as file:
        head = file.read(24)
    # The IHDR chunk is always first: width and height follow the signature.
    if len(head) < 24 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return [f"{name}: not a PNG file"]
    width, height = struct.unpack(">II", head[16:24])
    problems = []
    if width != height:
        problems.append(f"{name}: {width}x{height} px; the grid must be square (columns == rows)")
    if max(width, height) > MAX_SIDE:
        problems.append(f"{name}: {width}x{height} px exceeds the projector's {MAX_SIDE} px limit")
    if width % tile or height % tile:
        problems.append(f"{name}: {width}x{height} px is not a whole number of {tile} px tiles")
    if shape is not None and (width // tile) * (height // tile) < shape[0]:
        problems.append(f"{name}: {width // tile}x{height // tile} tiles cannot hold N = {shape[0]} thumbnails")
    return problems


def _check_bookmarks(root: Path, path: Path, shape: list[int]) -> list[str]:
    name = _name(root, path)
    states, problem = _read_json(path, name)
    if problem:
        return [problem]
    if not isinstance(states, list):
        return [f"{name}: must be a JSON array of projector States"]
    problems = []
    for number, state in enumerate(states):
        if not isinstance(state, dict):
            problems.append(f"{name}: bookmark {number} is not an object")
            continue
        missing = [field for field in REQUIRED_STATE_FIELDS if field not in state]
        if missing:
            problems.append(f"{name}: bookmark {number} lacks {', '.join(missing)}")
        projections = state.get("projections")
        if "projections" in state and not (isinstance(projections, list) and len(projections) in (0, shape[0])):
            problems.append(f"{name}: bookmark {number}: projections must be a list of N = {shape[0]} points or empty")
    return problems


def _check_hosted(root: Path, path: Path, relative: list[dict]) -> list[str]:
    name = _name(root, path)
    config, problems = _read_config(root, path)
    if config is None:
        return problems
    hosted = config["embeddings"]
    if [e.get("tensorName") for e in hosted] != [e.get("tensorName") for e in relative]:
        return [f"{name}: embeddings differ from {CONFIG_NAME} (names or order)"]
    for embedding, twin in zip(hosted, relative):
        urls, files = _path_fields(embedding), _path_fields(twin)
        tensor = embedding.get("tensorName")
        if urls.keys() != files.keys():
            problems.append(f"{name}: {tensor}: has {sorted(urls)} but {CONFIG_NAME} has {sorted(files)}")
        for key in sorted(urls):
            problems += _check_url(name, tensor, key, urls[key], files.get(key))
    return problems


def _path_fields(embedding: dict) -> dict[str, object]:
    fields = {key: embedding[key] for key in PATH_KEYS if key in embedding}
    if isinstance(embedding.get("sprite"), dict):
        fields["sprite.imagePath"] = embedding["sprite"].get("imagePath")
    return fields


def _check_url(name: str, tensor: str, key: str, url, local) -> list[str]:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme != "https" or not parts.netloc:
        return [f"{name}: {tensor}: {key} must be an absolute https:// URL, not {url!r}"]
    if not isinstance(local, str) or PurePosixPath(unquote(parts.path)).name != PurePosixPath(local).name:
        return [f"{name}: {tensor}: {key} {url!r} does not point at {local!r}"]
    return []


def _name(root: Path, path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
