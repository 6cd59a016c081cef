"""`sg ingest PATH… --tenant NAME [--format …] [--wait]`: push flow files, show progress, summarise.

This module imports only click and the standard library, so `sg ingest --help` answers at once. When the
command runs, it starts copying the first file into the data dir (in the kernel, on a background thread)
and meanwhile imports the rest of the work from `jobs.cli.ingest_run`.
"""

from __future__ import annotations

from pathlib import Path

import click

from jobs.cli.main import heavy_imports, run
from jobs.cli.spool import Spooler
from jobs.engines.flows.formats import FORMAT_NAMES


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tenant", "tenant_name", required=True, help="Tenant name.")
@click.option("--format", "fmt", default="auto", show_default=True, type=click.Choice(FORMAT_NAMES))
@click.option("--wait", is_flag=True, help="Follow each file until its snapshots are built.")
def ingest(paths: tuple[Path, ...], tenant_name: str, fmt: str, wait: bool) -> None:
    """Push flow files (gzip allowed) to the tenant; a worker parses them into snapshots."""
    with heavy_imports():
        from models.settings import get_settings
    settings = get_settings()
    spooler = Spooler(paths, settings.upload_dir, settings.max_upload_bytes)
    try:
        with heavy_imports():
            from jobs.cli.ingest_run import ingest_paths
        rejected = run(lambda: ingest_paths(list(paths), tenant_name, fmt, wait, spooler))
    finally:
        spooler.close()
    if rejected:
        raise click.ClickException(f"{rejected} of {len(paths)} files rejected")
