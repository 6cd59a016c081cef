"""Turn a parser's working frame into a ChunkResult: check addresses, split bad/skipped/accepted.

A parser hands over a frame with canonical columns plus three meta columns:
`_line` (1-based line number), `_bad` (reason the record is rejected, or null) and `_skip`
(reason a well-formed record is not a flow edge, or null). A bad reason wins over a skip reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import polars as pl

from jobs.engines.flows.addresses import address_info
from jobs.engines.flows.columns import reason
from jobs.engines.flows.result import BadLine, ChunkResult
from jobs.engines.flows.schema import canonical_select

LIVE = pl.col("_bad").is_null() & pl.col("_skip").is_null()
# Free-text fields: PostgreSQL cannot store a NUL in text (COPY refuses it), so one would break every later
# snapshot build of the tenant. Addresses are validated on their own.
TEXT_FIELDS = ("protocol", "action", "src_name", "dst_name", "src_namespace", "dst_namespace", "src_labels",
               "dst_labels")


def finalize(frame: pl.DataFrame, unreadable: Sequence[BadLine] = ()) -> ChunkResult:
    """Validate addresses once per distinct value, then split the frame into the chunk result.

    `unreadable` are lines the reader could not turn into rows at all; they are records too.
    """
    frame = _check_addresses(_check_nul(frame))
    errors = _bad_lines(frame)
    skips = _skip_counts(frame)
    kept = frame.filter(LIVE) if errors or skips else frame
    if unreadable:
        errors = sorted([*errors, *unreadable], key=lambda bad: bad.line)
    return ChunkResult(
        frame=kept.select(canonical_select(kept)),
        records=frame.height + len(unreadable),
        errors=errors,
        skip_reasons=skips,
    )


def _check_nul(frame: pl.DataFrame) -> pl.DataFrame:
    present = [name for name in TEXT_FIELDS
               if name in frame.columns and frame[name].dtype == pl.Utf8 and frame[name].null_count() < frame.height]
    if not present:
        return frame
    found = frame.select(pl.col(name).str.contains("\x00", literal=True).any() for name in present).row(0)
    has_nul = [name for name, hit in zip(present, found, strict=True) if hit]
    if not has_nul:
        return frame
    bad = pl.col("_bad")
    for name in reversed(has_nul):  # the first field named wins, as in one when/then chain
        bad = pl.when(LIVE & pl.col(name).str.contains("\x00", literal=True)).then(
            pl.lit(f"{name} contains a NUL character")).otherwise(bad)
    return frame.with_columns(_bad=bad)


def _check_addresses(frame: pl.DataFrame) -> pl.DataFrame:
    distinct = frame.lazy().filter(LIVE).select(
        pl.col("src_ip").append(pl.col("dst_ip")).unique().alias("ip")
    ).collect()["ip"]
    invalid: list[str] = []
    renames: dict[str, str] = {}
    for text in distinct.drop_nulls().to_list():
        info = address_info(text)
        if info is None:
            invalid.append(text)
        elif info.canonical != text:
            renames[text] = info.canonical
    if invalid:
        frame = frame.with_columns(
            _bad=pl.when(LIVE & pl.col("src_ip").is_in(invalid))
            .then(reason("invalid src_ip", pl.col("src_ip")))
            .when(LIVE & pl.col("dst_ip").is_in(invalid))
            .then(reason("invalid dst_ip", pl.col("dst_ip")))
            .otherwise(pl.col("_bad"))
        )
    if renames:
        # Equal addresses written differently (IPv6 zeros, case) must become one node.
        frame = frame.with_columns(
            pl.col("src_ip").replace(renames), pl.col("dst_ip").replace(renames)
        )
    return frame


def _bad_lines(frame: pl.DataFrame) -> list[BadLine]:
    if frame["_bad"].null_count() == frame.height:
        return []
    bad = frame.filter(pl.col("_bad").is_not_null()).select("_line", "_bad")
    return [BadLine(line, why) for line, why in bad.iter_rows()]


def _skip_counts(frame: pl.DataFrame) -> Counter[str]:
    if frame["_skip"].null_count() == frame.height:
        return Counter()
    counts = (
        frame.filter(pl.col("_bad").is_null() & pl.col("_skip").is_not_null())
        .group_by("_skip")
        .len()
    )
    return Counter(dict(counts.iter_rows()))
