"""The SSO routes' pure helpers: where a sign-in may land, and what a refusal page shows."""

from __future__ import annotations

import pytest

from dashboard.api.auth import safe_next
from dashboard.api.oidc import refusal_page
from jobs.auth.redirects import local_path
from state.login import _safe_next


@pytest.mark.parametrize("target", ["/drift", "/jobs?status=failed", "/graph/3"])
def test_local_paths_are_kept(target: str) -> None:
    assert local_path(target) == target


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "/\\/evil.example",
                                    "evil", "", "/ok\r\nSet-Cookie: x=1", "/login", "/login/?next=/x"])
def test_anything_else_lands_on_the_home_page(target: str) -> None:
    # one rule for the SSO callback, the local login page and the session route
    assert local_path(target) == safe_next(target) == _safe_next(target) == "/"


def test_a_refusal_page_shows_claim_text_as_text() -> None:
    page = refusal_page(403, "There is no tenant named '<script>alert(1)</script>'.")
    body = bytes(page.body).decode()
    assert page.status_code == 403 and page.headers["cache-control"] == "no-store"
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'id=sso-error' in body and "href='/login'" in body
