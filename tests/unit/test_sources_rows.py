"""Issue 21's Sources notes: an upload pushed over REST without a file name is shown by what it is (not
"api-upload"), and a skipped count its one reason already states is not shown twice."""

from __future__ import annotations

from datetime import UTC, datetime

from models.graph import FlowUpload, size_text
from state.sources import upload_outcome, upload_row

WHEN = datetime(2026, 12, 5, 8, 41, tzinfo=UTC)


def upload(filename: str, skipped: int = 173) -> FlowUpload:
    return FlowUpload(id=7, tenant_id=1, filename=filename, source_format="zeek", size_bytes=12_345_678,
                      status="ingested", rows_accepted=10, rows_skipped=skipped, created_at=WHEN)


def test_a_rest_upload_without_a_name_is_named_by_when_format_and_size() -> None:
    assert upload_row(upload("api-upload"))["filename"] == "REST upload 2026-12-05 08:41 (zeek, 12 MB)"
    assert upload_row(upload("upload"))["filename"] == "Upload 2026-12-05 08:41 (zeek, 12 MB)"
    assert upload_row(upload("conn.log"))["filename"] == "conn.log"
    assert upload_outcome(upload("api-upload")).startswith("#7 REST upload 2026-12-05 08:41 (zeek, 12 MB) ingested")
    assert [size_text(n) for n in (512, 3_400, 12_345_678, 1_200_000_000)] == ["512 B", "3.4 KB", "12 MB", "1.2 GB"]


def test_one_reason_states_the_count_once_and_several_keep_the_total() -> None:
    one = upload_row(upload("h.json"), {"skip_reasons": {"reply direction": 173}})
    assert one["skipped"] == "" and len(one["skip_reasons"]) == 1 and one["skip_reasons"][0].startswith("173 ")
    several = upload_row(upload("h.json"), {"skip_reasons": {"reply direction": 170, "direction unknown": 3}})
    assert several["skipped"] == "173" and [r.split()[0] for r in several["skip_reasons"]] == ["170", "3"]
    assert upload_row(upload("h.json", skipped=0))["skipped"] == "0"
