"""An integration's own message text: a Jinja2 template run in the sandbox, over the notice's plain fields.

The sandbox refuses attribute tricks (`__class__`, `mro`…) and the template sees only JSON values, so a template an
admin writes can read the incident and nothing else. Unknown names are errors (caught when the template is saved),
and the text is cut at MAX_TEXT. The result replaces the notice's explanation in every format.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from jobs.engines.notify.messages import notice_fields
from jobs.engines.notify.notice import Notice

MAX_TEMPLATE = 4000
MAX_TEXT = 2900
_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)
SAMPLE_TIME = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
SAMPLE = Notice(
    incident_id=42, kind="new", incident_kind="scan", severity="high", direction="inbound",
    entity="198.51.100.0/24", summary="198.51.100.0/24 scanned 147 home hosts on 23/tcp", status="open",
    first_seen=SAMPLE_TIME, last_seen=SAMPLE_TIME, updated_at=SAMPLE_TIME, events=1512, namespace="payments",
    explanation="1,512 sources probed 147 home hosts on 23/tcp; none answered",
    reasons=("147 hosts in 5 minutes", "no host answered"), sources=("198.51.100.7",), hosts=("10.0.0.5",),
    ports=("23/tcp",), url="https://secureguard.example/drift?incident=42",
)


def render(template: str, notice: Notice) -> str:
    """The template's text for `notice` (its fields, plus `title`); ValueError says what is wrong."""
    if len(template) > MAX_TEMPLATE:
        raise ValueError(f"a template is at most {MAX_TEMPLATE} characters")
    try:
        text = _ENV.from_string(template).render(**notice_fields(notice), title=notice.title)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise ValueError(f"template error{f' on line {line}' if line else ''}: {exc.message or exc}") from None
    return text.strip()[:MAX_TEXT]


def preview(template: str) -> str:
    """The template rendered for a sample incident (what the page shows as the preview)."""
    return render(template, SAMPLE)


def apply(template: str, notice: Notice) -> Notice:
    """The notice with its explanation replaced by the template's text (unchanged without a template)."""
    return replace(notice, explanation=render(template, notice)) if template.strip() else notice
