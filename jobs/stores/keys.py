"""Keys of the object store (`jobs.stores.objects`): checked segments under an area and a tenant prefix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

AREAS = frozenset({"flows", "uploads"})
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=-]{0,199}$")


class UnsafeKey(ValueError):
    """A key, or a part of one, that could leave its tenant's prefix (or the store)."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One stored object: its key, size and a version that changes whenever it is replaced: (identity, size,
    last written in ns since the epoch) on both backends."""

    key: str
    size: int
    version: tuple[int, int, int]

    @property
    def written_ns(self) -> int:
        """When the object was last written, in ns since the epoch."""
        return self.version[2]


def check_part(part: str) -> str:
    """One path segment of a key: letters, digits and `._=-`, not starting with a dot (no `..`, no `/`)."""
    if not isinstance(part, str) or not _PART.fullmatch(part):
        raise UnsafeKey(f"not a safe key segment: {part!r}")
    return part


def check_key(key: str) -> str:
    """A whole key: non-empty safe segments joined by `/` (staging names starting with a dot are allowed)."""
    if not isinstance(key, str) or not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise UnsafeKey(f"not a safe key: {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not re.fullmatch(r"[A-Za-z0-9._=-]{1,200}", segment):
            raise UnsafeKey(f"not a safe key: {key!r}")
    return key


def tenant_key(area: str, tenant_id: int, *parts: str) -> str:
    """`area/tenant/part/…`, each piece checked: the only way the stores build keys."""
    if area not in AREAS:
        raise UnsafeKey(f"unknown store area {area!r}")
    if isinstance(tenant_id, bool) or not isinstance(tenant_id, int) or tenant_id < 1:
        raise UnsafeKey(f"tenant_id must be a positive integer, got {tenant_id!r}")
    return "/".join((area, str(tenant_id), *(check_part(p) for p in parts)))


def key_in_store(store_url: str, ref: str) -> str:
    """The key a reference into the store at `store_url` names (UnsafeKey for a reference outside it)."""
    # no resolving: a `..` inside the reference is refused by check_key, not followed
    if not ref.startswith(f"{store_url}/"):
        raise UnsafeKey(f"{ref!r} is not in the store {store_url}")
    return check_key(ref[len(store_url) + 1:])


def name_of(key: str) -> str:
    """The last segment of a key (the file name)."""
    return key.rsplit("/", 1)[-1]


def matches(rest: str, pattern: str) -> bool:
    """`glob` semantics on a relative key: `*` stays inside one segment."""
    names, wanted = rest.split("/"), pattern.split("/")
    return len(names) == len(wanted) and all(fnmatchcase(n, w) for n, w in zip(names, wanted, strict=True))
