"""CEF lines read back by an independent parser (pycef) match what we meant to send, field by field."""

from __future__ import annotations

import pycef
import pytest

from jobs.engines.notify.cef import CEF_SEVERITY, escape_extension, escape_header, extension_fields, format_cef
from tests.unit.notify.builders import notice


def _unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars)
            out.append({"n": "\n", "r": "\r"}.get(nxt, nxt))
        else:
            out.append(char)
    return "".join(out)


def test_header_escapes_pipe_and_backslash_and_flattens_lines() -> None:
    assert escape_header("a|b\\c\nd") == "a\\|b\\\\c d"


def test_extension_escapes_equals_backslash_and_line_breaks() -> None:
    assert escape_extension("a=b\\c\nd\re") == "a\\=b\\\\c\\nd\\re"


def test_pycef_reads_back_every_standard_key_and_custom_label() -> None:
    item = notice()
    parsed = pycef.parse(format_cef(item))
    assert parsed is not None
    assert (parsed["DeviceVendor"], parsed["DeviceProduct"], parsed["DeviceEventClassID"]) == (
        "SecureGuard",
        "SecureGuard",
        "incident-scan",
    )
    assert parsed["Severity"] == "8"
    sent = extension_fields(item)
    for key in ("src", "dst", "dpt", "proto", "act", "cat", "cnt", "start", "end", "rt", "msg"):
        assert _unescape(parsed[key]) == sent[key], key
    # pycef files cs1…cs6 under their labels
    assert parsed["incidentId"] == "42"
    assert parsed["direction"] == "inbound"
    assert parsed["namespace"] == "payments"
    assert _unescape(parsed["url"]) == item.url
    assert (parsed["src"], parsed["dst"], parsed["dpt"], parsed["proto"]) == ("198.51.100.7", "10.0.0.5", "23", "TCP")
    assert parsed["start"] == str(int(item.first_seen.timestamp() * 1000))


def test_hostile_values_cannot_forge_fields() -> None:
    item = notice(explanation="x act=allow cat=none\nCEF:0|fake|", entity="evil|Severity\\")
    line = format_cef(item)
    assert "\n" not in line
    parsed = pycef.parse(line)
    assert parsed is not None
    assert parsed["act"] == "open" and parsed["cat"] == "scan"
    assert _unescape(parsed["msg"]) == "x act=allow cat=none\nCEF:0|fake|"
    assert _unescape(parsed["entity"]) == "evil|Severity\\"


@pytest.mark.parametrize(("severity", "expected"), sorted(CEF_SEVERITY.items()))
def test_severity_maps_into_zero_to_ten(severity: str, expected: int) -> None:
    line = format_cef(notice(severity=severity))
    assert line.split("|")[6] == str(expected)
    assert 0 <= expected <= 10


def test_empty_values_are_left_out() -> None:
    fields = extension_fields(notice(sources=(), hosts=(), ports=(), service=""))
    assert "src" not in fields and "dst" not in fields and "dpt" not in fields and "cs4" not in fields
