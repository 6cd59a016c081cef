"""SG_LOG_FORMAT=json: one JSON object a line with the tenant and job of the running task."""

from __future__ import annotations

import io
import json
import logging

import pytest

from jobs.runtime.logs import ContextFilter, JsonFormatter, job_id_var, job_run_id_var, log_format, tenant_id_var


def test_a_log_line_is_json_with_the_tenant_and_job_of_the_context() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("sg.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    tokens = (tenant_id_var.set(3), job_id_var.set("ping:3:abc"), job_run_id_var.set(41))
    try:
        logger.warning("parsed %d rows", 12, extra={"upload_id": 9})
    finally:
        tenant_id_var.reset(tokens[0])
        job_id_var.reset(tokens[1])
        job_run_id_var.reset(tokens[2])
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["message"] == "parsed 12 rows" and line["level"] == "WARNING" and line["logger"] == "sg.test.json"
    assert (line["tenant_id"], line["job_id"], line["job_run_id"], line["upload_id"]) == (3, "ping:3:abc", 41, 9)
    assert line["time"].endswith("+00:00")


def test_the_format_setting_is_json_or_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_LOG_FORMAT", "JSON")
    assert log_format() == "json"
    monkeypatch.delenv("SG_LOG_FORMAT")
    assert log_format() == "text"
    monkeypatch.setenv("SG_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="json or text"):
        log_format()
