"""Say so in the log when a worker's event loop stalls.

Every job of a worker process shares one event loop; blocking work on it (a store listing, a parse that was not
handed to a thread) freezes all of them: leases lapse, progress stops, the sweeper may judge a run lost. Twice a
stall was found only by reading timestamps after a benchmark failed (16 s in the heartbeat, 2 minutes in
retention); this watch names it as it happens: a WARNING with how long the loop was held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

log = logging.getLogger(__name__)


class LoopWatch:
    """A task that wakes every `every` seconds and warns when it woke `warn_after` seconds or more late."""

    def __init__(self, *, every: float = 0.5, warn_after: float = 2.0) -> None:
        self.every, self.warn_after = every, warn_after
        self.stalls: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            began = time.monotonic()
            await asyncio.sleep(self.every)
            late = time.monotonic() - began - self.every
            if late >= self.warn_after:
                self.stalls.append(late)
                log.warning("the event loop was held for %.1f s: every job of this worker waited (blocking work "
                            "on the loop; see the jobs running now)", late)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="loop watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
