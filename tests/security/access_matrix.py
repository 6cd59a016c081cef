"""The reviewed access table: the minimum role of every REST route and every Reflex event handler.

The tenant-wall and role-matrix suites enumerate routes from the app's OpenAPI document and
handlers from the Reflex state tree; anything they find that is not classified here fails with a
message naming it. Adding a route or handler? Add one line here (and say why if it is not obvious).

Levels: "viewer" < "analyst" < "approver" < "admin" (the role the code must check, via
Principal.require / AppState._require); "public" (no identity: health, login, set-password);
"session" (AppState's own session handlers); "ui" (a handler that neither reads nor writes the
database: it only changes what this tab shows from data a checked handler already loaded; it still goes
through the access guard, see tests/unit/test_handlers_guarded.py).

State handler args may hold placeholders that the suites fill in with tenant A's ids:
"{event}", "{snapshot}", "{job}", "{token}", "{user}", "{upload}", "{whitelist}", "{node}", "{incident}".
`prep` sets state vars first: the built-in `setvar` refuses them (no setters), so this is defence in
depth: even a state that somehow held tenant A's ids must not reach A's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES_ASCENDING = ("viewer", "analyst", "approver", "admin")


@dataclass(frozen=True)
class Route:
    """A REST route's minimum role; `body` overrides the request body the suites generate from the schema."""

    role: str
    body: Any = None


@dataclass(frozen=True)
class Handler:
    """A state event handler's minimum role, with the arguments and prepared state the suites call it with."""

    role: str
    args: tuple[Any, ...] = ()
    prep: dict[str, Any] = field(default_factory=dict)


# (METHOD, path as in the OpenAPI document) → Route
REST: dict[tuple[str, str], Route] = {
    ("GET", "/api/v1/health"): Route("public"),
    ("GET", "/api/v1/jobs"): Route("viewer"),
    ("GET", "/api/v1/jobs/metrics"): Route("viewer"),
    ("POST", "/api/v1/jobs/retry-failed"): Route("admin", body={"expected": 0}),
    ("GET", "/api/v1/jobs/{job_run_id}"): Route("viewer"),
    ("POST", "/api/v1/jobs/{job_run_id}/retry"): Route("analyst"),
    ("POST", "/api/v1/jobs/{job_run_id}/cancel"): Route("admin"),
    ("POST", "/api/v1/flows"): Route("analyst"),
    ("GET", "/api/v1/uploads/{upload_id}"): Route("viewer"),
    ("POST", "/api/v1/snapshots/build"): Route("analyst", body={"window_start": "x", "window_end": "y"}),
    ("POST", "/api/v1/snapshots/detect"): Route("analyst", body={"window_start": "x", "window_end": "y"}),
    ("GET", "/api/v1/snapshots"): Route("viewer"),
    ("GET", "/api/v1/snapshots/{snapshot_id}"): Route("viewer"),
    ("GET", "/api/v1/snapshots/{snapshot_id}/graph"): Route("viewer"),
    ("GET", "/api/v1/drift-events"): Route("viewer"),
    ("GET", "/api/v1/drift-events/{event_id}"): Route("viewer"),
    ("PATCH", "/api/v1/drift-events/{event_id}"): Route("analyst", body={"status": "resolved"}),
    ("POST", "/api/v1/drift-events/{event_id}/feedback"): Route("analyst", body={"verdict": "false_positive"}),
    # monitor mode (issue 19 Part B): modes are an approver's call; amend/confirm a violation is an analyst's
    ("GET", "/api/v1/namespaces"): Route("viewer"),
    ("PUT", "/api/v1/namespaces/{cluster}/{namespace}/mode"): Route("approver", body={"mode": "monitor",
                                                                                     "reason": "matrix"}),
    ("POST", "/api/v1/violations/{event_id}/amend"): Route("analyst"),
    ("POST", "/api/v1/violations/{event_id}/confirm"): Route("analyst", body={"note": "matrix"}),
    ("GET", "/api/v1/incidents"): Route("viewer"),
    ("GET", "/api/v1/incidents/{incident_id}"): Route("viewer"),
    ("PATCH", "/api/v1/incidents/{incident_id}"): Route("analyst", body={"status": "resolved"}),
    ("POST", "/api/v1/incidents/{incident_id}/feedback"): Route("analyst", body={"verdict": "false_positive"}),
    ("GET", "/api/v1/whitelist"): Route("viewer"),
    ("POST", "/api/v1/whitelist"): Route("analyst", body={"src_pattern": "*", "dst_pattern": "10.9.9.9",
                                                          "reason": "matrix"}),
    ("DELETE", "/api/v1/whitelist/{entry_id}"): Route("analyst"),
    # Policies and GitOps (their own helpers' routes; roles as their modules document). Submit, approve and
    # reject check the role inside models/queries/policies.py (with the four-eyes rule), before anything else.
    ("POST", "/api/v1/policies/generate"): Route("analyst"),
    ("GET", "/api/v1/policies"): Route("viewer"),
    ("GET", "/api/v1/policies/coverage"): Route("viewer"),
    ("GET", "/api/v1/policies/{policy_id}"): Route("viewer"),
    ("POST", "/api/v1/policies/{policy_id}/submit"): Route("analyst", body={"reason": "matrix"}),
    ("POST", "/api/v1/policies/{policy_id}/approve"): Route("approver", body={"reason": "matrix"}),
    ("POST", "/api/v1/policies/{policy_id}/reject"): Route("approver", body={"reason": "matrix"}),
    ("GET", "/api/v1/policies/{policy_id}/impact"): Route("viewer"),
    ("GET", "/api/v1/policies/bundle/approved"): Route("viewer"),
    ("GET", "/api/v1/policies/{policy_id}/download"): Route("viewer"),
    ("GET", "/api/v1/gitops"): Route("admin"),
    ("PUT", "/api/v1/gitops"): Route("admin"),
    ("POST", "/api/v1/gitops/test"): Route("admin"),
    ("GET", "/api/v1/gitops/pulls"): Route("viewer"),
    # Notification integrations (issue 18): admin only; the test message goes to the seeded syslog receiver
    ("GET", "/api/v1/integrations"): Route("admin"),
    ("POST", "/api/v1/integrations"): Route("admin", body={"kind": "syslog", "name": "matrix", "min_severity": "high",
                                                            "config": {"host": "siem.example.com", "port": 514}}),
    ("GET", "/api/v1/integrations/{integration_id}"): Route("admin"),
    ("PATCH", "/api/v1/integrations/{integration_id}"): Route("admin", body={"min_severity": "critical"}),
    ("DELETE", "/api/v1/integrations/{integration_id}"): Route("admin"),
    ("POST", "/api/v1/integrations/{integration_id}/test"): Route("admin"),
    ("GET", "/api/v1/integrations/{integration_id}/deliveries"): Route("admin"),
    # Reports (issue 18 item 4): everyone of the tenant reads them
    ("GET", "/api/v1/reports"): Route("viewer"),
    # Users and audit
    ("GET", "/api/v1/users"): Route("admin"),
    ("PATCH", "/api/v1/users/{user_id}"): Route("admin", body={}),
    ("GET", "/api/v1/audit"): Route("approver"),
    # Home settings (docs/detection.md step 3): everyone reads what home is, admins change it.
    ("GET", "/api/v1/settings/home"): Route("viewer"),
    ("PUT", "/api/v1/settings/home"): Route("admin", body={"home_networks": ["198.51.100.0/24"], "sensors": [],
                                                           "home_private": True}),
}

# "StateClass.handler" → Handler
STATE: dict[str, Handler] = {
    "AppState.check_session": Handler("session"),
    "AppState.sign_out": Handler("session"),
    "AppState.dismiss_denied": Handler("ui"),
    "LoginState.load": Handler("public"),
    "LoginState.login": Handler("public", args=({"email": "nobody@nowhere.test", "password": "wrong-password"},)),
    "SetPasswordState.load": Handler("public"),
    "SetPasswordState.set_password": Handler("public", args=({"password": "long-enough-1", "again": "long-enough-1"},)),
    # Audit log
    "AuditState.load": Handler("approver"),
    "AuditState.apply_filters": Handler("approver", args=({"action": "all", "actor": "", "text": "MARKER"},)),
    "AuditState.clear_filters": Handler("approver"),
    "AuditState.page": Handler("approver", args=(1,)),
    "AuditState.export_csv": Handler("approver"),
    # Drift events
    "DriftListState.load": Handler("viewer"),
    "DriftListState.apply_filters": Handler("viewer", args=({"kind": "all", "status": "all"},)),
    "DriftListState.sort_by": Handler("viewer", args=("risk",)),
    "DriftListState.page": Handler("viewer", args=(1,)),
    "DriftListState.toggle": Handler("ui", args=("{event}",)),
    # Policies › Readiness (issue 19 Part B)
    "ReadinessState.load": Handler("viewer"),
    "ReadinessState.ask_mode": Handler("approver", args=("default", "shop", "monitor")),
    "ReadinessState.cancel_mode": Handler("viewer"),
    "ReadinessState.set_mode": Handler("approver", args=({"reason": "matrix"},),
                                       prep={"pending": {"cluster": "default", "namespace": "shop", "mode": "monitor"}}),
    "ReadinessState.amend": Handler("analyst", args=("{event}",)),
    "ReadinessState.confirm": Handler("analyst", args=("{event}",)),
    "DriftListState.select_scope": Handler("ui", args=("page",)),
    # with "all matching" it counts the tenant's events
    "DriftListState.ask_bulk": Handler("viewer", args=("resolved",), prep={"all_matching": True}),
    "DriftListState.cancel_bulk": Handler("ui"),
    "DriftListState.confirm_bulk": Handler("analyst", prep={"selected": ["{event}"], "pending_bulk": "resolved"}),
    "DriftListState.show_fresh": Handler("viewer"),
    "DriftDetailState.open_from_url": Handler("ui"),  # no ?event= in the URL here; with one it is open_event
    "DriftDetailState.open_event": Handler("viewer", args=("{event}",)),
    "DriftDetailState.close": Handler("ui"),
    "DriftDetailState.set_status": Handler("analyst", args=("resolved",), prep={"event": {"id": "{event}"}}),
    "DriftDetailState.give_feedback": Handler("analyst", args=("false_positive", {"note": "x"}),
                                              prep={"event": {"id": "{event}"}}),
    "DriftDetailState.whitelist": Handler("analyst", args=({"reason": "wall", "days": "1"},),
                                          prep={"event": {"id": "{event}", "src": "a", "dst_node": "b", "port": "1"}}),
    # Graph
    "GraphState.load": Handler("viewer"),
    "GraphState.pick_snapshot": Handler("viewer", args=("{snapshot}",), prep={"snapshots": [{"id": "{snapshot}"}]}),
    "GraphState.pick_compare": Handler("viewer", args=("{snapshot}",), prep={"snapshots": [{"id": "{snapshot}"}],
                                                                             "snapshot_id": "{snapshot}"}),
    # these redraw from the view this process keeps (state.graph_cache), reading it again on a miss: viewer
    "GraphState.set_filter": Handler("viewer", args=("namespace", "x")),
    "GraphState.clear_filters": Handler("viewer"),
    "GraphState.click": Handler("viewer", args=([{"curveNumber": 0, "pointNumber": 0}],)),
    "GraphState.select": Handler("viewer", args=("{node}",)),
    # An export of the open graph: a signed-out tab must not download it (security finding 5).
    "GraphState.download_json": Handler("viewer"),
    "GraphState.set_changes_only": Handler("viewer", args=(True,)),
    "ReplayState.load": Handler("viewer"),
    "ReplayState.apply_period": Handler("viewer", args=({"from": "2024-01-01T00:00", "to": "2024-01-02T00:00"},)),
    "ReplayState.step": Handler("viewer", args=(1,)),
    "ReplayState.go_to": Handler("viewer", args=([1.0],)),
    "ReplayState.toggle_play": Handler("viewer"),
    "ReplayState.tick": Handler("viewer"),
    "ReplayState.set_speed": Handler("viewer", args=("2",)),
    "GraphState.show_offer": Handler("viewer", prep={"live_offer": {"id": "{snapshot}"}}),
    "GraphDetailState.close": Handler("ui"),
    # Jobs
    "JobsState.load": Handler("viewer"),
    "JobsState.set_filter_status": Handler("viewer", args=("failed",)),
    "JobsState.set_filter_name": Handler("viewer", args=("ping",)),
    "JobsState.set_filter_trigger": Handler("viewer", args=("x",)),
    "JobsState.set_filter_period": Handler("viewer", args=("all",)),
    "JobsState.set_sort": Handler("viewer", args=("newest",)),
    "JobsState.turn_page": Handler("viewer", args=(1,)),
    "JobsState.trigger_ping": Handler("admin"),
    "JobsControlState.lookup": Handler("viewer", args=({"lookup": "{job}"},)),
    "JobsControlState.open_run": Handler("viewer", args=("{job}",)),
    "JobsControlState.open_from_url": Handler("ui"),  # no ?run= in the URL here; with one it is open_run
    "JobsControlState.close_run": Handler("ui"),
    "JobsControlState.retry": Handler("analyst", prep={"detail": {"id": "{job}"}}),
    "JobsControlState.cancel": Handler("admin", prep={"detail": {"id": "{job}"}}),
    "JobsControlState.trigger_build": Handler("analyst", args=({"window_start": "x", "window_end": "y"},)),
    "JobsControlState.ask_bulk_retry": Handler("admin"),
    "JobsControlState.close_bulk": Handler("ui"),
    "JobsControlState.confirm_bulk_retry": Handler("admin", prep={"bulk_count": 0}),
    "JobsMetricsState.load_metrics": Handler("viewer"),
    # Incidents on the Drift page (the incident's id from the table or the URL, as for events)
    "IncidentListState.load": Handler("viewer"),
    "IncidentListState.apply_filters": Handler("viewer", args=({"status": "any", "kind": "any", "q": ""},)),
    "IncidentListState.page": Handler("viewer", args=(1,)),
    "IncidentListState.set_tab": Handler("ui", args=("events",)),
    # bulk status change of incidents (issue 21), as on the events list
    "IncidentListState.toggle": Handler("ui", args=("{incident}",)),
    "IncidentListState.select_scope": Handler("ui", args=("page",)),
    "IncidentListState.ask_bulk": Handler("viewer", args=("resolved",), prep={"all_matching": True}),
    "IncidentListState.cancel_bulk": Handler("ui"),
    "IncidentListState.confirm_bulk": Handler("analyst", prep={"ticked": ["{incident}"], "pending_bulk": "resolved"}),
    "IncidentDetailState.open_from_url": Handler("ui"),  # no ?incident= in the URL here; with one it is open_incident
    "IncidentDetailState.open_incident": Handler("viewer", args=("{incident}",)),
    "IncidentDetailState.close": Handler("ui"),
    "IncidentDetailState.events_page": Handler("viewer", args=(1,), prep={"incident": {"id": "{incident}"}}),
    "IncidentDetailState.act": Handler("analyst", args=("acknowledged",), prep={"incident": {"id": "{incident}"}}),
    "IncidentDetailState.cancel": Handler("ui"),
    "IncidentDetailState.confirm": Handler("analyst", args=({"note": "x"},),
                                           prep={"pending": "false_positive", "incident": {"id": "{incident}"}}),
    # Overview
    "OverviewState.load": Handler("viewer"),
    "OverviewState.open_point": Handler("ui", args=([{"curveNumber": 0, "pointNumber": 0}],)),
    "OverviewState.pick_period": Handler("viewer", args=({"period": "all"},)),
    # Sources and tokens
    "SourcesState.load": Handler("viewer"),
    "SourcesState.set_upload_format": Handler("ui", args=("zeek",)),
    "SourcesState.set_window": Handler("admin", args=("5m",)),
    "SourcesState.upload_progress": Handler("ui", args=({"progress": 0.5},)),
    "SourcesState.handle_upload": Handler("analyst", args=([],)),
    "TokensState.load_tokens": Handler("admin"),
    "TokensState.create_token": Handler("admin", args=({"name": "wall", "role": "viewer"},)),
    "TokensState.ask_revoke": Handler("ui", args=("{token}",)),
    "TokensState.cancel_revoke": Handler("ui"),
    "TokensState.revoke_token": Handler("admin", prep={"confirm_revoke_id": "{token}"}),
    "TokensState.dismiss_secret": Handler("ui"),
    # Policies (their own helper's states). PolicyDetailState.confirm checks viewer itself and hands the role to
    # models/queries/policies.py, which refuses submit below analyst and approve/reject below approver (the
    # REST matrix above proves those through the same query functions).
    "PoliciesState.load": Handler("viewer"),
    "PoliciesState.apply_filters": Handler("viewer", args=({"status": "all", "namespace": "", "text": ""},)),
    "GenerationState.load": Handler("viewer"),
    "GenerationState.generate": Handler("analyst", args=({"mode": "newest", "last": "1", "source": "any"},)),
    "GenerationState.cancel": Handler("analyst"),
    "PolicyDetailState.open_from_url": Handler("ui"),  # no ?policy= in the URL here; with one it is open_policy
    "PolicyDetailState.open_policy": Handler("viewer", args=("{policy}",)),
    "PolicyDetailState.preview_impact": Handler("viewer", args=({"snapshots": "3"},), prep={"policy": {"id": "{policy}"}}),
    "PolicyDetailState.close": Handler("ui"),
    "PolicyDetailState.ask": Handler("ui", args=("approve",)),
    "PolicyDetailState.cancel": Handler("ui"),
    "PolicyDetailState.confirm": Handler("viewer", args=({"reason": "wall"},),
                                         prep={"confirming": "approve", "policy": {"id": "{policy}"}}),
    # GitOps and policy downloads (their own helpers' states)
    "GitopsState.load": Handler("viewer"),
    "GitopsState.save_settings": Handler("admin", args=({"provider": "github", "repo_url": ""},)),
    "GitopsState.test_connection": Handler("admin"),
    "PolicyDownloadState.download_policy": Handler("viewer", args=("{policy}",)),
    "PolicyDownloadState.download_bundle": Handler("viewer"),
    # Users
    "UsersState.load": Handler("admin"),
    "UsersState.create_user": Handler("admin", args=({"email": "new-{user}@example.test", "role": "viewer"},)),
    "UsersState.ask": Handler("ui", args=("{user}", "disable")),
    "UsersState.cancel": Handler("ui"),
    "UsersState.confirm": Handler("admin", prep={"pending": {"id": "{user}", "action": "disable", "email": "x",
                                                             "role": ""}}),
    "UsersState.dismiss_link": Handler("ui"),
    # Integrations (issue 18): admin only; the form submits the fields of the chosen kind
    "IntegrationsState.load": Handler("admin"),
    "IntegrationsState.set_kind": Handler("admin", args=("syslog",)),
    "IntegrationsState.set_template": Handler("admin", args=("{{ entity }}",)),
    "IntegrationsState.add": Handler("admin", args=({"name": "matrix-{user}", "min_severity": "high",
                                                     "url": "https://hooks.slack.com/services/T/B/x"},)),
    "IntegrationsState.select": Handler("admin", args=("{integration}",)),
    "IntegrationsState.test": Handler("admin", args=("{integration}",)),
    "IntegrationsState.ask_delete": Handler("admin", args=("{integration}",)),
    "IntegrationsState.cancel_delete": Handler("admin"),
    "IntegrationsState.confirm_delete": Handler("admin", prep={"pending_delete": "{integration}"}),
    "IntegrationsState.start_edit": Handler("admin", args=("{integration}",)),
    "IntegrationsState.cancel_edit": Handler("admin"),
    "IntegrationsState.save_edit": Handler("admin", args=({"name": "matrix-edit-{user}", "min_severity": "high"},),
                                           prep={"editing": "{integration}"}),
    "ReportDigestState.load_digest": Handler("admin"),
    "ReportDigestState.set_digest_mode": Handler("admin", args=("daily",)),
    "ReportDigestState.save_digest": Handler("admin", args=({"hour": "8"},)),
    # Reports (issue 18 item 4): everyone of the tenant reads them
    "ReportsState.load": Handler("viewer"),
    "ReportsState.set_start_day": Handler("viewer", args=("2026-12-01",)),
    "ReportsState.set_end_day": Handler("viewer", args=("2026-12-04",)),
    "ReportsState.set_format": Handler("viewer", args=("md",)),
    "ReportsState.preview": Handler("viewer", prep={"start_day": "2026-12-01", "end_day": "2026-12-04"}),
    "ReportsState.download": Handler("viewer", prep={"start_day": "2026-12-01", "end_day": "2026-12-04"}),
    # Settings (home networks)
    "SettingsState.load": Handler("admin"),
    "SettingsState.save_policies": Handler("admin", args=({"readiness_days": "7", "readiness_max_open": "0",
                                                            "policy_min_observation_hours": "24"},)),
    "SettingsState.save": Handler("admin", args=({"home_networks": "198.51.100.0/24", "sensors": "",
                                                  "home_private": "on"},)),
}
