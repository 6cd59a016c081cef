"""Receivers for the notification tests, built from the documented contracts: a syslog server (TCP with RFC 6587
octet counting, and UDP) on localhost, and HTTP receivers for Slack, Jira Cloud v3, Splunk HEC and a webhook as
`httpx.MockTransport` handlers that can be told to fail."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from jobs.engines.notify.syslog import split_octet_counted


@dataclass
class SyslogReceiver:
    """Lines received (with arrival times), over TCP and UDP on the same port number."""

    port: int = 0
    lines: list[str] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)

    def _got(self, line: str) -> None:
        self.lines.append(line)
        self.arrived.append(time.monotonic())

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffer = b""
        while chunk := await reader.read(65536):
            messages, buffer = split_octet_counted(buffer + chunk)
            for message in messages:
                self._got(message)
        writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, receiver: SyslogReceiver) -> None:
        self.receiver = receiver

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.receiver._got(data.decode("utf-8"))


@asynccontextmanager
async def syslog_receiver() -> AsyncIterator[SyslogReceiver]:
    """A TCP and a UDP syslog listener on 127.0.0.1 (same port)."""
    receiver = SyslogReceiver()
    server = await asyncio.start_server(receiver._client, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: _Udp(receiver), local_addr=("127.0.0.1", receiver.port)
    )
    try:
        yield receiver
    finally:
        transport.close()
        server.close()
        await server.wait_closed()


@dataclass
class HttpReceiver:
    """Every request by path; `fail_with` answers (status, headers) are served first, one per request."""

    requests: list[httpx.Request] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    fail_with: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    down: bool = False  # refuse connections
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)  # Jira: key → fields
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def bodies(self, path: str) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.url.path == path and r.content]

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        self.requests.append(request)
        self.times.append(time.monotonic())
        if self.fail_with:
            status, headers = self.fail_with.pop(0)
            return httpx.Response(status, headers=headers, text="busy, try later" if status >= 500 else "no")
        return self._jira(request) if "/rest/api/3/" in request.url.path else httpx.Response(200, text="ok")

    def _jira(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/search/jql"):
            label = request.url.params["jql"].split('labels = "')[1].split('"')[0]
            found = [{"key": k} for k, f in self.issues.items() if label in f["labels"]]
            return httpx.Response(200, json={"issues": found[:1]})
        if path.endswith("/comment"):
            key = path.split("/")[-2]
            if key not in self.issues:
                return httpx.Response(404, json={"errorMessages": ["Issue does not exist"]})
            self.comments.setdefault(key, []).append(json.loads(request.content))
            return httpx.Response(201, json={"id": str(len(self.comments[key]))})
        fields = json.loads(request.content)["fields"]
        if not fields.get("summary"):
            return httpx.Response(400, json={"errors": {"summary": "You must specify a summary of the issue."}})
        key = f"{fields['project']['key']}-{len(self.issues) + 1}"
        self.issues[key] = fields
        return httpx.Response(201, json={"id": str(len(self.issues)), "key": key, "self": f"https://x/{key}"})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))
