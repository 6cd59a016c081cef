"""Drift events and whitelist entries as answers, pages and live events show them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from models.drift import DriftEvent, Whitelist
from models.public.base import IsoTime, PublicModel
from models.types import utcnow


class DriftEventPublic(PublicModel):
    """An event (docs/architecture.md, "REST"; plus times and evidence)."""

    id: int
    snapshot_id: int
    kind: str
    src: str
    dst: str
    dst_port: int | None
    protocol: str
    risk: int
    severity: str
    reasons: list[dict[str, Any]]
    explanation: str
    status: str
    created_at: IsoTime
    window_start: IsoTime
    evidence: dict[str, Any]
    policy_id: int | None = None  # a violation's policy (kind `violation`)

    @classmethod
    def of(cls, row: DriftEvent | Mapping[str, Any]) -> DriftEventPublic:
        """A stored event, or its column values (as `drift_store` returns the ones it inserted)."""
        values = row if isinstance(row, Mapping) else {name: getattr(row, name) for name in cls.model_fields}
        return cls(**{name: values[name] for name in cls.model_fields if name in values})


class WhitelistPublic(PublicModel):
    """A whitelist entry; `expired` is computed at the moment it is built."""

    id: int
    src_pattern: str
    dst_pattern: str
    port: int | None
    expires_at: IsoTime | None
    reason: str
    author: str
    created_at: IsoTime
    expired: bool

    @classmethod
    def of(cls, entry: Whitelist, *, now: datetime | None = None) -> WhitelistPublic:
        """The public view of a stored entry, expired or not at `now` (default: now)."""
        moment = now or utcnow()
        return cls(
            id=entry.id,
            src_pattern=entry.src_pattern,
            dst_pattern=entry.dst_pattern,
            port=entry.port,
            expires_at=entry.expires_at,
            reason=entry.reason,
            author=entry.author,
            created_at=entry.created_at,
            expired=entry.expires_at is not None and entry.expires_at <= moment,
        )
