"""RFC 5424 syslog messages and RFC 6587 octet-counting framing for TCP and TLS."""

from __future__ import annotations

import re
from datetime import UTC, datetime

FACILITY_SECURITY = 13  # log audit (RFC 5424 table 1); 4 and 10 are auth, 13 is what SIEM collectors expect
SYSLOG_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
NILVALUE = "-"
_PRINTUSASCII = re.compile(r"[^\x21-\x7e]")


def _field(value: str, limit: int) -> str:
    """A header field: printable US-ASCII without spaces, at most `limit` long, `-` when empty."""
    cleaned = _PRINTUSASCII.sub("", value)[:limit]
    return cleaned or NILVALUE


def frame_rfc5424(
    msg: str,
    *,
    severity: str,
    timestamp: datetime,
    hostname: str,
    app_name: str = "secureguard",
    procid: str = "",
    msgid: str = "incident",
    facility: int = FACILITY_SECURITY,
) -> str:
    """`<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`, no structured data, MSG as UTF-8 text."""
    if timestamp.tzinfo is None:
        raise ValueError("a syslog timestamp must carry its time zone")
    if not 0 <= facility <= 23:
        raise ValueError(f"syslog facility must be 0–23, not {facility}")
    pri = facility * 8 + SYSLOG_SEVERITY[severity]
    stamp = timestamp.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    header = " ".join(
        (
            f"<{pri}>1",
            stamp,
            _field(hostname, 255),
            _field(app_name, 48),
            _field(procid, 128),
            _field(msgid, 32),
            NILVALUE,
        )
    )
    return f"{header} {msg}"


def octet_count(message: str) -> bytes:
    """RFC 6587 octet counting: `LEN SP MSG`, LEN the UTF-8 byte length; what TCP and TLS receivers split on."""
    body = message.encode("utf-8")
    return str(len(body)).encode("ascii") + b" " + body


def split_octet_counted(buffer: bytes) -> tuple[list[str], bytes]:
    """Messages complete in `buffer` and the rest still to come (the receiver's side, used by tests and tools)."""
    messages: list[str] = []
    while buffer:
        space = buffer.find(b" ")
        if space <= 0 or not buffer[:space].isdigit():
            if space == -1 and buffer.isdigit():
                break
            raise ValueError(f"not octet-counted at {buffer[:20]!r}")
        length = int(buffer[:space])
        end = space + 1 + length
        if len(buffer) < end:
            break
        messages.append(buffer[space + 1 : end].decode("utf-8"))
        buffer = buffer[end:]
    return messages, buffer
