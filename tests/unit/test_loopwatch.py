"""The worker's loop watch names a stall of its event loop in the log, and stays quiet on a free loop."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from jobs.runtime.loopwatch import LoopWatch


async def test_a_held_loop_is_logged_with_how_long(caplog: pytest.LogCaptureFixture) -> None:
    watch = LoopWatch(every=0.02, warn_after=0.2)
    watch.start()
    try:
        await asyncio.sleep(0.1)  # free: no warning
        assert watch.stalls == []
        time.sleep(0.4)  # blocking work on the loop  # noqa: ASYNC251 (the stall under test)
        await asyncio.sleep(0.1)
    finally:
        await watch.stop()
    assert len(watch.stalls) == 1 and 0.3 <= watch.stalls[0] < 1.0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "jobs.runtime.loopwatch"]
    assert len(warnings) == 1 and "the event loop was held for 0.4 s" in warnings[0].getMessage()
