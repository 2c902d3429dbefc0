"""A ``config.DataConfig`` -> Dataset: the demo, a known dataset (cached or downloaded), or a path.

The config is taken as it is (its fields are read, the class is not imported), so
that reading data does not depend on the module that gathers every setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from embedder.errors import DownloadError
from embedder.values import Dataset


def load_dataset(data, *, progress: bool = True, warn: Callable[[str], None] = print) -> Dataset:
    """Read the dataset ``data`` (a ``config.DataConfig``) names.

    The default run (no data option) falls back to the built-in demo with one
    warning when the default dataset cannot be downloaded; a dataset asked
    for explicitly that cannot be had is an error.
    """
    from embedder.ratings.readers import read_dataset

    if data.ratings is not None:
        return read_dataset(data.ratings, data.read, strict=data.strict)
    if data.dataset == "demo":
        return _demo(data)
    folder = known_folder(data, progress=progress, warn=warn)
    if folder is None:
        return _demo(data)
    return read_dataset(folder, data.read, strict=data.strict, name=data.dataset)


def known_folder(data, *, progress: bool = True, warn: Callable[[str], None] = print) -> Path | None:
    """The folder of the known dataset ``data.dataset``: cached, or downloaded now.

    None when it cannot be downloaded and this is the default run, which
    then builds the demo (one warning says so); otherwise the DownloadError.
    """
    from embedder.ratings.datasets import cached_path, fetch

    folder = cached_path(data.dataset, data.cache_dir)
    if folder is None:
        try:
            folder = fetch(data.dataset, data.cache_dir, mirror=data.mirror, progress=progress)
        except DownloadError as error:
            if not data.fallback_to_demo:
                raise
            warn(f"warning: {error} -- building the built-in demo dataset instead")
            return None
    return folder


def _demo(data) -> Dataset:
    from embedder.ratings.demo import make_demo

    return make_demo(seed=data.demo_seed)
