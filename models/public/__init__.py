"""What the API answers and the pages show: one `XPublic` model per aggregate, built from its rows.

A table (`models.<aggregate>`) is how a thing is stored; its `XPublic` here is how it is shown: the fields
clients see, in the order they see them, times as ISO 8601 with the zone (`+00:00`). Build one with
`XPublic.of(row)`; `.model_dump()` gives the plain dict that live events, audit entries and pages use.
REST routes return these models, so `/api/v1/openapi.json` describes every answer.
"""

from models.public.drift import DriftEventPublic, WhitelistPublic
from models.public.graph import EdgePublic, GraphPublic, NodePublic, SnapshotPublic, UploadPublic
from models.public.incidents import ActorPublic, IncidentDetailPublic, IncidentPublic
from models.public.ops import AuditPublic, DurationPublic, JobMetricsPublic, JobRunPublic, ScheduledPublic, WorkerPublic
from models.public.policy import (
    BlockedEdgePublic,
    ConnectionPublic,
    CoveragePublic,
    GitopsConfigPublic,
    ImpactPublic,
    NamespaceCoveragePublic,
    PolicyDetailPublic,
    PolicyPublic,
    PullPublic,
    PullWithPolicyPublic,
    ReviewPublic,
    VerificationPublic,
)
from models.public.tenancy import UserPublic

__all__ = [
    "ActorPublic", "AuditPublic", "BlockedEdgePublic", "ConnectionPublic", "CoveragePublic", "DriftEventPublic",
    "DurationPublic", "EdgePublic", "GitopsConfigPublic", "GraphPublic", "ImpactPublic", "IncidentDetailPublic",
    "IncidentPublic", "JobMetricsPublic", "JobRunPublic", "NamespaceCoveragePublic", "NodePublic",
    "PolicyDetailPublic", "PolicyPublic", "PullPublic", "PullWithPolicyPublic", "ReviewPublic", "ScheduledPublic",
    "SnapshotPublic", "UploadPublic", "UserPublic", "VerificationPublic", "WhitelistPublic", "WorkerPublic",
]
