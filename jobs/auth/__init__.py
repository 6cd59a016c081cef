"""Sign-in machinery used only by the web side (`state/` and `dashboard/api`): OpenID Connect (discovery,
the code exchange, ID-token validation, claims mapping), rate limits, one-time login tickets, safe redirects
and the session cookie's name.

May import `runtime` (Redis clients, key names) and `models`; never `tasks`, `cli` or `demo`.
"""
