"""Structured logs: one JSON object a line (`SG_LOG_FORMAT=json`) or plain text (the default), each line
carrying the tenant and the job run it was written for.

The job wrappers (`tracked`, `observed_cron`) and the REST caller dependency set the context variables; any
`logging` call in that task, and in threads started from it with `asyncio.to_thread`, then carries them.
"""

from __future__ import annotations

import json
import logging
import os
from contextvars import ContextVar
from datetime import UTC, datetime

tenant_id_var: ContextVar[int | None] = ContextVar("sg_tenant_id", default=None)
job_id_var: ContextVar[str | None] = ContextVar("sg_job_id", default=None)
job_run_id_var: ContextVar[int | None] = ContextVar("sg_job_run_id", default=None)

FORMATS = ("text", "json")
# LogRecord's own attributes: anything else on a record came from `extra=` and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def log_format() -> str:
    """`SG_LOG_FORMAT`: json or text (default); anything else is refused at start-up."""
    value = os.environ.get("SG_LOG_FORMAT", "text").strip().lower() or "text"
    if value not in FORMATS:
        raise ValueError(f"SG_LOG_FORMAT must be json or text, not {value!r}")
    return value


class ContextFilter(logging.Filter):
    """Copies the tenant and job ids of the running task onto every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.tenant_id = tenant_id_var.get()
        record.job_id = job_id_var.get()
        record.job_run_id = job_run_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time (UTC ISO 8601), level, logger, message, tenant_id, job_id, job_run_id,
    the exception if any, and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "tenant_id": getattr(record, "tenant_id", tenant_id_var.get()),
            "job_id": getattr(record, "job_id", job_id_var.get()),
            "job_run_id": getattr(record, "job_run_id", job_run_id_var.get()),
        }
        if record.exc_info:
            body["exc_info"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in body:
                body[key] = value
        return json.dumps(body, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [tenant=%(tenant_id)s job=%(job_id)s] %(message)s"


def configure_logging(fmt: str | None = None) -> None:
    """Give the root logger a stderr handler when it has none (text: with the tenant and job in each line).
    With json, every handler of the root logger and of ARQ's (which does not propagate) writes JSON. Idempotent."""
    fmt = fmt or log_format()
    root = logging.getLogger()
    if not root.handlers:
        stderr = logging.StreamHandler()
        stderr.setFormatter(logging.Formatter(TEXT_FORMAT))
        root.addHandler(stderr)
        root.setLevel(logging.INFO)
        # Every HTTP request at INFO (notifier drains, GitOps calls) would bury the jobs' own lines.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    handlers = [*root.handlers, *logging.getLogger("arq").handlers]
    for handler in handlers:
        if fmt == "json":
            handler.setFormatter(JsonFormatter())
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
