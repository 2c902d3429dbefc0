"""git for ``publish gh-pages``: ghp-import's runner in a given repository, and git's messages made safe to show."""

from __future__ import annotations

import re
from pathlib import Path

import ghp_import

from embedder.publish import PublishError, one_line

_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


class RepoGit(ghp_import.Git):
    """ghp-import's ``Git`` runner, run in ``repo`` instead of the process's current directory."""

    def __init__(self, repo: Path):
        super().__init__(use_shell=False)
        self.repo = Path(repo)

    def open(self, *args, **kwargs):
        kwargs.setdefault("cwd", str(self.repo))
        return super().open(*args, **kwargs)

    def run(self, *args) -> str:
        """git's output; PublishError with git's last message line when it fails."""
        if self.call(*args) != 0:
            raise PublishError(f"git {args[0]} failed: {last_line(self.stderr)}")
        return ghp_import.dec(self.stdout).strip()

    def quiet_output(self, *args) -> str | None:
        """git's output, or None when it fails."""
        return ghp_import.dec(self.stdout).strip() if self.call(*args) == 0 else None

    def get_prev_commit(self, branch: str) -> str | None:
        """The tip of ``refs/heads/<branch>`` (ghp-import asks for it by short name, which a tag could shadow)."""
        return ref_commit(self, f"refs/heads/{branch}")


def ref_commit(git, ref: str) -> str | None:
    """The commit ``ref`` names, or None."""
    return git.quiet_output("rev-parse", "-q", "--verify", "--end-of-options", f"{ref}^{{commit}}") or None


def remote_name(git, remote: str) -> str:
    """``origin (URL)``, with git's insteadOf rewriting shown and any credentials in the URL hidden."""
    configured = git.quiet_output("config", "--get", f"remote.{remote}.url") or ""
    effective = git.quiet_output("ls-remote", "--get-url", remote) or configured
    shown = _USERINFO.sub("***@", configured)
    if effective != configured:
        shown += f", which git rewrites to {_USERINFO.sub('***@', effective)}"
    return f"{remote} ({one_line(shown, 200)})"


def last_line(stderr) -> str:
    """git's last message line (where push puts its verdict), cleaned."""
    return _clean_line(_lines(stderr)[-1:])


def first_line(stderr) -> str:
    """git's first error line (fetch and ls-remote put the cause first), cleaned."""
    lines = [line for line in _lines(stderr) if not line.lower().startswith(("hint:", "warning:"))]
    return _clean_line(lines[:1])


def _lines(stderr) -> list[str]:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else (stderr or "")
    return [line.strip() for line in text.replace("\r", "\n").splitlines() if line.strip()]


def _clean_line(lines: list[str]) -> str:
    line = (lines[0] if lines else "no message").removeprefix("fatal: ").removeprefix("error: ")
    # A remote URL may carry a token (https://user:token@host/...): never echo it.
    return one_line(_USERINFO.sub("***@", line), 200)
