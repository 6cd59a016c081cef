"""The `sg` command line (docs/architecture.md, "CLI").

`sg` is timed end to end (`sg ingest --wait`, docs/benchmarks.md), so its start-up is kept small: this module
imports only click, and each command's module is imported when that command is used (`LazyGroup`). Command
modules import the database, polars and Redis inside their commands (`heavy_imports`), so `sg --help` and
`sg ingest --help` answer without loading them.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

import click

T = TypeVar("T")

# name → (module, attribute, the one-line help `sg --help` lists without importing the module);
# tests/integration/test_cli.py checks that each line matches the command's own help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "db": ("jobs.cli.admin", "db", "Database maintenance."),
    "demo": ("jobs.cli.admin", "demo", "The demo tenant."),
    "ingest": ("jobs.cli.ingest", "ingest",
               "Push flow files (gzip allowed) to the tenant; a worker parses them into snapshots."),
    "tenant": ("jobs.cli.admin", "tenant", "Manage tenants."),
    "token": ("jobs.cli.admin", "token", "Manage API tokens."),
    "user": ("jobs.cli.admin", "user", "Manage users."),
}

# Set when `sg` runs as the console script (not when a test or another program calls `main`).
_script = False


@contextlib.contextmanager
def heavy_imports() -> Iterator[None]:
    """Import a command's dependencies (SQLAlchemy, polars …: about a million objects) without cyclic-GC passes.

    Every pass would walk all of them again although module-level objects live as long as the process. For the
    console script they are also frozen afterwards, so later passes and the collection at exit skip them too
    (that collection alone costs ~0.5 s with these modules loaded).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _script:
            gc.freeze()
        if was_enabled:
            gc.enable()


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Run one coroutine, turning expected errors into a clear message and exit code 1."""
    import asyncio

    with heavy_imports():
        from models.db import dispose_engines
        from models.errors import SecureGuardError

    async def main() -> T:
        try:
            return await make()
        finally:
            await dispose_engines()

    try:
        return asyncio.run(main())
    except (SecureGuardError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


class LazyGroup(click.Group):
    """A group whose subcommands (`COMMANDS`) are imported only when used."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, attribute, _ = self.lazy[cmd_name]
            with heavy_imports():
                command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the registry's one-liners: `sg --help` imports no command module."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = []
        for name in names:
            if name in self.commands:
                if self.commands[name].hidden:
                    continue
                rows.append((name, self.commands[name].get_short_help_str(limit)))
            else:
                rows.append((name, click.Command(name, help=self.lazy[name][2]).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(
        self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
        standalone_mode: bool = True, **extra: Any,
    ) -> Any:
        global _script
        # The console script calls `main()` with no arguments; CliRunner and other callers pass them.
        _script = _script or (args is None and standalone_mode)
        try:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        finally:
            if _script:
                sys.stdout.flush()
                sys.stderr.flush()
                gc.freeze()  # objects made since the last freeze: skip them in the collection at exit too


@click.group(cls=LazyGroup, lazy=COMMANDS)
def main() -> None:
    """SecureGuard: network drift sentinel. Settings come from SG_* environment variables."""
