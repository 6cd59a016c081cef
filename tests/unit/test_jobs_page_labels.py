"""The Jobs page says what is true now: progress of finished runs, when cron entries run next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from state.jobs import job_row, progress_label
from state.jobs_control import detail_of
from state.jobs_metrics import queue_rows, scheduled_rows, until_label

NOW = datetime(2026, 12, 5, 8, 43, 10, tzinfo=UTC)


def test_a_finished_run_does_not_show_its_last_step_as_current() -> None:
    assert progress_label("running", 0.3, "building…") == ("30%", "building…")
    assert progress_label("failed", 0.3, "building…") == ("stopped at 30%", "last step: building…")
    assert progress_label("cancelled", 0.0, "") == ("stopped at 0%", "")
    assert progress_label("succeeded", 1.0, "queueing 3 snapshot builds") == ("100%", "")
    assert progress_label("queued", 0.0, "") == ("not started", "")
    run = {"id": 7, "name": "build_snapshot", "status": "lost", "triggered_by": "t", "attempts": 1, "progress": 0.3,
           "progress_message": "building…", "arq_job_id": "x", "params": {}, "result": {}}
    assert job_row(run)["progress"] == "stopped at 30%" and job_row(run)["message"] == "last step: building…"
    assert detail_of(run)["progress"] == "stopped at 30% · last step: building…"


def test_cron_times_read_as_in_n_minutes_and_a_utc_clock() -> None:
    assert until_label(NOW + timedelta(seconds=20), NOW) == "in 20 s · 08:43:30 UTC"
    assert until_label(NOW + timedelta(minutes=2), NOW) == "in 2 min · 08:45 UTC"
    assert until_label(datetime(2026, 12, 6, 3, 0, tzinfo=UTC), NOW) == "in 18 h 17 min · Sun 03:00 UTC"
    rows = scheduled_rows([{"name": "drain_notifications", "next_run": (NOW + timedelta(seconds=2)).isoformat()},
                           {"name": "schedule_window_builds", "next_run": "2026-12-05T08:45:05+00:00"}], NOW)
    assert rows == [{"name": "drain_notifications", "queue": "interactive", "when": "in 2 s · 08:43:12 UTC"},
                    {"name": "schedule_window_builds", "queue": "bulk", "when": "in 2 min · 08:45 UTC"}]


def test_queue_rows_name_due_and_deferred() -> None:
    rows = queue_rows([{"queue": "bulk", "name": "sg:bulk", "depth": 1282, "due": 1280, "deferred": 2}])
    assert rows == [{"queue": "bulk", "due": "1,280", "deferred": "2"}]
