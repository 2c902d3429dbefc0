"""Errors named for who sees them.

Every ``ReelspaceError`` is shown to the user as one line and exit status 1;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class ReelspaceError(Exception):
    """An error the user can fix; its message is one line."""


class ConfigError(ReelspaceError):
    """Bad options: an unknown value, a contradiction between flags."""


class DataError(ReelspaceError):
    """Bad input data, located as precisely as possible.

    Rendered as ``FILE:LINE: PROBLEM (FIX)`` so that editors and terminals can
    jump to the place.
    """

    def __init__(self, problem: str, *, path=None, line: int | None = None, fix: str | None = None):
        self.problem = problem
        self.path = None if path is None else str(path)
        self.line = line
        self.fix = fix
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.path:
            where = self.path + (f":{self.line}" if self.line else "") + ": "
        text = where + self.problem
        if self.fix:
            text += f" ({self.fix})"
        return " ".join(text.split())


class DownloadError(ReelspaceError):
    """A dataset could not be fetched (offline, refused, checksum mismatch)."""


class BuildError(ReelspaceError):
    """The output could not be written, or it failed validation."""
