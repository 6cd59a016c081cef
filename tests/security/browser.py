"""A browser as the sign-in flow sees it: an HTTP client of the app's routes (keeping its cookies) and the
login form's event handler run as its websocket tab would run it (the tab's cookies and address)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from reflex.state import State
from reflex_base import constants

from dashboard.api.app import build_api
from state.login import LoginState

PASSWORD = "correct-horse-1"


def web_client(peer: str) -> httpx.AsyncClient:
    """An HTTP client whose requests come from `peer`."""
    transport = httpx.ASGITransport(app=build_api(), client=(peer, 5555))
    return httpx.AsyncClient(transport=transport, base_url="http://sg.test")


def cookie_header(client: httpx.AsyncClient) -> str:
    """The Cookie header the client's jar would send (what a websocket handshake carries)."""
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def submit_login(email: str, password: str, *, peer: str, headers: dict[str, str],
                       next_path: str = "/") -> tuple[LoginState, Any]:
    """Run the login form's handler on a fresh tab; answers the state after it and what it returned."""
    root = State(_reflex_internal_init=True)
    root.router_data = root._update_router_vars({
        constants.RouteVar.CLIENT_IP: peer, constants.RouteVar.HEADERS: headers,
        constants.RouteVar.PATH: "/login", constants.RouteVar.QUERY: {"next": next_path},
    }, {})
    state = await root.get_state(LoginState)
    result = await LoginState.event_handlers["login"].fn(state, {"email": email, "password": password})
    return state, result


def ticket_form(result: Any, next_path: str = "/") -> dict[str, str]:
    """The fields the page's auto-submitting form posts, read from the script the handler returned."""
    script = str(result.args[0][1]._var_value)
    ticket = re.search(r'ticket(?:=|": ")([\w-]+)', script)
    assert ticket is not None, script
    return {"ticket": ticket.group(1), "next": next_path}


async def sign_in(browser: httpx.AsyncClient, email: str, *, peer: str, password: str = PASSWORD) -> httpx.Response:
    """The whole sign-in: open the login page (its answer hands out the nonce), send the form, post the ticket."""
    await browser.get("/login")
    state, result = await submit_login(email, password, peer=peer, headers={"cookie": cookie_header(browser)})
    assert state.message == "Signing in…", state.message
    return await browser.post("/auth/session", data=ticket_form(result))
