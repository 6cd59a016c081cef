"""A worker's heartbeat, beaten from a thread of its own: the key lives exactly as long as the process does.

Beaten from the event loop, the key lapsed whenever a job kept the loop busy for longer than its TTL: in a
30-minute, 3-worker ingestion run one worker's loop stalled 16 s, its key (15 s) expired, and the sweeper gave up
its 7 running runs as lost and re-queued them while they were still running (double work; the bench stopped on
the lost ingest). A thread gets the interpreter every few milliseconds however busy the loop is, so a worker is
declared dead only when its process is (SIGKILL, the machine gone) or truly frozen.
"""

from __future__ import annotations

import logging
import threading

import redis

log = logging.getLogger(__name__)
SOCKET_SECONDS = 5.0


class Heartbeat:
    """Keep `key` = `value` in Redis with a TTL of `ttl` seconds, renewed every `every` seconds until `stop`."""

    def __init__(self, redis_url: str, key: str, value: str, *, every: float, ttl: float) -> None:
        self.key, self.value, self.every, self.ttl = key, value, every, ttl
        self._client = redis.Redis.from_url(redis_url, socket_timeout=SOCKET_SECONDS,
                                            socket_connect_timeout=SOCKET_SECONDS)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat {key}", daemon=True)

    def _beat(self) -> None:
        self._client.set(self.key, self.value, px=int(self.ttl * 1000))

    def start(self) -> None:
        """Beat once now (the caller returns with the key in place), then from the thread."""
        self._beat()
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.every):
            try:
                self._beat()
            except redis.RedisError as exc:
                # Redis away: the key lapses with it, and the next beat puts it back once Redis answers.
                log.warning("heartbeat %s not renewed: %s", self.key, exc)

    def stop(self) -> None:
        """Stop beating and drop the key (a clean shutdown is not a death)."""
        self._stopping.set()
        self._thread.join(timeout=self.every + 2 * SOCKET_SECONDS)
        try:
            self._client.delete(self.key)
        finally:
            self._client.close()
