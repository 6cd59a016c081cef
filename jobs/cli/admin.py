"""`sg tenant|user|token|db|demo …`: the administrative commands of the `sg` CLI (docs/architecture.md, "CLI").

Imported by `jobs.cli.main.LazyGroup` only when one of these commands is used.
"""

from __future__ import annotations

import os
import sys

import click

from jobs.cli.main import run
from jobs.cli.migrate_sqlite import migrate_sqlite
from models.db import session_scope
from models.errors import NotFound
from models.queries import tenancy
from models.queries.audit import record_audit
from models.tenancy import ROLES


@click.group()
def tenant() -> None:
    """Manage tenants."""


@tenant.command("create")
@click.argument("name")
def tenant_create(name: str) -> None:
    """Create a tenant and print its id."""

    async def go() -> int:
        async with session_scope() as session:
            row = await tenancy.create_tenant(session, name=name)
            return row.id or 0

    click.echo(run(go))


@tenant.command("set-window")
@click.argument("name")
@click.argument("window", type=click.Choice(["5m", "10m", "15m", "30m", "1h", "2h", "3h", "6h", "12h", "24h"]))
def tenant_set_window(name: str, window: str) -> None:
    """Set the tenant's snapshot window (new builds use it)."""
    seconds = int(window[:-1]) * (3600 if window.endswith("h") else 60)

    async def go() -> None:
        async with session_scope() as session:
            row = await tenancy.get_tenant_by_name(session, name=name)
            await tenancy.set_window_seconds(session, tenant_id=row.id or 0, seconds=seconds)

    run(go)
    click.echo(f"tenant {name}: snapshot window {window}", err=True)


@click.group()
def user() -> None:
    """Manage users."""


def _read_password() -> str:
    if os.environ.get("SG_PASSWORD"):
        return os.environ["SG_PASSWORD"]
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\n")


@user.command("create")
@click.option("--tenant", "tenant_name", required=True, help="Tenant name.")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
def user_create(tenant_name: str, email: str, role: str) -> None:
    """Create a local user; the password comes from stdin or SG_PASSWORD."""
    password = _read_password()

    async def go() -> int:
        async with session_scope() as session:
            row = await tenancy.get_tenant_by_name(session, name=tenant_name)
            created = await tenancy.create_user(
                session, tenant_id=row.id or 0, email=email, role=role, password=password
            )
            return created.id or 0

    click.echo(run(go))


@click.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.option("--tenant", "tenant_name", required=True, help="Tenant name.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", default="cli", show_default=True, help="A label to recognise the token by.")
@click.option("--user", "user_email", default="",
              help="The user the token acts for (at most their role; it ends with theirs).")
@click.option("--service", default="", help="A service the token acts for instead (at most analyst; never approves). "
              "Default: the token's --name.")
def token_create(tenant_name: str, role: str, name: str, user_email: str, service: str) -> None:
    """Print a new API token, alone on stdout (it is shown only once)."""
    if user_email and service:
        raise click.UsageError("a token acts for a --user or a --service, not both")

    async def go() -> str:
        async with session_scope() as session:
            row = await tenancy.get_tenant_by_name(session, name=tenant_name)
            user_id, who = None, f"service {service or name}"
            if user_email:
                user = await tenancy.find_user_by_email(session, email=user_email)
                if user is None or user.tenant_id != row.id:
                    raise NotFound(f"no user {user_email!r} in tenant {tenant_name!r}")
                user_id, who = user.id, user.email
            token, secret = await tenancy.create_api_token(
                session, tenant_id=row.id or 0, role=role, name=name, user_id=user_id,
                service="" if user_id else service or name, created_by="cli",
            )
            await record_audit(session, tenant_id=row.id or 0, actor="cli", action="token.create",
                               target=f"{token.prefix} ({name}) for {who}", after={"role": role, "name": name})
            return secret

    click.echo(run(go))


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from models.migrate import upgrade

    upgrade()
    click.echo("database is up to date", err=True)


db.add_command(migrate_sqlite)


@click.group()
def demo() -> None:
    """The demo tenant."""


@demo.command("seed")
def demo_seed() -> None:
    """Create the demo tenant and its users when missing (safe to run again)."""
    from jobs.demo.seed import DEMO_USERS, seed_demo

    created, what = run(seed_demo)
    click.echo(f"demo tenant {'created' if created else 'ready'}: {what}", err=True)
    for email, role, password in DEMO_USERS:
        click.echo(f"  {role:<9} {email}  password: {password}", err=True)
