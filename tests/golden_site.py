"""The whole demo site from injected vectors, and its golden copy in ``tests/golden/site/``.

The site is a real ``embedder.pipeline.build`` of the built-in demo dataset
with ``--deterministic --movie-pages --base-url``, except that the Word2Vec
movie vectors and the SIF user vectors are handed in (``words=``,
``sentences=``) instead of trained: no training, so it takes seconds and is
the same on every run.  Every file the build writes is checked:

* text files are stored whole under ``tests/golden/site/files/`` and a
  difference is shown as a unified diff (JSON and explorer data scripts
  pretty-printed first, so one changed number is one changed line);
* the tensors (``*.bytes`` and the vectors' ``.tsv``; both follow from the
  injected vectors, are large and unreadable in a diff) are listed in
  ``tests/golden/site/manifest.json`` by SHA-256 of their bytes;
* the pictures (``*.png``) by SHA-256 of their decoded pixels, since the PNG
  bytes depend on the zlib build.

The manifest lists every file, stored or not, so a missing or extra file is
caught too.  Nothing in the site varies between runs: ``--deterministic``
keeps wall-clock times off the pages and out of ``build.json``, and no file
holds the output folder's path.  After an intended change to the output (or
to the demo dataset), regenerate with one command and review ``git diff``::

    python tests/regen_golden.py

Numbers come from numpy, openTSNE and Pillow/FreeType: a different version of
one of those may move a layout coordinate or a text pixel and need a regen.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
from io import BytesIO
from pathlib import Path

import numpy as np

GOLDEN_DIR = Path(__file__).parent / "golden"
SITE_DIR = GOLDEN_DIR / "site"
FILES_DIR = SITE_DIR / "files"
MANIFEST = SITE_DIR / "manifest.json"

BASE_URL = "https://example.github.io/reelspace/"
#: The command line of the golden build (besides --out); the vectors are injected, so no Word2Vec option matters.
ARGS = ["--dataset", "demo", "--deterministic", "--seed", "0", "--movie-pages", "--base-url", BASE_URL, "-q"]
#: The injected vectors: cluster centres plus noise, drawn from this seed.
VECTOR_SEED = 0
VECTOR_SIZE = 32
#: Text files larger than this are listed by hash only (none is today; a guard against a huge golden folder).
STORE_LIMIT = 512 * 1024
#: Diff lines shown per differing file, and characters per diff line.
DIFF_LINES = 60
LINE_WIDTH = 160

REGEN = "python tests/regen_golden.py"


# --- the build -----------------------------------------------------------------


def demo_inputs():
    """The demo dataset (already arranged in its log order) and the vectors to inject.

    The movie vectors are the planted cluster's centre plus noise, so the map,
    the regions and the neighbour lists look like a trained model's; the
    user vectors are SIF over them, as the pipeline would make them.  Their
    rows follow the sentences the pipeline makes with its default settings.
    """
    from embedder.model.sentence_vectors import sentence_vectors
    from embedder.model.sequences import SequenceParams, make_sequences
    from embedder.ratings.demo import make_demo_with_truth
    from embedder.ratings.order import ordered_dataset
    from embedder.values import WordVectors

    dataset, clusters = make_demo_with_truth(seed=0)
    dataset = ordered_dataset(dataset)  # arranged once here: the pipeline keeps an arranged dataset as it is
    sequences, _ = make_sequences(dataset.interactions, SequenceParams())
    row = {movie: i for i, movie in enumerate(dataset.movies.ids)}
    planted = clusters[[row[movie] for movie in sequences.token_ids]]
    rng = np.random.default_rng(VECTOR_SEED)
    centres = rng.normal(size=(int(clusters.max()) + 1, VECTOR_SIZE))

    def around_centres():
        # Rounded to 1/256: exact in float32, so the tensors do not depend on how the noise was summed.
        return np.round((centres[planted] + 0.5 * rng.normal(size=(len(planted), VECTOR_SIZE))) * 256) / 256

    words = WordVectors(ids=sequences.token_ids, vectors=around_centres().astype(np.float32),
                        output_vectors=around_centres().astype(np.float32))
    return dataset, words, sentence_vectors(sequences, words)


def build_site(out: Path) -> Path:
    """Build the golden demo site into ``out`` (replaced whole) and return it."""
    from embedder.cli import build_parser
    from embedder.config import config_from_args
    from embedder.pipeline import build
    from embedder.ratings.datasets import KNOWN

    dataset, words, sentences = demo_inputs()
    config = config_from_args(build_parser().parse_args([*ARGS, "--out", str(out)]), {}, KNOWN)
    build(config, dataset=dataset, words=words, sentences=sentences, warn=lambda message: None)
    return out


def site_files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its relative POSIX path, sorted."""
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


# --- how each file is kept -------------------------------------------------------


def kind(path: str, data: bytes) -> str:
    """``pixels``, ``sha256`` (bytes listed by hash) or ``stored`` (kept whole)."""
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".png"):
        return "pixels"
    if path.startswith("static/"):  # copied verbatim from site_template/static/: the hash says it was copied unchanged
        return "sha256"
    if name.endswith(".bytes") or (name.endswith(".tsv") and not name.endswith("_metadata.tsv")):
        return "sha256"
    if len(data) > STORE_LIMIT:
        return "sha256"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "sha256"
    return "stored"


def fingerprint(path: str, data: bytes) -> str:
    """SHA-256 of the bytes, or of the decoded pixels of a picture (mode, size and RGBA values)."""
    if kind(path, data) == "pixels":
        from PIL import Image

        with Image.open(BytesIO(data)) as image:
            rgba = image.convert("RGBA")
            data = f"RGBA {rgba.width}x{rgba.height}\n".encode() + rgba.tobytes()
    return hashlib.sha256(data).hexdigest()


def manifest(files: dict[str, bytes]) -> dict[str, dict]:
    return {path: {"kind": kind(path, data), "size": len(data), "sha256": fingerprint(path, data)}
            for path, data in sorted(files.items())}


def write_golden(files: dict[str, bytes]) -> list[str]:
    """Replace ``tests/golden/site/`` with ``files``; return the paths written."""
    if SITE_DIR.exists():
        shutil.rmtree(SITE_DIR)
    FILES_DIR.mkdir(parents=True)
    entries = manifest(files)
    written = []
    for path, data in files.items():
        if entries[path]["kind"] == "stored":
            target = FILES_DIR / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written.append(target)
    for entry in entries.values():
        if entry["kind"] == "pixels":
            del entry["size"]  # the PNG's size depends on zlib, like its bytes
    MANIFEST.write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return [str(path) for path in [*written, MANIFEST]]


# --- comparing -------------------------------------------------------------------


def readable(path: str, text: str) -> list[str]:
    """The lines to diff: JSON and explorer data scripts (``__reelspace_data(name, PAYLOAD);``) pretty-printed."""
    try:
        if path.endswith(".json"):
            return json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False).splitlines()
        if path.endswith(".js") and text.startswith("__reelspace_data("):
            head, payload = text[:text.index(",") + 1], text[text.index(",") + 1: text.rindex(")")]
            pretty = json.dumps(json.loads(payload), indent=1, ensure_ascii=False)
            return [head, *pretty.splitlines(), text[text.rindex(")"):]]
    except ValueError:
        pass
    return text.splitlines()


def text_diff(path: str, want: bytes, got: bytes) -> str:
    """A unified diff (golden -> built), shortened to ``DIFF_LINES`` lines of ``LINE_WIDTH`` characters."""
    old, new = want.decode("utf-8", "replace"), got.decode("utf-8", "replace")
    lines = list(difflib.unified_diff(readable(path, old), readable(path, new),
                                      f"golden/{path}", f"built/{path}", n=2, lineterm=""))
    if not lines:  # the same lines: line endings or a final newline differ
        lines = [f"{path}: same lines, different bytes (line endings or the final newline)"]
    shown = [_clip(line, _first_difference(lines, i)) for i, line in enumerate(lines[:DIFF_LINES])]
    if len(lines) > DIFF_LINES:
        shown.append(f"... {len(lines) - DIFF_LINES} more diff lines")
    return "\n".join(shown)


def _first_difference(lines: list[str], i: int) -> int:
    """Where a changed line first differs from its partner (the ``+`` line after a ``-`` line, or before a ``+``)."""
    line = lines[i]
    partner = {"-": "+", "+": "-"}.get(line[:1])
    if partner is None or line.startswith(("---", "+++")):
        return 0
    for j in (i + 1, i - 1) if line[0] == "-" else (i - 1, i + 1):
        if 0 <= j < len(lines) and lines[j][:1] == partner and not lines[j].startswith((partner * 3)):
            other = lines[j]
            return next((k for k in range(1, min(len(line), len(other))) if line[k] != other[k]), min(len(line), len(other)))
    return 0


def _clip(line: str, at: int) -> str:
    """``line`` cut to about ``LINE_WIDTH`` characters around column ``at`` (a long line's change stays visible)."""
    if len(line) <= LINE_WIDTH:
        return line
    start = max(0, min(at - LINE_WIDTH // 4, len(line) - LINE_WIDTH))
    if start <= 1:
        return line[:LINE_WIDTH] + " ..."
    return f"{line[0]} ... (column {start}) {line[start:start + LINE_WIDTH]}" + (" ..." if start + LINE_WIDTH < len(line) else "")


def differences(files: dict[str, bytes]) -> list[str]:
    """How ``files`` differ from the golden copy: one entry per file, empty when they agree."""
    if not MANIFEST.exists():
        return [f"no golden site in {SITE_DIR}; run: {REGEN}"]
    golden = json.loads(MANIFEST.read_text(encoding="utf-8"))
    problems = [f"missing from the build: {path}" for path in sorted(set(golden) - set(files))]
    problems += [f"new in the build (not in the golden copy): {path}" for path in sorted(set(files) - set(golden))]
    for path in sorted(set(golden) & set(files)):
        data, entry = files[path], golden[path]
        if entry["kind"] == "stored":
            want = (FILES_DIR / path).read_bytes()
            if data != want:
                problems.append(text_diff(path, want, data))
        elif fingerprint(path, data) != entry["sha256"] or kind(path, data) != entry["kind"]:
            what = "decoded pixels" if entry["kind"] == "pixels" else f"bytes ({entry['size']} -> {len(data)})"
            problems.append(f"{path}: {what} differ from the SHA-256 in {MANIFEST.name}")
    return problems
