"""Partial aggregates of canonical flow frames, mergeable batch by batch (pure polars).

An edge partial has one row per (window, src, dst, dst_port, protocol) with sums, first/last
times in epoch microseconds, the earliest MAX_CONN_STARTS connection starts and the count of flows
nobody answered (`unanswered`, from `jobs.engines.detect.answered.canonical_answered`); a node partial
has one row per (window, key). Merging partials gives exactly what aggregating all flows at once
gives, so streaming ingestion and a one-shot build agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, cast

import polars as pl

from jobs.engines.detect.answered import canonical_answered
from jobs.engines.snapshot.types import DEFAULT_CLUSTER, MAX_CONN_STARTS

EDGE_KEY: Final = ("window", "src", "dst", "dst_port", "protocol")
NODE_KEY: Final = ("window", "key")
EDGE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "window": pl.Int64(), "src": pl.Utf8(), "dst": pl.Utf8(), "dst_port": pl.Int32(),
    "protocol": pl.Utf8(), "bytes": pl.Int64(), "packets": pl.Int64(), "flows": pl.Int64(),
    "rejected": pl.Int64(), "unanswered": pl.Int64(), "first_us": pl.Int64(), "last_us": pl.Int64(),
    "starts": pl.List(pl.Int64()),
}
NODE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "window": pl.Int64(), "key": pl.Utf8(), "name": pl.Utf8(), "namespace": pl.Utf8(),
    "labels": pl.Utf8(), "workload": pl.Boolean(), "ips": pl.List(pl.Utf8()),
}


def _is_workload(frame: pl.DataFrame, side: str) -> pl.Expr:
    """The source named the workload: both name and namespace are set and non-empty."""
    if frame[f"{side}_namespace"].null_count() == frame.height:
        return pl.lit(False)  # IP-only sources (Zeek, VPC): skip the string work
    name, namespace = pl.col(f"{side}_name"), pl.col(f"{side}_namespace")
    return (name.str.len_bytes() > 0).fill_null(False) & (namespace.str.len_bytes() > 0).fill_null(False)


def _node_key(frame: pl.DataFrame, side: str) -> pl.Expr:
    """`namespace/name` when the source named the workload (`cluster/namespace/name` outside the cluster
    `default`, `types.node_key`), else the IP."""
    if frame[f"{side}_namespace"].null_count() == frame.height:
        return pl.col(f"{side}_ip")
    workload_key = pl.concat_str(pl.col(f"{side}_namespace"), pl.lit("/"), pl.col(f"{side}_name"))
    cluster = f"{side}_cluster"
    if cluster in frame.columns and frame[cluster].null_count() < frame.height:
        elsewhere = pl.col(cluster).is_not_null() & (pl.col(cluster) != DEFAULT_CLUSTER)
        workload_key = pl.when(elsewhere).then(
            pl.concat_str(pl.col(cluster), pl.lit("/"), workload_key)
        ).otherwise(workload_key)
    return pl.when(_is_workload(frame, side)).then(workload_key).otherwise(pl.col(f"{side}_ip"))


def _window(window_seconds: int) -> pl.Expr:
    return pl.col("ts_start").dt.epoch("us") // (window_seconds * 1_000_000) * window_seconds


def edge_partial(frame: pl.DataFrame, *, window_seconds: int) -> pl.DataFrame:
    """Aggregate a canonical frame into edge rows per aligned window.

    Flow files are usually in time order. Then each window is one run of rows, grouped on its own by the
    four edge keys (much cheaper than one group-by that also keys on the window), and each group's first
    starts are its earliest.
    """
    flows = frame.lazy().select(
        _window(window_seconds).alias("window"),
        _node_key(frame, "src").alias("src"),
        _node_key(frame, "dst").alias("dst"),
        "dst_port", "protocol", "bytes", "packets",
        (pl.col("action") == "reject").fill_null(False).cast(pl.Int64).alias("reject"),
        (~canonical_answered(frame)).cast(pl.Int64).alias("unanswered"),
        pl.col("ts_start").dt.epoch("us").alias("t0"),
        pl.coalesce("ts_end", "ts_start").dt.epoch("us").alias("t1"),
    ).collect()
    in_order = flows["t0"].is_sorted()
    sums = [
        pl.col("bytes").sum(), pl.col("packets").sum(), pl.len().cast(pl.Int64).alias("flows"),
        pl.col("reject").sum().alias("rejected"), pl.col("unanswered").sum(), pl.col("t0").min().alias("first_us"),
        pl.col("t1").max().alias("last_us"),
    ]
    if not in_order:
        grouped = flows.lazy().group_by(EDGE_KEY).agg(*sums, pl.col("t0").alias("starts"))
        return _cap_starts(grouped).select(list(EDGE_SCHEMA)).collect().cast(EDGE_SCHEMA)  # type: ignore[arg-type]
    runs = []
    offset = 0
    for length, window in flows["window"].rle().struct.unnest().iter_rows():
        run = flows.slice(offset, length).lazy().group_by(EDGE_KEY[1:])
        runs.append(run.agg(*sums, pl.col("t0").head(MAX_CONN_STARTS).alias("starts")).with_columns(
            window=pl.lit(window, pl.Int64)
        ))
        offset += length
    if not runs:
        return pl.DataFrame(schema=EDGE_SCHEMA)
    return pl.concat(pl.collect_all(runs)).select(list(EDGE_SCHEMA)).cast(EDGE_SCHEMA)  # type: ignore[arg-type]


def node_partial(frame: pl.DataFrame, *, window_seconds: int, edges: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per (window, node key): names, namespace, labels and the IPs seen for it.

    When the frame names nothing (Zeek, VPC), every node is a bare IP, so the nodes come from
    the (much smaller) edge partial of the same frame when it is given.
    """
    named = [f"{side}_{part}" for side in ("src", "dst") for part in ("name", "namespace", "labels")]
    if edges is not None and all(frame[column].null_count() == frame.height for column in named):
        keys = pl.concat([edges.select("window", key="src"), edges.select("window", key="dst")]).unique()
        return keys.select(
            "window", "key", *(pl.lit(None, pl.Utf8).alias(c) for c in ("name", "namespace", "labels")),
            workload=pl.lit(False), ips=pl.concat_list("key"),
        ).cast(NODE_SCHEMA)  # type: ignore[arg-type]
    sides = [
        frame.lazy().select(
            _window(window_seconds).alias("window"),
            _node_key(frame, side).alias("key"),
            pl.col(f"{side}_name").alias("name"),
            pl.col(f"{side}_namespace").alias("namespace"),
            pl.col(f"{side}_labels").alias("labels"),
            _is_workload(frame, side).alias("workload"),
            pl.col(f"{side}_ip").alias("ip"),
        )
        for side in ("src", "dst")
    ]
    grouped = pl.concat(sides).group_by(NODE_KEY).agg(
        pl.col("name").min(), pl.col("namespace").min(), pl.col("labels").min(),
        pl.col("workload").any(), pl.col("ip").unique().sort().alias("ips"),
    )
    return grouped.collect().cast(NODE_SCHEMA)  # type: ignore[arg-type]


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy that owns compact buffers.

    Strings that come out of a group-by are views into the batch's buffers; keeping such a small
    partial would keep the whole batch in memory, batch after batch.
    """
    return cast(pl.DataFrame, pl.from_arrow(frame.to_arrow()))


def merge_edges(parts: Sequence[pl.DataFrame], *, regroup: bool = False) -> pl.DataFrame:
    """Merge edge partials (sums add, first/last widen, starts union then cap).

    `regroup` says rows of one part may share a key (their windows were realigned).
    """
    if not parts:
        return pl.DataFrame(schema=EDGE_SCHEMA)
    if len(parts) == 1 and not regroup:
        return parts[0]
    # Keeping the earliest N is associative, so merged partials keep the same N as one pass.
    starts = pl.col("starts").explode().drop_nulls().sort().head(MAX_CONN_STARTS)
    grouped = pl.concat(parts).lazy().group_by(EDGE_KEY).agg(
        pl.col("bytes", "packets", "flows", "rejected", "unanswered").sum(),
        pl.col("first_us").min(), pl.col("last_us").max(), starts.alias("starts"),
    )
    return grouped.select(list(EDGE_SCHEMA)).collect().cast(EDGE_SCHEMA)  # type: ignore[arg-type]


def merge_nodes(parts: Sequence[pl.DataFrame], *, regroup: bool = False) -> pl.DataFrame:
    """Merge node partials (min of names/labels, union of IPs); `regroup` as for `merge_edges`."""
    if not parts:
        return pl.DataFrame(schema=NODE_SCHEMA)
    if len(parts) == 1 and not regroup:
        return parts[0]
    grouped = pl.concat(parts).lazy().group_by(NODE_KEY).agg(
        pl.col("name").min(), pl.col("namespace").min(), pl.col("labels").min(),
        pl.col("workload").any(), pl.col("ips").explode().unique().sort(),
    )
    return grouped.collect().cast(NODE_SCHEMA)  # type: ignore[arg-type]


def _cap_starts(grouped: pl.LazyFrame) -> pl.LazyFrame:
    # Keeping the earliest N is associative, so merged partials keep the same N as one pass.
    return grouped.with_columns(pl.col("starts").list.sort().list.head(MAX_CONN_STARTS))
