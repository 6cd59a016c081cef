"""The sweeper dates a worker's take of a job by ARQ's try counter: the installed ARQ must still set it so."""

from __future__ import annotations

import inspect

from arq.worker import Worker

from jobs.tasks.sweeper import ARQ_RETRY_KEY_SECONDS


def test_arq_sets_the_try_counter_expiry_the_sweeper_reads_as_the_take_time() -> None:
    source = inspect.getsource(Worker.run_job)
    assert f"pipe.expire(retry_key_prefix + job_id, {ARQ_RETRY_KEY_SECONDS})" in source
    # ... at the start of run_job, before the job function is looked up or called
    assert source.index(f"{ARQ_RETRY_KEY_SECONDS})") < source.index("self.functions[function_name]")
