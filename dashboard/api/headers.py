"""Security headers on every HTTP answer of the one port: pages, static assets, the Reflex backend and /api/v1.

The FastAPI app is the outermost ASGI app (Reflex mounts its own app and, in prod, the compiled
frontend inside it), so one pure ASGI middleware here covers static files too; websocket traffic
passes through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# What the Reflex app needs, verified in Chromium (tests/e2e/test_security_headers.py):
# - scripts: the compiled bundle from 'self', plus the inline bootstrap scripts React Router writes into
#   each prerendered page ('unsafe-inline'; their content differs per build and page), and 'unsafe-eval'
#   because Reflex's event runtime runs rx.call_script payloads with eval() (the sign-in and sign-out
#   navigations use it). Neither admits a foreign script: there is no other source, and React renders
#   every text as text (tests/e2e/test_security_xss.py);
# - styles: Radix and Emotion inject <style> elements and style attributes at runtime;
# - connect: the event websocket and uploads go to the same origin ('self' covers ws:/wss: there);
# - plotly draws SVG and measures text in data: URIs and blobs.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

# FastAPI's Swagger page loads its bundle from jsDelivr; only that page may.
DOCS_PATH = "/api/v1/docs"
DOCS_POLICY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' https://cdn.jsdelivr.net",
).replace("style-src 'self' 'unsafe-inline'", "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net").replace(
    "img-src 'self' data: blob:", "img-src 'self' data: blob: https://fastapi.tiangolo.com"
)

SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL, else None."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def with_form_targets(policy: str, origins: Sequence[str]) -> str:
    """`policy` with `origins` added to form-action: CSP also checks where a submitted form is redirected,
    and sign-out (a form POST) ends at the SSO provider's logout page."""
    if not origins:
        return policy
    return policy.replace("form-action 'self'", "form-action 'self' " + " ".join(origins))


class SecurityHeaders:
    """ASGI middleware: add SECURITY_HEADERS to every HTTP response that does not set them itself.

    `form_targets` are other origins a form submission may end at (the SSO provider's).
    """

    def __init__(self, app: ASGIApp, form_targets: Sequence[str] = ()) -> None:
        self.app = app
        page = {**SECURITY_HEADERS,
                "content-security-policy": with_form_targets(CONTENT_SECURITY_POLICY, form_targets)}
        self._encoded = [(name.encode(), value.encode()) for name, value in page.items()]
        docs = {**SECURITY_HEADERS, "content-security-policy": DOCS_POLICY}
        self._docs = [(name.encode(), value.encode()) for name, value in docs.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        extra = self._docs if scope.get("path") == DOCS_PATH else self._encoded

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in extra if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
