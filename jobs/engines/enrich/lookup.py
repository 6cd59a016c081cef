"""Enrichment of a column of addresses: asn, as_org and country, each distinct address looked up once.

Every answer is kept for the life of the process (`EnrichTables.cache`): a sensor sees the same outside
addresses window after window, so most lookups after the first batch are one dictionary read.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

import polars as pl

from jobs.engines.enrich.keys import Family, address_key
from jobs.engines.enrich.tables import DEFAULT_DATA_DIR, Enrichment, EnrichTables, as_needles, load_tables

ENRICH_SCHEMA: Final[dict[str, pl.DataType]] = {"asn": pl.Int64(), "as_org": pl.Utf8(), "country": pl.Utf8()}
CACHE_LIMIT: Final = 1 << 18
_UNKNOWN: Final[Enrichment] = (None, None, None)


def _resolve(tables: EnrichTables, family: Family, texts: list[str], values: list[int]) -> None:
    """Look the addresses of one family up in one vectorised search per table, into the cache."""
    family_tables = tables.families[family]
    needles = as_needles(family, values)
    at_asn = family_tables.asn_ranges.find(needles)
    at_country = family_tables.country_ranges.find(needles)
    # Index -1 (no range) reads the extra last entry: 0 or None.
    asn = [number or None for number in family_tables.asn[at_asn].tolist()]
    org = family_tables.org[at_asn].tolist()
    country = family_tables.country[at_country].tolist()
    tables.cache.update(zip(texts, zip(asn, org, country, strict=True), strict=True))


def lookup_addresses(tables: EnrichTables, addresses: Iterable[str]) -> list[Enrichment]:
    """(asn, as_org, country) of each address, from the cache or one batched search of the misses."""
    wanted = list(addresses)
    cache = tables.cache
    missing = {text for text in wanted if text not in cache}
    if len(cache) + len(missing) > CACHE_LIMIT:
        cache.clear()  # a bounded cache; the next batches refill it with what is current
    found: dict[Family, tuple[list[str], list[int]]] = {4: ([], []), 6: ([], [])}
    for text in missing:
        key = address_key(text)
        if key is None:
            cache[text] = _UNKNOWN
        else:
            found[key[0]][0].append(text)
            found[key[0]][1].append(key[1])
    for family, (texts, values) in found.items():
        if texts:
            _resolve(tables, family, texts, values)
    return [cache[text] for text in wanted]


def lookup_distinct(addresses: pl.Series, *, data_dir: Path = DEFAULT_DATA_DIR) -> pl.DataFrame:
    """`address` plus asn, as_org and country, one row per distinct non-null address of `addresses`.

    The form to store at ingest: a batch's distinct outside addresses are few, its flows many.
    """
    distinct = addresses.cast(pl.Utf8).drop_nulls().unique().to_list()
    rows = lookup_addresses(load_tables(data_dir), distinct)
    columns = {name: [row[i] for row in rows] for i, name in enumerate(ENRICH_SCHEMA)}
    return pl.DataFrame({"address": distinct, **columns}, schema={"address": pl.Utf8(), **ENRICH_SCHEMA})


def lookup_frame(addresses: pl.Series, *, data_dir: Path = DEFAULT_DATA_DIR) -> pl.DataFrame:
    """ASN (null when private, reserved, invalid or unknown), AS organisation and country (ISO 3166 alpha-2)
    of each address, row for row with `addresses`.

    Each distinct address is looked up once and its answer kept for the process. The tables are read from
    `data_dir` once per process (EnrichDataMissing when the ip-location-db packages are not installed).
    No network, no writes.
    """
    found = lookup_distinct(addresses, data_dir=data_dir)
    # A left join on the column keeps the input's order and length, nulls included.
    rows = addresses.cast(pl.Utf8).alias("address").to_frame()
    return rows.join(found, on="address", how="left", maintain_order="left").select(list(ENRICH_SCHEMA))
