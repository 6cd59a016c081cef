"""Copy flow files into the upload folder on a background thread, one file ahead of their use (`sg ingest`).

Standard library only, like `jobs.cli.ingest`, so `sg ingest --help` stays instant.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

SPOOL_PREFIX = ".incoming-"


@dataclass(frozen=True)
class Spooled:
    """A file copied into the upload folder under a temporary name, or why it was not."""

    path: Path | None
    size: int
    reason: str | None = None

    def discard(self) -> None:
        """Remove the copy (the file was refused)."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def spool(source: Path, folder: Path, limit: int) -> Spooled:
    """Copy `source` into `folder` under a temporary name; refuse it when empty or larger than `limit` bytes.

    The same checks as `jobs.runtime.uploads.receive_upload`, which gets the bytes in chunks; the CLI runs beside the
    data dir, so the kernel copies the file (sendfile) and Python never touches its bytes.
    """
    try:
        size = source.stat().st_size
    except OSError as exc:
        return Spooled(None, 0, f"cannot read it: {exc.strerror or exc}")
    if size > limit:
        return Spooled(None, size, f"the file is larger than the limit of {limit} bytes")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix=SPOOL_PREFIX)
        os.close(handle)
    except OSError as exc:
        return Spooled(None, size, f"cannot store it in {folder}: {exc.strerror or exc}")
    copy = Path(name)
    try:
        shutil.copyfile(source, copy)
        size = copy.stat().st_size
    except OSError as exc:
        copy.unlink(missing_ok=True)
        return Spooled(None, size, f"cannot copy it into {folder}: {exc.strerror or exc}")
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    if size == 0 or size > limit:  # it changed while being copied
        copy.unlink()
        return Spooled(None, size, "the file is empty" if size == 0 else
                       f"the file is larger than the limit of {limit} bytes")
    return Spooled(copy, size)


class Spooler:
    """Copies the files into the upload folder on a background thread, one file ahead of their use.

    Copying in the kernel releases the GIL, so the first copy overlaps the CLI's imports and each later one
    overlaps the parse of the file before it.
    """

    def __init__(self, paths: Sequence[Path], folder: Path, limit: int) -> None:
        self._paths, self._folder, self._limit = list(paths), folder, limit
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sg-spool")
        self._jobs: list[Future[Spooled]] = []
        self._taken: set[int] = set()
        self._submit_up_to(0)

    def _submit_up_to(self, index: int) -> None:
        while len(self._jobs) <= min(index, len(self._paths) - 1):
            self._jobs.append(self._executor.submit(spool, self._paths[len(self._jobs)], self._folder, self._limit))

    async def take(self, index: int) -> Spooled:
        """File `index` once copied (the caller now owns the copy) and start copying the next one."""
        import asyncio  # here, not at the top: `sg ingest --help` needs no event loop

        self._submit_up_to(index + 1)
        spooled = await asyncio.wrap_future(self._jobs[index])
        self._taken.add(index)
        return spooled

    def close(self) -> None:
        """Stop copying and remove every copy nobody took (an error or Ctrl-C stopped the command)."""
        for index, job in enumerate(self._jobs):
            if index in self._taken or job.cancel():
                continue
            if job.exception() is None:
                job.result().discard()
        self._executor.shutdown(wait=True)
