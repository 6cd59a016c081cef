"""Column-wise enrichment: a column of addresses in, a frame of asn, as_org and country out."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from jobs.engines.enrich.keys import address_keys
from jobs.engines.enrich.tables import DEFAULT_DATA_DIR, EnrichTables, load_tables

ENRICH_SCHEMA: Final[dict[str, pl.DataType]] = {"asn": pl.Int64(), "as_org": pl.Utf8(), "country": pl.Utf8()}


def lookup_distinct(addresses: pl.Series, tables: EnrichTables) -> pl.DataFrame:
    """`address` plus the enrichment columns, one row per distinct non-null address of `addresses`."""
    distinct = addresses.cast(pl.Utf8).drop_nulls().unique().alias("address")
    keys = address_keys(distinct)
    found = pl.concat([tables.asn.find(keys), tables.country.find(keys)], how="horizontal")
    return pl.concat([distinct.to_frame(), found], how="horizontal").with_columns(
        pl.col(name).cast(dtype) for name, dtype in ENRICH_SCHEMA.items()
    )


def lookup_frame(addresses: pl.Series, *, data_dir: Path = DEFAULT_DATA_DIR) -> pl.DataFrame:
    """ASN (null when private, reserved, invalid or unknown), AS organisation and country (ISO 3166 alpha-2)
    of each address, row for row with `addresses`.

    Each distinct address is looked up once; a window holds few distinct outside addresses, so the cost
    follows them, not the flows. The tables are read from `data_dir` once per process (EnrichDataMissing when
    the ip-location-db packages are not installed). No network, no writes.
    """
    found = lookup_distinct(addresses, load_tables(data_dir))
    # A left join on the column keeps the input's order and length, nulls included.
    rows = addresses.cast(pl.Utf8).alias("address").to_frame()
    return rows.join(found, on="address", how="left", maintain_order="left").select(list(ENRICH_SCHEMA))
