"""Enrichment at ingest: an upload's outside addresses get their ASN, organisation and country stored once, beside
its partials; private ones get no row; a re-ingested upload replaces its file; missing tables leave ingest whole
and say why once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from jobs.engines.flows import CANONICAL_SCHEMA
from jobs.stores import enrichment
from jobs.stores.enrichment import BatchEnricher, enrichment_of, read_enrichment
from jobs.stores.flows import UploadWriter, read_connections

T0 = datetime(2024, 4, 19, 10, 0, tzinfo=UTC)


# SG_DATA_DIR in each test's own folder (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("data_dir")


def flows(*pairs: tuple[str, str]) -> pl.DataFrame:
    base = {
        "ts_start": T0,
        "ts_end": T0 + timedelta(seconds=1),
        "src_port": 40000,
        "dst_port": 443,
        "protocol": "tcp",
        "bytes": 100,
        "packets": 1,
        "action": "accept",
        "answered": True,
        "orig_bytes": 40,
    }
    return pl.DataFrame([{**base, "src_ip": s, "dst_ip": d} for s, d in pairs], schema=CANONICAL_SCHEMA)


def ingest(tenant_id: int, upload_id: int, *batches: pl.DataFrame) -> UploadWriter:
    writer = UploadWriter(tenant_id=tenant_id, upload_id=upload_id, fmt="csv")
    for batch in batches:
        writer.add(batch)
    writer.commit()
    return writer


def test_outside_addresses_are_stored_with_their_asn_and_private_ones_are_not() -> None:
    ingest(1, 7, flows(("10.0.0.5", "8.8.8.8"), ("10.0.0.5", "1.1.1.1")), flows(("192.168.1.2", "8.8.8.8")))
    stored = read_enrichment(tenant_id=1)
    assert stored["address"].to_list() == ["1.1.1.1", "8.8.8.8"]
    found = enrichment_of(tenant_id=1, addresses=["8.8.8.8", "10.0.0.5", "9.9.9.9"])
    assert set(found) == {"8.8.8.8"}
    asn, org, country = found["8.8.8.8"]
    assert asn == 15169 and "google" in str(org).lower() and country == "US"


def test_tenants_do_not_see_each_others_addresses() -> None:
    ingest(1, 7, flows(("10.0.0.5", "8.8.8.8")))
    ingest(2, 8, flows(("10.0.0.5", "1.1.1.1")))
    assert read_enrichment(tenant_id=2)["address"].to_list() == ["1.1.1.1"]
    assert enrichment_of(tenant_id=2, addresses=["8.8.8.8"]) == {}


def test_a_reingested_upload_replaces_its_file() -> None:
    ingest(1, 7, flows(("10.0.0.5", "8.8.8.8")))
    ingest(1, 7, flows(("10.0.0.5", "1.1.1.1")))
    assert read_enrichment(tenant_id=1)["address"].to_list() == ["1.1.1.1"]
    ingest(1, 7, flows(("10.0.0.5", "10.0.0.6")))  # nothing outside: the old answers go
    assert read_enrichment(tenant_id=1).height == 0


def test_each_address_is_looked_up_once_per_upload() -> None:
    enricher = BatchEnricher()
    enricher.add(pl.Series(["8.8.8.8", "8.8.8.8", None, "10.1.1.1"]))
    enricher.add(pl.Series(["8.8.8.8", "1.1.1.1"]))
    assert enricher.seen == {"8.8.8.8", "10.1.1.1", "1.1.1.1"}
    assert sorted(enricher.frame()["address"].to_list()) == ["1.1.1.1", "8.8.8.8"]


def test_missing_tables_leave_ingest_whole_and_say_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enrichment, "DATA_DIR", tmp_path / "no-tables")
    writer = ingest(1, 7, flows(("10.0.0.5", "8.8.8.8")), flows(("10.0.0.5", "1.1.1.1")))
    assert writer.enricher.missing is not None and "not found" in writer.enricher.missing
    assert read_enrichment(tenant_id=1).height == 0
    assert read_connections(1, T0, 300).height == 2  # the flows landed


def test_an_empty_address_list_reads_nothing() -> None:
    ingest(1, 7, flows(("10.0.0.5", "8.8.8.8")))
    assert read_enrichment(tenant_id=1, addresses=[]).height == 0
    with pytest.raises(ValueError, match="tenant_id"):
        read_enrichment(tenant_id=0)
