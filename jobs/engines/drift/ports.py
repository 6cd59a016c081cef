"""Ports whose new or unusual use deserves attention, with a sensitivity weight in (0, 1]."""

from __future__ import annotations

from typing import NamedTuple


class PortInfo(NamedTuple):
    weight: float
    service: str


# remote shells and admin planes first; datastores next; they are the paths attackers pivot on
SENSITIVE_PORTS: dict[int, PortInfo] = {
    22: PortInfo(1.0, "ssh"),
    23: PortInfo(1.0, "telnet"),
    3389: PortInfo(1.0, "rdp"),
    5900: PortInfo(0.9, "vnc"),
    445: PortInfo(0.9, "smb"),
    139: PortInfo(0.8, "netbios"),
    135: PortInfo(0.8, "msrpc"),
    5985: PortInfo(0.9, "winrm"),
    5986: PortInfo(0.9, "winrm-https"),
    2375: PortInfo(1.0, "docker (plain)"),
    2376: PortInfo(0.8, "docker (tls)"),
    6443: PortInfo(0.8, "kubernetes api"),
    10250: PortInfo(0.9, "kubelet"),
    10255: PortInfo(0.7, "kubelet read-only"),
    2379: PortInfo(0.9, "etcd"),
    2380: PortInfo(0.8, "etcd peer"),
    4444: PortInfo(0.8, "metasploit default"),
    21: PortInfo(0.7, "ftp"),
    5432: PortInfo(0.7, "postgresql"),
    3306: PortInfo(0.7, "mysql"),
    1433: PortInfo(0.7, "mssql"),
    1521: PortInfo(0.7, "oracle"),
    27017: PortInfo(0.7, "mongodb"),
    6379: PortInfo(0.6, "redis"),
    9200: PortInfo(0.6, "elasticsearch"),
    11211: PortInfo(0.6, "memcached"),
    9092: PortInfo(0.5, "kafka"),
    389: PortInfo(0.6, "ldap"),
    636: PortInfo(0.6, "ldaps"),
    88: PortInfo(0.6, "kerberos"),
    161: PortInfo(0.5, "snmp"),
    25: PortInfo(0.4, "smtp"),
}

# the services above are all reached over tcp, except snmp (udp) and kerberos (both)
_PROTOCOLS: dict[int, frozenset[str]] = {161: frozenset({"udp"}), 88: frozenset({"tcp", "udp"})}


def port_sensitivity(dst_port: int | None, protocol: str) -> PortInfo | None:
    """The sensitivity of a destination port/protocol, or None when it is not in the table."""
    if dst_port is None or dst_port not in SENSITIVE_PORTS:
        return None
    if protocol.lower() not in _PROTOCOLS.get(dst_port, frozenset({"tcp"})):
        return None
    return SENSITIVE_PORTS[dst_port]
