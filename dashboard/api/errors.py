"""Every API error answers `{"error": {"code", "message"}}` with a 4xx status and no stack trace."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from jobs.runtime.redact import safe_error
from models.errors import Conflict, Forbidden, Invalid, NotFound

LOG = logging.getLogger(__name__)
# The one place an expected error becomes a status (models.errors draws the tree).
_STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422}
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape of the API."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class ApiError(Exception):
    """Raised by routes for an expected failure with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class ErrorShield:
    """ASGI middleware: an unexpected exception answers a bare 500 in the error shape and is logged redacted.

    Starlette's last-resort handler would re-raise to the server, which logs the raw message (a DSN, a
    token) with the stack; here the log gets the stack with credentials masked, the client gets neither.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001  (the last resort: logged, answered, never swallowed silently)
            LOG.error("unhandled error on %s %s\n%s", scope.get("method"), scope.get("path"),
                      safe_error("".join(traceback.format_exception(exc)), limit=20_000))
            if not started:
                response = error_response(500, "internal_error", "internal error: the server logged the details")
                await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Map our exceptions and FastAPI's own to the error shape; shield unexpected ones."""
    app.add_middleware(ErrorShield)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    for exc_type, status in _STATUS.items():

        async def _known(_: Request, exc: Exception, status: int = status) -> JSONResponse:
            return error_response(status, getattr(exc, "code", "error"), str(exc))

        app.add_exception_handler(exc_type, _known)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
        return error_response(422, "invalid_request", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, "http_error", str(exc.detail))
