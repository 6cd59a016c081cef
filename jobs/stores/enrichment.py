"""The enrichment of a tenant's outside addresses on disk: ASN, AS organisation and country, looked up at ingest.

    flows/{tenant}/enrichment/upload-{upload}.parquet    address, asn, as_org, country    (`jobs.stores.objects`)

Ingest (`UploadWriter`) looks up the distinct addresses of each batch, columnar, with the offline tables of
`jobs.engines.enrich`, and publishes one file per upload beside its partials (replaced whole when the upload is
ingested again). Only global addresses the tables know are kept: private, reserved and unknown ones have no row.
Later stages (drift's "new ASN for this host", explanations, incident details, graph node details) read the
answers here and never look an address up again.

`read_enrichment` / `enrichment_of` are the readers; whatever shows their answers carries
`jobs.engines.enrich.ATTRIBUTION` and, on a web page, a link to `DBIP_LINK`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path
from typing import Final

import polars as pl

from jobs.engines.enrich import (
    ATTRIBUTION,
    DBIP_LINK,
    DEFAULT_DATA_DIR,
    ENRICH_SCHEMA,
    EnrichDataMissing,
    Enrichment,
    load_tables,
    lookup_addresses,
)
from jobs.stores.keys import tenant_key
from jobs.stores.objects import get_store

log = logging.getLogger(__name__)

STORE_SCHEMA: Final[dict[str, pl.DataType]] = {"address": pl.Utf8(), **ENRICH_SCHEMA}
FILE_PREFIX: Final = "upload-"
# where ingest reads the offline tables (`./run` installs them there)
DATA_DIR: Path = DEFAULT_DATA_DIR
_UNKNOWN: Final[Enrichment] = (None, None, None)


def enrichment_prefix(tenant_id: int) -> str:
    """The key prefix of a tenant's enrichment files (ValueError for a tenant id that is not a positive int)."""
    return tenant_key("flows", tenant_id, "enrichment")


def enrichment_dir(tenant_id: int) -> Path | None:
    """The folder of a tenant's enrichment files in a local store (None in a remote one)."""
    return get_store().local_path(enrichment_prefix(tenant_id))


class BatchEnricher:
    """The distinct addresses of one upload, looked up batch by batch; an address is looked up once per upload.

    When the offline tables are missing, `missing` holds the reason (said once, in the job's result and log)
    and nothing is looked up: ingest goes on without enrichment.
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = DATA_DIR if data_dir is None else data_dir
        self.seen: set[str] = set()
        self.found: list[tuple[str, int | None, str | None, str | None]] = []  # each address once
        self.missing: str | None = None
        self._frame: pl.DataFrame | None = None

    def add(self, addresses: pl.Series) -> None:
        """Look up the addresses of `addresses` not met before in this upload (nulls and duplicates skipped)."""
        if self.missing is not None:
            return
        fresh = [text for text in addresses.drop_nulls().unique().to_list() if text not in self.seen]
        if not fresh:
            return
        self.seen.update(fresh)
        try:
            tables = load_tables(self.data_dir)
        except EnrichDataMissing as exc:
            self.missing = str(exc)
            log.warning("ingest goes on without IP enrichment: %s", exc)
            return
        # one batched search of what the process has not met yet; private and unknown addresses give no row
        answers = lookup_addresses(tables, fresh)
        for text, answer in zip(fresh, answers, strict=True):
            if answer != _UNKNOWN:
                self.found.append((text, *answer))
        self._frame = None

    def frame(self) -> pl.DataFrame:
        """What this upload found: one row per address the tables know (in the order met)."""
        if self._frame is None:
            self._frame = pl.DataFrame(self.found, schema=STORE_SCHEMA, orient="row")
        return self._frame

    def write(self, folder: Path, upload_id: int) -> Path | None:
        """Stage this upload's file in `folder` (None when it found nothing)."""
        frame = self.frame()
        if frame.height == 0:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{FILE_PREFIX}{upload_id}.parquet"
        frame.write_parquet(path, compression="zstd", compression_level=1, statistics=False)
        return path


def publish(tenant_id: int, upload_id: int, staged: Path | None) -> None:
    """Replace the upload's published enrichment with the staged file (or remove it when none was staged)."""
    store = get_store()
    target = f"{enrichment_prefix(tenant_id)}/{FILE_PREFIX}{int(upload_id)}.parquet"
    if staged is None:
        store.delete(target)
        return
    store.put_file(target, staged)


def _files(tenant_id: int) -> list[str]:
    """The keys of the tenant's enrichment files, newest upload first (its answer wins when the tables changed)."""

    def upload_of(key: str) -> int:
        number = key.rsplit("/", 1)[-1].removesuffix(".parquet").removeprefix(FILE_PREFIX)
        return int(number) if number.isdigit() else -1

    keys = get_store().glob(enrichment_prefix(tenant_id), f"{FILE_PREFIX}*.parquet")
    return sorted(keys, key=upload_of, reverse=True)


def read_enrichment(*, tenant_id: int, addresses: Collection[str] | None = None) -> pl.DataFrame:
    """The stored enrichment of the tenant's addresses (all of them, or those of `addresses`): one row per
    address in STORE_SCHEMA (address, asn, as_org, country), sorted by address. Addresses never stored, and
    private or unknown ones, have no row.

    The function the graph's node details and filters call: e.g.
    `read_enrichment(tenant_id=t, addresses=["203.0.113.9"])`.
    """
    files = _files(tenant_id)
    if not files or (addresses is not None and not addresses):
        return pl.DataFrame(schema=STORE_SCHEMA)
    scan = get_store().scan_parquet(files, hive_partitioning=False, glob=False, schema=STORE_SCHEMA)
    if addresses is not None:
        wanted = pl.LazyFrame({"address": list(addresses)}, schema={"address": pl.Utf8()})
        scan = scan.join(wanted, on="address", how="semi")
    # the files are read newest upload first and keep="first" keeps the newest answer
    return scan.unique("address", keep="first", maintain_order=True).sort("address").collect()


def enrichment_of(*, tenant_id: int, addresses: Collection[str]) -> dict[str, Enrichment]:
    """address → (asn, as_org, country) for the stored ones among `addresses`."""
    frame = read_enrichment(tenant_id=tenant_id, addresses=addresses)
    columns = [frame[name].to_list() for name in STORE_SCHEMA]
    return {address: (asn, org, country) for address, asn, org, country in zip(*columns, strict=True)}


def attribution() -> tuple[str, str]:
    """(licence text, link) to show wherever stored answers appear: the data's ATTRIBUTION, and DB-IP's link."""
    return f"{ATTRIBUTION} {DBIP_LINK[0]}.", DBIP_LINK[1]
