"""Where a sign-in may send the browser afterwards: only a path on this site."""

from __future__ import annotations


def local_path(target: str) -> str:
    """`target` when it is a path on this site, else "/".

    Browsers read `//host` and `/\\host` as another host (an open redirect would turn the login
    page into a phishing aid); control characters and the login page itself are refused too.
    """
    unsafe = not target.startswith("/") or target.startswith("//") or "\\" in target
    if unsafe or any(ord(c) < 32 for c in target) or target.split("?")[0].rstrip("/") == "/login":
        return "/"
    return target
