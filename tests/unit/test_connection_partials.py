"""Connection partials: what ingest writes beside the edge and node partials comes back from `read_connections`
as the flows that went in (ICMP keeps its source port, the rest drop it), `prepare` takes it, a re-ingested
upload and retention take the files with their partitions, and edges count the flows nobody answered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from jobs.engines.detect.frame import prepare
from jobs.engines.detect.home import HomeNetworks
from jobs.engines.flows import CANONICAL_SCHEMA
from jobs.engines.flows.parse import iter_batches
from jobs.engines.snapshot.builder import SnapshotAccumulator
from jobs.stores.flows import (
    CONNECTION_FRAME_SCHEMA,
    CONNS_SCHEMA,
    UploadWriter,
    read_connections,
    read_partials,
    window_files,
)
from jobs.stores.retention import expire_flow_partitions
from jobs.stores.snapshots import load_engine_snapshot, sidecar_path, write_engine_frames
from tests.conftest import SHARED_DATA

T0 = datetime(2024, 4, 19, 10, 0, tzinfo=UTC)
HOUR = 3600
RITA_DAY = SHARED_DATA / "zeek" / "rita-missing-host" / "2024-04-19"


# SG_DATA_DIR in each test's own folder (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("data_dir")


def flows(*rows: dict[str, object]) -> pl.DataFrame:
    """A canonical frame from partial rows (defaults: tcp 10.0.0.1:40000 → 10.0.0.2:443, answered)."""
    base = {
        "ts_start": T0, "ts_end": T0 + timedelta(milliseconds=1500), "src_ip": "10.0.0.1", "src_port": 40000,
        "dst_ip": "10.0.0.2", "dst_port": 443, "protocol": "tcp", "bytes": 100, "packets": 1, "action": "accept",
        "answered": True, "orig_bytes": 40,
    }
    return pl.DataFrame([{**base, **row} for row in rows], schema=CANONICAL_SCHEMA)


def sample() -> pl.DataFrame:
    """Two partitions of the 10:00 hour and one of 11:00; ICMP and ICMPv6, unknowns, a reject without a flag."""
    return flows(
        {},
        {"ts_start": T0 + timedelta(seconds=61), "ts_end": None, "protocol": "udp", "dst_port": 53,
         "answered": None, "orig_bytes": None},
        {"ts_start": T0 + timedelta(seconds=90), "protocol": "icmp", "src_port": 8, "dst_port": 0,
         "dst_ip": "203.0.113.9", "answered": False},
        {"ts_start": T0 + timedelta(seconds=320), "ts_end": T0 + timedelta(seconds=322), "protocol": "icmp6",
         "src_ip": "fe80::1", "dst_ip": "ff02::2", "src_port": 135, "dst_port": 136},
        {"ts_start": T0 + timedelta(seconds=330), "action": "reject", "answered": None, "src_port": 51000},
        {"ts_start": T0 + timedelta(seconds=331), "answered": False, "dst_port": 22},
        {"ts_start": T0 + timedelta(hours=1, seconds=5), "src_ip": "10.9.9.9"},
    )


def ingest(tenant_id: int, upload_id: int, *frames: pl.DataFrame, fmt: str = "csv") -> list[datetime]:
    writer = UploadWriter(tenant_id=tenant_id, upload_id=upload_id, fmt=fmt)
    for frame in frames:
        writer.add(frame)
    return writer.commit()


def conns_files(root: Path, tenant_id: int) -> list[str]:
    return sorted(str(p.relative_to(root / "flows" / str(tenant_id))) for p in
                  (root / "flows" / str(tenant_id)).glob("window=*/*-conns.parquet"))


def test_connections_come_back_as_the_flows_that_went_in(data_dir: Path) -> None:
    frame = sample()
    ingest(1, 7, frame.head(3), frame.slice(3))  # two batches, as ingest stages them
    assert conns_files(data_dir, 1) == [
        f"window={int(T0.timestamp())}/partial-7-csv-0-conns.parquet",
        f"window={int(T0.timestamp()) + 300}/partial-7-csv-1-conns.parquet",
        f"window={int(T0.timestamp()) + 3600}/partial-7-csv-1-conns.parquet",
    ]
    path = data_dir / "flows" / "1" / conns_files(data_dir, 1)[0]
    meta = pq.ParquetFile(path).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert not meta.row_group(0).column(0).is_stats_set
    assert pl.read_parquet(path).schema == pl.Schema(CONNS_SCHEMA)

    got = read_connections(1, T0, HOUR)
    assert got.schema == pl.Schema(CONNECTION_FRAME_SCHEMA)
    first_hour = frame.head(6)
    expected = first_hour.select(
        "ts_start", "ts_end", "src_ip",
        pl.when(pl.col("protocol").is_in(["icmp", "icmp6"])).then("src_port").alias("src_port"),
        "dst_ip", "dst_port", "protocol", "bytes", "orig_bytes",
        # answered is resolved at ingest: the parser's flag, else not rejected
        answered=pl.Series([True, True, False, True, False, False]), action=pl.lit(None, pl.Utf8),
    )
    assert_frame_equal(got, expected)
    assert got["src_port"].to_list() == [None, None, 8, 135, None, None]
    assert read_connections(1, T0 + timedelta(hours=1), HOUR)["src_ip"].to_list() == ["10.9.9.9"]
    assert read_connections(1, T0 + timedelta(minutes=5), 300).height == 3  # one partition of the hour


def test_prepare_takes_what_read_connections_gives(data_dir: Path) -> None:
    frame = sample()
    ingest(1, 7, frame)
    home = HomeNetworks.of()
    ours = prepare(read_connections(1, T0, 2 * HOUR), home)
    theirs = prepare(frame, home)
    # the detection frame reads src_port for ICMP only (its type), which is all the partial keeps
    assert_frame_equal(ours.drop("src_port"), theirs.drop("src_port"))
    assert ours["icmp_reply"].to_list() == theirs["icmp_reply"].to_list()
    assert ours.filter(pl.col("protocol").is_in(["icmp", "icmp6"]))["src_port"].to_list() == [8, 135]


def test_an_empty_window_gives_an_empty_frame_of_the_same_schema() -> None:
    empty = read_connections(1, T0, HOUR)
    assert empty.height == 0 and empty.schema == pl.Schema(CONNECTION_FRAME_SCHEMA)
    assert prepare(empty, HomeNetworks.of()).height == 0


@pytest.mark.parametrize(("start", "seconds", "message"), [
    (T0.replace(tzinfo=None), HOUR, "time zone"),
    (T0 + timedelta(seconds=30), HOUR, "not the start"),
    (T0, 450, "multiple of 300"),
    (T0, 0, "multiple of 300"),
])
def test_a_window_that_is_not_whole_partitions_is_refused(start: datetime, seconds: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_connections(1, start, seconds)


def test_a_tenant_reads_only_its_own_connections() -> None:
    ingest(1, 7, sample())
    ingest(2, 8, flows({"src_ip": "10.2.2.2"}))
    assert read_connections(2, T0, HOUR)["src_ip"].to_list() == ["10.2.2.2"]
    assert "10.2.2.2" not in read_connections(1, T0, HOUR)["src_ip"].to_list()
    with pytest.raises(ValueError, match="tenant_id"):
        read_connections(0, T0, HOUR)


def test_a_reingested_upload_replaces_its_connection_files(data_dir: Path) -> None:
    ingest(1, 7, sample())
    ingest(1, 8, flows({"src_ip": "10.8.8.8", "ts_start": T0 + timedelta(seconds=10)}))
    assert read_connections(1, T0, HOUR).height == 7
    # upload 7 again, now holding one flow of the second partition only
    touched = ingest(1, 7, flows({"src_ip": "10.7.7.7", "ts_start": T0 + timedelta(seconds=400)}))
    assert touched == [T0, T0 + timedelta(minutes=5), T0 + timedelta(hours=1)]  # the windows its old files were in
    assert sorted(read_connections(1, T0, 2 * HOUR)["src_ip"].to_list()) == ["10.7.7.7", "10.8.8.8"]
    assert [name for name in conns_files(data_dir, 1) if "partial-7-" in name] == [
        f"window={int(T0.timestamp()) + 300}/partial-7-csv-0-conns.parquet"]
    assert not (data_dir / "flows" / "1" / ".staging").exists() or not any(
        (data_dir / "flows" / "1" / ".staging").iterdir())


def test_a_discarded_upload_lands_no_connections(data_dir: Path) -> None:
    writer = UploadWriter(tenant_id=1, upload_id=9, fmt="csv")
    writer.add(sample())
    assert list(writer.staging.rglob("*-conns.parquet"))
    writer.discard()
    assert conns_files(data_dir, 1) == [] and read_connections(1, T0, 2 * HOUR).height == 0


def test_retention_removes_the_connection_files_with_their_partitions(data_dir: Path) -> None:
    ingest(1, 7, sample())
    ingest(2, 8, sample())
    assert expire_flow_partitions(1, before=T0 + timedelta(hours=1),
                                  received_before=datetime.now(UTC) + timedelta(days=1)) == 2
    assert read_connections(1, T0, HOUR).height == 0
    assert read_connections(1, T0 + timedelta(hours=1), HOUR).height == 1
    assert [name.split("/")[0] for name in conns_files(data_dir, 1)] == [f"window={int(T0.timestamp()) + 3600}"]
    assert read_connections(2, T0, HOUR).height == 6  # another tenant's partitions are not touched


def test_edges_count_the_flows_nobody_answered() -> None:
    ingest(1, 7, sample())
    files = window_files(1, T0, HOUR)
    edges, nodes = read_partials(files)
    assert edges["unanswered"].sum() == 3 and edges["flows"].sum() == 6
    accumulator = SnapshotAccumulator(window_seconds=HOUR)
    accumulator.add_partials(edges, nodes)
    built = accumulator.build_window_frames(T0)
    counts = {(s, d, p): n for s, d, p, n in built.edges.select("src", "dst", "dst_port", "unanswered").iter_rows()}
    assert counts[("10.0.0.1", "10.0.0.2", 443)] == 1  # the reject without a flag
    assert counts[("10.0.0.1", "10.0.0.2", 22)] == 1
    assert counts[("10.0.0.1", "203.0.113.9", 0)] == 1
    assert counts[("10.0.0.1", "10.0.0.2", 53)] == 0  # unknown counts as answered
    assert write_engine_frames(1, T0, T0 + timedelta(hours=1), built.nodes, built.edges)
    snapshot = load_engine_snapshot(1, T0, T0 + timedelta(hours=1))
    assert snapshot is not None
    assert {(e.src, e.dst, e.dst_port): e.unanswered for e in snapshot.edges} == counts


def test_partials_and_sidecars_from_before_the_column_count_zero(data_dir: Path) -> None:
    ingest(1, 7, sample())
    files = [data_dir / key for key in window_files(1, T0, HOUR)]
    # an older edge partial of the same window, as written before `unanswered` existed
    old = files[0].with_name("partial-3-csv-0-edges.parquet")
    pl.read_parquet(files[0]).drop("unanswered").write_parquet(old)
    files[0].with_name("partial-7-csv-0-nodes.parquet").rename(old.with_name("partial-3-csv-0-nodes.parquet"))
    files[0].unlink()
    edges, _ = read_partials(window_files(1, T0, HOUR))
    assert edges["flows"].sum() == 6 and edges["unanswered"].sum() == 2  # only the 10:05 partial's
    accumulator = SnapshotAccumulator(window_seconds=HOUR)
    accumulator.add_partials(*read_partials([old.relative_to(data_dir).as_posix()]))
    built = accumulator.build_window_frames(T0)
    assert built.edges["unanswered"].to_list() == [0] * built.edges.height
    write_engine_frames(1, T0, T0 + timedelta(hours=1), built.nodes, built.edges)
    path = sidecar_path(1, T0)
    table = pq.read_table(path)
    pq.write_table(table.drop_columns(["unanswered"]), path)
    snapshot = load_engine_snapshot(1, T0, T0 + timedelta(hours=1))
    assert snapshot is not None and snapshot.edges and all(e.unanswered == 0 for e in snapshot.edges)


@pytest.mark.skipif(not RITA_DAY.is_dir(), reason=f"the RITA capture is not in {RITA_DAY} (../shared/data)")
def test_a_real_capture_keeps_every_connection(data_dir: Path) -> None:
    files = sorted(RITA_DAY.glob("*.log.gz"))[:6]
    parsed: list[pl.DataFrame] = []
    for upload_id, path in enumerate(files, start=1):
        writer = UploadWriter(tenant_id=1, upload_id=upload_id, fmt="zeek_tsv")
        for batch in iter_batches(path, "zeek_tsv", batch_rows=2_000):
            writer.add(batch.frame)
            parsed.append(batch.frame)
        writer.commit()
    flows_in = pl.concat(parsed)
    # the first hour's file holds connections that started before midnight
    day = datetime(2024, 4, 18, tzinfo=UTC)
    first, last = flows_in["ts_start"].min(), flows_in["ts_start"].max()
    assert isinstance(first, datetime) and isinstance(last, datetime)
    assert first < day + timedelta(days=1) <= last
    got = read_connections(1, day, 2 * 86_400)
    assert flows_in.height > 5_000 and got.height == flows_in.height
    icmp = flows_in.filter(pl.col("protocol").is_in(["icmp", "icmp6"]))
    assert icmp.height > 0, "the capture has ICMP flows"
    assert got.filter(pl.col("protocol").is_in(["icmp", "icmp6"]))["src_port"].sort().to_list() == \
        icmp["src_port"].sort().to_list()
    assert got.filter(~pl.col("protocol").is_in(["icmp", "icmp6"]))["src_port"].null_count() == \
        got.height - icmp.height
    assert got["bytes"].sum() == flows_in["bytes"].sum()
    assert got["orig_bytes"].sum() == flows_in["orig_bytes"].sum()
    assert (~got["answered"]).sum() == (~flows_in["answered"].fill_null(True)).sum()
    edges, _ = read_partials(window_files(1, day, 2 * 86_400))
    assert edges["flows"].sum() == flows_in.height
    assert edges["unanswered"].sum() == (~got["answered"]).sum() > 0
