"""The projector bundle -> a TensorBoard logdir, as ``{path inside the logdir: bytes}``.

TensorBoard (2.21, no TensorFlow needed) shows the Embedding Projector for a
logdir holding ``projector_config.pbtxt`` and the files it names
(docs/projector-format.md, "TensorBoard logdir").  Its rules, applied here:

* a tensor file is parsed as text first (every cell through ``float()``) and
  as raw float32 only when it is not UTF-8, so tensors are numeric-only TSV:
  no header, no label column, LF.  Nine significant digits give every
  float32 back exactly, so TensorBoard serves the very vectors of the build;
* TensorBoard >= 2.21 refuses asset paths that resolve outside the config's
  folder, so every file sits next to the config under a bare file name;
* ``tensor_name`` and ``tensor_shape`` are always set (TensorBoard fills a
  missing name for the first embedding only).

The files are made from the in-memory projector bundle (its relative config,
``.bytes`` tensors, metadata, sprites and bookmarks), never re-read from disk.
The config is the tensorboard package's ``ProjectorConfig``, as text in the
form ``visualize_embeddings`` writes (see ``_pbtxt``).  TensorBoard caches configs
of logdirs without checkpoints: restart it after a rebuild.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Mapping

import numpy as np

from embedder.site.projector import CONFIG_NAME

#: Where the logdir goes inside the site when no ``--tensorboard-logdir`` is given.
DEFAULT_FOLDER = "tensorboard"
#: The file TensorBoard's projector plugin looks for in the logdir root.
CONFIG_FILE = "projector_config.pbtxt"

_NOT_NUMERIC = re.compile(r"[^0-9eE+\-.\t\n]")


def logdir_files(bundle: Mapping[str, bytes], folder: str = "projector") -> dict[str, bytes]:
    """Return the TensorBoard logdir for a projector bundle, keyed by path inside the logdir.

    ``bundle`` is what ``projector.projector_files`` returned (paths under
    ``folder``).  Each embedding keeps its name, shape, metadata, sprite and
    bookmarks; its ``.bytes`` tensor becomes ``<slug>.tsv``.
    """
    from tensorboard.plugins.projector import ProjectorConfig

    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    config = json.loads(bundle[prefix + CONFIG_NAME])
    proto = ProjectorConfig()
    files: dict[str, bytes] = {}
    for entry in config["embeddings"]:
        files.update(_embedding(proto.embeddings.add(), entry, bundle, prefix))
    files[CONFIG_FILE] = _pbtxt(proto)
    return files


def numeric_tsv(matrix: np.ndarray) -> bytes:
    """Return a float32 matrix as TSV that TensorBoard parses back bit for bit (``%.9g``)."""
    matrix = np.ascontiguousarray(matrix, dtype="<f4")
    n, d = matrix.shape
    row = "\t".join(["%.9g"] * d) + "\n"
    # One %-format over the whole matrix runs in C, unlike a loop over rows.
    return ((row * n) % tuple(matrix.ravel().tolist())).encode("ascii")


def validate_logdir(root: Path) -> list[str]:
    """Return the problems of the logdir at ``root``, one line each; [] means TensorBoard can load it."""
    from google.protobuf import text_format
    from tensorboard.plugins.projector import ProjectorConfig

    root = Path(root)
    path = root / CONFIG_FILE
    if not path.is_file():
        return [f"{path}: missing"]
    config = ProjectorConfig()
    try:
        text_format.Parse(path.read_text(encoding="utf-8"), config)
    except (UnicodeDecodeError, text_format.ParseError) as error:
        return [f"{path}: not a valid ProjectorConfig ({error})"]
    problems = []
    for embedding in config.embeddings:
        problems += _check_embedding(root, embedding)
    return problems or ([f"{path}: no embeddings"] if not config.embeddings else [])


def _embedding(proto, entry: dict, bundle: Mapping[str, bytes], prefix: str) -> dict[str, bytes]:
    n, d = entry["tensorShape"]
    tensor_path = entry["tensorPath"]
    if not tensor_path.endswith(".bytes"):
        raise ValueError(f"expected a .bytes tensor in the projector bundle, not {tensor_path!r}")
    matrix = np.frombuffer(bundle[prefix + tensor_path], dtype="<f4").reshape(n, d)
    tsv = tensor_path[: -len(".bytes")] + ".tsv"
    files = {tsv: numeric_tsv(matrix)}
    proto.tensor_name = entry["tensorName"]
    proto.tensor_path = tsv
    proto.tensor_shape.extend([n, d])
    if "metadataPath" in entry:
        proto.metadata_path = entry["metadataPath"]
        files[entry["metadataPath"]] = bundle[prefix + entry["metadataPath"]]
    if "bookmarksPath" in entry:
        proto.bookmarks_path = entry["bookmarksPath"]
        files[entry["bookmarksPath"]] = bundle[prefix + entry["bookmarksPath"]]
    if "sprite" in entry:
        proto.sprite.image_path = entry["sprite"]["imagePath"]
        proto.sprite.single_image_dim.extend(entry["sprite"]["singleImageDim"])
        files[entry["sprite"]["imagePath"]] = bundle[prefix + entry["sprite"]["imagePath"]]
    for name in files:
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"logdir file {name!r} must be a bare file name (TensorBoard refuses paths leaving the logdir)")
    return files


def _pbtxt(config) -> bytes:
    """The text-format config: exactly what ``projector.visualize_embeddings`` writes.

    ``visualize_embeddings`` is ``text_format.MessageToString(config)`` written
    through ``tensorboard.compat.tf.io.gfile``, and that lazy ``tf`` imports
    the real TensorFlow whenever it is installed (it is, for the TensorFlow
    models of ``--embedders``): seconds of import in a build that needs none.  So the same text
    is made here directly (a test compares it with ``visualize_embeddings``).
    """
    from google.protobuf import text_format

    return text_format.MessageToString(config).encode("utf-8")


def _check_embedding(root: Path, embedding) -> list[str]:
    where = f"{root / CONFIG_FILE}: embedding {embedding.tensor_name or '?'}"
    problems = []
    if not embedding.tensor_name:
        problems.append(f"{where}: tensor_name is not set")
    shape = list(embedding.tensor_shape)
    if len(shape) != 2 or min(shape, default=0) < 2:
        return problems + [f"{where}: tensor_shape must be [N, D] with N > 1 and D > 1, not {shape}"]
    for field in ("tensor_path", "metadata_path", "bookmarks_path"):
        value = getattr(embedding, field)
        if value:
            problems += _check_inside(root, where, field, value)
    if embedding.sprite.image_path:
        problems += _check_inside(root, where, "sprite.image_path", embedding.sprite.image_path)
    if embedding.tensor_path and not problems:
        problems += _check_tensor(root / embedding.tensor_path, where, shape)
    return problems


def _check_inside(root: Path, where: str, field: str, value: str) -> list[str]:
    pure = PurePosixPath(value)
    if pure.is_absolute() or ".." in pure.parts:
        return [f"{where}: {field} {value!r} must be a relative path inside the logdir"]
    if not (root / value).is_file():
        return [f"{where}: {field} {value!r} does not exist"]
    return []


def _check_tensor(path: Path, where: str, shape: list[int]) -> list[str]:
    data = path.read_bytes()
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return [f"{where}: {path.name} is not numeric TSV (TensorBoard parses tensor files as text first)"]
    if _NOT_NUMERIC.search(text):
        return [f"{where}: {path.name} holds something other than numbers, tabs and newlines"]
    lines = text.split("\n")
    if lines[-1] != "":
        return [f"{where}: {path.name} does not end with a newline"]
    rows = lines[:-1]
    if len(rows) != shape[0]:
        return [f"{where}: {path.name} has {len(rows)} rows, tensor_shape says {shape[0]}"]
    if any(row.count("\t") != shape[1] - 1 for row in rows):
        return [f"{where}: {path.name} has rows without exactly {shape[1]} values"]
    return []
