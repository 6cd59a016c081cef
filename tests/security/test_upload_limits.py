"""What one upload may cost (issue 16, finding 3): bytes at the door, decompressed bytes and rows in the worker, disk
per tenant; a refused or rejected upload leaves no file and no partials behind and says why, at every door; and a
parse stops when its job is cancelled instead of burning CPU behind a failed run."""

from __future__ import annotations

import asyncio
import gzip
import io
import resource
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import reflex as rx

from jobs.tasks import ingest
from models.db import session_scope
from models.queries import graph as graph_queries
from models.settings import get_settings
from state.sources import SourcesState
from tests.builders import bearer, make_tenant, settled
from tests.integration.conftest import running_worker
from tests.integration.test_cli import sg
from tests.security.conftest import Seeded, call_handler

pytestmark = pytest.mark.integration
HEADER = b"ts_start,src_ip,dst_ip,dst_port,protocol\n"
START = datetime(2024, 4, 19, tzinfo=UTC)


@pytest.fixture(autouse=True)
def data_dir(app_ctx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every file of the test (uploads, flow store) in its own folder: "nothing left behind" is checkable."""
    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return tmp_path / "data"


@pytest.fixture
async def client(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    from dashboard.api.app import build_api

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_api()), base_url="http://sg.test") as c:
        yield c


def set_limit(monkeypatch: pytest.MonkeyPatch, name: str, value: int) -> None:
    monkeypatch.setenv(name, str(value))
    get_settings.cache_clear()


def files_under(root: Path) -> list[str]:
    """Every file under `root`, as paths relative to it (folders do not count)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def csv_rows(rows: int, *, windows: int = 1) -> bytes:
    """A canonical CSV of `rows` flows on distinct edges, spread over `windows` 5-minute partitions."""
    lines = [HEADER]
    for i in range(rows):
        moment = START + timedelta(minutes=5 * (i % windows))
        lines.append(f"{moment:%Y-%m-%dT%H:%M:%SZ},10.0.{i // 250 % 250}.{i % 250},10.9.0.1,{1 + i % 60000},tcp\n"
                     .encode())
    return b"".join(lines)


def gzip_bomb(inflated: int) -> bytes:
    """A few MB of gzip (members of 16 MiB of one repeated CSV row each) that inflate to `inflated` bytes."""
    row = b"2024-04-19T00:00:00Z,10.0.0.1,10.0.0.2,443,tcp\n"
    block = row * ((16 << 20) // len(row))
    return gzip.compress(HEADER) + gzip.compress(block, compresslevel=9) * (inflated // len(block))


async def push(client: httpx.AsyncClient, token: str, body: bytes) -> httpx.Response:
    return await client.post("/api/v1/flows?format=auto", content=body, headers=bearer(token))


async def upload_of(client: httpx.AsyncClient, token: str, upload_id: int) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/uploads/{upload_id}", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def upload_names(tenant_id: int) -> list[str]:
    async with session_scope() as session:
        return [u.filename for u in await graph_queries.list_uploads(session, tenant_id=tenant_id)]


def peak_rss() -> int:
    """The process's peak resident memory so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def test_a_gzip_bomb_is_refused_by_the_decompressed_limit_without_filling_memory_or_disk(
    client: httpx.AsyncClient, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "SG_MAX_UPLOAD_DECOMPRESSED_BYTES", 64 << 20)
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    bomb = gzip_bomb(4 << 30)
    assert len(bomb) < 16 << 20
    before, started = peak_rss(), time.monotonic()
    async with running_worker():
        pushed = await push(client, a.token, bomb)
        assert pushed.status_code == 202, pushed.text  # small on the wire: only the worker can tell
        await settled(a.tenant_id)
    elapsed, grown = time.monotonic() - started, peak_rss() - before
    upload = await upload_of(client, a.token, pushed.json()["upload_id"])
    assert upload["status"] == "rejected", upload
    assert "decompresses to more than 67,108,864 bytes" in upload["reason"]
    job = (await client.get(f"/api/v1/jobs/{pushed.json()['job_id']}", headers=bearer(a.token))).json()
    assert job["status"] == "failed" and "over the limit per upload" in job["error"]
    assert grown < 1 << 30, f"peak memory grew by {grown / 2**20:.0f} MiB for a 4 GiB bomb"
    assert elapsed < 120, f"refusing the bomb took {elapsed:.1f} s"
    assert files_under(data_dir) == [], "no stored file, no partials, no staging left"
    answer = await client.get(f"/api/v1/uploads/{pushed.json()['upload_id']}", headers=bearer(b.token))
    assert answer.status_code == 404


async def test_a_file_over_a_limit_gets_413_at_the_door_and_leaves_nothing(
    client: httpx.AsyncClient, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "SG_MAX_UPLOAD_BYTES", 64 << 10)
    set_limit(monkeypatch, "SG_MAX_UPLOAD_DECOMPRESSED_BYTES", 16 << 10)
    a = await make_tenant("alpha")
    plain = csv_rows(1_000)
    assert 16 << 10 < len(plain) < 64 << 10
    over = await push(client, a.token, plain)
    assert over.status_code == 413, over.text
    assert over.json()["error"]["code"] == "too_large"
    assert "larger than the limit of 16,384 bytes of flow data per upload" in over.json()["error"]["message"]
    huge = await push(client, a.token, b"x" * (65 << 10))
    assert huge.status_code == 413 and "larger than the limit of 65536 bytes" in huge.json()["error"]["message"]
    assert files_under(data_dir) == [] and await upload_names(a.tenant_id) == []
    # The same rows gzipped pass the door: what they inflate to is the worker's to check.
    accepted = await push(client, a.token, gzip.compress(plain))
    assert accepted.status_code == 202, accepted.text
    assert files_under(data_dir) == [f"uploads/{a.tenant_id}/upload-{accepted.json()['upload_id']}"]


async def test_the_disk_quota_refuses_at_the_door_per_tenant_and_leaves_nothing(
    client: httpx.AsyncClient, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "SG_TENANT_DISK_QUOTA_BYTES", 1 << 20)
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    body = csv_rows(12_000)
    assert 512 << 10 < len(body) < 1 << 20
    first = await push(client, a.token, body)
    assert first.status_code == 202, first.text
    second = await push(client, a.token, body)
    assert second.status_code == 413, second.text
    error = second.json()["error"]
    assert error["code"] == "quota_exceeded" and "disk quota of 1,048,576 bytes" in error["message"]
    assert f"{len(body):,} bytes in use" in error["message"]
    assert files_under(data_dir) == [f"uploads/{a.tenant_id}/upload-{first.json()['upload_id']}"]
    assert await upload_names(a.tenant_id) == ["api-upload"]
    # Each tenant has its own quota.
    other = await push(client, b.token, body)
    assert other.status_code == 202, other.text


async def test_too_many_rows_are_rejected_in_the_worker_with_nothing_landed(
    client: httpx.AsyncClient, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "SG_MAX_UPLOAD_ROWS", 1_000)
    monkeypatch.setattr(ingest, "BATCH_ROWS", 400)  # partials are staged before the limit trips
    a = await make_tenant("alpha")
    async with running_worker():
        pushed = await push(client, a.token, csv_rows(3_000, windows=10))
        assert pushed.status_code == 202, pushed.text
        await settled(a.tenant_id)
    upload = await upload_of(client, a.token, pushed.json()["upload_id"])
    assert upload["status"] == "rejected" and "more than 1,000 rows" in upload["reason"], upload
    assert files_under(data_dir) == []
    assert (await client.get("/api/v1/snapshots", headers=bearer(a.token))).json() == []


async def test_partials_that_would_pass_the_disk_quota_are_rejected_with_nothing_landed(
    client: httpx.AsyncClient, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "SG_TENANT_DISK_QUOTA_BYTES", 1 << 20)
    monkeypatch.setattr(ingest, "BATCH_ROWS", 1_000)
    a = await make_tenant("alpha")
    body = gzip.compress(csv_rows(20_000, windows=2_000))  # small, but 2,000 partitions of partials
    assert len(body) < 256 << 10
    async with running_worker():
        pushed = await push(client, a.token, body)
        assert pushed.status_code == 202, pushed.text
        await settled(a.tenant_id)
    upload = await upload_of(client, a.token, pushed.json()["upload_id"])
    assert upload["status"] == "rejected", upload
    assert "would pass the tenant's disk quota of 1,048,576 bytes" in upload["reason"]
    assert files_under(data_dir) == []


async def test_sg_ingest_refuses_a_file_over_the_quota_and_stores_nothing_of_it(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await sg("tenant", "create", "acme"))[0] == 0
    set_limit(monkeypatch, "SG_TENANT_DISK_QUOTA_BYTES", 1 << 20)
    big, small = tmp_path / "big.csv", tmp_path / "small.csv"
    big.write_bytes(csv_rows(25_000))
    small.write_bytes(csv_rows(10))
    assert big.stat().st_size > 1 << 20
    code, _, err = await sg("ingest", str(big), str(small), "--tenant", "acme")
    assert code == 1 and "1 of 2 files rejected" in err, err
    assert "disk quota of 1,048,576 bytes" in err, err
    uploaded = [p for p in files_under(data_dir) if p.startswith("uploads/")]
    assert len(uploaded) == 1 and uploaded[0].split("/")[-1].startswith("upload-"), uploaded


async def test_the_sources_page_says_why_a_file_was_not_stored(
    two_tenants: tuple[Seeded, Seeded], data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    require_spy: list[tuple[str, bool]],
) -> None:
    alpha, _ = two_tenants
    set_limit(monkeypatch, "SG_TENANT_DISK_QUOTA_BYTES", 1 << 20)
    before = files_under(data_dir)
    files = [rx.UploadFile(file=io.BytesIO(csv_rows(10)), path=Path("small.csv")),
             rx.UploadFile(file=io.BytesIO(csv_rows(25_000)), path=Path("big.csv"))]
    call = await call_handler(SourcesState, "handle_upload", (files,), {}, tenant=alpha, role="analyst",
                              spy=require_spy)
    sources = await call.root.get_state(SourcesState)
    assert sources.upload_error and sources.upload_message.startswith("big.csv was not stored: ")
    assert "disk quota of 1,048,576 bytes" in sources.upload_message
    assert "queued before it: #" in sources.upload_message and "small.csv" in sources.upload_message
    added = sorted(set(files_under(data_dir)) - set(before))
    assert len(added) == 1 and added[0].startswith(f"uploads/{alpha.tenant_id}/upload-"), added


async def test_a_cancelled_parse_stops_at_its_next_batch_and_lands_nothing(
    client: httpx.AsyncClient, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "BATCH_ROWS", 2_000)
    parsed: list[float] = []
    real = ingest.iter_batches

    def counted(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for batch in real(*args, **kwargs):
            parsed.append(time.monotonic())
            yield batch

    monkeypatch.setattr(ingest, "iter_batches", counted)
    a = await make_tenant("alpha", token_role="admin")
    async with running_worker():
        pushed = await push(client, a.token, csv_rows(400_000))  # 200 batches
        assert pushed.status_code == 202, pushed.text
        for _ in range(600):
            if len(parsed) >= 3:
                break
            await asyncio.sleep(0.05)
        cancel = await client.post(f"/api/v1/jobs/{pushed.json()['job_id']}/cancel", headers=bearer(a.token))
        assert cancel.status_code == 200, cancel.text
        await settled(a.tenant_id)
        ended = len(parsed)
        await asyncio.sleep(1.0)
        assert len(parsed) == ended, "the parse went on after its run ended"
    assert ended < 100, f"{ended} of 200 batches were parsed before the cancel took"
    assert not [t.name for t in threading.enumerate() if t.name == "prefetch"]
    job = (await client.get(f"/api/v1/jobs/{pushed.json()['job_id']}", headers=bearer(a.token))).json()
    assert job["status"] == "cancelled", job
    upload = await upload_of(client, a.token, pushed.json()["upload_id"])
    assert upload["status"] == "failed" and "parse stopped" in upload["reason"], upload
    # The stored file stays (a retry parses it again); nothing of the stopped parse landed.
    assert files_under(data_dir) == [f"uploads/{a.tenant_id}/upload-{pushed.json()['upload_id']}"]
