"""The Kubernetes OpenAPI schema of NetworkPolicy, checked fast.

The schema is the one `kubernetes-validate` ships (strict: unknown fields are errors). Checking
500 large generated policies with `jsonschema` costs ~15 s, mostly in resolving `$ref`s again
for every node, so the schema is loaded once, its references are inlined (the NetworkPolicy
schema is not recursive), and a small interpreter of the keywords it uses — `type`,
`properties`, `additionalProperties`, `required`, `items`, `enum`, `oneOf` — walks the manifest.
Messages and paths follow `jsonschema`'s; any other keyword makes `load_schema` refuse, so a
future schema cannot be checked half-way. Unit tests compare it with `kubernetes_validate`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

from kubernetes_validate import utils as kv

CHECKED = frozenset({"type", "properties", "additionalProperties", "required", "items", "enum", "oneOf"})
# Documentation and Kubernetes' merge hints: no effect on validity. `format` is not asserted by
# jsonschema either (int32/int64 are annotations in draft 2020-12).
IGNORED = frozenset({
    "description", "format", "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-list-map-keys",
    "x-kubernetes-patch-strategy", "x-kubernetes-patch-merge-key", "x-kubernetes-group-version-kind",
    "$schema", "$id",
})
Path = tuple[str | int, ...]


class SchemaError(Exception):
    """The shipped schema uses something this checker does not interpret."""


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    kinds: dict[str, Any] = {"string": str, "object": dict, "array": list, "boolean": bool}
    if name == "null":
        return value is None
    return isinstance(value, kinds[name])


def _inline(node: Any, table: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, list):
        return [_inline(item, table, seen) for item in node]
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        if name in seen or name not in table:
            raise SchemaError(f"cannot inline {node['$ref']}")
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {**_inline(table[name], table, (*seen, name)), **_inline(rest, table, seen)}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in CHECKED | IGNORED | {"group", "kind", "version"}:
            raise SchemaError(f"unsupported schema keyword {key!r}")
        if key in ("properties",):
            out[key] = {name: _inline(sub, table, seen) for name, sub in value.items()}
        elif key in IGNORED or key in ("group", "kind", "version"):
            continue
        else:
            out[key] = _inline(value, table, seen)
    return out


@functools.lru_cache(maxsize=8)
def load_schema(kubernetes_version: str) -> dict[str, Any]:
    """The strict NetworkPolicy schema of the newest shipped version not after `kubernetes_version`,
    references inlined. Raises kubernetes_validate's VersionNotSupportedError for an unknown one."""
    wanted = kv.major_minor(kubernetes_version.removeprefix("v"))
    versions = [v for v in kv.all_versions() if kv.major_minor(v) <= wanted]
    if not versions or wanted > kv.latest_version():
        raise kv.VersionNotSupportedError(version=wanted)
    folder = f"kubernetes-json-schema/v{versions[-1]}-local-strict"
    schema = kv.schema_contents(f"{folder}/networkpolicy-networking-v1.json", wanted)
    definitions = kv.schema_contents(f"{folder}/_definitions.json", wanted)
    table = definitions.get("$defs") or definitions.get("definitions") or {}
    inlined: dict[str, Any] = _inline(schema, table)
    return inlined


def schema_errors(instance: Any, schema: Mapping[str, Any], path: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every (path, message) where `instance` breaks `schema`, depth first, in document order."""
    kind = schema.get("type")
    if kind is not None:
        names = kind if isinstance(kind, list) else [kind]
        if not any(_is_type(instance, name) for name in names):
            shown = ", ".join(repr(n) for n in names)
            yield path, f"{instance!r} is not of type {shown}"
            return
    if "enum" in schema and instance not in schema["enum"]:
        yield path, f"{instance!r} is not one of {schema['enum']!r}"
    if "oneOf" in schema:
        matching = sum(1 for sub in schema["oneOf"] if next(schema_errors(instance, sub, path), None) is None)
        if matching != 1:
            how = "not valid under any" if not matching else "valid under each"
            yield path, f"{instance!r} is {how} of the given schemas"
    if isinstance(instance, dict):
        yield from _object_errors(instance, schema, path)
    elif isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            yield from schema_errors(item, schema["items"], (*path, index))


def _object_errors(instance: Mapping[str, Any], schema: Mapping[str, Any], path: Path) -> Iterator[tuple[Path, str]]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in instance:
            yield path, f"{name!r} is a required property"
    extra = schema.get("additionalProperties", True)
    unexpected = [key for key in instance if key not in properties]
    if extra is False and unexpected:
        listed = ", ".join(repr(key) for key in unexpected)
        verb = "was" if len(unexpected) == 1 else "were"
        yield path, f"Additional properties are not allowed ({listed} {verb} unexpected)"
    for key, value in instance.items():
        if key in properties:
            yield from schema_errors(value, properties[key], (*path, key))
        elif isinstance(extra, Mapping):
            yield from schema_errors(value, extra, (*path, key))
