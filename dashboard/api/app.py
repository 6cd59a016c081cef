"""The HTTP routes mounted beside the Reflex app: REST under /api/v1 and the auth routes."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from dashboard.api import audit as audit_api
from dashboard.api import auth, drift, flows, health, jobs, snapshots, whitelist
from dashboard.api import gitops as gitops_api
from dashboard.api import incidents as incidents_api
from dashboard.api import integrations as integrations_api
from dashboard.api import metrics as metrics_api
from dashboard.api import namespaces as namespaces_api
from dashboard.api import oidc as oidc_api
from dashboard.api import policies as policies_api
from dashboard.api import policy_downloads as downloads_api
from dashboard.api import reports as reports_api
from dashboard.api import settings as settings_api
from dashboard.api import users as users_api
from dashboard.api.errors import install_error_handlers
from dashboard.api.headers import SecurityHeaders, origin_of
from jobs.runtime.logs import configure_logging
from models.settings import get_settings


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
    v1.include_router(incidents_api.router)
    v1.include_router(whitelist.router)
    # Before any policies router: `/policies/bundle/approved` must not be read as a policy id.
    v1.include_router(downloads_api.router)
    v1.include_router(policies_api.router)
    v1.include_router(namespaces_api.router)
    v1.include_router(gitops_api.router)
    v1.include_router(integrations_api.router)
    v1.include_router(reports_api.router)
    v1.include_router(users_api.router)
    v1.include_router(audit_api.router)
    v1.include_router(settings_api.router)
    api.include_router(v1)
    api.include_router(auth.router)
    api.include_router(oidc_api.router)
    # Prometheus scrapes /metrics (outside /api/v1, where it looks by default).
    api.include_router(metrics_api.router)
    configure_logging()
    install_error_handlers(api)
    settings = get_settings()
    provider = origin_of(settings.oidc_issuer) if settings.oidc_enabled else None
    api.add_middleware(SecurityHeaders, form_targets=[provider] if provider else [])
    api.add_middleware(auth.LoginNonce)
    return api
