"""A local stand-in for the three GitHub gist endpoints reelspace uses (this machine cannot reach GitHub).

It follows GitHub's REST API as documented (docs.github.com/rest/gists):

* ``POST {prefix}/gists`` -> 201 with the gist (``id``, ``owner.login``,
  ``html_url``, ``files`` with ``raw_url``, ``history[0].version``);
* ``GET {prefix}/gists/{id}`` -> 200; file contents over 1 MB come back cut,
  with ``truncated: true``, as GitHub does;
* ``PATCH {prefix}/gists/{id}`` -> 200; ``files`` entries set contents
  (``null`` deletes); a new revision only when something changed;
* a wrong or missing ``Authorization: Bearer`` -> 401 Bad credentials; an
  unknown gist -> 404.

Every request is recorded (method, path, headers, JSON body) so tests can
assert the exact requests.  ``fail_next`` scripts the next answer: an HTTP
error with headers, ``raw=b"..."`` to send those bytes as the body whatever
they are (``[]``, ``null``, not JSON at all), or ``drop=True`` to close the
connection unanswered.  ``tamper_next`` lets the request do its work, then
passes the real answer through a function before sending it (a gist
without a revision, another gist's id).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRUNCATE_AT = 1_000_000
RAW_HOST = "https://gist.githubusercontent.com"


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: dict | None


class FakeGitHub:
    """Start with ``FakeGitHub(token=...)``; ``url`` is the API base; ``close()`` stops it."""

    def __init__(self, token: str, *, prefix: str = "", login: str = "octo"):
        self.token = token
        self.prefix = prefix
        self.login = login
        self.gists: dict[str, dict] = {}
        self.requests: list[Request] = []
        self._failures: list[dict] = []
        self._lock = threading.Lock()
        self._counter = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def do_PATCH(self):
                fake._handle(self, "PATCH")

            def log_message(self, *args):  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, status: int = 500, body: dict | None = None, headers: dict | None = None, *,
                  method: str | None = None, drop: bool = False, after: int = 0, raw: bytes | None = None):
        """Answer the next request (of ``method``, if given; after letting ``after`` of them through) with this failure.

        ``raw`` is sent as the body byte for byte instead of ``body`` as JSON.
        """
        self._failures.append({"status": status, "body": body or {"message": "failure"}, "headers": headers or {},
                               "method": method, "drop": drop, "after": after, "raw": raw, "edit": None})

    def tamper_next(self, edit, *, method: str | None = None, after: int = 0):
        """Carry out the next request (of ``method``; after ``after`` of them), but answer with ``edit(real answer)``."""
        self._failures.append({"method": method, "after": after, "edit": edit, "drop": False})

    def calls(self) -> list[tuple[str, str]]:
        """``(method, path without prefix)`` of every request so far."""
        return [(r.method, r.path[len(self.prefix):]) for r in self.requests]

    # --- the endpoints --------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with self._lock:
            self.requests.append(Request(method, handler.path, dict(handler.headers.items()), body))
            failure = next((f for f in self._failures if f["method"] in (None, method)), None)
            if failure is not None and failure["after"] > 0:
                failure["after"] -= 1
                failure = None
            elif failure is not None:
                self._failures.remove(failure)
        if failure is not None and failure["edit"] is None:
            if failure["drop"]:
                handler.close_connection = True
                return
            if failure["raw"] is not None:
                return self._send_bytes(handler, failure["status"], failure["raw"], failure["headers"])
            return self._send(handler, failure["status"], failure["body"], failure["headers"])
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(handler, 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
        path = handler.path[len(self.prefix):] if handler.path.startswith(self.prefix) else None
        with self._lock:
            status, answer = self._route(method, path, body)
        if failure is not None:
            answer = failure["edit"](answer)
        self._send(handler, status, answer)

    def _route(self, method: str, path: str | None, body) -> tuple[int, dict]:
        if method == "POST" and path == "/gists":
            files = {name: spec["content"] for name, spec in (body.get("files") or {}).items()}
            if not files or any(not isinstance(c, str) or not c for c in files.values()):
                return 422, {"message": "Validation Failed", "errors": [{"resource": "Gist", "code": "missing_field", "field": "files"}]}
            self._counter += 1
            gist_id = hashlib.sha1(f"gist{self._counter}".encode()).hexdigest()[:20]
            self.gists[gist_id] = {"description": body.get("description"), "public": bool(body.get("public")), "files": files, "history": []}
            self._revise(gist_id)
            return 201, self._view(gist_id, full=True)
        if path and path.startswith("/gists/") and path.count("/") == 2:
            gist_id = path.split("/")[2]
            if gist_id not in self.gists:
                return 404, {"message": "Not Found"}
            if method == "GET":
                return 200, self._view(gist_id)
            if method == "PATCH":
                return 200, self._patch(gist_id, body or {})
        return 404, {"message": "Not Found"}

    def _patch(self, gist_id: str, body: dict) -> dict:
        gist = self.gists[gist_id]
        before = json.dumps(gist["files"], sort_keys=True)
        for name, spec in (body.get("files") or {}).items():
            if spec is None:
                gist["files"].pop(name, None)
            else:
                gist["files"][name] = spec["content"]
        if "description" in body:
            gist["description"] = body["description"]
        if json.dumps(gist["files"], sort_keys=True) != before:
            self._revise(gist_id)
        return self._view(gist_id, full=True)

    def _revise(self, gist_id: str) -> None:
        gist = self.gists[gist_id]
        state = json.dumps([gist_id, len(gist["history"]), gist["files"]], sort_keys=True)
        gist["history"].insert(0, {"version": hashlib.sha1(state.encode()).hexdigest()})

    def _view(self, gist_id: str, full: bool = False) -> dict:
        gist = self.gists[gist_id]
        version = gist["history"][0]["version"]
        files = {}
        for name, content in gist["files"].items():
            cut = not full and len(content.encode()) > TRUNCATE_AT
            files[name] = {
                "filename": name,
                "size": len(content.encode()),
                "raw_url": f"{RAW_HOST}/{self.login}/{gist_id}/raw/{version}/{name}",
                "truncated": cut,
                "content": content.encode()[:TRUNCATE_AT].decode("utf-8", "ignore") if cut else content,
            }
        return {
            "id": gist_id,
            "html_url": f"https://gist.github.com/{self.login}/{gist_id}",
            "git_pull_url": f"https://gist.github.com/{gist_id}.git",
            "public": gist["public"],
            "description": gist["description"],
            "owner": {"login": self.login},
            "files": files,
            "history": [{"version": h["version"]} for h in gist["history"]],
        }

    @classmethod
    def _send(cls, handler: BaseHTTPRequestHandler, status: int, body, headers: dict | None = None) -> None:
        cls._send_bytes(handler, status, json.dumps(body).encode(), headers)

    @staticmethod
    def _send_bytes(handler: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)
