"""Push the built site to a GitHub Pages branch with ghp-import, without touching your checkout.

ghp-import is used as a library: its ``run_import`` streams one commit holding
exactly the site (plus ``.nojekyll``) into ``git fast-import``, which never
checks the branch out, so the working tree and the index stay as they are.
Around it this module adds what ``ghp_import.ghp_import()`` does not do:

* pre-flight checks (git, the repository, the remote, a committer identity,
  GitHub's size limits, the branch name, the branch not being checked out in
  any worktree) before any change;
* the target branch is looked at, on the remote and locally, before anything
  is written: a branch that holds anything but a previous reelspace site (a
  tree with the ``.reelspace-build`` marker at its root), or nothing at all
  (no files, or only ``CNAME`` / ``.nojekyll``), is refused unless
  ``--force``, so ``--branch main`` cannot replace a project's source;
* the remote branch is fetched without updating any ref (``--refmap=``), and
  the new commit follows it; an unreachable remote is one line naming it and
  git's first error line;
* a CNAME already on the published branch is kept;
* "no changes": when the new tree equals the previous one, the commit is
  dropped again (the branch ref is put back) and nothing is pushed;
* the expected ``https://<user>.github.io/<repo>/`` address, derived from the
  remote or a CNAME, checked against the build's ``--base-url``.

A dry run says exactly what it compared the site with: the branch on the
remote, or (when the remote lacks the branch or cannot be reached) only the
local branch.

ghp-import runs git in the current directory; a small subclass of its
``Git`` runner (``git_runner.RepoGit``) passes ``cwd=`` instead, so no
``os.chdir`` is needed, and names the branch by its full ref, so a tag of
the same name cannot stand in.  ``pages_address`` derives the Pages address
and checks the build's ``--base-url`` against it.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import ghp_import

from embedder.output import MARKER
from embedder.publish import PublishError, PublishResult, human_size, one_line, site_files, site_manifest
from embedder.publish.git_runner import RepoGit, first_line, last_line, ref_commit, remote_name
from embedder.publish.pages_address import check_base_url, github_repo, pages_url

DRY_RUN_HELP = "commit to the local branch but do not push (says whether the remote branch was compared)"
FORCE_HELP = ("publish even to a branch that holds something other than a reelspace site (e.g. your source): "
              "its files are replaced by the site in a new commit on top of it; never the checked-out branch")

#: Files a Pages branch may hold besides a site: publishing keeps the first and writes the second.
PAGES_FILES = frozenset({"CNAME", ".nojekyll"})

#: GitHub rejects pushes containing a file larger than this (100 MiB).
MAX_FILE_BYTES = 100 * 1024 * 1024
#: A GitHub Pages site may be at most this large (1 GB).
MAX_SITE_BYTES = 1_000_000_000


@dataclass(frozen=True)
class GhPagesOptions:
    """Where to publish: the repository, its remote, the branch, and the commit message."""

    repo: Path
    remote: str = "origin"
    branch: str = "gh-pages"
    message: str | None = None
    allow_url_mismatch: bool = False
    committer_from_env: bool = False
    force: bool = False


@dataclass(frozen=True)
class RemoteBranch:
    """The target branch on the remote: ``found`` (at ``tip``), ``absent``, or ``unreachable`` (dry run only)."""

    state: str
    tip: str | None = None


def add_arguments(parser) -> None:
    """The ``publish gh-pages`` options."""
    parser.add_argument("--remote", default="origin", help="the git remote to push to (default origin)")
    parser.add_argument("--branch", default="gh-pages", help="the branch GitHub Pages serves (default gh-pages)")
    parser.add_argument("--message", metavar="TEXT", help="commit message (default: names the dataset and the build settings)")
    parser.add_argument("--repo", default=".", metavar="DIR", help="the git repository whose remote is used (default: the current directory)")
    parser.add_argument("--allow-url-mismatch", action="store_true",
                        help="publish even though the build's --base-url is not the address derived from the remote or CNAME")
    parser.add_argument("--force", action="store_true", help=FORCE_HELP)


def options_from_args(args, env) -> GhPagesOptions:
    """Options from parsed arguments (ghp-import honours GIT_COMMITTER_NAME/EMAIL from the environment)."""
    return GhPagesOptions(
        repo=Path(args.repo),
        remote=args.remote,
        branch=args.branch,
        message=args.message,
        allow_url_mismatch=args.allow_url_mismatch,
        committer_from_env=bool(env.get("GIT_COMMITTER_NAME") and env.get("GIT_COMMITTER_EMAIL")),
        force=args.force,
    )


def publish(site_dir: Path, options: GhPagesOptions, *, dry_run: bool = False, say=None) -> PublishResult:
    """Commit the site to ``options.branch`` and push it to ``options.remote``."""
    say = say or (lambda line: print(line, file=sys.stderr))
    site_dir = Path(site_dir)
    manifest = site_manifest(site_dir)
    check_sizes(site_dir)
    git = RepoGit(options.repo)
    _preflight(git, options)
    remote_url = git.run("config", "--get", f"remote.{options.remote}.url")
    slug = github_repo(remote_url)
    where = f"{options.branch} of {slug or options.remote}"
    remote = _look_at_remote(git, options, dry_run, say)
    local = ref_commit(git, f"refs/heads/{options.branch}")
    forced = _check_target(git, options, local, remote)
    base = remote.tip or local  # the commit the new one follows
    cname = _kept_cname(git, base, site_dir)
    expected = pages_url(remote_url, _site_cname(site_dir) or cname)
    notes = forced + check_base_url(manifest.get("base_url"), expected, options.allow_url_mismatch)

    # Everything is checked: from here on refs change.
    _follow_remote(git, options, local, remote)
    before = git.get_prev_commit(options.branch)
    message = options.message or commit_message(manifest, git)
    try:
        ghp_import.run_import(git, str(site_dir), branch=options.branch, mesg=message, prefix=None,
                              nojekyll=True, cname=cname, followlinks=False)
    except (OSError, TypeError) as error:  # TypeError: ghp-import reports a failed import by writing bytes to stdout
        raise PublishError(f"git fast-import failed ({one_line(error)}); the {options.branch} branch was not changed") from None
    after = git.get_prev_commit(options.branch)
    if not after or after == before:
        raise PublishError(f"git fast-import made no commit on {options.branch}; nothing was published")
    changed = before is None or git.run("rev-parse", f"{after}^{{tree}}") != git.run("rev-parse", f"{before}^{{tree}}")
    if not changed:
        # Same tree as the published commit: drop the new commit again.
        git.run("update-ref", f"refs/heads/{options.branch}", before, after)
        after = before

    pushed = False
    if not dry_run and remote.tip != after:
        _push(git, options)
        pushed = True
    return PublishResult(
        target="gh-pages",
        url=expected,
        share_link=(manifest.get("projector") or {}).get("link"),
        changed=changed,
        revision=after,
        headline=_headline(site_dir, where, options, remote, after, changed, pushed, dry_run),
        notes=tuple(notes) + _pages_notes(manifest, expected, options),
    )


def _preflight(git, options: GhPagesOptions) -> None:
    if shutil.which("git") is None:
        raise PublishError("git is not installed or not on PATH (install git, e.g. apt-get install git)")
    if not options.repo.is_dir():
        raise PublishError(f"--repo {options.repo} is not a directory")
    try:
        git.check_repo()
    except ghp_import.GhpError:
        raise PublishError(f"{options.repo} is not in a git repository: run the command from your repository, or pass --repo DIR") from None
    _check_names(git, options)
    if git.quiet_output("config", "--get", f"remote.{options.remote}.url") is None:
        raise PublishError(f"the repository has no remote named {options.remote!r} (see git remote -v; add one with git remote add {options.remote} URL)")
    checked_out = _checked_out(git, options.branch)
    if checked_out is not None:
        raise PublishError(f"{options.branch} is the branch checked out in {checked_out}: switch to another branch first "
                           "(publishing moves the branch, even with --force)")
    if not options.committer_from_env and not (git.quiet_output("config", "user.name") and git.quiet_output("config", "user.email")):
        raise PublishError('git does not know who commits: set git config user.name "Your Name" and git config user.email you@example.com')


def _check_names(git, options: GhPagesOptions) -> None:
    """Refuse a --branch git would not take as a branch name, or a --remote that could pass for an option."""
    branch = options.branch
    if (not branch or branch.startswith(("-", "refs/")) or branch == "HEAD"
            or git.call("check-ref-format", f"refs/heads/{branch}") != 0):
        raise PublishError(f"--branch {one_line(repr(branch), 80)} is not a branch name (e.g. gh-pages)")
    if not options.remote or options.remote.startswith("-"):
        raise PublishError(f"--remote {one_line(repr(options.remote), 80)} is not a remote name (e.g. origin)")


def _checked_out(git, branch: str) -> str | None:
    """The worktree that has ``branch`` checked out (this one or any other), else None."""
    ref = f"refs/heads/{branch}"
    if git.quiet_output("symbolic-ref", "-q", "HEAD") == ref:
        return str(git.repo)
    listing = git.quiet_output("worktree", "list", "--porcelain") or ""
    worktree = None
    for line in listing.splitlines():
        if line.startswith("worktree "):
            worktree = line[len("worktree "):]
        elif line == f"branch {ref}":
            return worktree or str(git.repo)
    return None


def check_sizes(site_dir: Path) -> None:
    """Refuse a site GitHub would reject: a file over 100 MiB, or over 1 GB in all."""
    total = 0
    for name, path in site_files(site_dir):
        size = path.stat().st_size
        total += size
        if size > MAX_FILE_BYTES:
            raise PublishError(f"{name} is {human_size(size)}: GitHub refuses files over 100 MiB; build with fewer movies or dimensions")
    if total > MAX_SITE_BYTES:
        raise PublishError(f"the site is {human_size(total)}: GitHub Pages sites may be at most 1 GB; build with fewer movies or dimensions")


def _look_at_remote(git, options: GhPagesOptions, dry_run: bool, say) -> RemoteBranch:
    """Fetch the remote branch's tip without changing any ref (``--refmap=``: only FETCH_HEAD is written)."""
    refspec = f"refs/heads/{options.branch}"
    if git.call("fetch", "--quiet", "--no-tags", "--refmap=", options.remote, refspec) == 0:
        tip = ref_commit(git, "FETCH_HEAD")
        if tip is None:
            raise PublishError(f"{options.branch} on {options.remote} is not a commit; nothing was published")
        return RemoteBranch("found", tip)
    error = first_line(git.stderr)
    if "couldn't find remote ref" in error.lower():
        return RemoteBranch("absent")
    unreachable = f"could not reach the remote {remote_name(git, options.remote)} ({error})"
    if dry_run:
        say(f"warning: {unreachable}; the dry run compares the site with the local {options.branch} branch only")
        return RemoteBranch("unreachable")
    raise PublishError(f"{unreachable}; nothing was published")


def _check_target(git, options: GhPagesOptions, local: str | None, remote: RemoteBranch) -> list[str]:
    """Refuse a branch holding anything but a reelspace site, on the remote or locally, unless --force (then: notes)."""
    notes = []
    targets = [(remote.tip, f"{options.branch} on {options.remote}")]
    targets += [(local, f"your local {options.branch} branch")] if local != remote.tip else []  # the same commit: said once
    for tip, which in targets:
        foreign = _foreign_files(git, tip) if tip else []
        if not foreign:
            continue
        shown = ", ".join(one_line(name, 40) for name in foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        if not options.force:
            raise PublishError(
                f"refusing to publish to {options.branch}: {which} holds files that are not a reelspace site ({shown}), "
                f"which publishing would replace with the site; choose another --branch (default gh-pages), or pass "
                f"--force to replace them; nothing was changed"
            )
        left_behind = tip == local and remote.tip not in (None, local)
        fate = (f"its commits are left behind, the branch now follows {options.remote}'s (git reflog {options.branch} "
                f"still lists them)" if left_behind else "the new commit replaces them on top of its history")
        notes.append(f"--force: {which} held files that are not a reelspace site ({shown}); {fate}")
    return notes


def _foreign_files(git, commit: str) -> list[str]:
    """Top-level names of ``commit``'s tree that are not a reelspace site's: [] for a site or an empty tree."""
    listing = git.quiet_output("ls-tree", "-z", commit)
    if listing is None:
        return ["(a tree git cannot read)"]
    entries = [line.split("\t", 1) for line in listing.split("\0") if "\t" in line]
    names = [name for _, name in entries]
    if any(name == MARKER and info.split()[:2] == ["100644", "blob"] for info, name in entries):
        return []
    return [name for name in names if name not in PAGES_FILES]


def _follow_remote(git, options: GhPagesOptions, local: str | None, remote: RemoteBranch) -> None:
    """Point the tracking ref and the local branch at the remote tip (the new commit follows it)."""
    tracking = f"refs/remotes/{options.remote}/{options.branch}"
    if remote.state == "found":
        git.run("update-ref", tracking, remote.tip)
        if local != remote.tip:
            git.run("update-ref", f"refs/heads/{options.branch}", remote.tip, local or "")
    elif remote.state == "absent":
        # A tracking ref left from a deleted remote branch would pass for "already pushed".
        git.quiet_output("update-ref", "-d", tracking)


def _push(git, options: GhPagesOptions) -> None:
    ref = f"refs/heads/{options.branch}"
    if git.call("push", "--quiet", options.remote, f"{ref}:{ref}") != 0:
        raise PublishError(
            f"git push to {options.remote} failed: {last_line(git.stderr)}; the commit is on your local "
            f"{options.branch} branch, run the same command again to retry"
        )


def _site_cname(site_dir: Path) -> str | None:
    """The first line of the site's own CNAME file, if it has one."""
    path = site_dir / "CNAME"
    lines = path.read_text(encoding="utf-8").split() if path.is_file() else []
    return lines[0] if lines else None


def _kept_cname(git, base: str | None, site_dir: Path) -> str | None:
    """The CNAME of the commit the new one follows, kept when the site brings none of its own."""
    if base is None or (site_dir / "CNAME").is_file():
        return None
    text = git.quiet_output("show", f"{base}:CNAME")
    lines = text.split() if text else []
    return one_line(lines[0], 253) if lines else None


def commit_message(manifest: dict, git=None) -> str:
    """A commit message naming the dataset, the embeddings and the build settings."""
    lines = [f"Publish {manifest.get('dataset', 'unknown')} embeddings ({manifest.get('generator', 'reelspace')})", ""]
    lines += [f"{e['name']}: {e['shape'][0]} x {e['shape'][1]}" for e in manifest.get("embeddings", [])]
    lines.append("settings: " + " ".join(f"{key}={_setting(value)}" for key, value in _model_settings(manifest).items()))
    if manifest.get("base_url"):
        lines.append(f"base URL: {manifest['base_url']}")
    source = git.quiet_output("rev-parse", "--short", "HEAD") if git is not None else None
    if source:
        lines.append(f"source: {source}")
    return "\n".join(lines) + "\n"


def _model_settings(manifest: dict) -> dict:
    """The settings that decide the vectors, from build.json's tables (sentences, Word2Vec, user vectors, seed)."""
    tables = manifest.get("settings", {})
    flat = {key: value for table in ("sentences", "word2vec", "user_vectors") for key, value in tables.get(table, {}).items()}
    run = tables.get("run", {})
    flat.update({key: run[key] for key in ("seed", "deterministic") if key in run})
    return flat


def _setting(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _headline(site_dir: Path, where: str, options: GhPagesOptions, remote: RemoteBranch, commit: str,
              changed: bool, pushed: bool, dry_run: bool) -> str:
    """What was done, and for a dry run exactly what the site was compared with."""
    short, branch, local = commit[:7], options.branch, f"the local {options.branch} branch"
    if not dry_run:
        if changed:
            return f"published {site_dir}/ to {where} (commit {short})"
        if pushed:
            return f"{local} already held exactly {site_dir}/ (commit {short}): no new commit; pushed it to {where}"
        return f"{where} already holds exactly {site_dir}/ (commit {short}): no new commit, nothing to push"
    if remote.state == "found":
        checked = f"compared with {branch} on {options.remote}"
        same = f"{where} already holds exactly {site_dir}/ (commit {short}, {checked}): nothing to commit or push"
    elif remote.state == "absent":
        checked = f"{options.remote} has no {branch} branch yet, so a real run would push it"
        same = f"{local} already holds exactly {site_dir}/ (commit {short}); {checked}"
    else:
        checked = f"{options.remote} could not be reached, so it was not compared"
        same = f"{local} already holds exactly {site_dir}/ (commit {short}); {checked}"
    if not changed:
        return same + " (--dry-run)"
    return f"committed {site_dir}/ to {local} (commit {short}); not pushed (--dry-run); {checked}"


def _pages_notes(manifest: dict, expected: str | None, options: GhPagesOptions) -> tuple[str, ...]:
    notes = []
    if expected:
        notes.append(f"GitHub Pages must serve the {options.branch} branch (repository Settings > Pages > Deploy from a branch); "
                     "the site appears there a minute or so after the push")
    self_hosted = (manifest.get("projector") or {}).get("self_hosted")
    if self_hosted and expected:
        notes.append(f"self-hosted projector: {expected}{self_hosted}")
    return tuple(notes)
