"""Integration templates: Jinja2 in the sandbox, strict about names, preview on a sample incident."""

from __future__ import annotations

import pytest

from jobs.engines.notify.cef import extension_fields
from jobs.engines.notify.template import apply, preview, render
from tests.unit.notify.builders import notice


def test_template_reads_the_incident_fields() -> None:
    text = render("{{ severity|upper }} {{ kind }} on {{ entity }}: {{ reasons|join('; ') }} ({{ url }})", notice())
    assert text == ("HIGH scan on 198.51.100.0/24: 147 hosts in 5 minutes; no host answered; known scanner ASN; "
                    "fourth reason (https://sg.example.com/drift?incident=42)")
    assert preview("{{ title }}") == "[HIGH] scan — 198.51.100.0/24"


def test_the_text_replaces_the_explanation_everywhere() -> None:
    changed = apply("Page the on-call: {{ entity }}", notice())
    assert extension_fields(changed)["msg"] == "Page the on-call: 198.51.100.0/24"
    assert apply("  ", notice()) == notice()


@pytest.mark.parametrize(("template", "message"), [
    ("{{ nonexistent }}", "'nonexistent' is undefined"),
    ("{% if %}", "template error on line 1"),
    ("{{ ''.__class__.__mro__ }}", "unsafe"),
    ("{{ reasons.append('x') }}", "unsafe"),
    ("x" * 4001, "at most 4000"),
])
def test_bad_or_hostile_templates_are_refused_with_the_reason(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render(template, notice())
