"""Every Redis key and channel name SecureGuard uses, in one place."""

from __future__ import annotations

EVENTS_PATTERN = "sg:*:events"
WORKER_KEY_PATTERN = "sg:workers:*"
WORKER_HEARTBEAT_SECONDS = 5
WORKER_KEY_TTL_SECONDS = 15


def events_channel(tenant_id: int) -> str:
    """The pub/sub channel of one tenant's live events."""
    return f"sg:{tenant_id}:events"


def tenant_of_channel(channel: str) -> int | None:
    """The tenant id inside an events channel name, or None for anything else."""
    parts = channel.split(":")
    if len(parts) != 3 or parts[0] != "sg" or parts[2] != "events" or not parts[1].isdigit():
        return None
    return int(parts[1])


def worker_key(worker_id: str) -> str:
    """The heartbeat key of one worker process."""
    return f"sg:workers:{worker_id}"


def ratelimit_key(scope: str, subject: str) -> str:
    """The sliding-window log (a sorted set of hit times) of one rate-limited subject."""
    return f"sg:ratelimit:{scope}:{subject}"


def login_ticket_key(ticket_hash: str) -> str:
    """A one-time ticket that turns a checked password into a session cookie."""
    return f"sg:login-ticket:{ticket_hash}"


def snapshot_lock_key(tenant_id: int, window_epoch: int) -> str:
    """Serialises builds of one window, so the last build to start is the last to write."""
    return f"sg:lock:snapshot:{tenant_id}:{window_epoch}"


def drift_lock_key(tenant_id: int, snapshot_id: int) -> str:
    """Serialises detection runs of one snapshot, so two runs never persist its events at once."""
    return f"sg:lock:drift:{tenant_id}:{snapshot_id}"


def baseline_lock_key(tenant_id: int) -> str:
    """Serialises rewrites of one tenant's baseline table."""
    return f"sg:lock:baseline:{tenant_id}"


def password_link_key(link_hash: str) -> str:
    """A one-time set-password link an admin handed to a user (value: "tenant_id:user_id")."""
    return f"sg:password-link:{link_hash}"


def user_password_link_key(tenant_id: int, user_id: int) -> str:
    """The hash of the one live set-password link of a user (a new link ends the one before)."""
    return f"sg:password-link-of:{tenant_id}:{user_id}"


def detect_lock_key(tenant_id: int) -> str:
    """Serialises detection runs of one tenant: its detection state moves one window at a time."""
    return f"sg:{tenant_id}:detect"


def incidents_lock_key(tenant_id: int) -> str:
    """Serialises folds into one tenant's incidents (detection's and drift's), so two never extend one at once."""
    return f"sg:{tenant_id}:incidents"
