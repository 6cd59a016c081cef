"""`sg db migrate-sqlite`: move a SQLite SecureGuard database to PostgreSQL (`jobs.cli.sqlite_copy` does the copy)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from jobs.cli.main import heavy_imports, run

if TYPE_CHECKING:
    from jobs.cli.sqlite_copy import TableReport


def sqlite_url(source: str) -> str:
    """A file path or a sqlite URL, as an aiosqlite URL; the file must exist (a typo must not copy nothing)."""
    path = source.split(":///", 1)[1] if source.startswith("sqlite") else source
    if not Path(path).is_file():
        raise click.BadParameter(f"no SQLite database at {path}", param_hint="--from")
    return f"sqlite+aiosqlite:///{Path(path).resolve()}"


@click.command("migrate-sqlite")
@click.option("--from", "source", required=True, help="The SQLite database (a path, e.g. data/secureguard.db).")
@click.option("--to", "target", required=True, help="The PostgreSQL URL, postgresql+asyncpg://user@host/db.")
@click.option("--batch-rows", default=5000, show_default=True, type=click.IntRange(1), help="Rows per insert.")
@click.option("--dry-run", is_flag=True, help="Report what would be copied; write nothing.")
def migrate_sqlite(source: str, target: str, batch_rows: int, dry_run: bool) -> None:
    """Copy every table of a SQLite database into PostgreSQL, ids kept; re-running copies nothing new."""
    if not target.startswith("postgresql+asyncpg://"):
        raise click.BadParameter("give a postgresql+asyncpg:// URL", param_hint="--to")
    url = sqlite_url(source)
    with heavy_imports():
        from models.migrate import upgrade
    if not dry_run:
        upgrade(target)  # the project's own migrations create (or update) the schema first
    reports: list[TableReport] = run(lambda: _migrate(url, target, batch_rows, dry_run))
    width = max(len(report.name) for report in reports)
    click.echo(f"{'table':<{width}}  {'source':>8}  {'target':>8}  {'to copy' if dry_run else 'copied':>8}  checksum")
    for r in reports:
        verdict = "equal" if r.equal else ("differs now" if dry_run else "DIFFERS")
        click.echo(f"{r.name:<{width}}  {r.source_rows:>8}  {r.target_rows:>8}  {r.copied:>8}  {verdict}")
    total = sum(r.copied for r in reports)
    if dry_run:
        click.echo(f"dry run: {total} rows would be copied; nothing was written", err=True)
    elif all(r.equal for r in reports):
        click.echo(f"copied {total} rows; every table is equal on both sides", err=True)
    else:
        raise click.ClickException("copied, but some tables differ (rows the target had before?): see above")


async def _migrate(url: str, target: str, batch_rows: int, dry_run: bool) -> list[TableReport]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from jobs.cli import sqlite_copy as copy

    source_engine, target_engine = create_async_engine(url), create_async_engine(target)
    try:
        async with source_engine.connect() as src, target_engine.connect() as dst:
            wanted, have = await copy.revision(src), await copy.revision(dst)
            if wanted is None:
                raise ValueError(f"{url} is not a SecureGuard database (no alembic_version)")
            if have is not None and have != wanted:
                raise ValueError(f"the source is at revision {wanted}, the target at {have}: run `sg db upgrade` "
                                 "on the older one first")
            present = dst if have is not None else None  # None: a fresh target (dry run), every row is new
            reports = []
            for table in copy.tables():
                copied = await copy.copy_table(src, present, table, batch_rows, write=not dry_run)
                if not dry_run:
                    await copy.reset_sequence(dst, table)
                    await dst.commit()
                source_rows, source_sum = await copy.fingerprint(src, table, batch_rows)
                target_rows, target_sum = await copy.fingerprint(present, table, batch_rows)
                reports.append(copy.TableReport(table.name, source_rows, target_rows, copied, source_sum, target_sum))
            if dry_run:
                await dst.rollback()
            return reports
    finally:
        await source_engine.dispose()
        await target_engine.dispose()
