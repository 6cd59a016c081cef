"""The Graph page groups outside peers by the enrichment stored at ingest (`jobs.stores.enrichment`): it reads the
per-upload answers and never loads the offline tables per view."""

from __future__ import annotations

import asyncio

import polars as pl
import pytest

from jobs.engines import enrich
from jobs.engines.detect.home import HomeNetworks
from jobs.stores.enrichment import STORE_SCHEMA, enrichment_dir
from state import graph_data
from tests.unit.graph.builders import edge, graph

# SG_DATA_DIR in each test's own folder (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("data_dir")


def store(tenant_id: int, upload_id: int, rows: list[tuple[str, int, str, str]]) -> None:
    folder = enrichment_dir(tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows, schema=STORE_SCHEMA, orient="row").write_parquet(folder / f"upload-{upload_id}.parquet")


def no_lookup(*_: object, **__: object) -> None:
    raise AssertionError("the graph looked an address up instead of reading the store")


def test_peers_take_the_stored_answers_and_no_table_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enrich, "load_tables", no_lookup)
    monkeypatch.setattr(enrich, "lookup_addresses", no_lookup)
    store(3, 1, [("8.8.8.8", 15169, "Google LLC", "US"), ("1.1.1.1", 13335, "Cloudflare, Inc.", "AU")])
    shown = graph(edge("10.0.0.5", "8.8.8.8", 53), edge("10.0.0.5", "1.1.1.1", 443), edge("10.0.0.6", "9.9.9.9"))
    (placed,), notice = asyncio.run(graph_data.placed(3, [shown], HomeNetworks.of()))
    assert notice == ""
    assert placed.info["8.8.8.8"] == (15169, "Google LLC", "US")
    assert placed.info["1.1.1.1"][0] == 13335
    # an address ingest found nothing for has no answer (and is not looked up)
    assert "9.9.9.9" not in placed.info
    assert "10.0.0.5" not in placed.info


def test_another_tenants_store_is_not_read_and_the_page_says_why_peers_are_unknown() -> None:
    store(4, 1, [("8.8.8.8", 15169, "Google LLC", "US")])
    shown = graph(edge("10.0.0.5", "8.8.8.8", 53))
    (placed,), notice = asyncio.run(graph_data.placed(3, [shown], HomeNetworks.of()))
    assert placed.info == {}
    assert "No AS or country data is stored" in notice
