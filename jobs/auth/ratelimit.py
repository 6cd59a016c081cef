"""Rate limits with a sliding window in Redis, shared by every web worker; per process when Redis is down.

Each limited subject (an account's failed logins, an address's failed logins or bad tokens, a
token's requests, a tenant's flow pushes) keeps a sorted set of its hit times. A hit is allowed
while fewer than `limit` hits lie in the last `window` seconds, so there is no burst at the edge
of a fixed window; the check-and-add is one Lua script, so web workers cannot race past a limit.
The clock is Redis's own (`TIME`), so web workers with skewed clocks agree.

Only failures are throttled. A password check is reserved before it runs (a hit counted in every budget it
draws on, or refused with nothing counted) and handed back when the password was right, so parallel
attempts cannot each get a guess past the limit, and a correct password never spends a budget.

When Redis does not answer, limits fall back to an in-memory log per process (logged once per
outage): weaker (each process counts alone, and a restart forgets), but never "no limit at all".
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import deque
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from jobs.runtime.constants import ratelimit_key
from models.settings import Settings

LOG = logging.getLogger(__name__)

# An address may fail this many times more than one account before it is locked, so one guesser
# behind a shared address cannot lock out everybody else there.
ADDRESS_FACTOR = 10
# After Redis failed, skip it for this long instead of paying a connection attempt per request.
REDIS_RETRY_SECONDS = 5.0

# KEYS[1] the log; ARGV: window ms, limit, member, add (1 = count this hit when allowed, 0 = only look).
# Answers 0 when allowed, else the milliseconds until the oldest hit leaves the window.
_SLIDING_LOG = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(tonumber(oldest[2]) + window - now, 1)
end
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
end
return 0
"""


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per sliding `window_seconds` for each subject of `scope`."""

    scope: str
    limit: int
    window_seconds: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_seconds < 1:
            raise ValueError(f"rate limit {self.scope}: limit and window must be positive")


class RateLimited(Exception):
    """A subject used up its budget; `retry_after` is whole seconds until the next hit is allowed."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(f"too many {scope} attempts: try again in {retry_after} s")
        self.scope, self.retry_after = scope, retry_after


@dataclass(frozen=True)
class Reservation:
    """One counted hit, which `release` can hand back."""

    key: str
    member: str


class _MemoryLogs:
    """The per-process fallback: the same sliding log in plain deques of (time, member)."""

    def __init__(self) -> None:
        self._logs: dict[str, deque[tuple[float, str]]] = {}

    def apply(self, key: str, limit: Limit, member: str, *, add: bool) -> int:
        now = time.monotonic() * 1000
        window = limit.window_seconds * 1000
        log = self._logs.setdefault(key, deque())
        while log and log[0][0] <= now - window:
            log.popleft()
        if len(log) >= limit.limit:
            return max(math.ceil(log[0][0] + window - now), 1)
        if add:
            log.append((now, member))
        return 0

    def remove(self, key: str, member: str) -> None:
        log = self._logs.get(key, deque())
        self._logs[key] = deque(entry for entry in log if entry[1] != member)

    def clear(self, key: str) -> None:
        self._logs.pop(key, None)


_memory = _MemoryLogs()
_redis_skip_until = 0.0
_redis_down = False


def _redis_failed(exc: Exception) -> None:
    global _redis_skip_until, _redis_down
    _redis_skip_until = time.monotonic() + REDIS_RETRY_SECONDS
    if not _redis_down:
        _redis_down = True
        LOG.warning("Redis is unreachable for rate limits (%s): using per-process in-memory limits until it answers",
                    type(exc).__name__)


def _redis_answered() -> None:
    global _redis_down
    if _redis_down:
        _redis_down = False
        LOG.warning("Redis answers again: rate limits are shared across processes again")


def using_fallback() -> bool:
    """Whether limits are currently counted in this process only."""
    return _redis_down


async def _apply(redis: Redis, limit: Limit, subject: str, *, add: bool, member: str = "") -> int:
    key = ratelimit_key(limit.scope, subject)
    member = member or uuid.uuid4().hex
    if time.monotonic() >= _redis_skip_until:
        try:
            wait_ms = int(await redis.eval(_SLIDING_LOG, 1, key, limit.window_seconds * 1000, limit.limit,  # type: ignore[misc]
                                           member, "1" if add else "0"))
        except (RedisError, OSError) as exc:
            _redis_failed(exc)
        else:
            _redis_answered()
            return math.ceil(wait_ms / 1000)
    return math.ceil(_memory.apply(key, limit, member, add=add) / 1000)


async def hit(redis: Redis, limit: Limit, subject: str) -> int:
    """Count one hit when allowed and answer 0; else the seconds to wait (the refused hit is not counted)."""
    return await _apply(redis, limit, subject, add=True)


async def wait_seconds(redis: Redis, limit: Limit, subject: str) -> int:
    """The seconds until the subject may hit again (0 = now), without counting anything."""
    return await _apply(redis, limit, subject, add=False)


async def reserve(redis: Redis, limit: Limit, subject: str) -> Reservation:
    """Count one hit atomically and answer it, or raise RateLimited (nothing counted)."""
    member = uuid.uuid4().hex
    if retry_after := await _apply(redis, limit, subject, add=True, member=member):
        raise RateLimited(limit.scope, retry_after)
    return Reservation(ratelimit_key(limit.scope, subject), member)


async def release(redis: Redis, reservation: Reservation) -> None:
    """Hand a reserved hit back (the attempt it paid for turned out not to be a failure)."""
    _memory.remove(reservation.key, reservation.member)
    if time.monotonic() >= _redis_skip_until:
        try:
            await redis.zrem(reservation.key, reservation.member)
        except (RedisError, OSError) as exc:
            _redis_failed(exc)


async def enforce(redis: Redis, limit: Limit, subject: str) -> None:
    """Count one hit, or raise RateLimited when the subject's budget is used up."""
    retry_after = await hit(redis, limit, subject)
    if retry_after:
        raise RateLimited(limit.scope, retry_after)


async def _forget(redis: Redis, key: str) -> None:
    _memory.clear(key)
    if time.monotonic() >= _redis_skip_until:
        try:
            await redis.delete(key)
        except (RedisError, OSError) as exc:
            _redis_failed(exc)


# --- the limits SecureGuard applies ---------------------------------------------------------------

def login_limits(settings: Settings) -> tuple[Limit, Limit]:
    """Failed logins: per account, and (ADDRESS_FACTOR times more) per client address."""
    account = Limit("login", settings.login_max_failures, settings.login_window_seconds)
    address = Limit("login", settings.login_max_failures * ADDRESS_FACTOR, settings.login_window_seconds)
    return account, address


def token_failure_limit(settings: Settings) -> Limit:
    """Bearer tokens that do not authenticate, per client address (token guessing)."""
    return Limit("token-auth", settings.token_auth_max_failures, settings.token_auth_window_seconds)


def api_request_limit(settings: Settings) -> Limit:
    """Requests per API token."""
    return Limit("api", settings.api_requests_per_minute, 60)


def sso_start_limit(settings: Settings) -> Limit:
    """Single sign-on starts per client address (each one keeps a pending login in Redis for 10 minutes)."""
    return Limit("sso-start", settings.sso_starts_per_minute, 60)


def flow_push_limit(settings: Settings) -> Limit:
    """Flow pushes per tenant (each one stores a file and queues a parse)."""
    return Limit("flow-push", settings.flow_pushes_per_minute, 60)


@dataclass(frozen=True)
class LoginAttempt:
    """One password check, reserved in each budget it draws on; failures keep the reservations as their count."""

    reservations: tuple[Reservation, ...]


def _login_budgets(settings: Settings, *, email: str, client_ip: str, device: str | None) -> list[tuple[Limit, str]]:
    account, address = login_limits(settings)
    if device:
        # A browser that signed in to this account before has a budget of its own (jobs.auth.clients).
        return [(account, f"device:{device}")]
    return [(account, f"email:{email}"), (address, f"ip:{client_ip}")]


async def reserve_login(redis: Redis, *, settings: Settings, email: str, client_ip: str,
                        device: str | None = None) -> LoginAttempt:
    """Reserve one password check before it runs, or raise RateLimited with nothing counted.

    Without a known `device` the check draws on the account's and the address's budgets; with one, on the
    device's alone.
    """
    taken: list[Reservation] = []
    for limit, subject in _login_budgets(settings, email=email, client_ip=client_ip, device=device):
        try:
            taken.append(await reserve(redis, limit, subject))
        except RateLimited:
            for reservation in taken:
                await release(redis, reservation)
            raise
    return LoginAttempt(tuple(taken))


async def login_succeeded(redis: Redis, attempt: LoginAttempt) -> None:
    """The password was right: its reservations are handed back and the first budget (the account's, or the
    known device's) forgets its earlier failures; the address keeps its count."""
    for reservation in attempt.reservations:
        await release(redis, reservation)
    await _forget(redis, attempt.reservations[0].key)
