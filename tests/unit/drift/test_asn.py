"""A new outside peer in an ASN new for the host weighs more than one in an ASN the host already reaches, and the
event names the peer's owner (ASN, organisation, country) from the stored enrichment."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from jobs.engines.drift import DriftEventRecord, analyze, build_baseline
from jobs.engines.drift.asn import owner_text
from jobs.engines.enrich import Enrichment

from .builders import NOW, edge, nodes_of, snapshot

A, B, SERVER = "10.0.0.5", "10.0.0.6", "10.0.0.9"
KNOWN_DO, KNOWN_GOOGLE, NEW_DO_1, NEW_DO_2 = "64.225.1.1", "142.250.1.1", "164.90.1.1", "164.90.2.2"
OUTSIDE = [KNOWN_DO, KNOWN_GOOGLE, NEW_DO_1, NEW_DO_2]
DO: Enrichment = (14061, "DigitalOcean", "NL")
OWNERS: dict[str, Enrichment] = {KNOWN_DO: DO, KNOWN_GOOGLE: (15169, "Google", "US"), NEW_DO_1: DO, NEW_DO_2: DO}
# A already reaches DigitalOcean, B only Google; both meet a new DigitalOcean address in the same way
PAST = [edge(A, KNOWN_DO, 443), edge(B, KNOWN_GOOGLE, 443), edge(A, SERVER, 80), edge(B, SERVER, 80)]
NOW_EDGES = [*PAST, edge(A, NEW_DO_1, 443), edge(B, NEW_DO_2, 443)]


class Store:
    """What the job passes: the tenant's stored enrichment, asked once per window."""

    def __init__(self, owners: Mapping[str, Enrichment]) -> None:
        self.owners, self.asked = owners, []  # type: list[set[str]]

    def __call__(self, addresses: Collection[str]) -> dict[str, Enrichment]:
        self.asked.append(set(addresses))
        return {a: self.owners[a] for a in addresses if a in self.owners}


def run(enrich: Store | None) -> dict[str, DriftEventRecord]:
    past = [snapshot(i, nodes_of(PAST, external=OUTSIDE), PAST) for i in range(4)]
    current = snapshot(4, nodes_of(NOW_EDGES, external=OUTSIDE), NOW_EDGES)
    events = analyze(current, past[-1], build_baseline(past), now=NOW, enrich=enrich)
    assert {e.kind for e in events} == {"new_external"}
    return {e.src: e for e in events}


def test_a_new_asn_for_the_host_outranks_a_new_address_in_a_known_asn() -> None:
    plain = run(None)
    assert plain[A].risk == plain[B].risk  # without enrichment the two are alike
    store = Store(OWNERS)
    events = run(store)
    assert events[B].risk > plain[B].risk == plain[A].risk > events[A].risk
    assert "first contact with AS14061 DigitalOcean (NL) for 10.0.0.6" in events[B].explanation
    assert "10.0.0.5 already reaches 1 peer in AS14061 DigitalOcean (NL)" in events[A].explanation
    assert events[B].evidence["asn_known_peers"] == 0 and events[A].evidence["asn_known_peers"] == 1
    assert events[A].evidence["peer_asn"] == 14061 and events[A].evidence["peer_country"] == "NL"
    # one lookup, for the new peers and the hosts' known outside counterparts only
    assert store.asked == [{NEW_DO_1, NEW_DO_2, KNOWN_DO, KNOWN_GOOGLE}]


def test_a_peer_the_store_does_not_know_scores_as_without_enrichment() -> None:
    plain = run(None)
    events = run(Store({KNOWN_DO: DO}))
    assert events[A].risk == plain[A].risk and events[B].risk == plain[B].risk
    assert "AS14061" not in events[A].explanation and "peer_asn" not in events[A].evidence


def test_owner_text_leaves_out_what_is_unknown() -> None:
    assert owner_text(14061, "DigitalOcean", "NL") == "AS14061 DigitalOcean (NL)"
    assert owner_text(None, None, "NL") == "NL"
    assert owner_text(13335, None, None) == "AS13335"
    assert owner_text(None, None, None) == ""


def test_the_incident_folded_from_the_event_names_the_owner() -> None:
    from jobs.engines.detect.drift_findings import findings_of_drift
    from jobs.engines.detect.home import HomeNetworks
    from jobs.engines.detect.incidents import group_incidents

    events = run(Store(OWNERS))
    home = HomeNetworks.of(["10.0.0.0/8"])
    [finding] = findings_of_drift([events[B].to_dict()], home=home, window_start=0.0, window_end=3600.0)
    assert finding.facts["outside_owner"] == "164.90.2.2: AS14061 DigitalOcean (NL)"
    [incident] = group_incidents([finding])
    assert incident.summary.endswith("; 164.90.2.2: AS14061 DigitalOcean (NL)")
