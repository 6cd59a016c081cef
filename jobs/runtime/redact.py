"""Make error text safe to store and show: no secrets, bounded length."""

from __future__ import annotations

import re

_PATTERNS = [
    (re.compile(r"(sg_)[A-Za-z0-9_\-]{8,}"), r"\1***"),
    # Git provider tokens (GitHub classic and fine-grained, GitLab personal/project).
    (re.compile(r"\b(gh[pousr]_|github_pat_|glpat-)[A-Za-z0-9_\-]{8,}"), r"\1***"),
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+(@)"), r"\1***\2"),
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1***"),
    (re.compile(r"(?i)\b(password|passwd|secret|token|api[_-]?key)(\s*[=:]\s*)(\S+)"), r"\1\2***"),
]


def safe_error(text: str, *, limit: int = 2000) -> str:
    """`text` with credentials masked, cut to `limit` characters."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
