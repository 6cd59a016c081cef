"""Validation of NetworkPolicy manifests, offline, in three layers.

1. The Kubernetes OpenAPI schema, strict (unknown fields are errors), from the schemas that
   `kubernetes-validate` ships inside its package: no network (checked by `jobs.engines.policy.schema`).
2. The API server's own field rules that the schema does not carry (names, label syntax, port
   ranges, protocols, CIDRs, peer shape), so a manifest that passes would also be admitted.
3. Parsing into the `kubernetes` client's `V1NetworkPolicy` model.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import kubernetes_validate
import yaml
from kubernetes.client import V1NetworkPolicy

from jobs.engines.policy.ports import MAX_PORT, NP_PROTOCOLS
from jobs.engines.policy.schema import load_schema, schema_errors

DEFAULT_KUBERNETES_VERSION = "1.30"
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_PORT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """Outcome for one manifest: `policy` is `namespace/name`, `model` set only when valid."""

    policy: str
    errors: list[str] = field(default_factory=list)
    model: V1NetworkPolicy | None = None

    @property
    def ok(self) -> bool:
        """True when the manifest passed every layer."""
        return not self.errors


def validate_manifest(
    manifest: Mapping[str, Any], *, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION, client_model: bool = True
) -> ValidationResult:
    """Validate one NetworkPolicy manifest; errors read `path: problem`.

    `client_model=False` skips layer 3 (a third of the cost on large policies): for callers that
    validate many generated manifests whose parsing the tests already cover.
    """
    data = dict(manifest)
    raw_metadata = data.get("metadata")
    metadata: Mapping[str, Any] = raw_metadata if isinstance(raw_metadata, Mapping) else {}
    policy = f"{metadata.get('namespace') or '(default)'}/{metadata.get('name') or '?'}"
    if data.get("apiVersion") != "networking.k8s.io/v1" or data.get("kind") != "NetworkPolicy":
        found = f"{data.get('apiVersion')}/{data.get('kind')}"
        return ValidationResult(policy, [f"not a networking.k8s.io/v1 NetworkPolicy: {found}"])
    errors = _schema_errors(data, kubernetes_version)
    if not errors:
        errors = list(_field_errors(data))
    if errors or not client_model:
        return ValidationResult(policy, errors)
    try:
        model = parse_model(data)
    except (ValueError, TypeError) as err:
        return ValidationResult(policy, [f"client model: {err}"])
    return ValidationResult(policy, [], model)


def validate_yaml(
    text: str, *, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
) -> list[ValidationResult]:
    """Validate every document of a YAML text; a YAML syntax error is one failed result."""
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as err:
        return [ValidationResult("?", [f"YAML: {err}"])]
    results = []
    for doc in documents:
        if not isinstance(doc, Mapping):
            results.append(ValidationResult("?", [f"YAML document is a {type(doc).__name__}, not a mapping"]))
            continue
        results.append(validate_manifest(doc, kubernetes_version=kubernetes_version))
    return results


def parse_model(manifest: Mapping[str, Any]) -> V1NetworkPolicy:
    """Parse a manifest into the kubernetes client model, as the client does with API replies
    (`ApiClient.deserialize` ends in `from_dict`; called directly it skips a JSON round trip).

    Raises ValueError when the client's own field checks refuse it.
    """
    model = V1NetworkPolicy.from_dict(json.loads(json.dumps(manifest)))
    if not isinstance(model, V1NetworkPolicy):
        raise ValueError(f"client returned {type(model).__name__}, not V1NetworkPolicy")
    return model


def _schema_errors(data: dict[str, Any], version: str) -> list[str]:
    try:
        schema = load_schema(version)
    except kubernetes_validate.VersionNotSupportedError as err:
        return [f"schema: {err.message}"]
    for path, message in schema_errors(data, schema):
        return [f"schema: {'.'.join(str(part) for part in path) or '(root)'}: {message}"]
    return []


def _field_errors(data: Mapping[str, Any]) -> Iterator[str]:
    metadata = data.get("metadata") or {}
    name = metadata.get("name")
    if not isinstance(name, str) or len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name):
        yield f"metadata.name: {name!r} is not a DNS-1123 subdomain"
    namespace = metadata.get("namespace")
    if namespace is not None and (len(namespace) > 63 or not re.fullmatch(_DNS_LABEL, namespace)):
        yield f"metadata.namespace: {namespace!r} is not a DNS-1123 label"
    yield from _label_errors("metadata.labels", metadata.get("labels") or {})
    spec = data.get("spec") or {}
    yield from _selector_errors("spec.podSelector", spec.get("podSelector"))
    for index, kind in enumerate(spec.get("policyTypes") or []):
        if kind not in ("Ingress", "Egress"):
            yield f"spec.policyTypes[{index}]: {kind!r} is not Ingress or Egress"
    for direction, peers_field in (("ingress", "from"), ("egress", "to")):
        for index, rule in enumerate(spec.get(direction) or []):
            where = f"spec.{direction}[{index}]"
            for p_index, port in enumerate((rule or {}).get("ports") or []):
                yield from _port_errors(f"{where}.ports[{p_index}]", port)
            for p_index, peer in enumerate((rule or {}).get(peers_field) or []):
                yield from _peer_errors(f"{where}.{peers_field}[{p_index}]", peer)


def _port_errors(where: str, entry: Mapping[str, Any]) -> Iterator[str]:
    protocol = entry.get("protocol", "TCP")
    if protocol not in NP_PROTOCOLS:
        yield f"{where}.protocol: {protocol!r} is not one of {', '.join(NP_PROTOCOLS)}"
    port, end = entry.get("port"), entry.get("endPort")
    if isinstance(port, int) and not 1 <= port <= MAX_PORT:
        yield f"{where}.port: {port} is outside 1-{MAX_PORT}"
    if isinstance(port, str) and (len(port) > 15 or not _PORT_NAME.fullmatch(port) or port.isdigit()):
        yield f"{where}.port: {port!r} is not a valid port name"
    if end is not None and not isinstance(port, int):
        yield f"{where}.endPort: needs a numeric port"
    elif end is not None and isinstance(port, int) and not port <= end <= MAX_PORT:
        yield f"{where}.endPort: {end} must be between port {port} and {MAX_PORT}"


def _peer_errors(where: str, peer: Mapping[str, Any]) -> Iterator[str]:
    block = peer.get("ipBlock")
    selectors = [key for key in ("podSelector", "namespaceSelector") if peer.get(key) is not None]
    if block is None and not selectors:
        yield f"{where}: needs podSelector, namespaceSelector or ipBlock"
    if block is not None and selectors:
        yield f"{where}: ipBlock cannot be combined with {' or '.join(selectors)}"
    for key in selectors:
        yield from _selector_errors(f"{where}.{key}", peer[key])
    if block is not None:
        yield from _ip_block_errors(f"{where}.ipBlock", block)


def _ip_block_errors(where: str, block: Mapping[str, Any]) -> Iterator[str]:
    try:
        cidr = ipaddress.ip_network(str(block.get("cidr")), strict=False)
    except ValueError as err:
        yield f"{where}.cidr: {err}"
        return
    for index, text in enumerate(block.get("except") or []):
        try:
            excluded = ipaddress.ip_network(str(text), strict=False)
        except ValueError as err:
            yield f"{where}.except[{index}]: {err}"
            continue
        if excluded.version != cidr.version or not excluded.subnet_of(cidr) or excluded == cidr:  # type: ignore[arg-type]
            yield f"{where}.except[{index}]: {text} is not a strict subset of {cidr}"


def _selector_errors(where: str, selector: Mapping[str, Any] | None) -> Iterator[str]:
    if not selector:
        return
    yield from _label_errors(f"{where}.matchLabels", selector.get("matchLabels") or {})
    for index, expr in enumerate(selector.get("matchExpressions") or []):
        here = f"{where}.matchExpressions[{index}]"
        operator, values = expr.get("operator"), expr.get("values") or []
        if operator not in _OPERATORS:
            yield f"{here}.operator: {operator!r} is not In, NotIn, Exists or DoesNotExist"
        elif operator in ("In", "NotIn") and not values:
            yield f"{here}.values: {operator} needs at least one value"
        elif operator in ("Exists", "DoesNotExist") and values:
            yield f"{here}.values: {operator} takes no values"
        yield from _label_errors(here, {expr.get("key", ""): ""})


def _label_errors(where: str, labels: Mapping[str, Any]) -> Iterator[str]:
    for key, value in labels.items():
        prefix, _, name = str(key).rpartition("/")
        if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
            yield f"{where}: key {key!r} has an invalid prefix"
        if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
            yield f"{where}: key {key!r} is not a valid label name"
        text = "" if value is None else str(value)
        if len(text) > 63 or (text and not _LABEL_NAME.fullmatch(text)):
            yield f"{where}: value {text!r} of {key!r} is not a valid label value"
