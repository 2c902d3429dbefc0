"""The GitHub REST API as the gist publisher uses it: one session, one clear line per failure.

Every request carries ``Authorization: Bearer <token>``; the token is used
there and nowhere else, and any text a server echoes back has it masked.
Failures become ``PublishError`` lines naming the cause and the fix:
network failures, 401 (bad token), 403 (missing scope), 404, 422, and
primary or secondary rate limits (with the reset time when GitHub gives it).
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlsplit

from .. import __version__
from . import PublishError, Secret

#: Seconds to wait for one API answer.
TIMEOUT = 60
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class GitHubApi:
    """The few gist endpoints, with every failure turned into one clear line."""

    def __init__(self, api_url: str, token: Secret, token_env: str, gist_id: str | None = None, timeout: float = TIMEOUT):
        import requests

        self._requests = requests
        self.api_url = api_url
        self._token = token
        self._token_env = token_env
        self._gist_id = gist_id
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers.update({
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"reelspace/{__version__}",
            "Authorization": f"Bearer {token.reveal()}",
        })

    def call(self, method: str, path: str, body: dict | None = None, *, state: str) -> dict:
        """Send one request; return the JSON answer or raise PublishError ending with ``state``."""
        url = self.api_url + path
        try:
            response = self._session.request(method, url, json=body, timeout=self._timeout)
        except self._requests.RequestException as error:
            raise PublishError(self._clean(f"could not reach the GitHub API at {self.api_url} ({_reason(error, self._timeout)}); {state}")) from None
        if 200 <= response.status_code < 300:
            try:
                return response.json()
            except ValueError:
                raise PublishError(f"the API at {self.api_url} answered {response.status_code} without JSON; {state}") from None
        raise PublishError(self._clean(self._refusal(method, path, response) + f"; {state}"))

    def _refusal(self, method: str, path: str, response) -> str:
        status, message = response.status_code, _message(response)
        env = f"${self._token_env}"
        limited = _rate_limit(response)
        if limited:
            return limited
        if status == 401:
            return f"GitHub refused the token in {env} (401 {message}): it is wrong, expired or revoked; make a new one with the gist scope"
        if status == 403:
            return (f"GitHub refused access (403 {message}): the token in {env} needs the gist scope "
                    "(classic token) or Gists read and write permission (fine-grained token)")
        if status == 404 and path == "/gists":
            return f"{self.api_url} has no gist API (404): check --api-url (GitHub Enterprise: https://HOST/api/v3)"
        if status == 404:
            return f"gist {self._gist_id} was not found (404): check --gist, and that the token in {env} has the gist scope"
        if status == 422:
            return f"GitHub rejected the gist (422 {message})"
        return f"GitHub answered {method} {path} with {status} {message}"

    def _clean(self, text: str) -> str:
        # Belt and braces: whatever a server echoes, the token is never shown.
        token = self._token.reveal()
        return text.replace(token, "***") if token else text


def _rate_limit(response) -> str | None:
    """One line for a primary or secondary rate limit answer, else None."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    if headers.get("X-RateLimit-Remaining") == "0":
        reset = headers.get("X-RateLimit-Reset", "")
        when = ""
        if reset.isdigit():
            when = " until " + datetime.datetime.fromtimestamp(int(reset), datetime.timezone.utc).strftime("%H:%M UTC")
        return f"GitHub's API rate limit for this token is used up{when}: try again then"
    if headers.get("Retry-After") or response.status_code == 429 or "rate limit" in _message(response).lower():
        wait = headers.get("Retry-After")
        return f"GitHub asked to slow down (secondary rate limit): try again in {wait + ' s' if wait else 'a minute'}"
    return None


def _message(response) -> str:
    try:
        doc = response.json()
    except ValueError:
        return (response.reason or "").strip()
    message = str(doc.get("message", "")) if isinstance(doc, dict) else ""
    details = [
        " ".join(str(e.get(k)) for k in ("resource", "field", "code", "message") if isinstance(e, dict) and e.get(k))
        for e in (doc.get("errors") or [] if isinstance(doc, dict) else [])
    ]
    text = message + (": " + "; ".join(d for d in details if d) if any(details) else "")
    return " ".join(text.split())[:300] or (response.reason or "")


def _reason(error, timeout: float) -> str:
    text = str(error)
    if "timed out" in text.lower() or error.__class__.__name__.endswith("Timeout"):
        return f"no answer within {timeout:g} s"
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if found:
        return found.group(0).strip()
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was closed without an answer"
    return error.__class__.__name__


def api_base_url(url: str) -> str:
    """The API base without a trailing slash; https, or plain http only to a loopback stand-in."""
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.netloc:
        return url.strip().rstrip("/")
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return url.strip().rstrip("/")  # a local stand-in; the token does not leave the machine
    raise PublishError(f"--api-url must be an https:// URL (the token would travel in clear otherwise), got {url!r}")
