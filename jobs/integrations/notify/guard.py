"""The SSRF guard: a receiver whose host resolves to a local, private or otherwise non-public address is refused
unless the operator named it in SG_NOTIFY_ALLOWED_HOSTS (`host` or `host:port`, checked like SG_GITOPS_ALLOWED_HOSTS
in `models.settings`). Checked at every send, since DNS answers change."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Collection

from jobs.integrations.notify.errors import Permanent, Retryable


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_receiver(host: str, port: int, *, allowed: Collection[str]) -> None:
    """Raise `Permanent` when `host` may not be sent to; `Retryable` when its name does not resolve now."""
    name = host.lower().rstrip(".").strip("[]")
    if name in allowed or f"{name}:{port}" in allowed:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Retryable(f"cannot resolve {name}: {exc.strerror}") from exc
    refused = sorted({str(info[4][0]) for info in infos if not _public(str(info[4][0]))})
    if refused:
        raise Permanent(
            f"{name} resolves to a local or private address ({', '.join(refused)}); "
            "an operator can allow it in SG_NOTIFY_ALLOWED_HOSTS"
        )
