"""When to try again and how fast to send: backoff, Retry-After, per-integration spacing, and digests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

BASE_DELAY_S = 2.0
MAX_DELAY_S = 900.0  # 15 minutes between tries at most
MAX_ATTEMPTS = 30  # ~6 hours of trying before a delivery is dead
MAX_RETRY_AFTER_S = 3600.0  # a receiver may not park us for longer than an hour
# seconds between requests; Slack allows about 1 message/s per webhook, kept with a 5 % margin for jitter
RATE_INTERVAL_S = {"slack": 1.05, "jira": 0.5, "splunk_hec": 0.0, "webhook": 0.2, "syslog": 0.0}
DIGEST_THRESHOLD = 10  # more than this many due in one window → one summary
DIGEST_KINDS = ("slack", "webhook")  # Jira keeps an issue per incident; a SIEM wants every line


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def backoff_delay(
    attempt: int,
    *,
    retry_after_s: float | None = None,
    jitter: float = 0.0,
    base_s: float = BASE_DELAY_S,
    cap_s: float = MAX_DELAY_S,
) -> float:
    """Seconds before try `attempt + 1` (attempt counts from 1): base·2^(attempt-1) capped, stretched by
    `jitter` ∈ [0, 1) up to +25 %; a receiver's Retry-After wins when longer (bounded by an hour)."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if not 0.0 <= jitter < 1.0:
        raise ValueError("jitter must be in [0, 1)")
    delay = min(cap_s, base_s * float(2 ** min(attempt - 1, 30))) * (1.0 + 0.25 * jitter)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, MAX_RETRY_AFTER_S))
    return delay


def classify_status(status: int) -> str:
    """`sent` for 2xx, `retry` for 408/425/429/5xx, `failed` (permanent) for other answers."""
    if 200 <= status < 300:
        return "sent"
    if status in (408, 425, 429) or status >= 500:
        return "retry"
    return "failed"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most one message per `interval_s` to one integration."""

    interval_s: float

    def __post_init__(self) -> None:
        if self.interval_s < 0:
            raise ValueError("a rate interval must not be negative")

    def next_slot(self, last_sent: datetime | None, now: datetime) -> datetime:
        """The earliest moment the next message may go."""
        if last_sent is None or self.interval_s == 0:
            return now
        return max(now, last_sent + timedelta(seconds=self.interval_s))


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """Deliveries to send one by one, and those folded into one summary message."""

    singles: tuple[int, ...]
    digest: tuple[int, ...]


def plan_digest(
    due: Sequence[tuple[int, str]], *, integration_kind: str, threshold: int = DIGEST_THRESHOLD
) -> DigestPlan:
    """Given the deliveries `(id, kind)` due in this drain (a minute's worth, or a backlog after an outage), fold the
    `new` ones into one digest when there are more than `threshold`. Updates and tests go one by one, and so does
    everything for receivers that need each incident on its own (Jira issues, SIEM lines)."""
    if threshold < 1:
        raise ValueError("a digest threshold must be at least 1")
    fresh = [item[0] for item in due if item[1] == "new"]
    if integration_kind not in DIGEST_KINDS or len(fresh) <= threshold:
        return DigestPlan(singles=tuple(item[0] for item in due), digest=())
    folded = set(fresh)
    return DigestPlan(singles=tuple(item[0] for item in due if item[0] not in folded), digest=tuple(fresh))
