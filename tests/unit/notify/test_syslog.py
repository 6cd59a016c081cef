"""RFC 5424 framing and RFC 6587 octet counting."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from jobs.engines.notify.syslog import frame_rfc5424, octet_count, split_octet_counted

RFC5424 = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*\]) (.*)$", re.S)


def test_header_fields_follow_rfc5424() -> None:
    when = datetime(2026, 12, 5, 7, 0, 1, 250000, tzinfo=timezone(timedelta(hours=1)))
    line = frame_rfc5424("CEF:0|a|b|1|x|y|8|msg=é", severity="high", timestamp=when, hostname="sg 01")
    match = RFC5424.match(line)
    assert match is not None
    pri, stamp, host, app, procid, msgid, sd, msg = match.groups()
    assert int(pri) == 13 * 8 + 3
    assert stamp == "2026-12-05T06:00:01.250Z"
    assert (host, app, procid, msgid, sd) == ("sg01", "secureguard", "-", "incident", "-")
    assert msg == "CEF:0|a|b|1|x|y|8|msg=é"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        frame_rfc5424("m", severity="info", timestamp=datetime(2026, 1, 1), hostname="h")


def test_octet_counting_counts_utf8_bytes_and_splits_back() -> None:
    frames = octet_count("é x") + octet_count("second\nline") + b"12 partial"
    assert frames.startswith(b"4 \xc3\xa9 x")
    messages, rest = split_octet_counted(frames)
    assert messages == ["é x", "second\nline"]
    assert rest == b"12 partial"


def test_garbage_is_not_taken_for_a_frame() -> None:
    with pytest.raises(ValueError, match="not octet-counted"):
        split_octet_counted(b"hello world")
    assert split_octet_counted(b"12")[1] == b"12"
    assert frame_rfc5424("m", severity="info", timestamp=datetime.now(UTC), hostname="").split(" ")[2] == "-"
