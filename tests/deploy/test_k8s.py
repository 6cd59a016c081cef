"""The Kustomize base in deploy/k8s: rendered the way `kubectl apply -k` renders it (the base uses only
resources, namespace, labels and images, which the render below applies), then every manifest validated
against the Kubernetes schemas kubernetes-validate bundles (strict: an unknown field fails), and the shape the
deployment needs checked: probes, the migration Job, the Secret, requests, the queue HPA, NetworkPolicies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import ValidationError

import jobs.worker
from models.settings import Settings
from tests.conftest import ROOT

BASE = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"
UNDERSTOOD = {"apiVersion", "kind", "namespace", "labels", "images", "resources"}
CLUSTER_SCOPED = {"Namespace"}


def _pod_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if doc["kind"] in {"Deployment", "Job"}:
        return [doc["spec"]["template"]["spec"]]
    return []


def render(base: Path) -> list[dict[str, Any]]:
    """The manifests `kubectl kustomize base` prints for this base."""
    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
    assert set(kustomization) <= UNDERSTOOD, f"the render here does not apply {set(kustomization) - UNDERSTOOD}"
    images = {i["name"]: f"{i.get('newName', i['name'])}:{i['newTag']}" for i in kustomization.get("images", [])}
    common = {k: v for entry in kustomization.get("labels", []) for k, v in entry["pairs"].items()}
    docs = []
    for resource in kustomization["resources"]:
        for doc in yaml.safe_load_all((base / resource).read_text()):
            if doc is None:
                continue
            meta = doc.setdefault("metadata", {})
            if doc["kind"] not in CLUSTER_SCOPED and "namespace" in kustomization:
                meta["namespace"] = kustomization["namespace"]
            meta.setdefault("labels", {}).update(common)
            for pod in _pod_specs(doc):
                for container in pod["containers"]:
                    container["image"] = images.get(container["image"], container["image"])
            docs.append(doc)
    return docs


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    return render(BASE)


def _one(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in manifests if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def test_every_rendered_manifest_validates_strictly(manifests: list[dict[str, Any]]) -> None:
    assert len(manifests) >= 12
    for doc in manifests:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_broken_manifest(manifests: list[dict[str, Any]]) -> None:
    web = _one(manifests, "Deployment", "secureguard-web")
    broken = yaml.safe_load(yaml.safe_dump(web))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_web_is_replicated_and_probed_on_health(manifests: list[dict[str, Any]]) -> None:
    web = _one(manifests, "Deployment", "secureguard-web")
    assert web["spec"]["replicas"] >= 2
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:3] == ["python", "-m", "dashboard.serve"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/api/v1/health"
    assert container["image"] == "registry.example.com/secureguard:0.1.0"


def test_a_worker_deployment_per_queue_with_a_worker_class_that_exists(manifests: list[dict[str, Any]]) -> None:
    workers = [d for d in manifests if d["kind"] == "Deployment"
               and d["metadata"]["labels"].get("app.kubernetes.io/component") == "worker"]
    assert {w["metadata"]["labels"]["secureguard.io/queue"] for w in workers} == {"interactive", "bulk"}
    queues = set()
    for worker in workers:
        container = worker["spec"]["template"]["spec"]["containers"][0]
        assert container["command"][0] == "arq"
        settings_class = getattr(jobs.worker, container["command"][1].removeprefix("jobs.worker."))
        queues.add(settings_class.queue_name)
        for probe in ("readinessProbe", "livenessProbe"):
            assert container[probe]["exec"]["command"] == ["arq", "--check", container["command"][1]]
    assert queues == {"sg:interactive", "sg:bulk"}


def test_every_container_requests_resources_and_runs_unprivileged(manifests: list[dict[str, Any]]) -> None:
    pods = [pod for doc in manifests for pod in _pod_specs(doc)]
    assert len(pods) == 4  # web, two workers, migrations
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        for container in pod["containers"]:
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
            assert refs == {"secureguard-config", "secureguard-secrets"}


def test_migrations_run_as_a_job(manifests: list[dict[str, Any]]) -> None:
    job = _one(manifests, "Job", "secureguard-migrate")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["sg", "db", "upgrade"]


def test_the_committed_secret_is_a_placeholder_production_refuses(manifests: list[dict[str, Any]]) -> None:
    secret = _one(manifests, "Secret", "secureguard-secrets")
    config = _one(manifests, "ConfigMap", "secureguard-config")
    assert "SG_SECRET_KEY" in secret["stringData"]
    env = {k.removeprefix("SG_").lower(): v for k, v in {**config["data"], **secret["stringData"]}.items()}
    with pytest.raises(ValidationError, match="SG_SECRET_KEY must be set"):
        Settings.model_validate(env)
    # With a real key, the same settings start (every name is a setting; no value is refused).
    assert Settings.model_validate({**env, "secret_key": "k" * 48}).env == "production"


def test_bulk_workers_scale_on_the_queue_depth(manifests: list[dict[str, Any]]) -> None:
    hpa = _one(manifests, "HorizontalPodAutoscaler", "secureguard-worker-bulk")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "secureguard-worker-bulk"
    _one(manifests, "Deployment", "secureguard-worker-bulk")
    metric = hpa["spec"]["metrics"][0]["external"]["metric"]
    assert metric["name"] == "sg_queue_depth"
    assert metric["selector"]["matchLabels"] == {"queue": "bulk"}


def test_network_policies_deny_by_default_and_open_only_the_web_port(manifests: list[dict[str, Any]]) -> None:
    policies = {d["metadata"]["name"]: d for d in manifests if d["kind"] == "NetworkPolicy"}
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    ingress_rules = [(name, p["spec"]) for name, p in policies.items() if p["spec"].get("ingress")]
    assert [name for name, _ in ingress_rules] == ["web-ingress"]
    spec = ingress_rules[0][1]
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "web"
    assert [p["port"] for rule in spec["ingress"] for p in rule["ports"]] == [8000]
