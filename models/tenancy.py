"""Tenants, users, web sessions and API tokens."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.types import json_column, ts_column, utcnow

Role = Literal["admin", "approver", "analyst", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "approver", "analyst", "viewer")
# Higher rank includes the rights of every lower one.
ROLE_RANK: dict[str, int] = {"viewer": 0, "analyst": 1, "approver": 2, "admin": 3}


# Tenant settings and their defaults; `Tenant.setting` reads through these.
TENANT_DEFAULTS: dict[str, Any] = {
    "window_seconds": 3600, "baseline_windows": 24, "four_eyes": True, "criticality": {}, "retention_days": 30,
    "home_networks": [], "sensors": [], "home_private": True, "policy_min_observation_hours": 24,
    # monitor mode's readiness rule (models.queries.namespaces): days in monitor, open violations allowed
    "readiness_days": 7, "readiness_max_open": 0,
}
MAX_BASELINE_WINDOWS = 24 * 14
WINDOW_CHOICES = (300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


class Tenant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, sa_column_kwargs={"unique": True})
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))

    @property
    def window_seconds(self) -> int:
        """The snapshot window (5 min – 24 h, a multiple of 5 min)."""
        value = int(self.settings.get("window_seconds", TENANT_DEFAULTS["window_seconds"]))
        return value if value in WINDOW_CHOICES else int(TENANT_DEFAULTS["window_seconds"])

    @property
    def baseline_windows(self) -> int:
        """How many past windows the drift baseline summarises (1 – two weeks of hours)."""
        value = self.settings.get("baseline_windows", TENANT_DEFAULTS["baseline_windows"])
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BASELINE_WINDOWS:
            return int(TENANT_DEFAULTS["baseline_windows"])
        return value

    @property
    def retention_days(self) -> int:
        """How long raw flows are kept (1 day – 2 years)."""
        value = self.settings.get("retention_days", TENANT_DEFAULTS["retention_days"])
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 730:
            return int(TENANT_DEFAULTS["retention_days"])
        return value

    @property
    def criticality(self) -> dict[str, float]:
        """Asset-criticality rules, e.g. {"tier=db": 1.0}; the drift engine validates the weights."""
        value = self.settings.get("criticality", TENANT_DEFAULTS["criticality"])
        return {str(k): float(v) for k, v in value.items()} if isinstance(value, dict) else {}

    @property
    def home_networks(self) -> list[str]:
        """The CIDRs the tenant calls home besides its sensors and the private ranges (Zeek's Site::local_nets)."""
        return _stored_list(self.settings.get("home_networks"), normalise_network, MAX_HOME_NETWORKS)

    @property
    def sensors(self) -> list[str]:
        """The addresses of the tenant's sensors: home hosts even when public (an internet-facing sensor)."""
        return _stored_list(self.settings.get("sensors"), normalise_sensor, MAX_SENSORS)

    @property
    def policy_min_observation_hours(self) -> int:
        """Below this many hours of observed flows a generated policy carries a warning (1 h – 90 days)."""
        value = self.settings.get("policy_min_observation_hours", TENANT_DEFAULTS["policy_min_observation_hours"])
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24 * 90:
            return int(TENANT_DEFAULTS["policy_min_observation_hours"])
        return value

    @property
    def home_private(self) -> bool:
        """Whether the private and unique-local ranges count as home (the default)."""
        value = self.settings.get("home_private", TENANT_DEFAULTS["home_private"])
        return value if isinstance(value, bool) else bool(TENANT_DEFAULTS["home_private"])


# Home networks (docs/detection.md step 3): what the tenant calls its own. Caps keep the per-window address
# classification cheap (one range test per network) and the settings JSON small.
MAX_HOME_NETWORKS = 256
MAX_SENSORS = 64
# Longer than any IPv6 CIDR: whatever it is, it is not an address, and a message quotes at most this much of it.
_ENTRY_CHARS = 64
HomeField = Literal["home_networks", "sensors"]
_FIELD_LABEL: dict[str, str] = {"home_networks": "home network", "sensors": "sensor"}


def _quoted(value: str) -> str:
    return f'"{value[:_ENTRY_CHARS]}…"' if len(value) > _ENTRY_CHARS else f'"{value}"'


def normalise_network(value: str) -> str:
    """A home network in its canonical form ("10.1.0.0/16", "2001:db8::/32"; an address alone is its host network).

    Raises ValueError saying why: host bits set (and the network it meant), a zone index, the whole address space,
    or not a network at all."""
    text = value.strip()
    if "%" in text:
        raise ValueError("a zone index (%…) does not belong in a home network")
    if len(text) > _ENTRY_CHARS:
        raise ValueError("too long to be a network")
    try:
        network = ipaddress.ip_network(text)
    except ValueError:
        try:
            meant = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError("not a network: write a CIDR such as 192.0.2.0/24 or 2001:db8::/32, "
                             "or one address") from None
        if meant.prefixlen == 0:
            raise ValueError("that is every address: nothing would be outside home") from None
        host = ipaddress.ip_interface(text).ip
        raise ValueError(f"host bits are set: the network is {meant} (or write {host} alone for that one host)"
                         ) from None
    if network.prefixlen == 0:
        raise ValueError("that is every address: nothing would be outside home")
    return str(network)


def normalise_sensor(value: str) -> str:
    """A sensor's address in its canonical form ("64.225.56.201", "2001:db8::1").

    Raises ValueError saying why: a network rather than one address, a zone index, not a host's address."""
    text = value.strip()
    if "%" in text:
        raise ValueError("a zone index (%…) does not belong in a sensor address")
    if len(text) > _ENTRY_CHARS:
        raise ValueError("too long to be an address")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError("not an IP address (one per line, such as 64.225.56.201)") from None
        if network.num_addresses == 1:
            raise ValueError(f"a sensor is one address: write {network.network_address} alone") from None
        raise ValueError(f"a sensor is one address, not a network: put {network} under home networks") from None
    if address.is_unspecified or address.is_multicast:
        raise ValueError("no host has this address (unspecified or multicast)")
    return str(address)


@dataclass(frozen=True)
class HomeProblem:
    """One thing wrong with the home settings given: `index` is the entry's position (None: the list as a whole)."""

    field: HomeField
    index: int | None
    value: str
    reason: str

    def __str__(self) -> str:
        label = _FIELD_LABEL[self.field]
        if self.index is None:
            return f"{label}s: {self.reason}"
        return f"{label} {self.index + 1} {_quoted(self.value)}: {self.reason}"


@dataclass(frozen=True)
class HomeCheck:
    """Home settings as given, normalised and deduplicated in their order, and what is wrong with them."""

    networks: list[str]
    sensors: list[str]
    problems: list[HomeProblem]
    duplicates: int


def _check_list(field: HomeField, values: Sequence[object], normalise: Callable[[str], str],
                cap: int) -> tuple[list[str], list[HomeProblem], int]:
    label = _FIELD_LABEL[field]
    if len(values) > 4 * cap:  # not worth parsing: far past the cap even with duplicates
        return [], [HomeProblem(field, None, "", f"{cap} {label}s at most ({len(values)} given)")], 0
    found: dict[str, None] = {}
    problems: list[HomeProblem] = []
    duplicates = 0
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            problems.append(HomeProblem(field, index, str(value), "empty or not text"))
            continue
        try:
            normal = normalise(value)
        except ValueError as exc:
            problems.append(HomeProblem(field, index, value.strip(), str(exc)))
            continue
        duplicates += normal in found
        found[normal] = None
    if len(found) > cap:
        hint = ": merge neighbours into wider networks" if field == "home_networks" else ""
        problems.append(HomeProblem(field, None, "", f"{cap} {label}s at most ({len(found)} different given){hint}"))
    return list(found), problems, duplicates


def check_home(networks: Sequence[object], sensors: Sequence[object]) -> HomeCheck:
    """Validate home networks and sensor addresses with `ipaddress`: every problem, each with its entry."""
    nets, net_problems, net_dups = _check_list("home_networks", networks, normalise_network, MAX_HOME_NETWORKS)
    hosts, host_problems, host_dups = _check_list("sensors", sensors, normalise_sensor, MAX_SENSORS)
    return HomeCheck(nets, hosts, [*net_problems, *host_problems], net_dups + host_dups)


def _stored_list(value: object, normalise: Callable[[str], str], cap: int) -> list[str]:
    """A stored list of addresses or networks; anything that does not check (hand-edited JSON) reads as []."""
    if not isinstance(value, list) or len(value) > cap or not all(isinstance(v, str) for v in value):
        return []
    try:
        return list(dict.fromkeys(normalise(v) for v in value))
    except ValueError:
        return []


class User(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("email", name="uq_user_email"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    email: str = Field(max_length=254)
    display_name: str = Field(default="", max_length=120)
    role: str = Field(max_length=16)
    password_hash: str | None = Field(default=None, max_length=255)
    oidc_subject: str | None = Field(default=None, max_length=255, index=True)
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    last_login_at: datetime | None = Field(default=None, sa_column=ts_column())


class UserSession(SQLModel, table=True):
    """A server-side web session; the browser holds only the random id in an HttpOnly cookie."""

    __tablename__ = "user_session"

    # sha256 of the cookie value, so a database leak does not hand out live sessions.
    id: str = Field(primary_key=True, max_length=64)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    expires_at: datetime = Field(sa_column=ts_column(nullable=False))
    client_ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)


class ApiToken(SQLModel, table=True):
    """A bearer token of one tenant. It acts for one user (`user_id`) or one named service (`service`), never
    for whoever happened to create it (`created_by` is only the record of that)."""

    __tablename__ = "api_token"
    __table_args__ = (sa.CheckConstraint("(user_id IS NULL) <> (service = '')", name="ck_api_token_one_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    name: str = Field(default="", max_length=80)
    role: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    prefix: str = Field(max_length=16)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    service: str = Field(default="", max_length=80)
    created_by: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=ts_column())
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column())


# A service is not a person: its tokens may read, push flows and run jobs, never approve or administer.
SERVICE_MAX_ROLE: Role = "analyst"
SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
SERVICE_PREFIX = "service:"
# Actors are stored in 254 characters, so a token's actor names at most this much of its person.
PERSON_CHARS = 200
_TOKEN_ACTOR = re.compile(r"^token:\S+ \((.+)\)$")


def lower_role(first: str, second: str) -> str:
    """The lower of two roles."""
    return first if ROLE_RANK[first] <= ROLE_RANK[second] else second


def token_role(token: ApiToken, user: User | None) -> str:
    """What a token may do now: its own role, never more than its user's current role (or a service's cap)."""
    return lower_role(token.role, user.role if user is not None else SERVICE_MAX_ROLE)


def token_actor(token: ApiToken, user: User | None) -> str:
    """How a token is named in audits and reviews: `token:<prefix> (<user email>)` or `(service:<name>)`."""
    person = user.email if user is not None else f"{SERVICE_PREFIX}{token.service}"
    return f"token:{token.prefix} ({person[:PERSON_CHARS]})"


def person_of(actor: str) -> str:
    """The person behind an actor (`token_actor`): `token:ab12cd (alice@example.com)` → `alice@example.com`.

    A user's email is unique, so equal persons are the same user; a service (`service:<name>`) is nobody's
    person and holds no role that approves. A token actor without a person (older audits) stands for itself.
    """
    match = _TOKEN_ACTOR.match(actor)
    return (match.group(1) if match else actor)[:PERSON_CHARS]
