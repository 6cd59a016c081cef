"""Issue 8 benchmark: single sign-on round trips against the real OpenID Provider (npm oidc-provider).

    .venv/bin/python tests/bench/bench_oidc.py [--logins 50]

Runs the auth routes in-process (FastAPI over httpx's ASGI transport) on a fresh PostgreSQL database and
Redis, the provider on loopback, and signs in `--logins` times as the same user: first login creates the
user, later ones update it. Prints Markdown rows for docs/benchmarks.md: the callback alone (code exchange,
ID-token validation, userinfo, provisioning, session) and the whole round trip including the provider's
login form.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from models import migrate
from tests.apprunner import free_port
from tests.conftest import TEST_REDIS_URL, create_database, drop_database
from tests.oidc.launcher import running_provider

APP = "http://sg.bench"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def one_login(app: httpx.AsyncClient, account: str) -> tuple[float, float]:
    """(callback ms, round trip ms) of one SSO login in a fresh browser."""
    started = time.perf_counter()
    app.cookies.clear()
    async with httpx.AsyncClient(timeout=10) as idp:
        answer = await app.get("/auth/oidc/login", params={"next": "/jobs"})
        answer = await idp.get(answer.headers["location"])
        form = await idp.get(str(answer.url.join(answer.headers["location"])))
        action = re.search(r'action="([^"]+)"', form.text)
        assert action, "the provider showed no login form"
        answer = await idp.post(str(form.url.join(action.group(1))),
                                data={"prompt": "login", "login": account, "password": "x"})
        callback = (await idp.get(answer.headers["location"])).headers["location"]
    callback_started = time.perf_counter()
    answer = await app.get(callback.removeprefix(APP))
    done = time.perf_counter()
    assert answer.status_code == 303, answer.text
    return (done - callback_started) * 1000, (done - started) * 1000


async def run(logins: int, issuer_env: dict[str, str], db_url: str) -> list[tuple[float, float]]:
    os.environ.update({**issuer_env, "SG_DATABASE_URL": db_url, "SG_REDIS_URL": TEST_REDIS_URL,
                       "SG_ENV": "test", "SG_PUBLIC_URL": APP})
    from dashboard.api.app import build_api
    from jobs.runtime.connections import close_connections
    from models.db import dispose_engines, session_scope
    from models.queries import tenancy

    async with session_scope() as session:
        await tenancy.create_tenant(session, name="alpha")
    transport = httpx.ASGITransport(app=build_api())
    try:
        async with httpx.AsyncClient(transport=transport, base_url=APP) as app:
            await one_login(app, "ana@alpha")  # warm-up: discovery, keys, first provisioning
            return [await one_login(app, "ana@alpha") for _ in range(logins)]
    finally:
        await close_connections()
        await dispose_engines()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=50)
    args = parser.parse_args()
    db_url = asyncio.run(create_database())
    migrate.upgrade(db_url)
    try:
        with tempfile.TemporaryDirectory() as tmp, running_provider(
            port=free_port(), redirect_uri=f"{APP}/auth/oidc/callback",
            post_logout_redirect_uri=f"{APP}/login?error=logged_out", log_path=Path(tmp) / "provider.log",
        ) as provider:
            rows = asyncio.run(run(args.logins, provider.env(), db_url))
    finally:
        asyncio.run(drop_database(db_url))
    callback, total = [r[0] for r in rows], [r[1] for r in rows]
    print(f"| SSO callback (code → ID token checked → user → session), {args.logins} logins | "
          f"median {statistics.median(callback):.1f} ms, p95 {pct(callback, 0.95):.1f} ms |")
    print(f"| SSO round trip incl. the provider's login form, {args.logins} logins | "
          f"median {statistics.median(total):.1f} ms, p95 {pct(total, 0.95):.1f} ms |")


if __name__ == "__main__":
    main()
