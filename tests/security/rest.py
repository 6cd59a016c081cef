"""Enumerate the REST API from its OpenAPI document and build a plausible request for any operation."""

from __future__ import annotations

import functools
import re
from typing import Any

from dashboard.api.app import build_api
from tests.security.access_matrix import Route

METHODS = ("get", "post", "put", "patch", "delete")
# Path parameter → which seeded object's id fills it; unknown ones get an id nobody has.
PARAM_IDS = {"job_run_id": "job", "upload_id": "upload", "snapshot_id": "snapshot", "event_id": "event",
             "entry_id": "whitelist", "user_id": "user", "token_id": "token", "incident_id": "incident",
             "integration_id": "integration"}
NOBODY = "987654"


@functools.cache
def spec() -> dict[str, Any]:
    """The OpenAPI document of the app as it is now (routes other helpers added included)."""
    return build_api().openapi()


def openapi_operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every documented operation."""
    return [(method.upper(), path, operation) for path, item in spec()["paths"].items()
            for method, operation in item.items() if method in METHODS]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def sample(schema: dict[str, Any]) -> Any:
    """A minimal value that satisfies the schema's shape (types, required fields, enums, lengths)."""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s).get("type") != "null"] or schema[key]
            return sample(options[0])
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: sample(props.get(name, {})) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2026-01-05T10:00:00Z"
        return "x" * max(1, int(schema.get("minLength", 1)))
    if kind in ("integer", "number"):
        return max(1, int(schema.get("minimum", 1)))
    if kind == "boolean":
        return False
    return None


def request_for(method: str, path: str, operation: dict[str, Any], rule: Route, ids: dict[str, str], *,
                token: str | None) -> dict[str, Any]:
    """httpx request arguments for one operation, path ids taken from `ids` (a seeded tenant's)."""
    url = re.sub(r"\{(\w+)\}", lambda m: ids.get(PARAM_IDS.get(m.group(1), ""), NOBODY), path)
    query = {p["name"]: sample(p.get("schema", {})) for p in operation.get("parameters", [])
             if p.get("in") == "query" and p.get("required")}
    request: dict[str, Any] = {"method": method, "url": url, "params": query,
                               "headers": {"Authorization": f"Bearer {token}"} if token else {}}
    body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if rule.body is not None:
        request["json"] = rule.body
    elif body_schema is not None:
        request["json"] = sample(body_schema)
    return request
