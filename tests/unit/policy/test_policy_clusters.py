"""Issue 19 A4: clusters as a dimension of nodes, the graph, policies and monitor mode.

The two-cluster fixture is two real Hubble captures (../shared/data/hubble): the 330-flow DNS one, whose pods
say `io.cilium.k8s.policy.cluster=default`, and the 400-flow UDP one relabelled from `kind-kind` to `east`
(rewritten into a temporary file). Both hold a `kube-system/kube-dns`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import yaml

from jobs.engines.flows import parse_file
from jobs.engines.flows.hubble_identity import endpoint_identity
from jobs.engines.graph.filters import GraphFilter, apply_filter, clusters
from jobs.engines.graph.model import Graph
from jobs.engines.policy.clusters import cluster_part, generate_per_cluster, snapshot_clusters
from jobs.engines.policy.generate import generate_policies
from jobs.engines.policy.monitor import evaluate_window
from jobs.engines.policy.preview import selected_keys
from jobs.engines.policy.union import Snapshot
from jobs.engines.snapshot.builder import build_snapshots
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord, key_cluster, node_key
from tests.conftest import SHARED_DATA

HUBBLE = SHARED_DATA / "hubble"
DNS = HUBBLE / "basic-sample-330-dns-flows.json"
UDP = HUBBLE / "basic-sample-400-udp-flows.json"
CLUSTER_LABEL = "io.cilium.k8s.policy.cluster="


def relabelled(path: Path, old: str, new: str, folder: Path) -> Path:
    """A copy of a Hubble capture whose pods name cluster `new` instead of `old`."""
    text = path.read_text()
    assert f"{CLUSTER_LABEL}{old}" in text
    out = folder / f"{new}-{path.name}"
    out.write_text(text.replace(f"{CLUSTER_LABEL}{old}\"", f"{CLUSTER_LABEL}{new}\""))
    return out


def windows(path: Path) -> list[Snapshot]:
    frame = parse_file(path, "hubble").frame
    return [(s.nodes, s.edges) for s in build_snapshots(frame, window_seconds=3600).values()]


@pytest.fixture(scope="module")
def two_clusters(tmp_path_factory: pytest.TempPathFactory) -> list[Snapshot]:
    east = relabelled(UDP, "kind-kind", "east", tmp_path_factory.mktemp("clusters"))
    return windows(DNS) + windows(east)


def test_hubble_flows_carry_their_cluster_and_a_label_less_pod_takes_its_peers() -> None:
    frame = parse_file(HUBBLE / "basic-sample-5-http-flows.json", "hubble").frame
    named = frame.filter(pl.col("dst_namespace").is_not_null())
    assert set(named["dst_cluster"]) == {"default"}
    # the two kube-system destinations of this file come without labels: the cluster is the peer's
    assert named.filter(pl.col("dst_namespace") == "kube-system").height == 2
    reserved = frame.filter(pl.col("src_namespace").is_null())
    assert reserved["src_cluster"].null_count() == reserved.height


def test_identity_reads_the_cluster_label_and_refuses_a_name_that_could_break_a_key() -> None:
    labels = ["k8s:app=web", "k8s:io.cilium.k8s.policy.cluster=east", "k8s:io.kubernetes.pod.namespace=shop"]
    assert endpoint_identity("shop", None, None, labels).cluster == "east"
    assert endpoint_identity("shop", None, None, labels).labels == '{"app":"web"}'
    bad = [*labels[:1], "k8s:io.cilium.k8s.policy.cluster=a/b"]
    assert endpoint_identity("shop", None, None, bad).cluster is None
    assert endpoint_identity(None, None, None, ["reserved:world"]).cluster is None


def test_node_keys_name_the_cluster_only_outside_default() -> None:
    assert node_key("kube-system", "kube-dns") == "kube-system/kube-dns"
    assert node_key("kube-system", "kube-dns", "default") == "kube-system/kube-dns"
    assert node_key("kube-system", "kube-dns", "east") == "east/kube-system/kube-dns"
    assert [key_cluster(k) for k in ("east/kube-system/kube-dns", "kube-system/kube-dns", "10.0.0.1", "fe80::1")] == [
        "east", "default", "default", "default"]


def test_two_clusters_give_two_distinct_dns_nodes(two_clusters: list[Snapshot]) -> None:
    dns = {n.key: n for nodes, _ in two_clusters for n in nodes if n.name == "kube-dns" and n.kind == "workload"}
    assert set(dns) == {"kube-system/kube-dns", "east/kube-system/kube-dns"}
    assert {n.cluster for n in dns.values()} == {"default", "east"}
    assert all(n.namespace == "kube-system" for n in dns.values())
    assert snapshot_clusters(two_clusters) == ["default", "east"]


def test_single_cluster_data_keeps_its_keys() -> None:
    keys = {n.key for nodes, _ in windows(DNS) for n in nodes if n.kind == "workload"}
    assert keys == {"kube-system/kube-dns", "kube-system/node-local-dns"}


def test_one_exact_policy_set_per_cluster(two_clusters: list[Snapshot]) -> None:
    sets = generate_per_cluster(two_clusters)
    assert set(sets) == {"default", "east"}
    everyone = [n for nodes, _ in two_clusters for n in nodes]
    for cluster, proven in sets.items():
        assert proven.policies, cluster
        assert proven.exact and not proven.invalid and proven.observed_not_allowed == 0, cluster
        assert all(p.verification["exact"] for p in proven.policies), cluster
        assert {key_cluster(p.workload) for p in proven.policies} == {cluster}
    # the DNS policies of the two clusters are apart: each selects its own cluster's pod only
    east_dns = next(p for p in sets["east"].policies if p.workload == "east/kube-system/kube-dns")
    default_dns = next(p for p in sets["default"].policies if p.workload == "kube-system/kube-dns")
    assert selected_keys(yaml.safe_load(east_dns.yaml), cluster_part_nodes(everyone, "east")) == {
        "east/kube-system/kube-dns"}
    assert selected_keys(yaml.safe_load(default_dns.yaml), cluster_part_nodes(everyone, "default")) == {
        "kube-system/kube-dns"}


def cluster_part_nodes(nodes: list[NodeRecord], cluster: str) -> list[NodeRecord]:
    [(seen, _)] = cluster_part([(nodes, [])], cluster)
    return list(seen)


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _edge(src: str, dst: str, port: int) -> EdgeRecord:
    return EdgeRecord(src, dst, port, "TCP", 100, 1, 1, 0, T0, T0)


def _pod(key: str, app: str, ip: str) -> NodeRecord:
    namespace, name = key.rsplit("/", 2)[-2:]
    return NodeRecord(key, name, "workload", namespace, {"app": app}, (ip,))


def test_a_peer_in_another_cluster_is_its_address_never_a_selector() -> None:
    web = _pod("shop/web", "web", "10.1.0.5")
    api = _pod("east/shop/api", "api", "10.2.0.9")
    look_alike = _pod("shop/api", "api", "10.1.0.9")
    snapshot: Snapshot = ([web, api, look_alike], [_edge("shop/web", "east/shop/api", 8080)])
    result = generate_policies(cluster_part([snapshot], "default"))
    web_policy = next(p for p in result.policies if p.workload == "shop/web")
    peers = [peer for rule in web_policy.manifest["spec"]["egress"][1:] for peer in rule["to"]]
    assert peers == [{"ipBlock": {"cidr": "10.2.0.9/32"}}]
    # the east pod gets its own policy in its own set, admitting web by address
    east = generate_policies(cluster_part([snapshot], "east"))
    assert [p.workload for p in east.policies] == ["east/shop/api"]
    assert east.policies[0].manifest["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "10.1.0.5/32"}}]


def test_monitor_checks_a_clusters_flows_against_its_policies_only() -> None:
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "sg-api", "namespace": "shop"},
              "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress"], "ingress": []}}
    nodes = [_pod("shop/web", "web", "10.1.0.5"), _pod("shop/api", "api", "10.1.0.9"),
             _pod("east/shop/web", "web", "10.2.0.5"), _pod("east/shop/api", "api", "10.2.0.9")]
    edges = [_edge("shop/web", "shop/api", 80), _edge("east/shop/web", "east/shop/api", 80)]
    here = evaluate_window([policy], nodes, edges, monitored=["shop"])
    assert [(v.src, v.dst) for v in here.violations] == [("shop/web", "shop/api")]
    there = evaluate_window([policy], nodes, edges, monitored=["shop"], cluster="east")
    assert [(v.src, v.dst) for v in there.violations] == [("east/shop/web", "east/shop/api")]
    assert evaluate_window([policy], nodes, edges, monitored=["shop"], cluster="west").evaluated == 0


def test_graph_filter_by_cluster(two_clusters: list[Snapshot]) -> None:
    nodes = {n.key: n for ns, _ in two_clusters for n in ns}
    graph = Graph(nodes=nodes, edges=tuple(e for _, es in two_clusters for e in es))
    assert clusters(graph) == ["default", "east"]
    east = apply_filter(graph, GraphFilter.parse({"cluster": "east"}))
    named = {k for k, n in east.nodes.items() if n.kind == "workload"}
    assert named and all(key_cluster(k) == "east" for k in named)
    assert "east/kube-system/kube-dns" in named


def test_the_canonical_format_carries_a_cluster_and_refuses_one_that_is_no_name() -> None:
    header = b"ts_start,src_ip,dst_ip,protocol,dst_port,src_name,src_namespace,src_cluster\n"
    rows = [b"2026-01-01T00:00:00Z,10.0.0.1,10.0.0.2,tcp,80,web,shop,east\n",
            b"2026-01-01T00:00:00Z,10.0.0.1,10.0.0.2,tcp,80,web,shop,a/b\n"]
    result = parse_file(header + b"".join(rows))
    assert result.frame["src_cluster"].to_list() == ["east"]
    assert [(e.line, e.reason) for e in result.errors] == [(3, "invalid src_cluster 'a/b'")]
    [window] = build_snapshots(result.frame, window_seconds=3600).values()
    assert {n.key for n in window.nodes} == {"east/shop/web", "10.0.0.2"}
