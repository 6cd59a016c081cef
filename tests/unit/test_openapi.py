"""`/api/v1/openapi.json` describes every answer: each 2xx response of each path has a real schema.

A route that returns a bare dict or a JSONResponse gets an empty or an "any object" schema; the check
below names it, and a test plants such routes to show that the check fails on them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from dashboard.api.app import build_api
from dashboard.api.errors import install_error_handlers
from jobs.runtime.windows import BadRange
from models.errors import Invalid
from models.ops import JobRun
from models.public.ops import JobRunPublic


def untyped(schema: dict[str, Any] | None) -> bool:
    """True for a schema that says nothing: missing, empty, or an object of anything without properties."""
    if not schema:
        return True
    if "$ref" in schema:
        return False
    if schema.get("type") == "array":
        return untyped(schema.get("items"))
    if schema.get("type") == "object":
        return "properties" not in schema
    return "type" not in schema and not any(key in schema for key in ("anyOf", "oneOf", "allOf"))


def undocumented_answers(spec: dict[str, Any]) -> list[str]:
    """`METHOD path status` of every 2xx answer with a body but no schema (204 must have no body)."""
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                content = response.get("content", {})
                if status == "204":
                    bad = bool(content)
                else:
                    bad = not content or any(untyped(media.get("schema")) for media in content.values())
                if bad:
                    found.append(f"{method.upper()} {path} {status}")
    return found


def test_every_2xx_answer_of_the_api_has_a_schema() -> None:
    spec = build_api().openapi()
    assert len(spec["paths"]) >= 25, sorted(spec["paths"])
    assert undocumented_answers(spec) == []


def test_a_route_that_loses_its_model_is_named() -> None:
    api = build_api()

    @api.get("/api/v1/planted-dict")
    async def planted_dict() -> dict[str, Any]:
        return {}

    @api.post("/api/v1/planted-response", status_code=202)
    async def planted_response() -> JSONResponse:
        return JSONResponse({}, status_code=202)

    assert undocumented_answers(api.openapi()) == ["GET /api/v1/planted-dict 200", "POST /api/v1/planted-response 202"]


def test_list_answers_point_at_their_row_model() -> None:
    answer = build_api().openapi()["paths"]["/api/v1/jobs"]["get"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/JobRunPublic"}


def test_times_keep_the_isoformat_with_its_offset() -> None:
    moment = datetime(2024, 4, 19, 10, 30, tzinfo=UTC)
    run = JobRun(id=7, tenant_id=1, arq_job_id="a", name="ping", enqueued_at=moment)
    public = JobRunPublic.of(run)
    assert public.model_dump()["enqueued_at"] == "2024-04-19T10:30:00+00:00"
    assert '"enqueued_at":"2024-04-19T10:30:00+00:00","started_at":null' in public.model_dump_json()


@pytest.mark.parametrize(("error", "code"), [(Invalid("limit must be positive"), "invalid_request"),
                                             (BadRange("window_start must be before window_end"), "invalid_range")])
async def test_invalid_input_answers_422_in_the_error_shape(error: Exception, code: str) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sg.test") as client:
        answer = await client.get("/boom")
    assert answer.status_code == 422
    assert answer.json() == {"error": {"code": code, "message": str(error)}}
