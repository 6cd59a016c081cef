"""Offline validation: schema, API-server field rules, and parsing into client models."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes.client import V1NetworkPolicy
from policy_builders import RECIPES, recipe

from jobs.engines.policy.validate import parse_model, validate_manifest, validate_yaml


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_recipe_is_valid(path: Path) -> None:
    (result,) = validate_yaml(path.read_text())
    assert result.errors == []
    assert isinstance(result.model, V1NetworkPolicy)


def test_there_are_fifteen_recipes() -> None:
    assert len(list(RECIPES.glob("*.yaml"))) == 15


def with_change(change: Callable[[dict], object]) -> dict:
    manifest = copy.deepcopy(recipe("09-"))
    change(manifest)
    return manifest


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["spec"]["ingress"][0].update(bogus=1), "schema: spec.ingress.0: Additional properties"),
        (
            lambda m: m["spec"]["ingress"][0]["ports"][0].update(endPort="x"),
            "schema: spec.ingress.0.ports.0.endPort",
        ),
        (
            lambda m: m["metadata"].update(name="Bad_Name"),
            "metadata.name: 'Bad_Name' is not a DNS-1123 subdomain",
        ),
        (
            lambda m: m["spec"]["ingress"][0]["ports"][0].update(port=70000),
            "spec.ingress[0].ports[0].port: 70000",
        ),
        (
            lambda m: m["spec"]["ingress"][0]["ports"][0].update(protocol="ICMP"),
            "'ICMP' is not one of TCP, UDP, SCTP",
        ),
        (lambda m: m["spec"]["ingress"][0]["ports"][0].update(endPort=4000), "endPort: 4000 must be between"),
        (
            lambda m: m["spec"].update(policyTypes=["Both"]),
            "spec.policyTypes[0]: 'Both' is not Ingress or Egress",
        ),
        (
            lambda m: m["spec"]["ingress"][0]["from"].append({"ipBlock": {"cidr": "10.0.0.0/33"}}),
            "spec.ingress[0].from[1].ipBlock.cidr",
        ),
        (
            lambda m: m["spec"]["ingress"][0]["from"].append(
                {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/8"]}}
            ),
            "is not a strict subset of 10.0.0.0/8",
        ),
        (
            lambda m: m["spec"]["ingress"][0]["from"][0].update(ipBlock={"cidr": "10.0.0.0/8"}),
            "ipBlock cannot be combined with podSelector",
        ),
        (
            lambda m: m["spec"]["ingress"][0]["from"].append({}),
            "needs podSelector, namespaceSelector or ipBlock",
        ),
        (
            lambda m: m["spec"]["podSelector"].update(
                matchExpressions=[{"key": "a", "operator": "In", "values": []}]
            ),
            "In needs at least one value",
        ),
        (lambda m: m["spec"]["podSelector"]["matchLabels"].update(app="-bad-"), "value '-bad-' of 'app'"),
    ],
)
def test_invalid_manifests_get_clear_messages(change: Callable[[dict], object], message: str) -> None:
    result = validate_manifest(with_change(change))
    assert not result.ok
    assert result.model is None
    assert any(message in error for error in result.errors), result.errors


def test_wrong_kind_and_broken_yaml() -> None:
    assert validate_manifest({"apiVersion": "v1", "kind": "Pod"}).errors == [
        "not a networking.k8s.io/v1 NetworkPolicy: v1/Pod"
    ]
    (broken,) = validate_yaml("kind: [unclosed")
    assert broken.errors[0].startswith("YAML: ")
    (scalar,) = validate_yaml("just text")
    assert scalar.errors == ["YAML document is a str, not a mapping"]


def test_named_ports_are_valid_kubernetes() -> None:
    manifest = with_change(lambda m: m["spec"]["ingress"][0]["ports"][0].update(port="http"))
    assert validate_manifest(manifest).ok


def test_client_model_refuses_what_its_fields_forbid() -> None:
    manifest = recipe("09-")
    manifest["spec"]["ingress"][0]["from"] = [{"ipBlock": {}}]
    with pytest.raises(ValueError, match="cidr"):
        parse_model(manifest)
