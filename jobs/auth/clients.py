"""Who is on the other end: the client's address behind trusted proxies, and a browser known from an earlier sign-in.

The address is the socket peer unless the peer is one of `SG_TRUSTED_PROXIES`; then X-Forwarded-For is read
from the right, each hop believed only while the hop that reported it is trusted, so a client cannot name
itself by writing the header's left end.

A known browser holds a device cookie (OWASP "device cookies"): set at each sign-in, it is an HMAC of the
account's email and a random nonce under `SG_SECRET_KEY`. The login throttle gives such a browser its own
failure budget, so a guesser who locks an account or sprays from a shared address does not lock out the
people who sign in there every day; a browser without one meets the account and address budgets.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from http.cookies import CookieError, SimpleCookie

from models.credentials import new_secret

DEVICE_COOKIE = "sg_device"
DEVICE_COOKIE_DAYS = 180
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str, forwarded_for: str, proxies: Sequence[Network]) -> str:
    """The client's address: the peer, or the right-most X-Forwarded-For hop that a trusted proxy reported."""
    client = peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    while hops and _trusted(client, proxies):
        hop = hops.pop()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a garbled hop: the last trusted proxy is as far as anything is known
        client = hop
    return client


def cookie_value(header: str, name: str) -> str:
    """One cookie's value from a Cookie header; empty when absent or the header does not parse."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel is not None else ""


def _signature(secret_key: str, email: str, nonce: str) -> str:
    message = f"{email.strip().lower()}\n{nonce}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def new_device_cookie(secret_key: str, *, email: str) -> str:
    """A device cookie value for a browser that just signed in as `email`."""
    nonce = new_secret()
    return f"{nonce}.{_signature(secret_key, email, nonce)}"


def known_device(secret_key: str, *, email: str, cookie: str) -> str | None:
    """The device's nonce when `cookie` was issued to this browser for `email`, else None."""
    nonce, _, signature = cookie.partition(".")
    if not nonce or not signature:
        return None
    return nonce if hmac.compare_digest(signature, _signature(secret_key, email, nonce)) else None
