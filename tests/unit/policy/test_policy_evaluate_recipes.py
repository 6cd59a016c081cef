"""The evaluator on the upstream NetworkPolicy recipes, with hand-made workloads."""

from __future__ import annotations

import pytest
from policy_builders import (
    API,
    BOOKSTORE_WEB,
    DEV_MONITOR,
    FOO,
    FOREIGN_BOOKSTORE,
    KUBE_DNS,
    OPS_MONITOR,
    OPS_OTHER,
    OTHER,
    OUTSIDE,
    WEB,
    pod,
    policy_set,
    recipe,
)

from jobs.engines.policy.evaluate import PolicySet


def test_without_policies_everything_is_allowed() -> None:
    pset = policy_set()
    assert pset.allows(OUTSIDE, WEB, 80)
    assert pset.allows(WEB, OUTSIDE, 443)


def test_deny_all_denies_every_source_but_only_to_the_selected_pod() -> None:
    pset = policy_set(recipe("01-"))
    for src in (OTHER, API, FOREIGN_BOOKSTORE, OUTSIDE):
        assert not pset.allows(src, WEB, 80)
    assert pset.allows(OTHER, API, 80)
    assert pset.allows(WEB, OTHER, 80), "ingress-only policy must not isolate egress"


def test_api_allow_admits_only_bookstore_pods_of_its_namespace() -> None:
    pset = policy_set(recipe("02-"))
    assert pset.allows(BOOKSTORE_WEB, API, 8080)
    assert not pset.allows(OTHER, API, 8080)
    assert not pset.allows(FOREIGN_BOOKSTORE, API, 8080), "podSelector alone means the policy's namespace"
    assert not pset.allows(OUTSIDE, API, 8080)


@pytest.mark.parametrize("prefix", ["02a-", "08-"])
def test_allow_all_and_allow_external_admit_everyone(prefix: str) -> None:
    pset = policy_set(recipe("01-"), recipe(prefix))
    for src in (OTHER, FOREIGN_BOOKSTORE, OUTSIDE):
        assert pset.allows(src, WEB, 80), "an empty rule admits all, and allow rules add up over deny-all"


def test_default_deny_all_isolates_the_namespace_only() -> None:
    pset = policy_set(recipe("03-"))
    assert not pset.allows(OTHER, WEB, 80)
    assert not pset.allows(OUTSIDE, API, 80)
    assert pset.allows(WEB, OPS_MONITOR, 80)


def test_deny_from_other_namespaces() -> None:
    pset = policy_set(recipe("04-"))
    assert pset.allows(OTHER, WEB, 80)
    assert not pset.allows(FOREIGN_BOOKSTORE, WEB, 80)
    assert not pset.allows(OUTSIDE, WEB, 80)


def test_allow_from_all_namespaces_means_pods_only() -> None:
    pset = policy_set(recipe("05-"))
    assert pset.allows(FOREIGN_BOOKSTORE, WEB, 80)
    assert pset.allows(OTHER, WEB, 80)
    assert not pset.allows(OUTSIDE, WEB, 80)


def test_allow_from_a_labelled_namespace() -> None:
    pset = policy_set(recipe("06-"), ops={"purpose": "production"})
    assert pset.allows(OPS_OTHER, WEB, 80)
    assert not pset.allows(DEV_MONITOR, WEB, 80)
    assert not pset.allows(OTHER, WEB, 80), "the policy's own namespace is not labelled production"


def test_recipe_07_combines_namespace_and_pod_selector_with_and() -> None:
    pset = policy_set(recipe("07-"), ops={"team": "operations"})
    assert pset.allows(OPS_MONITOR, WEB, 80)
    assert not pset.allows(OPS_OTHER, WEB, 80), "right namespace, wrong pod"
    assert not pset.allows(DEV_MONITOR, WEB, 80), "right pod, wrong namespace"


def test_two_peers_instead_of_one_is_or() -> None:
    policy = recipe("07-")
    peer = policy["spec"]["ingress"][0]["from"][0]
    policy["spec"]["ingress"][0]["from"] = [
        {"namespaceSelector": peer["namespaceSelector"]},
        {"podSelector": peer["podSelector"]},
    ]
    pset = policy_set(policy, ops={"team": "operations"})
    assert pset.allows(OPS_OTHER, WEB, 80)
    assert not pset.allows(DEV_MONITOR, WEB, 80), "a lone podSelector is still the policy's namespace"


def test_port_rule_with_default_protocol_tcp() -> None:
    apiserver = pod("default", "apiserver", app="apiserver")
    monitor = pod("default", "mon", role="monitoring")
    pset = PolicySet([recipe("09-")], [apiserver, monitor, OTHER])
    assert pset.allows(monitor, apiserver, 5000)
    assert pset.allows(monitor, apiserver, 5000, "tcp")
    assert not pset.allows(monitor, apiserver, 5000, "UDP")
    assert not pset.allows(monitor, apiserver, 5001)
    assert not pset.allows(monitor, apiserver, None), "an unknown port is not port 5000"
    assert not pset.allows(OTHER, apiserver, 5000)


def test_multiple_selectors_are_alternatives() -> None:
    db = pod("default", "db", app="bookstore", role="db")
    search = pod("default", "search", app="bookstore", role="search")
    inventory = pod("default", "inv", app="inventory", role="web")
    pset = PolicySet([recipe("10-")], [db, search, inventory, API, BOOKSTORE_WEB])
    assert pset.allows(search, db, 6379)
    assert pset.allows(API, db, 6379)
    assert pset.allows(inventory, db, 6379)
    assert not pset.allows(BOOKSTORE_WEB, db, 6379)


def test_deny_egress_blocks_everything_out_but_nothing_in() -> None:
    pset = policy_set(recipe("11-deny-egress-traffic-from-an-application.1"))
    assert not pset.allows(FOO, KUBE_DNS, 53, "UDP")
    assert not pset.allows(FOO, OUTSIDE, 443)
    assert pset.allows(OTHER, FOO, 80)


def test_deny_egress_except_dns() -> None:
    pset = policy_set(recipe("11-deny-egress-traffic-from-an-application.2"))
    assert pset.allows(FOO, KUBE_DNS, 53, "UDP")
    assert pset.allows(FOO, KUBE_DNS, 53, "TCP")
    assert not pset.allows(FOO, KUBE_DNS, 80)
    assert not pset.allows(FOO, pod("default", "dns", **{"k8s-app": "kube-dns"}), 53, "UDP")
    assert pset.allows(WEB, OUTSIDE, 443), "foo's policy does not isolate web"


def test_default_deny_egress_in_namespace() -> None:
    pset = policy_set(recipe("12-"))
    assert not pset.allows(WEB, OTHER, 80)
    assert not pset.allows(API, OUTSIDE, 443)
    assert pset.allows(OUTSIDE, WEB, 80)
    assert pset.allows(OPS_MONITOR, OUTSIDE, 80)


def test_deny_external_egress() -> None:
    pset = policy_set(recipe("14-"))
    assert not pset.allows(FOO, OUTSIDE, 443)
    assert not pset.allows(FOO, WEB, 80)
    assert pset.allows(FOO, KUBE_DNS, 53, "UDP")
