"""The bundle validator: the golden bundle passes, each broken variant is caught."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from embedder.site.validate import main, validate_projector
from tests.regen_golden import golden_files

MOVIES_META = "projector/movies_metadata.tsv"
USERS_META = "projector/users_metadata.tsv"
CONFIG = "projector/projector_config.json"
HOSTED = "projector/projector_config.hosted.json"
SPRITE = "projector/movies_sprite.png"
BOOKMARKS = "projector/movies_bookmarks.json"


@pytest.fixture(scope="module")
def golden() -> dict[str, bytes]:
    return golden_files()


def write(root: Path, files: dict[str, bytes]) -> Path:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


def png(width: int, height: int) -> bytes:
    buffer = BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


def edit_json(files, path, change):
    value = json.loads(files[path])
    change(value)
    files[path] = json.dumps(value).encode()


def edit_lines(files, path, change):
    lines = files[path].decode("utf-8").split("\n")[:-1]
    files[path] = ("\n".join(change(lines)) + "\n").encode("utf-8")


def straddling_metadata(files):
    header = "user\tuser_id\n"
    # The 2-byte "é" starts at byte 999,999, so the first 1 MB slice cuts it in half.
    first = "x" * (999_999 - len(header)) + "é\t1\n"
    files[USERS_META] = (header + first + "b\t2\nc\t3\n").encode("utf-8")


def drop_bookmark_field(files):
    edit_json(files, BOOKMARKS, lambda states: states[0].pop("tSNEPerplexity"))


BROKEN = {
    "wrong byte size": (lambda f: f.update({"projector/movies.bytes": f["projector/movies.bytes"][:-4]}), "projector/movies.bytes"),
    "metadata N+1 rows": (lambda f: edit_lines(f, MOVIES_META, lambda ls: ls + [ls[-1]]), MOVIES_META),
    "metadata N-1 rows": (lambda f: edit_lines(f, MOVIES_META, lambda ls: ls[:-1]), MOVIES_META),
    "tab in a value": (lambda f: edit_lines(f, MOVIES_META, lambda ls: ls[:2] + ["Tab\t" + ls[2]] + ls[3:]), MOVIES_META),
    "CRLF": (lambda f: f.update({MOVIES_META: f[MOVIES_META].replace(b"\n", b"\r\n")}), MOVIES_META),
    "missing header": (lambda f: edit_lines(f, MOVIES_META, lambda ls: ls[1:]), MOVIES_META),
    "empty cell": (lambda f: edit_lines(f, USERS_META, lambda ls: ls[:1] + [ls[1].replace("\tF\t", "\t\t")] + ls[2:]), USERS_META),
    "no trailing newline": (lambda f: f.update({USERS_META: f[USERS_META][:-1]}), USERS_META),
    "straddling UTF-8": (straddling_metadata, USERS_META),
    "non-square sprite": (lambda f: f.update({SPRITE: png(96, 64)}), SPRITE),
    "sprite over 8192 px": (lambda f: f.update({SPRITE: png(8224, 8224)}), SPRITE),
    "sprite grid too small": (lambda f: f.update({SPRITE: png(64, 64)}), SPRITE),
    "sprite not a PNG": (lambda f: f.update({SPRITE: b"GIF89a" + bytes(40)}), SPRITE),
    "bookmark missing a field": (drop_bookmark_field, BOOKMARKS),
    "bookmark projections length": (lambda f: edit_json(f, BOOKMARKS, lambda s: s[0]["projections"].pop()), BOOKMARKS),
    "relative path in hosted config": (
        lambda f: edit_json(f, HOSTED, lambda c: c["embeddings"][0].update(tensorPath="movies.bytes")), HOSTED),
    "hosted config points elsewhere": (
        lambda f: edit_json(f, HOSTED, lambda c: c["embeddings"][1].update(tensorPath="https://x.io/p/other.bytes")), HOSTED),
    "duplicate tensorName": (
        lambda f: edit_json(f, CONFIG, lambda c: c["embeddings"][1].update(tensorName=c["embeddings"][0]["tensorName"])),
        CONFIG),
    "missing tensorShape": (lambda f: edit_json(f, CONFIG, lambda c: c["embeddings"][0].pop("tensorShape")), CONFIG),
    "missing file": (lambda f: f.pop(USERS_META), USERS_META),
    "path leaving the site": (
        lambda f: edit_json(f, CONFIG, lambda c: c["embeddings"][1].update(metadataPath="../../outside.tsv")), CONFIG),
    "non-numeric TSV tensor": (lambda f: f.update({"projector/users.tsv": b"0.1\tx\t0.3\n1\t2\t3\n4\t5\t6\n"}), "projector/users.tsv"),
    "config not JSON": (lambda f: f.update({CONFIG: b"{embeddings: []"}), CONFIG),
}


def test_golden_bundle_is_valid(golden, tmp_path):
    assert validate_projector(write(tmp_path, golden)) == []


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_broken_variant_is_reported_naming_the_file(case, golden, tmp_path):
    breaker, culprit = BROKEN[case]
    files = dict(golden)
    breaker(files)
    problems = validate_projector(write(tmp_path / "site", files))
    assert problems, f"{case} was not detected"
    assert any(p.startswith(culprit) for p in problems), problems
    assert all("\n" not in p for p in problems)


def test_many_bad_rows_are_summarised(golden, tmp_path):
    files = dict(golden)
    edit_lines(files, MOVIES_META, lambda ls: ls[:1] + [line + "\textra" for line in ls[1:]])
    problems = validate_projector(write(tmp_path, files))
    assert len([p for p in problems if "cell count" in p]) == 6


def test_main_prints_problems_and_returns_the_exit_status(golden, tmp_path, capsys):
    root = write(tmp_path, golden)
    assert main([str(root)]) == 0
    assert "valid" in capsys.readouterr().out
    (root / MOVIES_META).write_bytes(b"title\n")
    assert main([str(root), "--folder", "projector"]) == 1
    assert MOVIES_META in capsys.readouterr().out
