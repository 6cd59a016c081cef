"""Which policy versions were in force at a moment, from their audited status changes.

A version's status at time t is the `after.status` of its last audited change at or before t; it was in force
when that status was approved or deployed. Of the versions of one policy in force at once (an approval supersedes
the older one in the same transaction, so this is rare), the newest counts. A policy is one per (cluster, namespace,
name) (issue 19 A4): two clusters' policies of the same `namespace/name` are two policies, both in force.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from jobs.engines.snapshot.types import DEFAULT_CLUSTER

IN_FORCE = frozenset({"approved", "deployed"})


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One stored policy version of a cluster (`default` for single-cluster data) and its manifest (parsed YAML)."""

    id: int
    namespace: str
    name: str
    version: int
    manifest: Mapping[str, Any] = field(default_factory=dict)
    cluster: str = DEFAULT_CLUSTER

    @property
    def key(self) -> tuple[str, str, str]:
        """Which policy it is a version of: (cluster, namespace, name)."""
        return (self.cluster, self.namespace, self.name)

    @property
    def label(self) -> str:
        """How the page names it: `namespace/name v3`, `cluster/namespace/name v3` outside the cluster `default`."""
        place = "" if self.cluster == DEFAULT_CLUSTER else f"{self.cluster}/"
        return f"{place}{self.namespace}/{self.name} v{self.version}"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """An audited transition of one policy version to `status` at `at`."""

    policy_id: int
    at: datetime
    status: str


def parse_manifest(text: str) -> dict[str, Any]:
    """A stored policy's YAML as a mapping; ValueError when it is not one."""
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ValueError("the stored policy is not a YAML mapping")
    return loaded


class PolicyHistory:
    """The versions and their changes, indexed so that `in_force_at` costs a bisect per version."""

    def __init__(self, versions: Iterable[PolicyVersion], changes: Iterable[StatusChange]) -> None:
        self.versions = {v.id: v for v in versions}
        timeline: dict[int, list[StatusChange]] = {}
        for change in sorted(changes, key=lambda c: c.at):
            if change.policy_id in self.versions:
                timeline.setdefault(change.policy_id, []).append(change)
        self._times = {pid: [c.at for c in rows] for pid, rows in timeline.items()}
        self._statuses = {pid: [c.status for c in rows] for pid, rows in timeline.items()}

    def status_at(self, policy_id: int, moment: datetime) -> str | None:
        """The version's status at `moment` (None before its first audited change)."""
        times = self._times.get(policy_id, [])
        index = bisect_right(times, moment)
        return self._statuses[policy_id][index - 1] if index else None

    def in_force_at(self, moment: datetime) -> list[PolicyVersion]:
        """The versions in force at `moment`, the newest per (cluster, namespace, name), in that order."""
        chosen: dict[tuple[str, str, str], PolicyVersion] = {}
        for pid, version in self.versions.items():
            if self.status_at(pid, moment) not in IN_FORCE:
                continue
            key = version.key
            if key not in chosen or version.version > chosen[key].version:
                chosen[key] = version
        return [chosen[key] for key in sorted(chosen)]
