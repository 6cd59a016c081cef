"""The `sg` CLI against real PostgreSQL and Redis, with a real worker for `ingest --wait`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from models.db import session_scope
from models.queries import graph as graph_queries
from models.queries import jobs as job_queries
from models.queries import tenancy
from models.queries.audit import list_audit
from tests.conftest import ROOT, SHARED_DATA

pytestmark = pytest.mark.integration
SG = str(ROOT / ".venv/bin/sg")


async def sg(*args: str, stdin: str = "") -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        SG, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    out, err = await proc.communicate(stdin.encode())
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.fixture
def data_dir(app_ctx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from models.settings import get_settings

    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return tmp_path / "data"


async def test_tenant_user_and_token_commands(app_ctx: str) -> None:
    code, out, _ = await sg("tenant", "create", "acme")
    assert code == 0 and out.strip().isdigit()
    code, out, _ = await sg("user", "create", "--tenant", "acme", "--email", "Ann@Acme.io", "--role", "analyst",
                            stdin="long-enough-pw\n")
    assert code == 0
    code, token, _ = await sg("token", "create", "--tenant", "acme", "--role", "analyst")
    assert code == 0 and token.strip().startswith("sg_") and len(token.strip().splitlines()) == 1
    async with session_scope() as session:
        user = await tenancy.authenticate(session, email="ann@acme.io", password="long-enough-pw")
        assert user is not None and user.role == "analyst"
        assert await tenancy.authenticate_token(session, secret=token.strip()) is not None
        [entry] = await list_audit(session, tenant_id=user.tenant_id, action="token.create")
    assert entry.actor == "cli" and entry.after == {"role": "analyst", "name": "cli"}
    assert token.strip() not in str(entry.target) + str(entry.after)


async def test_clear_errors_for_duplicates_unknown_tenants_and_roles(app_ctx: str) -> None:
    await sg("tenant", "create", "acme")
    code, _, err = await sg("tenant", "create", "acme")
    assert code == 1 and "already exists" in err
    code, _, err = await sg("token", "create", "--tenant", "nope", "--role", "viewer")
    assert code == 1 and "no tenant named 'nope'" in err
    code, _, err = await sg("user", "create", "--tenant", "acme", "--email", "x@y.z", "--role", "root", stdin="pw12345678\n")
    assert code == 2 and "root" in err
    code, _, err = await sg("user", "create", "--tenant", "acme", "--email", "x@y.z", "--role", "viewer", stdin="short\n")
    assert code == 1 and "at least 8" in err


async def test_ingest_wait_builds_hourly_snapshots(data_dir: Path, worker_factory: Any) -> None:
    await sg("tenant", "create", "acme")
    files = sorted((SHARED_DATA / "zeek/rita-missing-host/2024-04-19").glob("*.log.gz"))[:3]
    async with worker_factory():
        code, _, err = await sg("ingest", *map(str, files), "--tenant", "acme", "--wait")
    assert code == 0, err
    assert "accepted" in err and "windows" in err
    async with session_scope() as session:
        tenant = await tenancy.get_tenant_by_name(session, name="acme")
        snapshots = await graph_queries.list_snapshots(session, tenant_id=tenant.id or 0)
    # ts is the connection start: three hourly files reach back past their own hours.
    assert len(snapshots) >= 3 and all(s.edge_count > 0 for s in snapshots)


async def test_ingest_exits_non_zero_when_a_file_is_rejected(data_dir: Path, tmp_path: Path) -> None:
    await sg("tenant", "create", "acme")
    png = tmp_path / "diagram.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    code, _, err = await sg("ingest", str(png), "--tenant", "acme")
    assert code == 1 and "PNG" in err and "1 of 1 files rejected" in err


async def test_unknown_tenant_leaves_no_copy_behind(data_dir: Path, tmp_path: Path) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text("ts_start,src_ip,dst_ip\n2024-04-19T00:00:00Z,10.0.0.1,10.0.0.2\n")
    code, _, err = await sg("ingest", str(flows), "--tenant", "nope")
    assert code == 1 and "no tenant named 'nope'" in err
    assert [p for p in data_dir.rglob("*") if p.is_file()] == []


async def test_ingest_stores_a_copy_and_queues_its_parse(data_dir: Path) -> None:
    await sg("tenant", "create", "acme")
    source = sorted((SHARED_DATA / "zeek/rita-missing-host/2024-04-19").glob("*.log.gz"))[0]
    code, _, err = await sg("ingest", str(source), "--tenant", "acme")
    assert code == 0, err
    async with session_scope() as session:
        tenant = await tenancy.get_tenant_by_name(session, name="acme")
        [upload] = await graph_queries.list_uploads(session, tenant_id=tenant.id or 0)
        [run] = await job_queries.list_job_runs(session, tenant_id=tenant.id or 0)
    stored = Path(upload.stored_path)
    assert stored == data_dir / "uploads" / str(tenant.id) / f"upload-{upload.id}"
    assert stored.read_bytes() == source.read_bytes() and upload.size_bytes == source.stat().st_size
    assert (upload.filename, upload.created_by, upload.status) == (source.name, "cli", "received")
    assert (run.name, run.status, run.params, run.triggered_by) == ("ingest_flows", "queued",
                                                                   {"upload_id": upload.id}, "cli")
    assert not list(data_dir.rglob(".incoming-*")), "the temporary copy is renamed, never left behind"


async def test_a_file_over_the_size_limit_is_rejected_and_the_others_go_through(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sg("tenant", "create", "acme")
    monkeypatch.setenv("SG_MAX_UPLOAD_BYTES", "2048")
    small = tmp_path / "small.csv"
    small.write_text("ts_start,src_ip,dst_ip\n2024-04-19T00:00:00Z,10.0.0.1,10.0.0.2\n")
    big = tmp_path / "big.csv"
    big.write_text("ts_start,src_ip,dst_ip\n" + "2024-04-19T00:00:00Z,10.0.0.1,10.0.0.2\n" * 100)
    code, _, err = await sg("ingest", str(big), str(small), "--tenant", "acme")
    assert code == 1 and "larger than the limit of 2048 bytes" in err and "1 of 2 files rejected" in err
    async with session_scope() as session:
        tenant = await tenancy.get_tenant_by_name(session, name="acme")
        uploads = await graph_queries.list_uploads(session, tenant_id=tenant.id or 0)
    assert [u.filename for u in uploads] == ["small.csv"]
    assert sorted(p.name for p in data_dir.rglob("*") if p.is_file()) == [f"upload-{uploads[0].id}"]


def _loaded_after(args: list[str]) -> set[str]:
    """Which of the slow-to-import packages `sg ARGS` loads (run in a fresh interpreter)."""
    code = ("import sys\nfrom jobs.cli.main import main\ntry:\n    main(" + repr(args) + ")\nexcept SystemExit:\n    pass\n"
            "heavy = ('sqlalchemy', 'sqlmodel', 'polars', 'pyarrow', 'redis', 'arq', 'rich', 'pydantic', 'reflex',"
            " 'models', 'asyncio')\nprint(' '.join(m for m in heavy if m in sys.modules), file=sys.stderr)")
    err = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stderr
    return set(err.split())


def test_help_imports_nothing_heavy() -> None:
    assert _loaded_after(["--help"]) == set()
    assert _loaded_after(["ingest", "--help"]) == set()


def test_the_command_list_matches_each_command_and_the_formats_match_the_parser() -> None:
    from jobs.cli.ingest import FORMAT_NAMES
    from jobs.cli.main import COMMANDS, main
    from jobs.engines.flows.formats import FORMAT_ALIASES

    assert tuple(FORMAT_ALIASES) == FORMAT_NAMES
    context = click.Context(main)
    for name, (_, _, line) in COMMANDS.items():
        command = main.get_command(context, name)
        assert command is not None and command.help is not None
        assert " ".join(command.help.split("\n\n")[0].split()) == line, name
