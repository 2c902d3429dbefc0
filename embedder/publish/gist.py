"""Upload the projector files to a gist and print a projector.tensorflow.org share link.

How the files get there: the gist REST API (create, get, update), with the
**TSV tensors**.  The API carries file contents as JSON strings, so binary
files (``.bytes`` tensors, the sprite PNG) cannot go through it.  The other
way, pushing to the gist's git remote, would carry them, but it needs the
token on a git command line or in a credential store (where it could end up
on disk or in ``ps``), cannot create the gist, and cannot be tested here.
So the gist holds numeric TSV tensors (the projector parses any path not
ending in ``.bytes`` as TSV, docs/projector-format.md, "Tensors"), metadata and bookmarks;
**sprites are left out**.  For ``.bytes`` tensors and thumbnails, use
``publish gh-pages``.

Gists are flat: a file's path under the projector folder becomes its name,
with ``/`` replaced by ``--``.  The config is rewritten with absolute raw URLs
pinned to the revision that holds the data
(``https://gist.githubusercontent.com/<user>/<id>/raw/<sha>/<file>``) and
written last, in its own update.  Until that update succeeds the gist's
previous config, pinned to the previous revision, keeps working, so a failed
run leaves nothing broken, and running again with ``--gist ID`` finishes it.

Limits checked before anything is sent: a file at most 10 MB (GitHub serves
raw gist files up to ten megabytes; larger ones only through git clone), at
most 300 files (the API lists no more), and at most 50 MB in all (GitHub
documents no total, but the whole upload is one JSON request, and requests of
a few hundred MB fail).

Every answer of the API is checked to be the gist asked for, with the
fields used (``github_api.gist_problem``); when a 2xx answer is not, the
error line says the request may have been carried out and how to finish.

The token comes from an environment variable (``GITHUB_TOKEN`` by default).
It is sent in the Authorization header and nowhere else: never printed,
logged, written to disk, or put into the site.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from embedder.site.projector import CONFIG_NAME
from embedder.publish import PublishError, PublishResult, Secret, human_size, one_line, share_link, site_manifest
from embedder.publish.github_api import GIST_ID, GitHubApi, api_base_url
from embedder.invocation import command

DRY_RUN_HELP = "check and list what would be uploaded; contact nobody (no token needed)"

DEFAULT_API = "https://api.github.com"
DEFAULT_TOKEN_ENV = "GITHUB_TOKEN"
#: GitHub serves a gist file through its raw URL only up to ten megabytes.
MAX_FILE_BYTES = 10_000_000
#: The API lists at most 300 files of a gist.
MAX_FILES = 300
#: reelspace's cap on one upload (GitHub documents no total for a gist).
MAX_TOTAL_BYTES = 50_000_000
RAW_HOST = "https://gist.githubusercontent.com"

_RESERVED = re.compile(r"gistfile\d+(\.|$)", re.IGNORECASE)


@dataclass(frozen=True)
class GistOptions:
    """Which gist, where the API is, and the token (hidden from ``repr``)."""

    token_env: str = DEFAULT_TOKEN_ENV
    token: Secret | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API
    public: bool = False
    description: str | None = None
    gist_id: str | None = None
    timeout: float = 60.0


@dataclass(frozen=True)
class Upload:
    """The flat files to upload and the config entries that name them."""

    files: dict[str, str]
    entries: list[dict]
    left_out: tuple[str, ...]


def add_arguments(parser) -> None:
    """The ``publish gist`` options."""
    parser.add_argument("--public", action="store_true", help="make a new gist public (default: secret, seen only by those with the link)")
    parser.add_argument("--description", metavar="TEXT", help="the gist's description (default: names the dataset and the embeddings)")
    parser.add_argument("--gist", metavar="ID", help="update this gist instead of creating a new one (also finishes an interrupted upload)")
    parser.add_argument("--token-env", default=DEFAULT_TOKEN_ENV, metavar="NAME",
                        help=f"environment variable holding a GitHub token with the gist scope (default {DEFAULT_TOKEN_ENV})")
    parser.add_argument("--api-url", default=DEFAULT_API, metavar="URL",
                        help=f"GitHub API base URL (default {DEFAULT_API}; GitHub Enterprise: https://HOST/api/v3)")


def options_from_args(args, env) -> GistOptions:
    """Options from parsed arguments; the token is read from ``env[--token-env]``."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args.token_env):
        raise PublishError(f"--token-env {args.token_env!r} is not an environment variable name")
    if args.gist is not None and not GIST_ID.fullmatch(args.gist):
        raise PublishError(f"--gist {one_line(repr(args.gist), 80)} is not a gist ID (the letters and digits "
                           "at the end of the gist's address, as printed by the first publish)")
    value = env.get(args.token_env, "").strip()
    return GistOptions(
        token_env=args.token_env,
        token=Secret(value) if value else None,
        api_url=api_base_url(args.api_url),
        public=args.public,
        description=args.description,
        gist_id=args.gist,
    )


def publish(site_dir: Path, options: GistOptions, *, dry_run: bool = False, say=None) -> PublishResult:
    """Create or update the gist; return its page and the projector share link."""
    say = say or (lambda line: print(line, file=sys.stderr))
    site_dir = Path(site_dir)
    manifest = site_manifest(site_dir)
    upload = plan_upload(site_dir, manifest)
    description = options.description or default_description(manifest)
    notes = [f"left out (binary files cannot go through the gist API; use publish gh-pages for them): {', '.join(upload.left_out)}"] if upload.left_out else []
    if dry_run:
        return _dry_run(upload, options, description, notes)
    if options.token is None:
        raise PublishError(
            f"${options.token_env} is not set: create a GitHub token with the gist scope and export "
            f"{options.token_env}=... (or name another variable with --token-env); nothing was published"
        )
    api = GitHubApi(options.api_url, options.token, options.token_env, options.gist_id, options.timeout)
    if options.gist_id is None:
        gist, changed = _create(api, upload, options, description, say), True
    else:
        gist, changed, more = _update(api, upload, options, description, say)
        notes += more
    return _result(gist, changed, notes)


def plan_upload(site_dir: Path, manifest: dict) -> Upload:
    """Read the relative projector config and the files it names; flatten; check GitHub's limits."""
    folder = (manifest.get("projector") or {}).get("folder", "projector")
    base = site_dir / folder
    try:
        config = json.loads((base / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PublishError(f"{folder}/{CONFIG_NAME} cannot be read ({one_line(error)}); rebuild the site") from None
    files: dict[str, str] = {}
    entries, left_out = [], []
    for entry in _config_entries(config, folder):
        entry = dict(entry)
        entry["tensorPath"] = _text_tensor(base, entry["tensorPath"])
        for key in ("tensorPath", "metadataPath", "bookmarksPath"):
            if key in entry:
                name = flat_name(entry[key])
                files[name] = _read_text(base, entry[key], folder)
                entry[key] = name
        if "sprite" in entry:
            left_out.append(f"{folder}/{entry.pop('sprite')['imagePath']}")
        entries.append(entry)
    check_limits(files, folder)
    return Upload(files, entries, tuple(left_out))


def _config_entries(config, folder: str) -> list[dict]:
    """The config's embeddings, each naming only files inside the projector folder."""
    entries = config.get("embeddings") if isinstance(config, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise PublishError(f"{folder}/{CONFIG_NAME} is not a projector config reelspace wrote; rebuild the site")
    for entry in entries:
        sprite = entry.get("sprite")
        paths = [entry.get("tensorPath")] + [entry[key] for key in ("metadataPath", "bookmarksPath") if key in entry]
        paths += [sprite.get("imagePath") if isinstance(sprite, dict) else sprite] if "sprite" in entry else []
        for path in paths:
            if not _inside(path):
                raise PublishError(f"{folder}/{CONFIG_NAME} names {one_line(repr(path), 80)}, which is not a file "
                                   f"in {folder}/; rebuild the site")
    return entries


def _inside(path) -> bool:
    """True for a relative path that stays inside its folder (no ``..``, not absolute, no backslash)."""
    if not isinstance(path, str) or not path or "\\" in path:
        return False
    pure = PurePosixPath(path)
    return not pure.is_absolute() and ".." not in pure.parts


def flat_name(path: str) -> str:
    """A gist file name for a path under the projector folder (gists have no folders)."""
    name = "--".join(PurePosixPath(path).parts)
    if not name or name.startswith(".") or _RESERVED.match(name) or name == CONFIG_NAME:
        raise PublishError(f"{path!r} cannot be a gist file name")
    return name


def check_limits(files: dict[str, str], folder: str) -> None:
    """Refuse an upload GitHub would truncate or refuse, before sending anything."""
    sizes = {name: len(text.encode("utf-8")) for name, text in files.items()}
    pages = f"publish to GitHub Pages instead: {command()} publish gh-pages"
    for name, size in sizes.items():
        if size > MAX_FILE_BYTES:
            raise PublishError(
                f"{folder}/{name} is {human_size(size)}, but GitHub serves gist files only up to 10 MB; {pages}"
            )
    if len(files) + 1 > MAX_FILES:
        raise PublishError(f"{len(files) + 1} files are more than a gist can list ({MAX_FILES}); {pages}")
    total = sum(sizes.values())
    if total > MAX_TOTAL_BYTES:
        raise PublishError(f"the gist would hold {human_size(total)}, more than reelspace uploads to a gist (50 MB); {pages}")


def gist_config(upload: Upload, raw_base: str, revision: str) -> str:
    """The hosted config: every path an absolute raw URL pinned to ``revision``."""
    entries = []
    for entry in upload.entries:
        entry = dict(entry)
        for key in ("tensorPath", "metadataPath", "bookmarksPath"):
            if key in entry:
                entry[key] = raw_url(raw_base, revision, entry[key])
        entries.append(entry)
    return json.dumps({"embeddings": entries}, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def raw_url(raw_base: str, revision: str, name: str) -> str:
    """``<raw base>/raw/<revision>/<file>``: the file as it is in that revision, forever."""
    return f"{raw_base}/raw/{revision}/{quote(name)}"


def default_description(manifest: dict) -> str:
    """``ml-latest-small embeddings for the Embedding Projector: movies · word2vec 9742x50, ...``."""
    shapes = ", ".join(f"{e['name']} {e['shape'][0]}x{e['shape'][1]}" for e in manifest.get("embeddings", []))
    return f"{manifest.get('dataset', 'reelspace')} embeddings for the Embedding Projector: {shapes} ({manifest.get('generator', 'reelspace')})"


# --- the two flows -------------------------------------------------------------------


def _create(api: "GitHubApi", upload: Upload, options: GistOptions, description: str, say) -> dict:
    say(f"creating a {'public' if options.public else 'secret'} gist with {len(upload.files)} files ...")
    body = {"description": description, "public": options.public, "files": {n: {"content": t} for n, t in upload.files.items()}}
    gist = api.call("POST", "/gists", body, state="nothing was published", unclear=(
        "GitHub may have created a gist all the same: look among your gists, and delete it or finish it with --gist ID"
    ))
    gist_id = gist["id"]
    finish = f"run the same command with --gist {gist_id} to finish"
    return _write_config(api, gist, upload,
                         state=f"gist {gist_id} was created with the data but without its config: {finish}",
                         unclear=f"gist {gist_id} was created with the data, but whether its config was written is unknown: {finish}")


def _update(api: "GitHubApi", upload: Upload, options: GistOptions, description: str, say) -> tuple[dict, bool, list[str]]:
    path = f"/gists/{quote(options.gist_id, safe='')}"
    gist_id = options.gist_id
    gist = api.call("GET", path, state="nothing was changed", gist_id=gist_id)
    current = gist.get("files") or {}
    notes = []
    if options.public and not gist.get("public"):
        notes.append("--public has no effect on an existing gist: GitHub cannot make a secret gist public")
    body: dict = {}
    if options.description is not None and options.description != gist.get("description"):
        body["description"] = options.description
    send = {name: {"content": text} for name, text in upload.files.items() if not _same(current.get(name), text)}
    if send:
        say(f"updating {len(send)} of {len(upload.files)} files of gist {options.gist_id} ...")
        gist = api.call("PATCH", path, {**body, "files": send}, state="nothing was changed", gist_id=gist_id, unclear=(
            f"gist {gist_id} may hold the new data now, but its config still points at the previous revision "
            "(the old share link keeps working): run the same command again to finish"
        ))
        body = {}
    else:
        # The data are already there.  The config is current only if it was the
        # last thing written, pinned to the revision just before it: after an
        # interrupted update it still names an older revision with older data.
        pinned = _pinned_revision(current.get(CONFIG_NAME))
        history = [h.get("version") for h in gist.get("history") or []]
        if pinned and history[1:2] == [pinned] and _same(current.get(CONFIG_NAME), gist_config(upload, _raw_base(gist), pinned)):
            if body:
                gist = api.call("PATCH", path, body, state="nothing was changed", gist_id=gist_id,
                                unclear="the description may have changed; nothing else was sent")
            return gist, bool(body), notes
    config = gist_config(upload, _raw_base(gist), _revision(gist))
    state = (f"gist {gist_id} has the new data but its config still points at the previous revision "
             f"(the old share link keeps working): run the same command again to finish")
    unclear = (f"gist {gist_id} has the new data, but whether its config now points at it is unknown: "
               "run the same command again to finish")
    files = {"files": {CONFIG_NAME: {"content": config}}}
    return api.call("PATCH", path, {**body, **files}, state=state, unclear=unclear, gist_id=gist_id), True, notes


def _write_config(api: "GitHubApi", gist: dict, upload: Upload, state: str, unclear: str) -> dict:
    config = gist_config(upload, _raw_base(gist), _revision(gist))
    return api.call("PATCH", f"/gists/{quote(gist['id'], safe='')}", {"files": {CONFIG_NAME: {"content": config}}},
                    state=state, unclear=unclear, gist_id=gist["id"])


def _result(gist: dict, changed: bool, notes: list[str]) -> PublishResult:
    revision = _revision(gist)
    config_url = raw_url(_raw_base(gist), revision, CONFIG_NAME)
    notes = notes + [f"to update this gist later: {command()} publish gist --gist {gist['id']}",
                     f"config: {config_url}"]
    verb = "published to" if changed else "no changes: already published in"
    return PublishResult(
        target="gist",
        url=gist.get("html_url"),
        share_link=share_link(config_url),
        changed=changed,
        revision=revision,
        headline=f"{verb} gist {gist['id']} (revision {revision[:7]})",
        notes=tuple(notes),
    )


def _dry_run(upload: Upload, options: GistOptions, description: str, notes: list[str]) -> PublishResult:
    total = sum(len(text.encode("utf-8")) for text in upload.files.values())
    listing = ", ".join(f"{name} ({human_size(len(text.encode('utf-8')))})" for name, text in upload.files.items())
    action = f"update gist {options.gist_id}" if options.gist_id else f"create a {'public' if options.public else 'secret'} gist"
    notes = [f"files: {listing}, then {CONFIG_NAME} with raw URLs pinned to that revision",
             f"description: {description}"] + notes
    if options.token is None:
        notes.append(f"${options.token_env} is not set: a real run needs a token with the gist scope")
    return PublishResult("gist", None, None, False, None,
                         f"dry run: would {action} at {options.api_url} with {len(upload.files) + 1} files ({human_size(total)})",
                         tuple(notes))


def _same(current: dict | None, text: str) -> bool:
    """True when the gist's file is known to hold ``text`` already (truncated files are not known)."""
    return bool(current) and not current.get("truncated") and current.get("content") == text


def _pinned_revision(file: dict | None) -> str | None:
    """The revision an existing gist config pins its tensors to, if it is one of ours."""
    if not file or file.get("truncated"):
        return None
    try:
        url = json.loads(file.get("content") or "")["embeddings"][0]["tensorPath"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    found = re.search(r"/raw/([0-9a-f]{7,64})/[^/]+$", str(url))
    return found.group(1) if found else None


def _revision(gist: dict) -> str:
    history = gist.get("history") or []
    if not history or not history[0].get("version"):
        raise PublishError(f"the API's answer for gist {gist.get('id')} has no revision; run the same command with --gist {gist.get('id')}")
    return history[0]["version"]


def _raw_base(gist: dict) -> str:
    """``https://gist.githubusercontent.com/<user>/<id>``, from a raw_url of the answer (also right on GHE)."""
    for file in (gist.get("files") or {}).values():
        raw = (file or {}).get("raw_url") or ""
        if "/raw/" in raw:
            return raw.split("/raw/", 1)[0]
    owner = (gist.get("owner") or {}).get("login")
    if not owner:
        raise PublishError(f"the API's answer for gist {gist.get('id')} names no owner; run the same command with --gist {gist.get('id')}")
    return f"{RAW_HOST}/{owner}/{gist['id']}"


def _text_tensor(base: Path, tensor_path: str) -> str:
    """The TSV twin of a ``.bytes`` tensor (binary cannot go through the gist API)."""
    if not tensor_path.endswith(".bytes"):
        return tensor_path
    tsv = tensor_path[: -len(".bytes")] + ".tsv"
    if not (base / tsv).is_file():
        raise PublishError(f"{tsv} is missing beside {tensor_path}: a gist needs the TSV tensor; rebuild the site")
    return tsv


def _read_text(base: Path, name: str, folder: str) -> str:
    try:
        return (base / name).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise PublishError(f"{folder}/{name} is missing; rebuild the site") from None
    except UnicodeDecodeError:
        raise PublishError(f"{folder}/{name} is not UTF-8 text, which the gist API cannot carry; use publish gh-pages") from None
