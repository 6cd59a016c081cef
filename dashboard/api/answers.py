"""The API's small answers that belong to no aggregate: queued job ids, an accepted upload, a check's outcome.

Rows of an aggregate answer as its `models.public` model; these are the envelopes around actions.
"""

from __future__ import annotations

from models.public.base import PublicModel


class JobQueued(PublicModel):
    """`202`: the job run that will do the work."""

    job_id: int


class JobsQueued(PublicModel):
    """The job runs queued, one per window, snapshot or retried run."""

    job_ids: list[int]


class UploadQueued(PublicModel):
    """`202`: the stored upload and the run that parses it."""

    upload_id: int
    job_id: int


class CheckResult(PublicModel):
    """A connection test: `ok`, and what worked (or the first error) line by line."""

    ok: bool
    checks: list[str]
