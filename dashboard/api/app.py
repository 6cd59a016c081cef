"""The HTTP routes mounted beside the Reflex app: REST under /api/v1 and the auth routes."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from dashboard.api import auth, drift, flows, health, jobs, snapshots, whitelist
from dashboard.api.errors import install_error_handlers


def build_api() -> FastAPI:
    """The FastAPI app that Reflex serves on its backend port (`api_transformer`)."""
    api = FastAPI(
        title="SecureGuard API", version="1", openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs", redoc_url=None,
    )
    v1 = APIRouter(prefix="/api/v1")
    v1.include_router(health.router)
    v1.include_router(jobs.router)
    v1.include_router(flows.router)
    v1.include_router(snapshots.router)
    v1.include_router(drift.router)
    v1.include_router(whitelist.router)
    api.include_router(v1)
    api.include_router(auth.router)
    install_error_handlers(api)
    return api
