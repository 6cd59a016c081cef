"""The login page (the only page without a session)."""

from __future__ import annotations

import reflex as rx
from reflex_base.vars.base import VarData

from dashboard.components.shell import brand, public_page
from state.login import LoginState

# True once React has mounted the page in the browser (false in the served HTML and while hydrating): the form's
# submit handler exists from then on, and queues the event until the socket connects.
MOUNTED: rx.Var[bool] = rx.Var(
    _js_expr="sgLoginMounted", _var_type=bool,
    _var_data=VarData(imports={"react": ["useState", "useEffect"]},
                      hooks={"const [sgLoginMounted, setSgLoginMounted] = useState(false);": None,
                             "useEffect(() => { setSgLoginMounted(true); }, []);": None}))


@public_page("/login", "Sign in · SecureGuard", on_load=[LoginState.load])
def login() -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    brand(size="6"),
                    rx.text("Sign in to your tenant", color_scheme="gray", size="2"),
                    rx.cond(
                        LoginState.message != "",
                        rx.callout(LoginState.message, color_scheme=rx.cond(LoginState.is_error, "red", "blue"),
                                   id="login-message", role="alert", width="100%"),
                    ),
                    rx.text("Email", as_="label", html_for="email", size="2", weight="medium"),
                    rx.input(id="email", name="email", type="email", auto_complete="username", required=True,
                             auto_focus=True, width="100%"),
                    rx.text("Password", as_="label", html_for="password", size="2", weight="medium"),
                    rx.input(id="password", name="password", type="password", auto_complete="current-password",
                             required=True, width="100%"),
                    # Disabled only until the page's script runs (the served HTML): a native submit before that
                    # would send the password in a plain request instead of to the login handler. Once the script
                    # runs, Enter or a click before the socket connects is queued and sent when it does; the
                    # button says it is connecting meanwhile.
                    rx.button(rx.cond(LoginState.is_hydrated, "Sign in", "Connecting…"), type="submit",
                              loading=LoginState.busy, width="100%", id="sign-in", disabled=~MOUNTED,
                              aria_busy=~LoginState.is_hydrated),
                    rx.cond(
                        LoginState.oidc_enabled,
                        # A document navigation, not a client-side route: the SSO route is HTTP and redirects
                        # to the provider.
                        rx.button(rx.el.a("Sign in with SSO", href=LoginState.sso_url, id="sign-in-sso",
                                          reload_document=True),
                                  as_child=True, variant="outline", width="100%"),
                    ),
                    spacing="3", width="22em",
                ),
                on_submit=LoginState.login,
                reset_on_submit=False,
                method="post",
            ),
            size="4",
        ),
        height="100vh",
    )
