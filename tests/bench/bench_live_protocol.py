"""Issue 20's load figure at full size: live fan-out over 2 web backends behind HAProxy, with protocol-level tabs.

    .venv/bin/python tests/bench/bench_live_protocol.py [--tenants 10] [--sessions-per-tenant 20] [--events 200]
        [--ports 19400] [--dump FILE]

The cluster of bench_live_replicas (`running_replicas`: PostgreSQL tenants, one frontend build, two backends,
HAProxy), but the sessions are not Chromium tabs (2 cores hold 50-100 of those): each is a socket.io client that
speaks to the balancer as the built frontend does (reflex_base/.templates/web/utils/state.js, `connect`):

- the websocket transport on `/_event`, `?token=<uuid>` (the tab's token), Reflex's version as subprotocol, the
  page's Origin and the HttpOnly session cookie;
- the boot event in the socket.io CONNECT packet's auth (`{event, state_schema}`): `<root>.hydrate_and_load` with
  the build's initialStateHashes and router_data `{pathname: "/jobs", asPath: "/jobs"}`, as a tab opening /jobs
  sends it. The backend then queues the page's on_load (AppState.check_session, the Jobs loads) itself and
  flips `is_hydrated` once they ran: the client waits for that, and for the tenant's name in AppState.

Sign-in is real but skips the form: the user's password is checked (`tenancy.authenticate`) and a session row
opened as /auth/session opens it (`tenancy.create_session`), and its cookie is sent by every tab of the tenant (the
tabs of one browser share it). Each client records every delta of
AppState.last_event (what `#live-count[data-last-event]` shows, OBSERVE_LIVE in bench_live.py) with the time it
arrived, and AppState.live_received (the count in `#live-count`). Then `--events` `bench.event`s are published
round-robin over the tenants as bench_live.bench_fan_out does. `--ports P`: P (balancer), P+1 and P+2 (backends).
Redis: SG_E2E_REDIS_URL (flushed). Markdown rows go to stdout, progress and the check of the check to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pickle
import re
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import redis
import socketio

from tests.apprunner import PASSWORD, LiveApp
from tests.bench.bench_live import pct, tenant_id
from tests.bench.bench_live_replicas import on_replicas
from tests.e2e.replica_support import TOKEN_RECORD

PAGE = "/jobs"
USER_AGENT = "SecureGuard bench_live_protocol (python-socketio)"
CONNECTS_AT_ONCE = 10


@dataclass(frozen=True)
class Protocol:
    """What the built frontend sends and receives, named from the build and the state classes, not by hand."""

    boot_event: str  # <root state>.hydrate_and_load
    hashes: list[str]  # initialStateHashes of the build's utils/context.jsx
    state_schema: str  # stateSchema of the same file
    root: str  # the root state's delta key
    app_state: str  # AppState's delta key
    is_hydrated: str
    last_event: str
    live_received: str
    tenant_name: str
    version: str  # Reflex's version: the websocket subprotocol the frontend asks for
    event_path: str  # the path of the build's EVENT URL: socket.io's path and namespace alike (`io(endpoint.href,
    # {path: endpoint.pathname})` takes the namespace from the URL)
    transport: str


def _field(state: type[Any], name: str) -> str:
    """The key of a state's var in a delta (`<name>_rx_state_`), checked against the var Reflex compiled."""
    from reflex_base.constants.state import FIELD_MARKER

    key = f"{name}{FIELD_MARKER}"
    assert getattr(state, name)._js_expr.endswith(f".{key}"), f"{state.__name__}.{name} is not sent as {key}"
    return key


def protocol_of(web_dir: Path) -> Protocol:
    """Read the boot event's constants from the frontend build in `web_dir` (the cluster's REFLEX_WEB_WORKDIR)."""
    import reflex as rx
    from reflex_base import constants

    from state.base import AppState

    context = (web_dir / "utils" / "context.jsx").read_text()
    env = json.loads((web_dir / "env.json").read_text())
    hashes = re.search(r"^export const initialStateHashes = (\[.*\])$", context, re.M)
    schema = re.search(r'^export const stateSchema = "([0-9a-f]+)"$', context, re.M)
    name = re.search(r'^export const state_name = "(.+)"$', context, re.M)
    assert hashes and schema and name, f"{web_dir}/utils/context.jsx lacks the boot event's constants"
    assert name.group(1) == rx.State.get_full_name(), "the build names another root state than this checkout"
    return Protocol(
        boot_event=f"{name.group(1)}.{constants.CompileVars.HYDRATE_AND_LOAD}", hashes=json.loads(hashes.group(1)),
        state_schema=schema.group(1), root=rx.State.get_full_name(), app_state=AppState.get_full_name(),
        is_hydrated=_field(rx.State, "is_hydrated"), last_event=_field(AppState, "last_event"),
        live_received=_field(AppState, "live_received"), tenant_name=_field(AppState, "tenant_name"),
        version=constants.Reflex.VERSION, event_path=urlsplit(env["EVENT"]).path, transport=env["TRANSPORT"],
    )


@dataclass
class Tab:
    """One protocol-level tab of /jobs and what it received."""

    tenant: int
    tenant_name: str
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    shown_tenant: str = ""
    live_received: int = 0
    at_ready: int = 0  # live_received once the page had loaded
    markers: list[tuple[str, float]] = field(default_factory=list)  # (last_event, ms since the epoch on arrival)
    frontend_events: list[str] = field(default_factory=list)  # e.g. a _redirect to /login: not signed in
    disconnected: bool = False
    backend: str = ""
    hydrated: asyncio.Event = field(default_factory=asyncio.Event)

    def on_update(self, proto: Protocol, update: dict[str, Any]) -> None:
        """A StateUpdate as the frontend's `socket.on("event")` gets it: {delta, events}."""
        arrived = time.time() * 1000
        delta = update.get("delta") or {}
        app = delta.get(proto.app_state, {})
        if proto.last_event in app:
            self.markers.append((str(app[proto.last_event]), arrived))
        if proto.live_received in app:
            self.live_received = int(app[proto.live_received])
        if proto.tenant_name in app:
            self.shown_tenant = str(app[proto.tenant_name])
        self.frontend_events += [str(event.get("name")) for event in update.get("events") or []]
        if delta.get(proto.root, {}).get(proto.is_hydrated) is True:
            self.hydrated.set()


async def sign_in(email: str) -> str:
    """Check the password and open a server-side session, as /auth/session does; the cookie value."""
    from models.db import session_scope
    from models.queries import tenancy
    from models.settings import get_settings

    async with session_scope() as session:
        user = await tenancy.authenticate(session, email=email, password=PASSWORD)
        assert user is not None, f"{email} could not sign in"
        return await tenancy.create_session(
            session, tenant_id=user.tenant_id, user_id=user.id or 0,
            idle_minutes=get_settings().session_idle_minutes, client_ip="127.0.0.1", user_agent=USER_AGENT)


async def open_tab(app: LiveApp, proto: Protocol, tab: Tab, cookie: str, clients: list[Any]) -> None:
    """Connect as the frontend of a tab opening /jobs does (its socket.io client joins `clients`), and wait
    until the page's on_load ran."""
    from reflex_base import constants

    from jobs.auth.session import SESSION_COOKIE

    # No automatic reconnection: the frontend's is its own (state.js), and a dropped tab is to be counted.
    client = socketio.AsyncClient(reconnection=False, websocket_extra_options={"protocols": [proto.version]})
    clients.append(client)
    client.on("event", lambda update: tab.on_update(proto, update), namespace=proto.event_path)

    def gone(*_: Any) -> None:
        tab.disconnected = True

    client.on("disconnect", gone, namespace=proto.event_path)

    def mismatch(*_: Any) -> None:  # the frontend would reload: built for another state tree than the backend's
        tab.frontend_events.append(str(constants.SocketEvent.STATE_MISMATCH))

    client.on(str(constants.SocketEvent.STATE_MISMATCH), mismatch, namespace=proto.event_path)
    boot = {"name": proto.boot_event, "payload": {constants.CompileVars.PAYLOAD_HASHES: proto.hashes},
            "router_data": {"pathname": PAGE, "asPath": PAGE}}
    await client.connect(
        f"{app.base_url}?token={tab.token}", transports=[proto.transport], socketio_path=proto.event_path,
        namespaces=[proto.event_path], wait_timeout=30,
        headers={"Cookie": f"{SESSION_COOKIE}={cookie}", "Origin": app.base_url, "User-Agent": USER_AGENT},
        auth={constants.CompileVars.CONNECT_AUTH_EVENT: boot,
              constants.CompileVars.CONNECT_AUTH_STATE_SCHEMA: proto.state_schema})
    await asyncio.wait_for(tab.hydrated.wait(), timeout=60)
    assert tab.shown_tenant == tab.tenant_name and str(constants.SocketEvent.STATE_MISMATCH) not in tab.frontend_events, (
        f"tab of {tab.tenant_name} shows tenant {tab.shown_tenant!r}; frontend events {tab.frontend_events}")


def landed_on(client: redis.Redis, token: str, ports: dict[int, str]) -> str:
    """The backend holding a tab's socket: Reflex's socket record names the instance, the instance's heartbeat
    (dashboard.replicas) its pid, whose process group leader is the `dashboard.serve --port N` we started."""
    from dashboard.replicas import alive_key

    raw = cast(bytes | None, client.get(TOKEN_RECORD.format(token)))
    if raw is None:
        return "none"
    beat = cast(bytes | None, client.get(alive_key(pickle.loads(raw).instance_id)))
    if beat is None:
        return "unknown"
    leader = os.getpgid(json.loads(beat)["pid"])
    args = Path(f"/proc/{leader}/cmdline").read_bytes().decode().split("\0")
    return ports.get(int(args[args.index("--port") + 1]), "other") if "--port" in args else "other"


def tally(tabs: list[Tab], expected: dict[int, set[int]]) -> dict[str, Any]:
    """What the tabs received against what each should have: its tenant's events, each once, no other."""
    latencies: list[float] = []
    server: list[float] = []
    wrong = short = exact = 0
    for tab in tabs:
        seen: list[int] = []
        for marker, arrived in tab.markers:
            kind, event_id, ts, delivered = [*marker.split("|"), "", "", ""][:4]
            if kind != "bench.event":
                continue
            seen.append(int(event_id))
            wrong += int(event_id) not in expected[tab.tenant]
            latencies.append(arrived - float(ts) * 1000)
            server.append(float(delivered))
        short += tab.live_received - tab.at_ready != len(expected[tab.tenant])
        exact += sorted(seen) == sorted(expected[tab.tenant])
    # A tenant's events that reach a tab in one batch make one delta, whose marker names the last: the count
    # (`#live-count`) has them all, the markers (timed) only the last. bench_fan_out's DOM observer is the same.
    counted = sum(tab.live_received - tab.at_ready for tab in tabs)
    return {"observed": len(latencies), "counted": counted, "wrong_tenant": wrong, "incomplete_sessions": short,
            "exact_sessions": exact, "latencies": latencies, "server": server}


async def measure(args: argparse.Namespace, app: LiveApp) -> None:
    from jobs.runtime.connections import get_redis
    from jobs.runtime.events import publish_event

    proto = protocol_of(Path(app.env["REFLEX_WEB_WORKDIR"]))
    ids = {t: await tenant_id(f"t{t}") for t in range(args.tenants)}
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    cookies = {t: await sign_in(f"admin@t{t}.test") for t in range(args.tenants)}
    tabs = [Tab(t, f"t{t}") for t in range(args.tenants) for _ in range(args.sessions_per_tenant)]

    expected = {t: {i for i in range(args.events) if i % args.tenants == t} for t in range(args.tenants)}
    clients: list[Any] = []

    async def opened(tab: Tab) -> None:
        async with gate:
            await open_tab(app, proto, tab, cookies[tab.tenant], clients)

    try:
        began = time.monotonic()
        await asyncio.gather(*(opened(tab) for tab in tabs))
        print(f"{len(tabs)} tabs loaded /jobs in {time.monotonic() - began:.1f} s", file=sys.stderr)
        await asyncio.sleep(1)  # anything the loads still push lands before the baseline
        store = redis.Redis.from_url(app.env["SG_REDIS_URL"])
        ports = {args.ports + 1: "web1", args.ports + 2: "web2"}
        for tab in tabs:
            tab.at_ready = tab.live_received
            tab.backend = landed_on(store, tab.token, ports)
        publisher = get_redis()
        for i in range(args.events):
            await publish_event(publisher, tenant_id=ids[i % args.tenants], kind="bench.event", data={"id": i})
            await asyncio.sleep(0.01)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(  # noqa: ASYNC110 (polls counts that many callbacks move)
                tab.live_received - tab.at_ready < len(expected[tab.tenant]) for tab in tabs):
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)  # a late or stray delivery still counts
        dropped = sum(tab.disconnected for tab in tabs)
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.disconnect()

    per_backend = Counter(tab.backend for tab in tabs)
    fan = tally(tabs, expected)
    # The check of the check, on the same data: judged as the next tenant's tabs, every delivery must count as
    # wrong-tenant and every tab as short (with one tenant, the next tenant is the same one).
    rotated = tally(tabs, {t: expected[(t + 1) % args.tenants] for t in range(args.tenants)})
    print(f"check of the check (each tab judged as the next tenant's): {rotated['wrong_tenant']} of "
          f"{rotated['observed']} deliveries wrong-tenant, {rotated['incomplete_sessions']} of {len(tabs)} tabs "
          f"incomplete, {rotated['exact_sessions']} exact", file=sys.stderr)
    print(f"tabs per backend: {dict(sorted(per_backend.items()))}; tabs whose markers name exactly their tenant's "
          f"events, each in a delta of its own: {fan['exact_sessions']} of {len(tabs)}; disconnected before the end: "
          f"{dropped}", file=sys.stderr)
    if args.dump:
        Path(args.dump).write_text(json.dumps(
            {"expected": {t: sorted(e) for t, e in expected.items()}, "tabs": [
                {"tenant": tab.tenant, "token": tab.token, "backend": tab.backend, "at_ready": tab.at_ready,
                 "live_received": tab.live_received, "markers": tab.markers, "frontend_events": tab.frontend_events}
                for tab in tabs]}, indent=1))
    lat, server = fan["latencies"], fan["server"]
    assert lat, "no tab saw a bench.event"
    print(f"| publish → session state updated, 2 backends ({len(tabs)} protocol-level sessions, {args.tenants} "
          f"tenants, {args.events} events) | median {statistics.median(server):.0f} ms | p95 {pct(server, 0.95):.0f} ms "
          f"| max {max(server):.0f} ms |")
    print(f"| publish → state delta received by the session's socket (same run) | median {statistics.median(lat):.0f} ms "
          f"| p95 {pct(lat, 0.95):.0f} ms | max {max(lat):.0f} ms |")
    print(f"| fan-out correctness | {fan['observed']} deliveries timed ({fan['counted']} counted) "
          f"| wrong-tenant deliveries: {fan['wrong_tenant']} "
          f"| sessions missing events: {fan['incomplete_sessions']} |")
    print(f"| sessions per backend | web1: {per_backend['web1']} | web2: {per_backend['web2']} "
          f"| elsewhere: {len(tabs) - per_backend['web1'] - per_backend['web2']} |")
    if min(per_backend["web1"], per_backend["web2"]) == 0:
        raise SystemExit("the balancer left a backend without sessions: the figure is not a 2-backend one")


def main(args: argparse.Namespace) -> None:
    on_replicas(args, measure)


if __name__ == "__main__":
    assert __doc__
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--sessions-per-tenant", type=int, default=20)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--ports", type=int, default=19400, help="balancer port; the backends take the next two")
    parser.add_argument("--dump", default="", help="write every tab's received markers to this JSON file")
    main(parser.parse_args())
