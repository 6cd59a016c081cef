"""Enrichment of outside addresses: autonomous system (number and organisation) and country, offline.

    lookup_frame(addresses: pl.Series) -> pl.DataFrame   # asn (Int64), as_org, country; row for row
    lookup_distinct(addresses) -> pl.DataFrame           # address + the same, one row per distinct address
    lookup_addresses(tables, texts) -> list[(asn, as_org, country)]  # the cached core
    load_tables(data_dir) -> EnrichTables                # the range tables (and answers), once per process

The data are files of two npm packages of the ip-location-db project, installed by `./run` into
`.tools/node_modules/@ip-location-db/` (no network call at run time): `asn` (IP range → ASN and organisation,
merged from RouteViews, the five RIRs' delegations via NRO and DB-IP's "IP to ASN Lite"; CC BY 4.0) and
`geo-whois-asn-country` (IP range → country from geofeeds, RIR whois and delegations; CC0, NRO data CC BY 4.0).
Whatever shows the results must carry `ATTRIBUTION`, and a web page must link to DB-IP (`DBIP_LINK`).
Private, reserved and other non-global addresses are never looked up and get nulls.

A pure engine: reads the packaged files, imports no models, settings or clients.
"""

from __future__ import annotations

from jobs.engines.enrich.keys import address_key
from jobs.engines.enrich.lookup import CACHE_LIMIT, ENRICH_SCHEMA, lookup_addresses, lookup_distinct, lookup_frame
from jobs.engines.enrich.tables import (
    ATTRIBUTION,
    DBIP_LINK,
    DEFAULT_DATA_DIR,
    EnrichDataMissing,
    Enrichment,
    EnrichTables,
    RangeTable,
    load_tables,
)

__all__ = [
    "ATTRIBUTION",
    "CACHE_LIMIT",
    "DBIP_LINK",
    "DEFAULT_DATA_DIR",
    "ENRICH_SCHEMA",
    "EnrichDataMissing",
    "EnrichTables",
    "Enrichment",
    "RangeTable",
    "address_key",
    "load_tables",
    "lookup_addresses",
    "lookup_distinct",
    "lookup_frame",
]
