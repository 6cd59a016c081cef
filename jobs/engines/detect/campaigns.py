"""Scans and brute force: many connections from one actor, found per window over a detection frame.

- `scan`: one actor to many ports or many hosts, mostly unanswered. Inbound probes of a home network
  (the internet's background of scanners) are folded into one finding per home network and window, the
  heaviest actors named inside; a home host that scans (outbound or internal) is one finding per actor.
- `brute_force`: many short, answered connections from one actor to an authentication service. Inbound
  ones are folded per home network and service; outbound or internal ones (lateral movement) per actor.

Severity by direction: inbound is low (every public address is knocked on all day); a home host scanning
or guessing passwords is high. A brute force that got in is `intrusions.find_intrusions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from jobs.engines.detect.home import exposed_services
from jobs.engines.detect.records import MANY, Finding, number

# Services that take a password or key per connection, where many short answered connections from one
# actor can only be guessing; (port, protocol) → name.
AUTH_SERVICES: Final[dict[tuple[int, str], str]] = {
    (22, "tcp"): "ssh", (23, "tcp"): "telnet", (3389, "tcp"): "rdp", (445, "tcp"): "smb", (139, "tcp"): "netbios",
    (1433, "tcp"): "mssql", (3306, "tcp"): "mysql", (5432, "tcp"): "postgresql", (1521, "tcp"): "oracle",
    (5900, "tcp"): "vnc", (5985, "tcp"): "winrm", (5986, "tcp"): "winrm-https", (389, "tcp"): "ldap",
    (636, "tcp"): "ldaps", (88, "tcp"): "kerberos", (88, "udp"): "kerberos", (21, "tcp"): "ftp",
    (110, "tcp"): "pop3", (143, "tcp"): "imap", (993, "tcp"): "imaps", (995, "tcp"): "pop3s",
    (587, "tcp"): "smtp-submission", (6379, "tcp"): "redis", (27017, "tcp"): "mongodb", (5060, "udp"): "sip",
}
TOP_ACTORS: Final = 5


@dataclass(frozen=True, slots=True)
class CampaignParams:
    """Thresholds of scan and brute-force detection, each with the reason it holds on unseen traffic."""

    # no client protocol needs ten ports of its peers; failed attempts on ten ports are a port scan
    scan_min_ports: int = 10
    # a client that fails to reach twenty different hosts is sweeping, not working (a dead peer or two is normal)
    scan_min_hosts: int = 20
    # "mostly unanswered": a sweep of a network where many hosts listen still leaves most probes unanswered
    scan_max_answered_share: float = 0.5
    # a person who mistypes retries two or three times; sshd allows 6 guesses per connection, so 10 short
    # connections are already ~60 guesses
    brute_min_attempts: int = 10
    # a failed login is a key exchange and a few messages (ssh ~5 KB, rdp/smb ~10-20 KB on the wire); a median
    # beyond this means the connections did work (automation such as ansible), not guessing
    brute_max_median_bytes: int = 40_000
    # failed logins repeat one exchange (banner, key exchange, refusal), so most of them have about the same size;
    # a database's working clients differ with every query
    brute_min_alike_share: float = 0.6
    # sshd drops an unauthenticated client after 120 s (LoginGraceTime), rdp and smb sooner: a connection
    # lasting five times that was let in
    long_session_s: float = 600.0
    # a slow guesser spreads its attempts over the day to stay under any hourly count
    brute_lookback_s: float = 86_400.0
    # a break-in is used soon: failures older than a day are another campaign
    intrusion_lookback_s: float = 86_400.0
    # a session that got in moves more than the failed exchanges before it; a hung socket moves nothing
    session_bytes_factor: float = 4.0

    def __post_init__(self) -> None:
        if self.scan_min_ports < 2 or self.scan_min_hosts < 2 or self.brute_min_attempts < 2:
            raise ValueError("scan and brute-force minimums must be at least 2: one connection is no campaign")
        if not 0 <= self.scan_max_answered_share < 1 or not 0 <= self.brute_min_alike_share <= 1:
            raise ValueError("scan_max_answered_share must lie in [0, 1) and brute_min_alike_share in [0, 1]")
        if min(self.brute_max_median_bytes, self.long_session_s, self.intrusion_lookback_s, self.brute_lookback_s) <= 0:
            raise ValueError("byte, duration and lookback limits must be positive")
        if self.session_bytes_factor < 1:
            raise ValueError("session_bytes_factor must be at least 1: a session moves at least what a failure does")


def auth_service() -> pl.Expr:
    """The authentication service a flow goes to (its name), or null."""
    keys = [f"{port}/{proto}" for port, proto in AUTH_SERVICES]
    return port_key().replace_strict(keys, list(AUTH_SERVICES.values()), default=None).alias("service")


def port_key() -> pl.Expr:
    """"22/tcp" for a flow, or the bare protocol for icmp (its "ports" are a type and a code)."""
    plain = pl.concat_str(pl.col("dst_port").cast(pl.Utf8).fill_null("?"), pl.lit("/"), pl.col("protocol"))
    return pl.when(pl.col("protocol").str.starts_with("icmp")).then(pl.col("protocol")).otherwise(plain)


def initiatives(frame: pl.DataFrame) -> pl.DataFrame:
    """Flows that someone started on purpose: not ICMP answers, not multicast/broadcast, not transit."""
    keep = ~pl.col("icmp_reply") & ~pl.col("local_scope") & (pl.col("direction") != "transit")
    return frame.filter(keep).with_columns(port_key().alias("port"))


def find_campaigns(frame: pl.DataFrame, params: CampaignParams | None = None, *,
                   history: pl.DataFrame | None = None) -> list[Finding]:
    """Scan and brute-force findings of one window's detection frame.

    `history` (the `auth_rows` of the sensor's earlier windows, a day of them) lets a slow guesser qualify: an
    actor is a brute-forcer when its attempts within `brute_lookback_s` reach the minimum,
    while each finding counts only the window's own attempts (so incidents never count one twice)."""
    params = params or CampaignParams()
    flows = initiatives(frame)
    if flows.height == 0:
        return []
    past = None if history is None or history.height == 0 else history
    return [*_inbound_scans(flows, params), *_home_scans(flows, params), *_brute_forces(flows, params, past)]


def auth_rows(frame: pl.DataFrame, params: CampaignParams | None = None) -> pl.DataFrame:
    """The short answered connections to authentication services of a detection frame, with their `port` and
    `service`: what brute-force and intrusion detection look back on (a small share of traffic, kept a day)."""
    return _attempts(initiatives(frame), params or CampaignParams())


def _actor_stats(flows: pl.DataFrame, keys: list[str], where: pl.Expr | None = None) -> pl.DataFrame:
    """Per key: counts first, then (for the keys that pass `where` only: lists are what costs) the first and
    last time, the sources, hosts and ports by count."""
    failed = ~pl.col("answered")
    counts = flows.group_by(keys).agg(
        pl.len().alias("attempts"), pl.col("answered").sum().alias("answered"),
        pl.col("port").filter(failed).n_unique().alias("failed_ports"),
        pl.col("dst_ip").filter(failed).n_unique().alias("failed_hosts"),
    )
    if where is not None:
        counts = counts.filter(where)
        flows = flows.join(counts.select(keys), on=keys, how="semi")
    details = flows.group_by(keys).agg(
        pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"),
        pl.col("src_ip").unique().alias("sources"), pl.col("dst_ip").unique().alias("hosts"),
        pl.col("port").value_counts(sort=True).struct.field("port").alias("ports"),
    )
    return counts.join(details, on=keys, nulls_equal=True)


def _is_scan(params: CampaignParams) -> pl.Expr:
    wide = (pl.col("failed_ports") >= params.scan_min_ports) | (pl.col("failed_hosts") >= params.scan_min_hosts)
    return wide & (pl.col("answered") <= params.scan_max_answered_share * pl.col("attempts"))


def _inbound_scans(flows: pl.DataFrame, params: CampaignParams) -> list[Finding]:
    """One finding per home network and window: every unanswered probe from outside, however many sources,
    plus what the heavy scanners' probes got answered (the ports that answered a scan are worth naming)."""
    inbound = flows.filter(pl.col("direction") == "inbound")
    scanners = _actor_stats(inbound, ["dst_net", "actor"], _is_scan(params)).sort(
        ["attempts", "actor"], descending=[True, False])
    # a scanner answered by the web server everybody reaches found nothing worth naming
    exposed = exposed_services(flows).select(pl.col("host").alias("dst_ip"), "dst_port", "protocol")
    answered_scans = inbound.filter(pl.col("answered")).join(
        scanners.select("dst_net", "actor"), on=["dst_net", "actor"], how="semi").join(
        exposed, on=["dst_ip", "dst_port", "protocol"], how="anti")
    probes = pl.concat([inbound.filter(~pl.col("answered")), answered_scans])
    if probes.height == 0:
        return []
    found = []
    for row in _actor_stats(probes, ["dst_net"]).iter_rows(named=True):
        heavy = scanners.filter(pl.col("dst_net") == row["dst_net"])
        top = [{"actor": a, "attempts": n, "ports": p, "hosts": h} for a, n, p, h in heavy.select(
            "actor", "attempts", "failed_ports", "failed_hosts").head(TOP_ACTORS).iter_rows()]
        open_ports = answered_scans.filter(pl.col("dst_net") == row["dst_net"])["port"].unique().sort().to_list()
        facts = {"home_net": row["dst_net"], "top_actors": top, "scanners": heavy["actor"].to_list(),
                 "answered_ports": open_ports}
        found.append(_finding("scan", "inbound", MANY, row["dst_net"], row, _inbound_scan_risk(row), facts))
    return found


def _home_scans(flows: pl.DataFrame, params: CampaignParams) -> list[Finding]:
    """A home host that probes many ports or hosts: one finding per actor and direction."""
    mine = flows.filter(pl.col("direction").is_in(["outbound", "internal"]))
    found = []
    for row in _actor_stats(mine, ["actor", "direction"], _is_scan(params)).iter_rows(named=True):
        targets = row["hosts"][0] if len(row["hosts"]) == 1 else MANY
        facts = {"failed_ports": row["failed_ports"], "failed_hosts": row["failed_hosts"]}
        strength = min(1.0, math.log10(max(row["failed_ports"], row["failed_hosts"])) / 3)
        found.append(_finding("scan", row["direction"], row["actor"], targets, row, 60.0 + 19.0 * strength, facts))
    return found


def _attempts(flows: pl.DataFrame, params: CampaignParams) -> pl.DataFrame:
    auth = flows.with_columns(auth_service()).filter(pl.col("service").is_not_null() & pl.col("answered"))
    return auth.filter(pl.col("duration").fill_null(0.0) < params.long_session_s)


def _brute_forces(flows: pl.DataFrame, params: CampaignParams, past: pl.DataFrame | None) -> list[Finding]:
    """Many short answered connections to an authentication service from one actor."""
    short = _attempts(flows, params)
    if short.height == 0:
        return []
    keys = ["actor", "direction", "service", "port"]
    since = number(short["ts"].max()) - params.brute_lookback_s
    pool = short if past is None else pl.concat([past.filter(pl.col("ts") >= since).select(short.columns), short])
    many = pool.group_by(keys).agg(pl.len().alias("day_attempts")).filter(
        pl.col("day_attempts") >= params.brute_min_attempts)
    size, median = pl.col("bytes").cast(pl.Float64), pl.col("bytes").cast(pl.Float64).median()
    # sizes only for the keys with enough attempts: medians are what costs on a day of database clients
    sizes = pool.join(many.select(keys), on=keys, how="semi").group_by(keys).agg(
        median.alias("median_bytes"), ((size - median).abs() <= 0.25 * median).mean().alias("alike"))
    qualified = many.join(sizes, on=keys).filter((pl.col("median_bytes") <= params.brute_max_median_bytes)
                                                 & (pl.col("alike") >= params.brute_min_alike_share))
    brute = _actor_stats(short.join(qualified.select(keys), on=keys, how="semi"), keys).join(qualified, on=keys)
    found = []
    for row in brute.filter(pl.col("direction") != "inbound").iter_rows(named=True):
        target = row["hosts"][0] if len(row["hosts"]) == 1 else MANY
        strength = min(1.0, math.log10(row["day_attempts"]) / 3)
        facts = {"service": row["service"], "median_bytes": row["median_bytes"], "day_attempts": row["day_attempts"]}
        found.append(_finding("brute_force", row["direction"], row["actor"], target, row, 65.0 + 14.0 * strength,
                              facts, service=row["service"]))
    return found + _inbound_brute_forces(short, brute.filter(pl.col("direction") == "inbound"))


def _inbound_brute_forces(short: pl.DataFrame, brute: pl.DataFrame) -> list[Finding]:
    """Inbound guessing folded per home network and service; the actors that guessed are named inside."""
    if brute.height == 0:
        return []
    guessed = short.filter(pl.col("direction") == "inbound").join(
        brute.select("actor", "port"), on=["actor", "port"], how="semi")
    per_actor = guessed.group_by("dst_net", "port", "actor").agg(pl.len().alias("attempts"))
    found = []
    for row in _actor_stats(guessed, ["dst_net", "service", "port"]).iter_rows(named=True):
        actors = per_actor.filter((pl.col("dst_net") == row["dst_net"]) & (pl.col("port") == row["port"])).sort(
            ["attempts", "actor"], descending=[True, False])
        top = [{"actor": a, "attempts": n} for a, n in actors.select("actor", "attempts").head(TOP_ACTORS).iter_rows()]
        facts = {"home_net": row["dst_net"], "service": row["service"], "top_actors": top,
                 "scanners": actors["actor"].to_list()}
        risk = 25.0 + 14.0 * min(1.0, math.log10(row["attempts"]) / 4)
        found.append(_finding("brute_force", "inbound", MANY, row["dst_net"], row, risk, facts,
                              service=row["service"]))
    return found


def _inbound_scan_risk(row: dict[str, Any]) -> float:
    # low whatever the volume: the volume only orders the inbound digests among themselves; one whose probes
    # got answers comes first among them (a service the scanners found)
    answered = 4.0 if row["answered"] else 0.0
    return 20.0 + answered + 15.0 * min(1.0, math.log10(max(1, row["attempts"])) / 4)


def _finding(kind: Any, direction: Any, actor: str, target: str, row: dict[str, Any], risk: float,
             facts: dict[str, Any], *, service: str = "") -> Finding:
    ports = row["ports"]
    return Finding(
        kind=kind, direction=direction, actor=actor, target=target, service=service or ",".join(ports[:4]),
        first_ts=row["first"], last_ts=row["last"], attempts=row["attempts"], answered=row["answered"],
        risk=round(risk, 1), sources=frozenset(row["sources"]), hosts=frozenset(row["hosts"]),
        ports=frozenset(ports), facts=facts | {"ports_by_count": ports[:12]},
    )
