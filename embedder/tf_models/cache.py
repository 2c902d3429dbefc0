"""Trained embeddings on disk, so a rebuild with the same data and settings does not retrain.

An entry is a folder ``<cache>/models/<name>-<key[:20]>/`` holding
``movie_vectors.npy``, ``user_vectors.npy`` (when the model has users) and
``meta.json`` (the full key, the ids of the rows, figures, settings, training
log, examples).  No pickles: arrays are ``.npy`` read with
``allow_pickle=False``, everything else is JSON.

The key is a SHA-256 over everything the result depends on: the model's
name and code version, its settings, the seed, the installed TensorFlow and
Keras versions, and a checksum of the data it reads (the interactions'
arrays, the catalogue, the user attributes, the rows to export, plus any
extra input such as tag files).  An entry is written to a temporary folder
and renamed into place, so a crash never leaves half an entry; an entry that
cannot be read is ignored (and retrained over).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from embedder.values import Dataset

META = "meta.json"


def fingerprint(dataset: Dataset, movie_ids, user_ids) -> str:
    """SHA-256 of the data a model reads: ratings log, catalogue, user attributes, rows exported."""
    digest = hashlib.sha256()

    def add(label: str, value) -> None:
        digest.update(label.encode() + b"\0")
        if value is None:
            digest.update(b"none")
        elif isinstance(value, np.ndarray) and value.dtype != object:
            digest.update(str(value.dtype).encode() + str(value.shape).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        else:
            digest.update(json.dumps([str(v) for v in value], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\0")

    inter = dataset.interactions
    for label, value in (("user_ids", inter.user_ids), ("item_ids", inter.item_ids), ("user", inter.user),
                         ("item", inter.item), ("rating", inter.rating), ("timestamp", inter.timestamp)):
        add(label, value)
    movies = dataset.movies
    add("movie.ids", movies.ids)
    add("movie.titles", movies.titles)
    add("movie.years", np.asarray(movies.years))
    add("movie.genres", ["|".join(g) for g in movies.genres])
    if dataset.users is not None:
        add("users.ids", dataset.users.ids)
        for name in sorted(dataset.users.attributes):
            add(f"users.{name}", dataset.users.attributes[name])
    add("export.movies", np.asarray(movie_ids))
    add("export.users", None if user_ids is None else np.asarray(user_ids))
    return digest.hexdigest()


def cache_key(name: str, version: int, settings: dict, seed: int, data: str, extra: dict | None = None) -> str:
    """The entry key: model, code version, settings, seed, library versions and data checksum."""
    from embedder.tf_models import installed_versions

    document = {"name": name, "version": version, "settings": settings, "seed": int(seed), "data": data,
                "extra": extra or {}, "libraries": installed_versions()}
    text = json.dumps(document, sort_keys=True, default=_plain, ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def entry_dir(root: Path, name: str, key: str) -> Path:
    return Path(root) / f"{name}-{key[:20]}"


def load(root: Path, name: str, key: str) -> tuple[dict, dict[str, np.ndarray]] | None:
    """``(meta, arrays)`` of a complete entry with exactly this key, else None."""
    folder = entry_dir(root, name, key)
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        if meta.get("key") != key:
            return None
        arrays = {stem: np.load(folder / f"{stem}.npy", allow_pickle=False) for stem in meta.get("arrays", [])}
    except (OSError, ValueError):
        return None
    return meta, arrays


def save(root: Path, name: str, key: str, meta: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write an entry atomically (a temporary folder renamed into place); returns its folder."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    folder = entry_dir(root, name, key)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=root))
    try:
        for stem, array in arrays.items():
            np.save(staging / f"{stem}.npy", np.ascontiguousarray(array), allow_pickle=False)
        document = dict(meta, key=key, arrays=sorted(arrays))
        # Not sorted: the figures keep their order (the key is computed separately).
        (staging / META).write_text(json.dumps(document, indent=1, default=_plain, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _plain(value):
    """JSON for settings values: tuples, numpy scalars and arrays, nested dataclasses."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value):
        return asdict(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} in a cache key")
