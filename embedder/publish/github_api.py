"""The GitHub REST API as the gist publisher uses it: one session, one clear line per failure.

Every request carries ``Authorization: Bearer <token>``; the token is used
there and nowhere else, and any text a server echoes back has it masked.
Failures become ``PublishError`` lines naming the cause and the fix:
network failures, 401 (bad token), 403 (missing scope), 404, 422, and
primary or secondary rate limits (with the reset time when GitHub gives it).

Every endpoint used answers with a gist, so every 2xx answer is checked
(``gist_problem``) to be a JSON object with the fields the publisher reads,
of the right types, before anything reads it.  Anything else (not JSON, an
array, ``null``, a gist without a revision, another gist than the one asked
for) becomes one line naming the endpoint and, cut short, what came back.
"""

from __future__ import annotations

import datetime
import json
import re
from urllib.parse import urlsplit

from embedder import __version__
from embedder.publish import PublishError, Secret, one_line

#: Seconds to wait for one API answer.
TIMEOUT = 60
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
#: What a gist ID looks like (hex on github.com); anything else is refused before it goes into a path.
GIST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_LOGIN = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_VERSION = re.compile(r"[0-9a-f]{7,64}")
_NO_SPACE_URL = re.compile(r"https://[^\s\x00-\x1f\x7f]+")


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

    def call(self, method: str, path: str, body: dict | None = None, *, state: str,
             unclear: str | None = None, gist_id: str | None = None) -> dict:
        """Send one request; return the gist it answers with, checked, or raise PublishError.

        The line ends with ``state`` when the request failed, and with
        ``unclear`` (default ``state``) when GitHub answered 2xx with something
        that is not a gist, after perhaps acting on the request.  ``gist_id``:
        the answer must be that gist.
        """
        url = self.api_url + path
        try:
            response = self._session.request(method, url, json=body, timeout=self._timeout)
        except self._requests.RequestException as error:
            raise PublishError(self._clean(f"could not reach the GitHub API at {self.api_url} ({_reason(error, self._timeout)}); {state}")) from None
        if 200 <= response.status_code < 300:
            try:
                doc = response.json()
            except ValueError:  # also a body in no text encoding at all
                doc, problem = None, f"a body that is not JSON ({_excerpt(response.content)})"
            else:
                problem = gist_problem(doc, gist_id)
            if problem:
                raise PublishError(self._clean(
                    f"the GitHub API at {self.api_url} answered {method} {path} with {response.status_code} "
                    f"and {problem}; {unclear or state}"
                ))
            return doc
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
            try:
                when = " until " + datetime.datetime.fromtimestamp(int(reset), datetime.timezone.utc).strftime("%H:%M UTC")
            except (OverflowError, ValueError, OSError):  # a time no calendar holds
                when = ""
        return f"GitHub's API rate limit for this token is used up{when}: try again then"
    if headers.get("Retry-After") or response.status_code == 429 or "rate limit" in _message(response).lower():
        wait = headers.get("Retry-After", "").strip()
        wait = f"{int(wait)} s" if wait.isdigit() and len(wait) < 7 else "a minute"
        return f"GitHub asked to slow down (secondary rate limit): try again in {wait}"
    return None


def _message(response) -> str:
    """GitHub's ``message`` and ``errors`` of a refusal, as one short line (any body shape)."""
    reason = one_line(response.reason or "", 100)
    try:
        doc = response.json()
    except ValueError:
        return reason
    if not isinstance(doc, dict):
        return reason
    errors = doc.get("errors") if isinstance(doc.get("errors"), list) else []
    details = [
        " ".join(str(e.get(k)) for k in ("resource", "field", "code", "message") if e.get(k))
        for e in errors if isinstance(e, dict)
    ]
    text = str(doc.get("message", "")) + (": " + "; ".join(d for d in details if d) if any(details) else "")
    return one_line(text, 300) or reason


def gist_problem(doc, gist_id: str | None = None) -> str | None:
    """Why ``doc`` is not a gist answer this publisher can use (to follow "answered ... with 200 and"), or None."""
    if not isinstance(doc, dict):
        return f"JSON that is not an object ({_excerpt(doc)})"
    if not (isinstance(doc.get("id"), str) and GIST_ID.fullmatch(doc["id"])):
        return _bad_field("id", doc.get("id"))
    if gist_id is not None and doc["id"] != gist_id:
        return f"another gist ({doc['id']}) than the one asked for"
    files = doc.get("files")
    if not isinstance(files, dict) or not all(isinstance(f, dict) for f in files.values()):
        return _bad_field("files", files)
    for name, file in files.items():
        for key, kind in (("content", str), ("truncated", bool), ("raw_url", str)):
            if file.get(key) is not None and not isinstance(file[key], kind):
                return _bad_field(f"files.{name}.{key}", file[key])
        if file.get("raw_url") is not None and not _NO_SPACE_URL.fullmatch(file["raw_url"]):
            return _bad_field(f"files.{name}.raw_url", file["raw_url"])
    history = doc.get("history")
    if not (isinstance(history, list) and history and all(
            isinstance(h, dict) and isinstance(h.get("version"), str) and _VERSION.fullmatch(h["version"]) for h in history)):
        return _bad_field("history", history)
    for key, kind in (("public", bool), ("description", str)):
        if doc.get(key) is not None and not isinstance(doc[key], kind):
            return _bad_field(key, doc[key])
    if doc.get("html_url") is not None and not (isinstance(doc["html_url"], str) and _NO_SPACE_URL.fullmatch(doc["html_url"])):
        return _bad_field("html_url", doc["html_url"])
    owner = doc.get("owner")
    login = owner.get("login") if isinstance(owner, dict) else None
    if owner is not None and not (isinstance(login, str) and _LOGIN.fullmatch(login)):
        return _bad_field("owner", owner)
    if login is None and not any("/raw/" in (f.get("raw_url") or "") for f in files.values()):
        return "a gist with neither an owner nor a raw_url (its raw address cannot be told)"
    return None


def _bad_field(name: str, value) -> str:
    shown = "missing" if value is None else _excerpt(value)
    return f"a gist whose {one_line(name, 60)} is not what GitHub sends ({shown})"


def _excerpt(value, limit: int = 80) -> str:
    """Some of what came back, as one printable line: raw bytes as text, anything else as JSON."""
    if isinstance(value, bytes):
        text = value[: limit * 4].decode("utf-8", "replace")
        return repr(one_line(text, limit)) if text.strip() else "an empty body"
    return one_line(json.dumps(value, ensure_ascii=False, default=str), limit)


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
