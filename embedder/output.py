"""Files in memory -> a site on disk, swapped in whole or not at all.

The build collects every file as ``{relative path: bytes}`` first; only then
is anything written, into a staging directory beside the target.  The staging
directory is checked, then swapped in with two renames, so a failed or
interrupted build leaves the previous site exactly as it was.

Every folder a build replaces whole (the site, an external TensorBoard logdir)
is a ``Target``: checked before any training (``prepare_targets``), locked so
that one build at a time writes it (``.NAME.lock`` beside it, see
``hold_targets``), and followed through its swap, so that an interrupted build
can say truthfully what it replaced (``interrupted_message``).  What a killed
build leaves beside a target (``.NAME.staging-PID``, ``.NAME.old-PID``) is
removed, or put back, by the next build.  A target that is a symlink is
followed: the folder it points to is replaced and the link is kept.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator, Sequence

from embedder.errors import BuildError

#: Written into every site we build; a non-empty directory without it is not ours.
MARKER = ".reelspace-build"

#: Files a user may have added by hand to the published site and wants kept.
CARRIED_OVER = ("CNAME",)


class SiteFiles:
    """A collision-checked collection of ``relative path -> bytes``."""

    def __init__(self):
        self._files: dict[str, bytes] = {}

    def add(self, path: str, data: bytes | str) -> None:
        """Add one file; a second file at the same path is a bug, not an overwrite."""
        clean = _clean_path(path)
        if clean in self._files:
            raise ValueError(f"two files for {clean}")
        self._files[clean] = data.encode("utf-8") if isinstance(data, str) else bytes(data)

    def update(self, files: dict[str, bytes]) -> None:
        """Add many files."""
        for path, data in files.items():
            self.add(path, data)

    def items(self) -> Iterable[tuple[str, bytes]]:
        return sorted(self._files.items())

    def __contains__(self, path: str) -> bool:
        return path in self._files

    def __getitem__(self, path: str) -> bytes:
        return self._files[path]

    def __len__(self) -> int:
        return len(self._files)

    def total_bytes(self) -> int:
        return sum(len(data) for data in self._files.values())


def _clean_path(path: str) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(f"unsafe site path {path!r}")
    return pure.as_posix()


#: The folders the current build replaces, by resolved path; ``interrupted_message`` reports on them.
_TARGETS: dict[Path, Target] = {}

#: The lock files this process holds: path -> [descriptor, holders] (re-entrant, so nested holds are free).
_LOCKS: dict[Path, list[int]] = {}


@dataclass
class Target:
    """One folder a build replaces whole: as the user named it, as it is on disk, and how far its swap got."""

    given: Path
    option: str | None
    path: Path
    swapping: bool = False
    new_folder: tuple[int, int] | None = None

    @property
    def label(self) -> str:
        """The option and path as the user typed them (and where a symlink leads)."""
        text = f"{self.option} {self.given}" if self.option else str(self.given)
        return text + (f" (a link to {self.path})" if self.given.is_symlink() else "")

    @property
    def staging(self) -> Path:
        return self.beside("staging", os.getpid())

    @property
    def old(self) -> Path:
        return self.beside("old", os.getpid())

    @property
    def lock_file(self) -> Path:
        return self.path.parent / f".{self.path.name}.lock"

    def beside(self, kind: str, pid: int) -> Path:
        """``.NAME.KIND-PID`` next to the folder: where a build stages or sets aside a copy."""
        return self.path.parent / f".{self.path.name}.{kind}-{pid}"

    def state(self) -> str:
        """What the folder holds now, read from the disk, so the sentence is true whenever it is asked for."""
        if self.swapping and self._holds_new():
            leftover = f" (the next build removes the leftover {self.old.name})" if self.old.exists() else ""
            return f"{self.label} holds the new build, complete{leftover}"
        if self.path.exists():
            return f"{self.label} was not replaced; its previous contents are intact"
        if self.swapping and self.old.exists():
            return (f"{self.label} is missing: its previous contents are in {self.old}, which the next build "
                    f"puts back (or rename it to {self.path.name} yourself)")
        return f"{self.label} was not written"

    def _holds_new(self) -> bool:
        try:
            found = self.path.stat()
        except OSError:
            return False
        return (found.st_dev, found.st_ino) == self.new_folder


def target(out_dir: Path, option: str | None = None) -> Target:
    """The folder ``out_dir`` names, symlinks followed; ``option`` (``--out``) is how messages name it."""
    given = Path(out_dir)
    try:
        path = given.resolve()
    except (OSError, RuntimeError) as error:  # a symlink loop
        raise BuildError(f"{option or 'the folder'} {given} cannot be followed ({error}): choose another folder") from None
    return Target(given=given, option=option, path=path)


def check_target(out_dir: Path, option: str | None = "--out") -> None:
    """Refuse a target we must not replace: a file, a folder we cannot replace, or a non-empty folder not built by us."""
    _check(target(out_dir, option))


def _check(place: Target) -> None:
    _check_place(place)
    path = place.path
    if path.is_dir() and any(path.iterdir()) and not (path / MARKER).exists():
        raise BuildError(
            f"refusing to replace {place.label}: it is not empty and was not built by reelspace "
            f"(choose an empty or new folder{_for(place)})"
        )


def _for(place: Target) -> str:
    return f" for {place.option}" if place.option else ""


def _check_place(place: Target) -> None:
    """Refuse what cannot be replaced by two renames: a file, a folder under a file, the current folder or above it."""
    path, fix = place.path, f"choose another folder{_for(place)}"
    if path.exists() and not path.is_dir():
        raise BuildError(f"{place.label} exists and is not a directory ({fix})")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise BuildError(f"{place.label} is inside {parent}, which is a file, not a folder ({fix})")
            break
    try:
        here = Path.cwd().resolve()
    except OSError:  # the current folder was deleted: nothing to protect
        return
    if path == here or path in here.parents:
        what = "the current folder" if path == here else f"above the current folder {here}"
        example = " ".join(filter(None, (place.option, str(Path(place.given, "site")))))
        raise BuildError(f"{place.label} is {what}, which a build cannot replace (it moves the whole folder aside): "
                         f"name a new folder inside it, e.g. {example}")


@contextmanager
def hold_targets(targets: Sequence[tuple[Path, str]]) -> Iterator[list[Target]]:
    """Lock the build's folders for the block, so a second build into one of them refuses at once.

    ``targets`` are ``(path, option)`` pairs.  The locks (``.NAME.lock`` beside
    each folder) are released on any exit; within one process they nest.
    """
    places = [target(path, option) for path, option in targets]
    with _holding(places):
        _remember(places)
        yield places


def prepare_targets(targets: Sequence[tuple[Path, str]]) -> list[Target]:
    """Before training: check each folder the build replaces, and tidy up after killed builds.

    Raises ``BuildError`` naming the option and the fix.  The folders are
    locked while they are checked (a build holding them already, through
    ``hold_targets``, keeps them), and remembered for ``interrupted_message``.
    """
    places = [target(path, option) for path, option in targets]
    with _holding(places):
        for place in places:
            _recover(place)
            _check(place)
    _remember(places)
    return places


def _remember(places: Sequence[Target]) -> None:
    _TARGETS.clear()
    _TARGETS.update((place.path, place) for place in places)


def interrupted_message() -> str:
    """One true line for Ctrl-C: what each folder of the build holds now (just "interrupted" with none known)."""
    states = [place.state() for place in _TARGETS.values()]
    _TARGETS.clear()
    return "interrupted: " + "; ".join(states) if states else "interrupted"


def _states() -> str:
    return "; ".join(place.state() for place in _TARGETS.values())


@contextmanager
def _holding(places: Sequence[Target]) -> Iterator[None]:
    for place in places:  # every place first, so a bad second one creates nothing for the first
        _check_place(place)
    taken: list[Target] = []
    try:
        for place in places:
            _lock(place)
            taken.append(place)
        yield
    finally:
        for place in reversed(taken):
            _unlock(place)


def _lock(place: Target) -> None:
    held = _LOCKS.get(place.lock_file)
    if held is not None:
        held[1] += 1
        return
    try:
        place.path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BuildError(f"cannot create {place.label}: {_reason(error)} (choose a folder you can write to)") from None
    _LOCKS[place.lock_file] = [_open_lock(place), 1]


def _open_lock(place: Target) -> int:
    """Open and lock ``.NAME.lock``; the one at the path, not one its holder has just removed."""
    path = place.lock_file
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise BuildError(f"cannot write {place.label}: {path.parent} is not writable ({_reason(error)}); "
                             f"choose a folder you can write to") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = _holder(fd)
            os.close(fd)
            if isinstance(error, BlockingIOError):
                raise BuildError(f"another build ({holder}) is writing {place.label}: wait for it to finish, "
                                 f"or choose another folder{_for(place)}") from None
            raise BuildError(f"cannot lock {path}: {_reason(error)}") from None
        if _same_file(fd, path):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (opened.st_dev, opened.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _holder(fd: int) -> str:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return f"process {text}" if text.isdigit() else "another process"


def _unlock(place: Target) -> None:
    held = _LOCKS[place.lock_file]
    held[1] -= 1
    if held[1]:
        return
    del _LOCKS[place.lock_file]
    try:
        os.unlink(place.lock_file)  # still locked: a build waiting on this file retries on the new one
    except FileNotFoundError:
        pass
    os.close(held[0])


def _reason(error: OSError) -> str:
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


def _recover(place: Target) -> None:
    """Tidy up after killed builds: drop their staging folders, put back a site they had moved aside."""
    try:
        for staging in _leftovers(place, "staging"):
            shutil.rmtree(staging, ignore_errors=True)
        olds = sorted(_leftovers(place, "old"), key=lambda folder: folder.stat().st_mtime, reverse=True)
        if olds and not place.path.exists():
            os.replace(olds.pop(0), place.path)
        for old in olds:  # set aside by a swap that was done, or half deleted: only ever a folder we had checked
            shutil.rmtree(old, ignore_errors=True)
    except OSError as error:
        raise BuildError(f"cannot tidy up beside {place.label} after an earlier build: {_reason(error)}") from None


def _leftovers(place: Target, kind: str) -> list[Path]:
    """``.NAME.KIND-PID`` folders beside the target whose process is gone (or is this one, between writes)."""
    prefix = f".{place.path.name}.{kind}-"
    if not place.path.parent.is_dir():
        return []
    found = []
    for entry in place.path.parent.iterdir():
        pid = entry.name[len(prefix):]
        if entry.name.startswith(prefix) and pid.isdigit() and entry.is_dir() and not entry.is_symlink():
            if _gone(int(pid)):
                found.append(entry)
    return found


def _gone(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _registered(out_dir: Path) -> Target:
    """The target ``prepare_targets`` announced for ``out_dir``; a write it did not announce starts a new record."""
    place = target(out_dir)
    if place.path not in _TARGETS:
        _TARGETS.clear()
        _TARGETS[place.path] = place
    return _TARGETS[place.path]


def write_site(files: SiteFiles, out_dir: Path, validate: Callable[[Path], list[str]] | None = None) -> None:
    """Write ``files`` into ``out_dir`` atomically, after ``validate`` passes on the staged copy.

    ``validate`` receives the staging directory and returns problems, one line
    each; any problem aborts the build with the previous site left in place.
    A problem or an OS error is a ``BuildError`` that says what every folder
    of the build holds now.
    """
    place = _registered(out_dir)
    with _holding([place]):
        _recover(place)
        _check(place)
        place.swapping, place.new_folder = False, None
        staging, old = place.staging, place.old
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        try:
            _write_all(files, staging)
            _carry_over(place.path, staging)
            if validate is not None:
                problems = validate(staging)
                if problems:
                    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                    raise BuildError(f"the files for {place.label} failed validation: {problems[0]}{more}; {_states()}")
            made = staging.stat()
            place.new_folder, place.swapping = (made.st_dev, made.st_ino), True
            swap_folder(staging, place.path, old)
        except OSError as error:
            raise BuildError(f"could not write {place.label}: {_reason(error)}; {_states()}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _write_all(files: SiteFiles, root: Path) -> None:
    root.mkdir(parents=True)
    for path, data in files.items():
        where = root / path
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_bytes(data)
    (root / MARKER).write_text("This directory is generated by reelspace (python build.py); it is replaced on every build.\n")


def _carry_over(out_dir: Path, staging: Path) -> None:
    for name in CARRIED_OVER:
        if (out_dir / name).is_file() and not (staging / name).exists():
            shutil.copy2(out_dir / name, staging / name)


def swap_folder(staging: Path, out_dir: Path, old: Path) -> None:
    """Move ``out_dir`` (if any) aside to ``old`` and ``staging`` into its place.

    On any failure or interrupt before the second rename is done, the previous
    folder is put back; ``old`` must not exist beforehand.
    """
    try:
        if out_dir.exists():
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
    except BaseException:
        if old.exists() and not out_dir.exists():
            os.replace(old, out_dir)  # put the previous folder back
        raise
