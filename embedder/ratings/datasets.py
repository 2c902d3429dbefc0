"""The known MovieLens datasets: fetched once with pooch, verified, cached.

``fetch`` downloads a dataset's official zip from GroupLens (or a mirror),
checks it against a pinned SHA-256 (or, for archives GroupLens re-publishes,
against the ``.md5`` file published next to it), unpacks it and returns the
dataset folder.  The folder only appears under its final name once it is
complete, so ``cached_path`` can trust what it finds without the network.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import platformdirs

from embedder.errors import DownloadError

GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
_TIMEOUT = 30  # seconds without data before the .md5 request is given up (pooch's own default)


@dataclass(frozen=True)
class KnownDataset:
    """Where a dataset's archive lives and how to check it.

    ``sha256`` pins the archive; when it is ``None``, ``md5_url`` names the
    digest file GroupLens publishes next to it.  ``folder`` is the directory
    inside the zip, ``ratings_file`` the file whose presence marks a complete
    extraction, and ``size_hint`` the archive's size in bytes, for messages.
    """

    name: str
    url: str
    sha256: str | None
    folder: str
    size_hint: int
    md5_url: str | None = None
    ratings_file: str = "ratings.csv"


def _pinned(name, sha256, size, ratings_file="ratings.csv"):
    return KnownDataset(name, f"{GROUPLENS}{name}.zip", sha256, name, size, None, ratings_file)


def _md5_checked(name, folder, size, ratings_file="ratings.csv"):
    url = f"{GROUPLENS}{name}.zip"
    return KnownDataset(name, url, None, folder, size, url + ".md5", ratings_file)


KNOWN: dict[str, KnownDataset] = {k.name: k for k in (
    _pinned("ml-latest-small",
            "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436", 978202),
    _pinned("ml-100k",
            "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229", 4924029, "u.data"),
    _pinned("ml-1m",
            "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20", 5917549, "ratings.dat"),
    _pinned("ml-20m",
            "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3", 198702078),
    _pinned("ml-25m",
            "8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa", 261978986),
    # Sizes below are approximate (no pinned archive); they only feed messages.
    _md5_checked("ml-10m", "ml-10M100K", 65_600_000, "ratings.dat"),
    _md5_checked("ml-32m", "ml-32m", 239_000_000),
    _md5_checked("ml-latest", "ml-latest", 335_000_000),
)}
"""The MovieLens releases ``fetch`` knows, by name."""


def default_cache_dir(env: Mapping[str, str]) -> Path:
    """Return ``env["REELSPACE_DATA"]`` if set, else the user cache dir for reelspace."""
    chosen = env.get("REELSPACE_DATA", "")
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_cache_dir("reelspace"))


def cached_path(name: str, cache_dir: Path, *, known: Mapping[str, KnownDataset] = KNOWN) -> Path | None:
    """Return the extracted dataset folder if it is already cached and complete, else None."""
    entry = _lookup(name, known)
    folder = Path(cache_dir) / entry.folder
    return folder if (folder / entry.ratings_file).is_file() else None


def fetch(name: str, cache_dir: Path, *, mirror: str | None = None, progress: bool = True,
          known: Mapping[str, KnownDataset] = KNOWN) -> Path:
    """Download, verify and unpack a known dataset unless cached; return its folder.

    Parameters
    ----------
    name : str
        A key of ``known`` (``"ml-latest-small"``, ``"ml-25m"``, ...).
    cache_dir : Path
        Where archives and extracted folders live (``default_cache_dir``).
    mirror : str, optional
        A base URL that replaces the archive's own directory (and that of its
        ``.md5`` file).
    progress : bool
        Show pooch's progress bar on stderr while downloading.
    known : mapping
        The registry to look ``name`` up in.

    Raises
    ------
    DownloadError
        One line: unknown name, offline, HTTP error, checksum mismatch, or an
        archive that cannot be unpacked.  No complete-looking folder is left.
    """
    entry = _lookup(name, known)
    cache_dir = Path(cache_dir)
    found = cached_path(name, cache_dir, known=known)
    if found is not None:
        return found
    url = _relocate(entry.url, mirror)
    with _quiet_pooch():
        known_hash = _known_hash(entry, mirror)
        scratch = _scratch_dir(entry, cache_dir)
        try:
            archive = _download_and_unzip(entry, url, known_hash, cache_dir, scratch, progress)
            folder = _install(entry, scratch, url, cache_dir)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    archive.unlink(missing_ok=True)  # the extracted folder is the cache
    return folder


def _lookup(name, known):
    if name not in known:
        raise DownloadError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(known))}")
    return known[name]


def _relocate(url, mirror):
    """Replace everything before the file name of ``url`` by ``mirror``."""
    if not mirror:
        return url
    return mirror.rstrip("/") + "/" + url.rsplit("/", 1)[-1]


def _known_hash(entry, mirror):
    """The pooch ``known_hash``: the pinned sha256, or ``md5:`` from the published digest file."""
    if entry.sha256:
        return f"sha256:{entry.sha256}"
    if not entry.md5_url:
        return None
    md5_url = _relocate(entry.md5_url, mirror)
    text = _get_text(entry.name, md5_url)
    match = re.match(r"\s*(?:MD5 \(.*\) = )?([0-9a-fA-F]{32})\b", text)
    if not match:
        raise DownloadError(f"could not read the checksum for {entry.name} from {md5_url}: "
                            f"expected an MD5 hex digest, got {text[:40].strip()!r}")
    return f"md5:{match.group(1).lower()}"


def _get_text(name, url):
    """GET a small text file (the ``.md5`` digest), mapping failures to DownloadError."""
    import requests

    try:
        response = requests.get(url, timeout=_TIMEOUT)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise _download_error(name, url, exc) from None
    return response.text


def _scratch_dir(entry, cache_dir):
    """A fresh temporary folder inside ``cache_dir`` to unzip into."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{entry.folder}.partial-", dir=cache_dir))
    except OSError as exc:
        raise DownloadError(f"could not create the data cache {cache_dir}: "
                            f"{exc.strerror or exc}") from None


def _download_and_unzip(entry, url, known_hash, cache_dir, scratch, progress):
    """Fetch the archive with pooch (kept only if its hash matches), unzip it into ``scratch``.

    Returns the archive's path.
    """
    import pooch
    import requests

    fname = entry.url.rsplit("/", 1)[-1]
    try:
        pooch.retrieve(url, known_hash, fname=fname, path=cache_dir,
                       processor=pooch.Unzip(extract_dir=scratch.name), progressbar=progress)
    except requests.RequestException as exc:
        raise _download_error(entry.name, url, exc) from None
    except ValueError as exc:
        raise _checksum_error(entry.name, url, known_hash, exc) from None
    except zipfile.BadZipFile as exc:
        (cache_dir / fname).unlink(missing_ok=True)
        raise DownloadError(f"could not unpack {entry.name} from {url}: {exc}") from None
    except OSError as exc:
        raise DownloadError(f"could not save {entry.name} in {cache_dir}: "
                            f"{exc.strerror or exc}") from None
    return cache_dir / fname


def _install(entry, scratch, url, cache_dir):
    """Move the unzipped dataset folder from ``scratch`` to its final name; return that."""
    source = _folder_with(scratch, entry.ratings_file)
    if source is None:
        raise DownloadError(f"the archive for {entry.name} from {url} has no {entry.ratings_file}: "
                            "the archive changed or is not a MovieLens release")
    target = cache_dir / entry.folder
    only = {entry.name: entry}
    try:
        if target.exists() and cached_path(entry.name, cache_dir, known=only) is None:
            shutil.rmtree(target)  # an incomplete leftover from outside fetch; replace it
        source.rename(target)
    except OSError as exc:
        if cached_path(entry.name, cache_dir, known=only) is None:  # not a concurrent fetch's
            raise DownloadError(f"could not unpack {entry.name} into {cache_dir}: "
                                f"{exc.strerror or exc}") from None
    return target


def _folder_with(root, filename):
    """The shallowest folder under ``root`` that holds ``filename``, or None."""
    hits = sorted(root.rglob(filename), key=lambda p: len(p.parts))
    return hits[0].parent if hits else None


def _download_error(name, url, exc):
    """A one-line DownloadError for a network failure or an HTTP error status."""
    import requests

    response = getattr(exc, "response", None)
    if isinstance(exc, requests.HTTPError) and response is not None:
        reason = f"HTTP {response.status_code} {response.reason or ''}".strip()
        return DownloadError(f"could not download {name} from {url}: {reason}; "
                             "check the address (or --mirror) or pass --ratings DIR")
    return DownloadError(f"could not download {name} from {url}: {_short_reason(exc)}; "
                         "check your connection or pass --ratings DIR")


def _short_reason(exc):
    """A few words on why a request failed, from requests' nested exception text."""
    import requests

    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if errno:
        return errno.group(1).strip().rstrip(".").lower()
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS/SSL error"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__


def _checksum_error(name, url, known_hash, exc):
    """A one-line DownloadError for pooch's hash mismatch (its ValueError)."""
    got = re.search(r"but got (\w+)", str(exc))
    if got is None:
        return DownloadError(f"could not download {name} from {url}: {' '.join(str(exc).split())}")
    algorithm, expected = known_hash.split(":", 1)
    return DownloadError(
        f"could not download {name} from {url}: checksum mismatch (got {algorithm}:{got.group(1)}, "
        f"expected {algorithm}:{expected}): the download was corrupted or the archive changed")


@contextmanager
def _quiet_pooch():
    """Silence pooch's INFO lines while inside; the caller prints its own message."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
