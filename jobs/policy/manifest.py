"""Building blocks of generated manifests: names, peers, ports, provenance text and YAML."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import yaml

from jobs.policy.labels import NAMESPACE_NAME_LABEL
from jobs.policy.union import IPAddress
from jobs.snapshot.types import EdgeRecord

API_VERSION = "networking.k8s.io/v1"
KIND = "NetworkPolicy"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGER = "secureguard"
ANNOTATION_WORKLOAD = "secureguard.io/workload"
ANNOTATION_SOURCE = "secureguard.io/generated-from"
ANNOTATION_RULES = "secureguard.io/rules"
NAME_PREFIX = "sg-"
MAX_NAME = 63  # a DNS label, so the name also fits where label values are required
PortEntry = dict[str, Any]


def policy_name(workload_name: str, workload_key: str, taken: set[str]) -> str:
    """Return a readable DNS-1123 name such as `sg-reviews-v1`, unique within `taken`.

    A clash (two workloads whose names sanitise alike) gets a short hash of the workload key.
    """
    base = re.sub(r"[^a-z0-9-]+", "-", workload_name.lower()).strip("-") or "workload"
    name = (NAME_PREFIX + base)[:MAX_NAME].rstrip("-")
    if name in taken:
        digest = hashlib.sha256(workload_key.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9].rstrip('-')}-{digest}"
    taken.add(name)
    return name


def workload_peer(namespace: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """Return one peer selecting pods by labels in one namespace (both selectors AND)."""
    return {
        "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}},
        "podSelector": {"matchLabels": dict(sorted(labels.items()))},
    }


def ip_peer(ip: IPAddress) -> dict[str, Any]:
    """Return an ipBlock peer for exactly one address (/32 or /128)."""
    return {"ipBlock": {"cidr": f"{ip}/{ip.max_prefixlen}"}}


def port_entries(ports: Iterable[tuple[int | None, str]]) -> list[PortEntry]:
    """Return sorted NetworkPolicyPorts; a None port means every port of that protocol, which
    makes single ports of the same protocol redundant."""
    wanted = set(ports)
    whole = {protocol for port, protocol in wanted if port is None}
    kept = sorted(
        ((port, protocol) for port, protocol in wanted if port is None or protocol not in whole),
        key=lambda item: (item[1], item[0] or 0),
    )
    return [
        {"protocol": protocol} if port is None else {"port": port, "protocol": protocol}
        for port, protocol in kept
    ]


def describe_ports(entries: Sequence[PortEntry]) -> str:
    """Return ports as `9080/TCP 53/UDP` (`any/TCP` for a whole protocol)."""
    return " ".join(f"{entry.get('port', 'any')}/{entry['protocol']}" for entry in entries)


def describe_traffic(edges: Sequence[EdgeRecord]) -> str:
    """Return what edges add up to: flows, bytes and the time span."""
    if not edges:
        return "not observed"
    flows = sum(edge.flows for edge in edges)
    sent = sum(edge.bytes for edge in edges)
    span = f"{_iso(min(e.first_seen for e in edges))}..{_iso(max(e.last_seen for e in edges))}"
    return f"{len(edges)} edge(s), {flows} flow(s), {sent} byte(s), {span}"


def describe_source(snapshot_ids: Sequence[str | int], edges: Sequence[EdgeRecord]) -> str:
    """Return the provenance annotation: which snapshots, which window, how much traffic."""
    ids = ", ".join(str(item) for item in snapshot_ids) or "unnamed"
    return f"snapshots {ids}; {describe_traffic(edges)}"


def build_manifest(
    *,
    name: str,
    namespace: str,
    selector: Mapping[str, str],
    ingress: list[dict[str, Any]],
    egress: list[dict[str, Any]],
    annotations: Mapping[str, str],
) -> dict[str, Any]:
    """Return a NetworkPolicy manifest isolating the selected pods in both directions."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {MANAGED_BY_LABEL: MANAGER},
            "annotations": dict(sorted(annotations.items())),
        },
        "spec": {
            "podSelector": {"matchLabels": dict(sorted(selector.items()))},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def _str_representer(dumper: Any, data: str) -> Any:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


# a SafeDumper of our own, so multi-line annotations become literal blocks without touching yaml's
_Dumper: Any = type("_Dumper", (yaml.SafeDumper,), {})
_Dumper.add_representer(str, _str_representer)


def dump_yaml(manifest: Mapping[str, Any]) -> str:
    """Return the manifest as YAML with key order kept and no line folding: same input, same text."""
    text: str = yaml.dump(
        dict(manifest), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=10_000
    )
    return text


def _iso(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
