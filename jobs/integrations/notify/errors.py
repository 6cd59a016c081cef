"""What can go wrong with a send, and what the drain does about it.

DeliveryError          a send did not land; `answer` is what the receiver said (secrets redacted)
 ├── Retryable         5xx, 408, 429 (with `retry_after_s` from Retry-After), timeouts, refused connections
 └── Permanent         other 4xx, a bad configuration, a receiver refused by the SSRF guard
"""

from __future__ import annotations

MAX_ANSWER = 500


class DeliveryError(Exception):
    """A send that did not land, with the receiver's answer (already redacted and shortened)."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer[:MAX_ANSWER]


class Retryable(DeliveryError):
    """Worth trying again later; `retry_after_s` is the receiver's own wish when it gave one."""

    def __init__(self, answer: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(answer)
        self.retry_after_s = retry_after_s


class Permanent(DeliveryError):
    """Will fail the same way every time until someone changes the integration or the receiver."""


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret (of 4+ characters) replaced by ***."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
