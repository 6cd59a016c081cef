"""Which policy versions were in force at a moment, from audited status changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.engines.replay.history import PolicyHistory, PolicyVersion, StatusChange, parse_manifest

T0 = datetime(2026, 11, 30, tzinfo=UTC)
H = timedelta(hours=1)


def _versions() -> list[PolicyVersion]:
    return [PolicyVersion(1, "shop", "api", 1), PolicyVersion(2, "shop", "api", 2), PolicyVersion(3, "shop", "db", 1)]


def _changes() -> list[StatusChange]:
    return [
        StatusChange(1, T0, "draft"),
        StatusChange(1, T0 + H, "pending"),
        StatusChange(1, T0 + 2 * H, "approved"),
        StatusChange(2, T0 + 3 * H, "draft"),
        StatusChange(2, T0 + 4 * H, "pending"),
        # v2's approval supersedes v1 in the same transaction
        StatusChange(1, T0 + 5 * H, "superseded"),
        StatusChange(2, T0 + 5 * H, "approved"),
        StatusChange(2, T0 + 8 * H, "deployed"),
        StatusChange(3, T0 + 2 * H, "pending"),
        StatusChange(3, T0 + 3 * H, "rejected"),
    ]


def test_nothing_is_in_force_before_the_first_approval() -> None:
    history = PolicyHistory(_versions(), _changes())
    assert history.in_force_at(T0 + H) == []
    assert history.status_at(1, T0 - H) is None


def test_the_version_approved_at_the_moment_counts_and_a_later_one_replaces_it() -> None:
    history = PolicyHistory(_versions(), _changes())
    assert [v.label for v in history.in_force_at(T0 + 2 * H)] == ["shop/api v1"]
    assert [v.label for v in history.in_force_at(T0 + 4 * H + timedelta(minutes=59))] == ["shop/api v1"]
    assert [v.label for v in history.in_force_at(T0 + 5 * H)] == ["shop/api v2"]
    assert [v.label for v in history.in_force_at(T0 + 9 * H)] == ["shop/api v2"]  # deployed stays in force


def test_a_rejected_policy_never_counts_and_changes_of_unknown_versions_are_ignored() -> None:
    history = PolicyHistory(_versions(), [*_changes(), StatusChange(99, T0, "approved")])
    assert all(v.name != "db" for v in history.in_force_at(T0 + 10 * H))
    assert history.status_at(3, T0 + 10 * H) == "rejected"


def test_two_versions_approved_at_once_keep_the_newest() -> None:
    both = [StatusChange(1, T0, "approved"), StatusChange(2, T0, "approved")]
    assert [v.version for v in PolicyHistory(_versions(), both).in_force_at(T0)] == [2]


def test_parse_manifest_refuses_a_non_mapping() -> None:
    assert parse_manifest("kind: NetworkPolicy\n")["kind"] == "NetworkPolicy"
    with pytest.raises(ValueError, match="not a YAML mapping"):
        parse_manifest("- a\n- b\n")


def test_two_clusters_policies_of_the_same_namespace_and_name_are_both_in_force() -> None:
    # issue 19 A4: a policy is one per (cluster, namespace, name); east's v2 does not replace default's v1
    versions = [
        PolicyVersion(10, "shop", "api", 1),
        PolicyVersion(11, "shop", "api", 1, cluster="east"),
        PolicyVersion(12, "shop", "api", 2, cluster="east"),
    ]
    changes = [
        StatusChange(10, T0, "approved"),
        StatusChange(11, T0 + H, "approved"),
        StatusChange(11, T0 + 3 * H, "superseded"),
        StatusChange(12, T0 + 3 * H, "approved"),
    ]
    history = PolicyHistory(versions, changes)
    assert [v.label for v in history.in_force_at(T0)] == ["shop/api v1"]
    assert [v.label for v in history.in_force_at(T0 + 2 * H)] == ["shop/api v1", "east/shop/api v1"]
    assert [(v.cluster, v.version) for v in history.in_force_at(T0 + 3 * H)] == [("default", 1), ("east", 2)]
