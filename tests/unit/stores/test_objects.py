"""The object store behind every flow, snapshot, layout, detection and upload file: the same behaviour in a local
folder and in an S3-compatible bucket (moto's server, started by the test session), and keys that stay inside
their tenant's prefix whatever a caller passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from jobs.engines.detect.pipeline import DetectionState
from jobs.engines.graph.layout import Layout
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord
from jobs.stores import detection, enrichment
from jobs.stores.flows import UploadWriter, read_connections, read_partials, window_files
from jobs.stores.keys import UnsafeKey, check_key, tenant_key
from jobs.stores.layouts import load_layout, save_layout
from jobs.stores.objects import delete_refs, get_store
from jobs.stores.retention import expire_flow_partitions
from jobs.stores.snapshots import load_engine_snapshot, sidecar_fingerprint, write_engine_snapshot
from tests.s3server import MotoServer

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LATER = datetime.now(UTC) + timedelta(days=1)  # "received before" a moment every file here was written before
HOUR = 3600


def frame(*starts: datetime, src: str = "10.0.0.1") -> pl.DataFrame:
    from jobs.engines.flows import CANONICAL_SCHEMA

    rows = [{"ts_start": t, "ts_end": t + timedelta(seconds=1), "src_ip": src, "src_port": 40000,
             "dst_ip": "10.0.0.2", "dst_port": 443, "protocol": "tcp", "bytes": 100, "packets": 1,
             "action": "accept", "answered": True, "orig_bytes": 40} for t in starts]
    return pl.DataFrame(rows, schema=CANONICAL_SCHEMA)


def test_objects_round_trip(store_backend: str) -> None:
    store = get_store()
    store.put_bytes("flows/1/a/x.json", b"one")
    store.put_bytes("flows/1/a/x.json", b"two")  # replaced whole
    store.put_bytes("flows/1/b/y.json", b"three")
    store.put_bytes("flows/2/a/x.json", b"other tenant")
    assert store.get_bytes("flows/1/a/x.json") == b"two"
    assert [info.key for info in store.listing("flows/1")] == ["flows/1/a/x.json", "flows/1/b/y.json"]
    assert store.glob("flows/1", "*/x.json") == ["flows/1/a/x.json"]
    assert store.children("flows/1") == ["a", "b"]
    assert store.total_bytes("flows/1") == 8
    held = store.head("flows/1/a/x.json")
    assert held is not None and held.size == 3
    store.put_bytes("flows/1/a/x.json", b"four!")
    replaced = store.head("flows/1/a/x.json")
    assert replaced is not None and replaced.version != held.version
    with pytest.raises(FileNotFoundError):
        store.get_bytes("flows/1/missing.json")
    assert store.head("flows/1/missing.json") is None
    store.delete("flows/1/missing.json")  # already gone: fine
    assert store.delete_prefix("flows/1") == 2
    assert store.listing("flows/1") == [] and store.get_bytes("flows/2/a/x.json") == b"other tenant"


def test_a_bucket_store_keeps_nothing_in_the_data_folder(store_backend: str, moto_s3: MotoServer,
                                                         tmp_path: Path) -> None:
    writer = UploadWriter(tenant_id=3, upload_id=9, fmt="csv")
    writer.add(frame(T0, T0 + timedelta(minutes=7)))
    writer.commit()
    local = sorted(p.relative_to(tmp_path / "data").as_posix() for p in (tmp_path / "data").rglob("*.parquet"))
    if store_backend == "local":
        assert "flows/3/window=1772445600/partial-9-csv-0-edges.parquet" in local
    else:
        assert local == []  # staged locally, published to the bucket, nothing left behind
        bucket = get_store().url.removeprefix("s3://").split("/")[0]
        assert "sg/flows/3/window=1772445600/partial-9-csv-0-edges.parquet" in moto_s3.keys(bucket)


def test_flows_ingest_read_replace_and_expire(store_backend: str) -> None:
    touched = UploadWriter(tenant_id=1, upload_id=7, fmt="csv")
    touched.add(frame(T0, T0 + timedelta(minutes=6), T0 + timedelta(minutes=61)))
    assert touched.commit() == [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=60)]
    files = window_files(1, T0, HOUR)
    assert len(files) == 2 and all(f.startswith("flows/1/window=") for f in files)
    edges, nodes = read_partials(files)
    assert edges["flows"].sum() == 2 and nodes.height > 0
    assert read_connections(1, T0, HOUR).height == 2
    # the same upload ingested again replaces its files whole
    again = UploadWriter(tenant_id=1, upload_id=7, fmt="csv")
    again.add(frame(T0 + timedelta(minutes=1)))
    assert again.commit() == [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=60)]
    assert read_connections(1, T0, 2 * HOUR).height == 1
    assert window_files(2, T0, HOUR) == []  # another tenant sees nothing
    # (a folder keeps the emptied 10:05 partition, a bucket has no empty prefixes)
    assert expire_flow_partitions(1, T0 + timedelta(minutes=30), received_before=LATER) == (2 if store_backend == "local" else 1)
    assert read_connections(1, T0, HOUR).height == 0
    assert read_connections(1, T0 + timedelta(hours=1), HOUR).height == 0  # 11:00 was replaced by nothing


def test_retention_keeps_old_flows_received_within_retention(store_backend: str) -> None:
    writer = UploadWriter(tenant_id=1, upload_id=7, fmt="csv")
    writer.add(frame(T0, T0 + timedelta(minutes=61)))
    writer.commit()
    written = [info.written_ns for info in get_store().listing("flows/1")]
    assert len(written) >= 2 and all(abs(ns / 1e9 - datetime.now(UTC).timestamp()) < 120 for ns in written)
    # flows of March, received just now: past a cut-off by flow time, not by when they came
    assert expire_flow_partitions(1, T0 + timedelta(hours=2), received_before=datetime.now(UTC) - timedelta(days=30)) == 0
    assert read_connections(1, T0, 2 * HOUR).height == 2
    # both ages past the cut-off: only the partitions whose flows end before it go
    assert expire_flow_partitions(1, T0 + timedelta(minutes=30), received_before=LATER) == 1
    assert read_connections(1, T0, 2 * HOUR).height == 1


def test_sidecars_layouts_detection_and_enrichment(store_backend: str) -> None:
    end = T0 + timedelta(hours=1)
    node = NodeRecord("ip:10.0.0.1", "10.0.0.1", "ip", None, {}, ("10.0.0.1",))
    edge = EdgeRecord("ip:10.0.0.1", "ip:10.0.0.2", 443, "tcp", 100, 1, 1, 0, T0, T0, (1.5,), 0)
    assert write_engine_snapshot(1, T0, end, [node], [edge]) is True
    first = sidecar_fingerprint(1, T0)
    assert write_engine_snapshot(1, T0, end, [node], [edge]) is False  # same bytes: kept
    assert sidecar_fingerprint(1, T0) == first is not None
    snapshot = load_engine_snapshot(1, T0, end)
    assert snapshot is not None and snapshot.edges[0].conn_starts == (1.5,)
    assert load_engine_snapshot(1, T0, end + timedelta(hours=1)) is None  # other bounds count as absent
    assert load_engine_snapshot(2, T0, end) is None

    save_layout(1, 10, Layout(nodes={"a": (1.0, 2.0)}, groups={}))
    assert load_layout(1, 10) == Layout(nodes={"a": (1.0, 2.0)}, groups={})
    assert load_layout(2, 10) is None

    history = pl.DataFrame({"ts": [T0.timestamp() + 10.0], "src_ip": ["10.0.0.1"]})
    state = DetectionState(observed_from=T0.timestamp(), beacon_history=history)
    detection.save_state(1, (T0.timestamp(), end.timestamp()), state, detection.StateMeta(window_end=end.timestamp()))
    loaded, meta = detection.load_state(1, until=end.timestamp())
    assert meta.window_end == end.timestamp() and loaded.beacon_history is not None
    assert loaded.beacon_history["src_ip"].to_list() == ["10.0.0.1"]

    staged = get_store().staging_dir("flows/1/.staging/enrich-test") / "upload-5.parquet"
    staged.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame([("8.8.8.8", 15169, "Google LLC", "US")], schema=enrichment.STORE_SCHEMA,
                 orient="row").write_parquet(staged)
    enrichment.publish(1, 5, staged)
    assert enrichment.enrichment_of(tenant_id=1, addresses=["8.8.8.8"]) == {"8.8.8.8": (15169, "Google LLC", "US")}
    assert enrichment.enrichment_of(tenant_id=2, addresses=["8.8.8.8"]) == {}


@pytest.mark.parametrize("part", ["..", ".", "", "a/b", "../1", ".hidden", "x\x00", "a\\b", "é", "a" * 201])
def test_a_key_part_from_outside_is_checked(part: str) -> None:
    with pytest.raises(UnsafeKey):
        tenant_key("uploads", 1, part)


@pytest.mark.parametrize("tenant", [0, -1, True, "1", 1.0, None])
def test_a_tenant_prefix_is_a_positive_integer(tenant: object) -> None:
    with pytest.raises(UnsafeKey):
        tenant_key("flows", tenant)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["/etc/passwd", "flows/1/../2/x", "flows//1", "flows/1/", "", "flows/./1"])
def test_a_whole_key_is_checked(key: str) -> None:
    with pytest.raises(UnsafeKey):
        check_key(key)


def test_every_store_operation_refuses_a_key_leaving_the_store(store_backend: str) -> None:
    store = get_store()
    store.put_bytes("uploads/1/upload-1", b"mine")
    for bad in ("../outside", "uploads/1/../../outside", "/tmp/outside"):
        with pytest.raises(UnsafeKey):
            store.put_bytes(bad, b"x")
        with pytest.raises(UnsafeKey):
            store.get_bytes(bad)
        with pytest.raises(UnsafeKey):
            store.delete(bad)
        with pytest.raises(UnsafeKey):
            store.listing(bad)


def test_refs_of_other_places_are_refused_and_never_deleted(store_backend: str, tmp_path: Path) -> None:
    store = get_store()
    store.put_bytes("uploads/1/upload-1", b"mine")
    ref = store.ref("uploads/1/upload-1")
    assert store.key_of_ref(ref) == "uploads/1/upload-1"
    outside = tmp_path / "outside"
    outside.write_bytes(b"not the store's")
    forged = [str(outside), f"{store.url}/../outside", f"{store.url}/uploads/1/../../x", "s3://another-bucket/x",
              f"{store.url}-other/uploads/1/upload-1", f"{store.url}/uploads/1/../../flows/1/x"]
    for bad in forged:
        with pytest.raises(UnsafeKey):
            store.key_of_ref(bad)
    store.put_bytes("flows/1/x", b"flows are not uploads")
    assert delete_refs([*forged, store.ref("flows/1/x"), ref]) == 1
    assert store.get_bytes("flows/1/x") == b"flows are not uploads"
    assert outside.exists() and store.head("uploads/1/upload-1") is None
