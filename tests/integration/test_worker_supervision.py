"""`./run demo` keeps its workers running: `./run supervise` restarts a worker that exits, and says so."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from jobs.runtime.connections import get_redis
from jobs.runtime.constants import WORKER_KEY_PATTERN
from jobs.runtime.queue import enqueue_job
from models.db import session_scope
from models.queries import jobs as job_queries
from tests.builders import make_tenant
from tests.conftest import ROOT


async def _supervise(name: str, log: str, *command: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(ROOT / "run"), "supervise", name, log, *command, env=dict(os.environ), cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def _lines_until(proc: asyncio.subprocess.Process, needle: str, count: int, within: float) -> list[str]:
    assert proc.stderr is not None
    seen: list[str] = []

    async def read() -> None:
        while sum(needle in line for line in seen) < count:
            line = (await proc.stderr.readline()).decode()  # type: ignore[union-attr]
            assert line, f"the supervisor ended; it said: {seen}"
            seen.append(line)

    await asyncio.wait_for(read(), within)
    return seen


async def _stop(proc: asyncio.subprocess.Process) -> int:
    proc.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(proc.wait(), 15)


async def test_a_command_that_exits_is_started_again_with_its_exit_code_said(tmp_path: object) -> None:
    log = f"{tmp_path}/fake.log"
    proc = await _supervise("fake worker", log, "sh", "-c", "echo started; exit 3")
    try:
        said = await _lines_until(proc, "fake worker exited (code 3), restarting", 2, 10)
    finally:
        code = await _stop(proc)
    assert code == 0, "TERM stops the supervisor cleanly"
    assert sum("exited (code 3), restarting" in line for line in said) >= 2
    text = await asyncio.to_thread(Path(log).read_text)
    assert text.count("started") >= 2 and "supervisor: fake worker exited (code 3), restarting" in text


async def _worker_pids() -> set[int]:
    return {int(key.rsplit(":", 1)[1]) for key in await get_redis().keys(WORKER_KEY_PATTERN)}


async def _wait_pid(exclude: set[int], within: float = 60) -> int:
    for _ in range(int(within * 10)):
        fresh = await _worker_pids() - exclude
        if fresh:
            return fresh.pop()
        await asyncio.sleep(0.1)
    raise AssertionError("no worker heartbeat appeared")


async def test_a_sigkilled_worker_is_restarted_and_runs_the_next_job(app_ctx: str, tmp_path: object) -> None:
    acme = await make_tenant("acme")
    before = await _worker_pids()
    proc = await _supervise("worker (interactive)", f"{tmp_path}/worker.log", "arq", "jobs.worker.InteractiveWorker")
    try:
        first = await _wait_pid(before)
        os.kill(first, signal.SIGKILL)
        said = await _lines_until(proc, "worker (interactive) exited (code 137, killed by SIGKILL), restarting", 1, 15)
        assert said
        second = await _wait_pid(before | {first})
        assert second != first
        run = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="tester")
        for _ in range(300):
            async with session_scope() as session:
                done = await job_queries.get_job_run(session, tenant_id=acme.tenant_id, job_run_id=run.id or 0)
            if done.status == "succeeded":
                break
            await asyncio.sleep(0.1)
        assert done.status == "succeeded" and done.worker_id.endswith(f":{second}")
    finally:
        assert await _stop(proc) == 0
    # TERM reached the worker too: it shut down cleanly and dropped its heartbeat key.
    assert second not in await _worker_pids()
