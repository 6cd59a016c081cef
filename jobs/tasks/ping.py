"""The diagnostic `ping` job: proves a worker picks jobs up and reports back."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

from jobs.runtime.tracking import report_progress, tracked


@tracked(timeout=60, max_tries=1)
async def ping(ctx: dict[str, Any], *, tenant_id: int, delay: float = 0.0) -> dict[str, Any]:
    """Answer with the worker's identity; with `delay`, sleep in steps and report progress."""
    steps = 4 if delay > 0 else 0
    for step in range(steps):
        await asyncio.sleep(delay / steps)
        await report_progress(ctx, fraction=(step + 1) / steps, message=f"step {step + 1} of {steps}")
    return {"pong": True, "worker": f"{socket.gethostname()}:{os.getpid()}", "tenant_id": tenant_id}
