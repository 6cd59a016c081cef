"""Syslog senders: RFC 5424 messages over TCP or TLS (octet-counted, RFC 6587) or UDP (one datagram each)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence

from jobs.engines.notify.syslog import octet_count
from jobs.integrations.notify.errors import Permanent, Retryable

TIMEOUT_S = 10.0


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.error: Exception | None = None

    def error_received(self, exc: Exception) -> None:
        self.error = exc


async def _udp(host: str, port: int, messages: Sequence[str]) -> None:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(_Datagrams, remote_addr=(host, port))
    try:
        for message in messages:
            transport.sendto(message.encode("utf-8"))
        await asyncio.sleep(0)  # let an ICMP refusal arrive before we call it sent
        if protocol.error is not None:
            raise Retryable(f"UDP {host}:{port}: {protocol.error}")
    finally:
        transport.close()


async def _stream(host: str, port: int, messages: Sequence[str], tls: ssl.SSLContext | None) -> None:
    _, writer = await asyncio.open_connection(host, port, ssl=tls, server_hostname=host if tls else None)
    try:
        writer.write(b"".join(octet_count(message) for message in messages))
        await writer.drain()
    finally:
        writer.close()
        await writer.wait_closed()


async def send_syslog(
    host: str, port: int, transport: str, messages: Sequence[str], *, tls_context: ssl.SSLContext | None = None
) -> None:
    """Send framed messages; connection problems are `Retryable` (a SIEM that is down comes back)."""
    try:
        async with asyncio.timeout(TIMEOUT_S):
            if transport == "udp":
                await _udp(host, port, messages)
            else:
                tls = (tls_context or ssl.create_default_context()) if transport == "tls" else None
                await _stream(host, port, messages, tls)
    except ssl.SSLCertVerificationError as exc:
        raise Permanent(f"syslog tls {host}:{port}: the certificate is not trusted ({exc.verify_message})") from exc
    except (OSError, TimeoutError) as exc:
        raise Retryable(f"syslog {transport} {host}:{port}: {exc or type(exc).__name__}") from exc
