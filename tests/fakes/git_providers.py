"""A fake GitHub and GitLab REST API on loopback, from their documented create/get pull request contracts.

GitHub (REST v3, under `<base>/github`): `POST /repos/{owner}/{repo}/pulls` {title, head, base, body} →
201 {number, html_url, state: "open", merged: false}; 422 "A pull request already exists" for an open
one of the same head; `GET /repos/{owner}/{repo}/pulls/{number}` → {state: open|closed, merged,
merged_at}; `GET /repos/{owner}/{repo}/pulls?head=owner:branch&state=all`; `GET /repos/{owner}/{repo}`;
`Authorization: Bearer <token>` else 401 {"message": "Bad credentials"}.
GitLab (v4, under `<base>/gitlab/api/v4`): `POST /projects/{id}/merge_requests` {source_branch,
target_branch, title, description} → 201 {iid, web_url, state: "opened"}; 409 for an open one of the same
source branch; `GET /projects/{id}/merge_requests/{iid}` → {state: opened|closed|merged};
`GET /projects/{id}/merge_requests?source_branch=…&state=all`; `GET /projects/{id}`; `{id}` is the
URL-encoded project path; `PRIVATE-TOKEN: <token>` else 401 {"message": "401 Unauthorized"}.

Tests read `requests` (method, path, headers, JSON body) and flip a request with `merge` / `close`.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

Answer = tuple[int, Any]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeProviders:
    """Both providers in one server; `projects` are the repositories that exist (owner/repo paths)."""

    token: str
    projects: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    pulls: dict[tuple[str, str], dict[int, dict[str, Any]]] = field(default_factory=dict)
    fail_with: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    @property
    def github_url(self) -> str:
        return f"{self.base_url}/github"

    @property
    def gitlab_url(self) -> str:
        return f"{self.base_url}/gitlab/api/v4"

    def start(self) -> FakeProviders:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                record = Recorded(self.command, parts.path, query, {k.lower(): v for k, v in self.headers.items()},
                                  body)
                status, answer = fake.handle(record)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- what tests use -------------------------------------------------------------------------
    def calls(self, method: str, path_part: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    def merge(self, provider: str, project: str, number: int) -> None:
        with self._lock:
            pull = self.pulls[(provider, project)][number]
            if provider == "github":
                pull.update(state="closed", merged=True, merged_at=_now())
            else:
                pull.update(state="merged", merged_at=_now())

    def close(self, provider: str, project: str, number: int) -> None:
        with self._lock:
            self.pulls[(provider, project)][number].update(state="closed")

    # --- the two APIs ---------------------------------------------------------------------------
    def handle(self, record: Recorded) -> Answer:
        with self._lock:
            self.requests.append(record)
            if self.fail_with is not None:
                return self.fail_with, {"message": "Server Error"}
            if record.path.startswith("/github/"):
                return self._github(record, record.path.removeprefix("/github"))
            if record.path.startswith("/gitlab/api/v4/"):
                return self._gitlab(record, record.path.removeprefix("/gitlab/api/v4"))
            return 404, {"message": "Not Found"}

    def _github(self, rec: Recorded, path: str) -> Answer:
        if rec.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
        found = re.fullmatch(r"/repos/([^/]+/[^/]+)(/pulls(?:/(\d+))?)?", path)
        if found is None or found.group(1) not in self.projects:
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
        project, pulls, number = found.group(1), self.pulls.setdefault(("github", found.group(1)), {}), found.group(3)
        if found.group(2) is None:
            return 200, {"full_name": project, "default_branch": "main"}
        if number is not None:
            return (200, pulls[int(number)]) if int(number) in pulls else (404, {"message": "Not Found"})
        if rec.method == "GET":
            head = rec.query.get("head", "")
            return 200, [p for p in reversed(pulls.values()) if f"{project.split('/')[0]}:{p['head']['ref']}" == head]
        body = rec.body or {}
        missing = [k for k in ("title", "head", "base") if not body.get(k)]
        if missing:
            return 422, {"message": "Validation Failed",
                         "errors": [{"resource": "PullRequest", "field": k, "code": "missing_field"} for k in missing]}
        if any(p["head"]["ref"] == body["head"] and p["state"] == "open" for p in pulls.values()):
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "code": "custom",
                 "message": f"A pull request already exists for {project.split('/')[0]}:{body['head']}."}]}
        n = len(pulls) + 1
        pulls[n] = {"number": n, "html_url": f"https://github.test/{project}/pull/{n}", "state": "open",
                    "merged": False, "merged_at": None, "title": body["title"], "body": body.get("body"),
                    "head": {"ref": body["head"]}, "base": {"ref": body["base"]}}
        return 201, pulls[n]

    def _gitlab(self, rec: Recorded, path: str) -> Answer:
        if rec.headers.get("private-token") != self.token:
            return 401, {"message": "401 Unauthorized"}
        found = re.fullmatch(r"/projects/([^/]+)(/merge_requests(?:/(\d+))?)?", path)
        project = unquote(found.group(1)) if found else ""
        if found is None or project not in self.projects:
            return 404, {"message": "404 Project Not Found"}
        mrs, number = self.pulls.setdefault(("gitlab", project), {}), found.group(3)
        if found.group(2) is None:
            return 200, {"id": 7, "path_with_namespace": project, "default_branch": "main"}
        if number is not None:
            return (200, mrs[int(number)]) if int(number) in mrs else (404, {"message": "404 Not found"})
        if rec.method == "GET":
            branch = rec.query.get("source_branch")
            return 200, [m for m in reversed(mrs.values()) if m["source_branch"] == branch]
        body = rec.body or {}
        missing = [k for k in ("source_branch", "target_branch", "title") if not body.get(k)]
        if missing:
            return 400, {"error": f"{missing[0]} is missing"}
        if any(m["source_branch"] == body["source_branch"] and m["state"] == "opened" for m in mrs.values()):
            return 409, {"message": ["Another open merge request already exists for this source branch"]}
        iid = len(mrs) + 1
        mrs[iid] = {"id": 1000 + iid, "iid": iid, "project_id": 7, "title": body["title"],
                    "description": body.get("description"), "state": "opened",
                    "source_branch": body["source_branch"], "target_branch": body["target_branch"],
                    "web_url": f"https://gitlab.test/{project}/-/merge_requests/{iid}", "merged_at": None}
        return 201, mrs[iid]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
