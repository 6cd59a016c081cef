"""The one canonical flow schema every parser produces.

Every parser turns its format into a polars frame with exactly these columns, in this order and
with these dtypes. Labels are a JSON object string with sorted keys (or null). `answered` (did the
responder answer: `jobs.engines.detect.answered`) and `orig_bytes` (what the originator sent) are
null where the format does not tell. `src_cluster`/`dst_cluster` name the Kubernetes cluster of a
named endpoint (Hubble's `io.cilium.k8s.policy.cluster` label); null where the format does not tell,
which downstream reads as the cluster `default` (single-cluster data).
"""

from __future__ import annotations

from typing import Final

import polars as pl

UTC_US: Final = pl.Datetime("us", "UTC")

CANONICAL_SCHEMA: Final[dict[str, pl.DataType]] = {
    "ts_start": UTC_US,
    "ts_end": UTC_US,
    "src_ip": pl.Utf8(),
    "src_port": pl.Int32(),
    "dst_ip": pl.Utf8(),
    "dst_port": pl.Int32(),
    "protocol": pl.Utf8(),
    "bytes": pl.Int64(),
    "packets": pl.Int64(),
    "action": pl.Utf8(),
    "src_name": pl.Utf8(),
    "dst_name": pl.Utf8(),
    "src_namespace": pl.Utf8(),
    "dst_namespace": pl.Utf8(),
    "src_labels": pl.Utf8(),
    "dst_labels": pl.Utf8(),
    "answered": pl.Boolean(),
    "orig_bytes": pl.Int64(),
    "src_cluster": pl.Utf8(),
    "dst_cluster": pl.Utf8(),
}

CANONICAL_COLUMNS: Final[tuple[str, ...]] = tuple(CANONICAL_SCHEMA)

ACTIONS: Final[tuple[str, str]] = ("accept", "reject")
CLUSTER_COLUMNS: Final = ("src_cluster", "dst_cluster")
# A cluster name is a Kubernetes label value (Cilium's cluster-name is one); never holds a "/" (node keys).
CLUSTER_PATTERN: Final = r"^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"


def empty_frame() -> pl.DataFrame:
    """Return a frame with the canonical columns and no rows."""
    return pl.DataFrame(schema=CANONICAL_SCHEMA)


def canonical_select(frame: pl.DataFrame | pl.LazyFrame) -> list[pl.Expr]:
    """Expressions that pick the canonical columns, in order, cast to their canonical dtypes.

    Columns missing from `frame` become typed nulls, so a parser only builds what it knows.
    """
    names = set(frame.collect_schema().names())
    return [
        (pl.col(name) if name in names else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in CANONICAL_SCHEMA.items()
    ]

