"""ArcSight Common Event Format (CEF:0), as SIEMs parse it.

Header fields escape `\\` and `|`; extension values escape `\\`, `=` and line breaks (`\\n`, `\\r`); extension keys
are fixed names. Severity is 0–10, mapped from ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from jobs.engines.notify.notice import Notice

VENDOR, PRODUCT = "SecureGuard", "SecureGuard"
CEF_SEVERITY = {"info": 1, "low": 3, "medium": 5, "high": 8, "critical": 10}
STANDARD_KEYS = ("src", "dst", "spt", "dpt", "proto", "act", "cat", "cnt", "start", "end", "rt", "msg")
MAX_MSG = 1023  # ArcSight's msg length


def escape_header(value: str) -> str:
    """A header field: backslash and pipe escaped; line breaks become spaces (a header is one line)."""
    flat = value.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return flat.replace("\\", "\\\\").replace("|", "\\|")


def escape_extension(value: str) -> str:
    """An extension value: backslash, equals and line breaks escaped."""
    escaped = value.replace("\\", "\\\\").replace("=", "\\=")
    return escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


def epoch_ms(moment: datetime) -> str:
    """CEF's time form: milliseconds since the epoch."""
    return str(int(moment.timestamp() * 1000))


def _port(label: str) -> tuple[str, str]:
    number, _, proto = label.partition("/")
    return (number if number.isdigit() else ""), proto


def extension_fields(notice: Notice, version: str = "1") -> dict[str, str]:
    """The extension's keys and unescaped values, standard keys first, then cs1…cs6 with their labels."""
    dpt, proto = _port(notice.ports[0]) if notice.ports else ("", "")
    fields = {
        "src": notice.sources[0] if notice.sources else "",
        "dst": notice.hosts[0] if notice.hosts else "",
        "spt": notice.extra.get("spt", ""),
        "dpt": dpt,
        "proto": proto.upper(),
        "act": notice.status,
        "cat": notice.incident_kind,
        "cnt": str(notice.events),
        "start": epoch_ms(notice.first_seen),
        "end": epoch_ms(notice.last_seen),
        "rt": epoch_ms(notice.updated_at),
        "msg": (notice.explanation or notice.summary)[:MAX_MSG],
    }
    custom = (
        ("incidentId", str(notice.incident_id)),
        ("direction", notice.direction),
        ("entity", notice.entity),
        ("service", notice.service),
        ("namespace", notice.namespace),
        ("url", notice.url),
    )
    for number, (label, value) in enumerate(custom, start=1):
        fields[f"cs{number}"] = value
        fields[f"cs{number}Label"] = label
    return {key: value for key, value in fields.items() if value != ""}


def format_extension(fields: Mapping[str, str]) -> str:
    """`key=value` pairs, values escaped, separated by single spaces."""
    return " ".join(f"{key}={escape_extension(value)}" for key, value in fields.items())


def format_cef(notice: Notice, *, version: str = "1") -> str:
    """The incident as one CEF:0 line (no syslog framing)."""
    header = [
        "CEF:0",
        escape_header(VENDOR),
        escape_header(PRODUCT),
        escape_header(version),
        escape_header("report" if notice.kind == "report" else f"incident-{notice.incident_kind}"),
        escape_header(notice.title),
        str(CEF_SEVERITY[notice.severity]),
    ]
    return "|".join(header) + "|" + format_extension(extension_fields(notice, version))
