"""Syslog over TLS against a real TLS listener: a trusted certificate carries the octet-counted line; an untrusted
one fails the delivery at once (permanent) with a clear reason, never falls back to plain TCP."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jobs.engines.notify.syslog import split_octet_counted
from jobs.integrations.notify.errors import Permanent
from jobs.integrations.notify.syslog import send_syslog

pytestmark = pytest.mark.integration


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


async def test_tls_carries_the_line_and_refuses_an_untrusted_certificate(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    received: list[str] = []
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffer = b""
        try:
            while chunk := await reader.read(65536):
                messages, buffer = split_octet_counted(buffer + chunk)
                received.extend(messages)
        except (ssl.SSLError, ConnectionResetError):
            pass  # the untrusted-certificate client hangs up during the handshake
        finally:
            writer.close()
            done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        trusting = ssl.create_default_context(cafile=str(cert))
        trusting.check_hostname = False  # the listener is addressed by IP; the chain is what is checked here
        await send_syslog(
            "127.0.0.1", port, "tls", ["<107>1 - h a - m - CEF:0|x|y|1|z|n|8|msg=over tls"], tls_context=trusting
        )
        await asyncio.wait_for(done.wait(), 5)
        assert received == ["<107>1 - h a - m - CEF:0|x|y|1|z|n|8|msg=over tls"]
        with pytest.raises(Permanent, match="certificate is not trusted"):
            await send_syslog("127.0.0.1", port, "tls", ["never sent"])
        assert received == ["<107>1 - h a - m - CEF:0|x|y|1|z|n|8|msg=over tls"]
    finally:
        server.close()
        await server.wait_closed()
