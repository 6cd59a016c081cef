"""Imports every table so that SQLModel.metadata is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from models.drift import Baseline, DriftEvent, Feedback, Whitelist
from models.graph import Edge, FlowUpload, Node, Snapshot
from models.incidents import Incident, IncidentEvent, IncidentFeedback
from models.namespaces import NamespaceMode
from models.notifications import Integration, NotificationDelivery
from models.ops import AuditLog, JobRun
from models.policy import GitopsConfig, Policy, PolicyReview, PullRequest
from models.tenancy import ApiToken, Tenant, User, UserSession

metadata = SQLModel.metadata

__all__ = [
    "ApiToken", "AuditLog", "Baseline", "DriftEvent", "Edge", "Feedback", "FlowUpload", "GitopsConfig", "Incident",
    "IncidentEvent", "IncidentFeedback", "Integration", "JobRun", "NamespaceMode", "Node", "NotificationDelivery",
    "Policy", "PolicyReview", "PullRequest", "Snapshot", "Tenant", "User", "UserSession", "Whitelist", "metadata",
]
