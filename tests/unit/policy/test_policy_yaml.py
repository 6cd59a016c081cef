"""dump_yaml's own layout writes exactly what the YAML emitter writes, and reads back unchanged."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from policy_builders import bookinfo_edges, bookinfo_nodes, edge, ip

from jobs.engines.policy import manifest as mf
from jobs.engines.policy.generate import generate_policies


def emitter(value: dict[str, Any]) -> str:
    """The reference: the whole document through the YAML emitter."""
    text: str = yaml.serialize(mf._node(value), Dumper=mf._Dumper, width=10_000)
    return text


def test_generated_policies_match_the_emitter() -> None:
    nodes = [*bookinfo_nodes(prefixed=True), ip("2001:db8::7")]
    edges = [*bookinfo_edges(), edge("2001:db8::7", "bookinfo/details-v1", 9080), edge("bookinfo/details-v1",
                                                                                          "2001:db8::7", None, "UDP")]
    for snapshot in ([(bookinfo_nodes(), bookinfo_edges())], [(nodes, edges)]):
        for policy in generate_policies(snapshot, snapshot_ids=[3, 4]).policies:
            assert policy.yaml == emitter(policy.manifest)
            assert yaml.safe_load(policy.yaml) == policy.manifest


@pytest.mark.parametrize("value", [
    {"a": [{"b": 1, "c": [{"d": 2}], "e": {}}], "f": [], "h": "", "true": "9080", "t": True, "n": "null"},
    {"i": ["x", {"k": "v"}, "\u00e9", "- dash", "a: b", "#hash", "k8s:app=x", "10.0.0.0/8", "' quote"]},
    {"g": "x\n\n y\n", "k": "lead\n", "m": "no end\nbreak"},
    {"deep": {"er": {"est": [{"x": [{"y": "z"}]}]}}},
    {"fallback": [[1, 2]], "keep": "two\n\n", "space": " lead\nx"},
    {"long key " * 20: 1},
])
def test_tricky_values_match_the_emitter(value: dict[str, Any]) -> None:
    assert mf.dump_yaml(value) == emitter(value)
    assert yaml.safe_load(mf.dump_yaml(value)) == value
