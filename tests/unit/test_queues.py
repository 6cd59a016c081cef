"""Routing jobs to the two ARQ queues, and the worker settings that serve them."""

from __future__ import annotations

from jobs import worker
from jobs.runtime.queues import BULK, CRON_QUEUE_OF, INTERACTIVE, QUEUE_OF, current_queue, queue_for


def test_every_registered_job_and_cron_entry_has_a_queue() -> None:
    names = {f.name for f in worker.functions_for(worker.JOBS)}
    assert names == set(QUEUE_OF)
    assert {job.name for job in worker.CRON_JOBS} == set(CRON_QUEUE_OF)


def test_interactive_jobs_stay_off_the_bulk_queue_unless_bulk_work_queues_them() -> None:
    assert queue_for("ping") == INTERACTIVE and queue_for("detect_drift") == INTERACTIVE
    assert queue_for("ingest_flows") == BULK and queue_for("build_snapshot") == BULK
    assert queue_for("detect_drift", many=True) == BULK
    token = current_queue.set(BULK)
    try:
        assert queue_for("detect_drift") == BULK
    finally:
        current_queue.reset(token)
    token = current_queue.set(INTERACTIVE)
    try:
        assert queue_for("build_snapshot") == BULK
    finally:
        current_queue.reset(token)


def test_each_settings_class_serves_its_queue_with_its_cron_entries_once() -> None:
    assert worker.InteractiveWorker.queue_name == INTERACTIVE and worker.BulkWorker.queue_name == BULK
    interactive = {job.name for job in worker.InteractiveWorker.cron_jobs}
    bulk = {job.name for job in worker.BulkWorker.cron_jobs}
    assert not interactive & bulk and interactive | bulk == set(CRON_QUEUE_OF)
    assert "drain_notifications" in interactive and "schedule_window_builds" in bulk
    # The combined settings run the interactive Worker and start the bulk one beside it.
    assert worker.WorkerSettings.queue_name == INTERACTIVE
    assert worker.WorkerSettings.on_startup is worker.startup_both


def test_settings_classes_name_the_queues_they_serve() -> None:
    assert worker.InteractiveWorker.sg_queues == (INTERACTIVE,) and worker.BulkWorker.sg_queues == (BULK,)
    assert set(worker.WorkerSettings.sg_queues) == {INTERACTIVE, BULK}
