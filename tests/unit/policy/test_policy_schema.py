"""The fast schema checker agrees with kubernetes_validate on valid and broken manifests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
import yaml
from policy_builders import RECIPES, bookinfo_edges, bookinfo_nodes, recipe

from jobs.engines.policy.generate import generate_policies
from jobs.engines.policy.schema import SchemaError, _inline, load_schema, schema_errors

VERSION = "1.30"


def reference_error(manifest: dict[str, Any]) -> tuple[str, ...] | None:
    """The path kubernetes_validate reports, or None when it accepts the manifest."""
    try:
        kubernetes_validate.validate(manifest, VERSION, strict=True)
    except kubernetes_validate.ValidationError as err:
        return tuple(str(part) for part in err.path)
    return None


def our_errors(manifest: dict[str, Any]) -> list[tuple[str, ...]]:
    return [tuple(str(part) for part in path) for path, _ in schema_errors(manifest, load_schema(VERSION))]


def test_every_recipe_and_generated_policy_passes_both() -> None:
    manifests = [yaml.safe_load(path.read_text()) for path in sorted(RECIPES.glob("*.yaml"))]
    manifests += generate_policies([(bookinfo_nodes(), bookinfo_edges())]).manifests()
    for manifest in manifests:
        assert reference_error(manifest) is None
        assert our_errors(manifest) == []


BREAKS: list[Callable[[dict[str, Any]], object]] = [
    lambda m: m["spec"]["ingress"][0].update(bogus=1),
    lambda m: m["spec"]["ingress"][0]["ports"][0].update(endPort="x"),
    lambda m: m["spec"]["ingress"][0]["ports"][0].update(port=1.5),
    lambda m: m["spec"]["ingress"][0]["ports"][0].update(port=True),
    lambda m: m["spec"]["ingress"][0]["ports"][0].update(port=None),
    lambda m: m["spec"].update(podSelector="app=web"),
    lambda m: m["spec"]["podSelector"].update(matchExpressions=[{"operator": "In"}]),
    lambda m: m["spec"]["podSelector"].update(matchLabels={"app": 3}),
    lambda m: m["spec"]["ingress"][0]["from"].append({"ipBlock": {}}),
    lambda m: m["spec"].update(ingress={"from": []}),
    lambda m: m["metadata"].update(labels=["a"]),
    lambda m: m.update(status={"conditions": "x"}),
    lambda m: m.update(extra=1),
    lambda m: m["spec"].pop("podSelector"),
]


@pytest.mark.parametrize("index", range(len(BREAKS)))
def test_broken_manifests_fail_both_at_the_same_place(index: int) -> None:
    manifest = copy.deepcopy(recipe("09-"))
    BREAKS[index](manifest)
    expected = reference_error(manifest)
    found = our_errors(manifest)
    assert expected is not None and found, (expected, found)
    assert expected in found


def test_a_keyword_the_checker_does_not_know_is_refused() -> None:
    with pytest.raises(SchemaError, match="minItems"):
        _inline({"type": "array", "minItems": 1}, {})
