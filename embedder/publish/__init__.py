"""Publishers: put a built site where others can open it.

``python build.py publish TARGET [options]``.  Every target is a module with
the same three functions, registered in ``PUBLISHERS``:

* ``add_arguments(parser)`` declares its options;
* ``options_from_args(args, env) -> Options`` turns them (and, for secrets,
  the environment mapping handed down by the CLI) into a frozen value;
* ``publish(site_dir, options, *, dry_run=False, say=print) -> PublishResult``
  checks everything it can before changing anything, then publishes.  With
  ``dry_run`` it stages without pushing (gh-pages: commits to the local
  branch only; gist: plans the upload and contacts nobody).

A publisher reads what was built from the site's ``build.json`` (checked by
``site_manifest`` before any work) and never touches the user's checkout.
Failures are ``PublishError``: one line that says what happened, what state
the target is in, and what to do.  Text that comes from outside (a server's
answer, git's messages, file names on a branch) goes through ``one_line``
first, so it can neither break that line nor flood it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from embedder.errors import ReelspaceError
from embedder.site.projector import PROJECTOR_URL
from embedder.invocation import command


class PublishError(ReelspaceError):
    """Publishing failed or was refused; the message is one line."""


@dataclass(frozen=True)
class Publisher:
    """One publishing target: its name, the module implementing it, a one-line help."""

    name: str
    module: str
    help: str

    def load(self):
        """Import the implementing module (publishers load their dependencies lazily)."""
        return importlib.import_module(self.module)


#: The targets of ``python build.py publish``, by name.
PUBLISHERS = {
    "gh-pages": Publisher("gh-pages", "embedder.publish.gh_pages", "push the site to a GitHub Pages branch (git, ghp-import)"),
    "gist": Publisher("gist", "embedder.publish.gist", "upload the projector files to a gist for projector.tensorflow.org"),
}


@dataclass(frozen=True)
class PublishResult:
    """What a publisher did.

    ``url`` is where the published files are seen (the Pages site, the gist
    page); ``share_link`` opens them in projector.tensorflow.org; ``changed``
    is False when the target already held exactly these files; ``revision``
    is the commit or gist revision now published.
    """

    target: str
    url: str | None
    share_link: str | None
    changed: bool
    revision: str | None
    headline: str
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """Lines for the terminal: what happened, the addresses, then the notes."""
        lines = [self.headline]
        if self.url:
            lines.append(f"  url:        {self.url}")
        if self.share_link:
            lines.append(f"  share link: {self.share_link}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


class Secret:
    """A value that must never be printed: ``repr`` and ``str`` hide it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        """The value itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


# encodeURIComponent leaves these unescaped, and so does the projector's own
# link; everything else that could cut the query (?, &, =, #) is escaped (§0.13).
_URI_COMPONENT_SAFE = "!~*'()"


def share_link(config_url: str) -> str:
    """Return the projector.tensorflow.org link that opens the config at ``config_url``."""
    return PROJECTOR_URL + "?config=" + quote(config_url, safe=_URI_COMPONENT_SAFE)


def human_size(n: int) -> str:
    """``12_345_678`` -> ``"12.3 MB"`` (decimal units, as GitHub states its limits)."""
    from embedder.site.pages import human_size as size

    return size(n)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str, limit: int = 120) -> str:
    """``text`` as one printable line of at most ``limit`` characters (cut ones end in ``...``)."""
    flat = " ".join(_CONTROL.sub(" ", str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def read_manifest(site_dir: Path) -> dict:
    """Read ``build.json`` of a built site, or explain how to get one."""
    from embedder.output import MARKER
    from embedder.site.sharing import MANIFEST

    site_dir = Path(site_dir)
    if not site_dir.is_dir():
        raise PublishError(f"{site_dir}/ does not exist: build the site first ({command()}), or pass --site DIR")
    path = site_dir / MANIFEST
    if not (site_dir / MARKER).is_file() or not path.is_file():
        raise PublishError(
            f"{site_dir}/ is not a site built by this version of reelspace (no {MANIFEST}): rebuild it with {command()}"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise PublishError(f"{path}: not valid JSON ({error}); rebuild the site") from None


def site_manifest(site_dir: Path) -> dict:
    """``build.json`` of a built site, with the fields the publishers use checked (type, and the base URL)."""
    from embedder.site.projector import base_url_problem
    from embedder.site.sharing import MANIFEST

    manifest = read_manifest(site_dir)
    where = f"{Path(site_dir) / MANIFEST}"
    rebuild = f"rebuild the site with {command()}; nothing was published"
    if not isinstance(manifest, dict):
        raise PublishError(f"{where} is not a JSON object; {rebuild}")
    base_url = manifest.get("base_url")
    if base_url is not None:
        problem = base_url_problem(base_url) if isinstance(base_url, str) else "is not a string"
        if problem:
            raise PublishError(f"{where}: its base URL {one_line(repr(base_url), 80)} {problem}; "
                               f"rebuild with a correct --base-url; nothing was published")
    problem = _manifest_problem(manifest)
    if problem:
        raise PublishError(f"{where}: {problem}; {rebuild}")
    return manifest


def _manifest_problem(manifest: dict) -> str | None:
    """What is wrong with the fields of ``build.json`` other than the base URL, or None."""
    for key in ("dataset", "generator"):
        if not isinstance(manifest.get(key, ""), str):
            return f"{key} is not a string"
    embeddings = manifest.get("embeddings", [])
    if not isinstance(embeddings, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("shape"), list)
        and len(e["shape"]) == 2 and all(isinstance(n, int) and not isinstance(n, bool) for n in e["shape"])
        for e in embeddings
    ):
        return "embeddings is not a list of {name, shape: [rows, columns]}"
    if not isinstance(manifest.get("settings", {}), dict):
        return "settings is not an object"
    projector = manifest.get("projector") or {}
    if not isinstance(projector, dict):
        return "projector is not an object"
    folder = projector.get("folder", "projector")
    if not isinstance(folder, str) or not folder or folder.startswith("/") or "\\" in folder or ".." in folder.split("/"):
        return "projector.folder is not a folder inside the site"
    for key in ("link", "self_hosted"):
        if not isinstance(projector.get(key) or "", str):
            return f"projector.{key} is not a string"
    return None


def site_files(site_dir: Path) -> list[tuple[str, Path]]:
    """Every file of a built site as ``(relative posix path, path)``, sorted."""
    return sorted((p.relative_to(site_dir).as_posix(), p) for p in Path(site_dir).rglob("*") if p.is_file())


def build_parser() -> argparse.ArgumentParser:
    """``build.py publish``'s parser: one subcommand per registered target."""
    parser = argparse.ArgumentParser(
        prog="build.py publish",
        description=f"Publish a built site (default output/). Run {command()} first.",
    )
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    for publisher in PUBLISHERS.values():
        sub = targets.add_parser(publisher.name, help=publisher.help, description=publisher.load().__doc__.split("\n\n")[0])
        sub.add_argument("--site", default="output", metavar="DIR", help="the built site to publish (default output/)")
        sub.add_argument("--dry-run", action="store_true", help=publisher.load().DRY_RUN_HELP)
        publisher.load().add_arguments(sub)
    return parser


def main(argv: list[str], env: dict) -> int:
    """Run ``build.py publish ...``; errors propagate as ``PublishError`` for the CLI to print."""
    args = build_parser().parse_args(argv)
    module = PUBLISHERS[args.target].load()
    options = module.options_from_args(args, env)
    result = module.publish(Path(args.site), options, dry_run=args.dry_run)
    print(result.summary())
    return 0
