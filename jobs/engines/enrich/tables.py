"""The offline range tables (IP range → ASN and organisation, IP range → country), read once per process.

Both come from npm packages of the ip-location-db project, installed into `.tools/node_modules` by `./run`:
`@ip-location-db/asn` (RouteViews, NRO and DB-IP "IP to ASN Lite" data, CC BY 4.0) and
`@ip-location-db/geo-whois-asn-country` (CC0, built on NRO data, CC BY 4.0). Each address becomes one
unsigned 128-bit key: IPv6 as it is, IPv4 at its IPv4-mapped place (::ffff:a.b.c.d), so one sorted column
answers both families with a single `search_sorted`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

import polars as pl

# The folder `npm install --prefix .tools` fills; the repository root is three levels above this package.
DEFAULT_DATA_DIR: Final = Path(__file__).resolve().parents[3] / ".tools" / "node_modules" / "@ip-location-db"
ASN_PACKAGE: Final = "asn"
COUNTRY_PACKAGE: Final = "geo-whois-asn-country"
# IPv4 address a.b.c.d sits at ::ffff:a.b.c.d in the 128-bit key space.
IPV4_MAPPED_BASE: Final = 0xFFFF << 32
KEY: Final = pl.UInt128()
# The licences ask for this attribution wherever results are shown (DB-IP: with a link back to db-ip.com).
ATTRIBUTION: Final = (
    "ASN data: RouteViews (routeviews.org), NRO (nro.net) and IP to ASN Lite by DB-IP (db-ip.com), CC BY 4.0; "
    "country data: ip-location-db geo-whois-asn-country, CC0, with NRO data, CC BY 4.0."
)
DBIP_LINK: Final = ("IP Geolocation by DB-IP", "https://db-ip.com")


class EnrichDataMissing(FileNotFoundError):
    """The ip-location-db packages are not installed where the lookup expects them."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"IP enrichment data not found at {path}: `./run test` (or `./run demo`) installs the npm packages "
            f"@ip-location-db/{ASN_PACKAGE} and @ip-location-db/{COUNTRY_PACKAGE} into .tools"
        )
        self.path = path


@dataclass(frozen=True, slots=True)
class RangeTable:
    """Inclusive ranges `low..high` (sorted by `low`, 128-bit keys) and one row of values per range."""

    low: pl.Series
    high: pl.Series
    values: pl.DataFrame

    def find(self, keys: pl.Series) -> pl.DataFrame:
        """The values of the range holding each key (a row of nulls for a null key or a key in no range)."""
        # A null key searches as 0 (::), which no table covers, and is masked out below anyway.
        wanted = keys.cast(KEY).fill_null(0)
        before = self.low.search_sorted(wanted, side="right").cast(pl.Int64) - 1
        at = before.clip(lower_bound=0)
        inside = keys.is_not_null() & (before >= 0) & (self.high.gather(at) >= wanted)
        index = pl.select(pl.when(inside).then(at)).to_series()
        return self.values.select(pl.all().gather(index))


@dataclass(frozen=True, slots=True)
class EnrichTables:
    """The ASN table (asn, as_org), the country table (country) and the data's package version."""

    asn: RangeTable
    country: RangeTable
    version: str


def _read_ranges(path: Path, value_columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """One `-num.csv` file: decimal low, decimal high, then the value columns; keys as UInt128."""
    if not path.is_file():
        raise EnrichDataMissing(path)
    names = ["low", "high", *value_columns]
    frame = pl.read_csv(path, has_header=False, new_columns=names,
                        schema_overrides={"low": pl.Utf8, "high": pl.Utf8, **value_columns})
    return frame.with_columns(pl.col("low", "high").cast(KEY, strict=True))


def _read_family_pair(folder: Path, stem: str, value_columns: dict[str, pl.DataType]) -> RangeTable:
    """The IPv4 and IPv6 files of one package as one table, IPv4 moved to its mapped place."""
    v4 = _read_ranges(folder / f"{stem}-ipv4-num.csv", value_columns)
    v4 = v4.with_columns(pl.col("low", "high") + pl.lit(IPV4_MAPPED_BASE, KEY))
    v6 = _read_ranges(folder / f"{stem}-ipv6-num.csv", value_columns)
    both = pl.concat([v4, v6]).sort("low")
    return RangeTable(low=both["low"].set_sorted(), high=both["high"], values=both.drop("low", "high"))


def _version(folder: Path) -> str:
    manifest = folder / "package.json"
    if not manifest.is_file():
        raise EnrichDataMissing(manifest)
    return str(json.loads(manifest.read_text())["version"])


def load_tables(data_dir: Path = DEFAULT_DATA_DIR) -> EnrichTables:
    """Read both packages under `data_dir` once per process (about 0.4 s); EnrichDataMissing when absent."""
    return _load_tables(data_dir.resolve())


# Keyed by the resolved folder, so every spelling of the same folder shares one copy.
@lru_cache(maxsize=4)
def _load_tables(data_dir: Path) -> EnrichTables:
    asn_dir, country_dir = data_dir / ASN_PACKAGE, data_dir / COUNTRY_PACKAGE
    # Organisation names repeat (75k names over 410k ranges): a categorical keeps one copy of each.
    asn = _read_family_pair(asn_dir, "asn", {"asn": pl.Int64(), "as_org": pl.Categorical()})
    country = _read_family_pair(country_dir, "geo-whois-asn-country", {"country": pl.Categorical()})
    return EnrichTables(asn=asn, country=country, version=_version(asn_dir))
