"""Where GitHub Pages serves a branch, and whether the build's ``--base-url`` is that address."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from embedder.publish import PublishError

_GITHUB_REMOTE = re.compile(
    r"^(?:(?:https?|git|ssh)://(?:[^@/]+@)?(?:www\.)?github\.com(?::\d+)?/|(?:[^@/:]+@)?github\.com:)"
    r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)/(?P<repo>[A-Za-z0-9._-]+?)(?:\.git)?/?$",
    re.IGNORECASE,
)


def github_repo(remote_url: str | None) -> str | None:
    """``owner/repo`` of a github.com remote URL (https, ssh or scp-like), else None."""
    match = _GITHUB_REMOTE.match((remote_url or "").strip())
    return f"{match['owner']}/{match['repo']}" if match else None


def pages_url(remote_url: str | None, cname: str | None = None) -> str | None:
    """The address GitHub Pages serves the branch at, or None when it cannot be told.

    A CNAME wins; otherwise ``https://<owner>.github.io/<repo>/``, or
    ``https://<owner>.github.io/`` for the ``<owner>.github.io`` repository.
    """
    if cname:
        host = cname.strip().removeprefix("https://").removeprefix("http://").strip("/")
        return f"https://{host.lower()}/"
    slug = github_repo(remote_url)
    if slug is None:
        return None
    owner, repo = slug.split("/")
    host = f"{owner.lower()}.github.io"
    return f"https://{host}/" if repo.lower() == host else f"https://{host}/{repo}/"


def check_base_url(base_url: str | None, expected: str | None, allow_mismatch: bool) -> list[str]:
    """Compare the build's ``--base-url`` with the expected Pages address; explain any mismatch."""
    if expected is None:
        return ["the Pages address cannot be derived from this remote (not github.com) and there is no CNAME, so --base-url was not checked"]
    if base_url is None:
        return [f"the site was built without --base-url, so it has no Embedding Projector link; "
                f"rebuild with --base-url {expected} and publish again to get one"]
    if _normal(base_url) == _normal(expected):
        return []
    explanation = (
        f"the site was built with --base-url {base_url} but this branch is served at {expected}, so its projector link "
        f"and hosted config point at the wrong address; rebuild with --base-url {expected}"
    )
    if allow_mismatch:
        return [explanation + " (published anyway: --allow-url-mismatch)"]
    raise PublishError(explanation + ", add a CNAME file for your own domain, or pass --allow-url-mismatch; nothing was published")


def _normal(url: str) -> str:
    parts = urlsplit(url.strip())
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"
