"""The one settings object every SecureGuard process reads (env prefix `SG_`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me"
# Values that mean "nobody set this" and must never reach production.
PLACEHOLDER_SECRETS = frozenset({"", DEV_SECRET, "changeme", "change-me", "secret", "password"})
OidcRole = Literal["admin", "approver", "analyst", "viewer"]
# IdP group → SecureGuard role; override with SG_OIDC_ROLE_MAP='{"group": "role", …}'.
DEFAULT_OIDC_ROLE_MAP: dict[str, OidcRole] = {
    "sg-admin": "admin", "sg-approver": "approver", "sg-analyst": "analyst", "sg-viewer": "viewer",
}


class Settings(BaseSettings):
    """Configuration shared by the web app, the workers and the CLI."""

    model_config = SettingsConfigDict(env_prefix="SG_", env_file=None, extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'data' / 'secureguard.db'}"
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: str = DEV_SECRET
    web_port: int = Field(default=3000, ge=1, le=65535)
    public_url: str = ""
    session_idle_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60)
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_window_seconds: int = Field(default=300, ge=10, le=86400)
    # Sliding-window rate limits (jobs/auth/ratelimit.py): bad bearer tokens per address, requests per
    # token, flow pushes per tenant.
    token_auth_max_failures: int = Field(default=20, ge=1, le=10000)
    token_auth_window_seconds: int = Field(default=60, ge=1, le=86400)
    api_requests_per_minute: int = Field(default=1200, ge=1, le=1_000_000)
    flow_pushes_per_minute: int = Field(default=120, ge=1, le=100_000)
    worker_poll_delay: float = Field(default=0.02, gt=0, le=5)
    job_error_max_chars: int = Field(default=2000, ge=100, le=20000)
    data_dir: Path = ROOT / "data"
    max_upload_bytes: int = Field(default=2 << 30, ge=1024)
    # GitOps provider APIs; point them at GitHub Enterprise or a self-managed GitLab.
    github_api_url: str = "https://api.github.com"
    gitlab_api_url: str = "https://gitlab.com/api/v4"
    # Single sign-on (OpenID Connect); on only when issuer and client id are both set. See README "Single sign-on".
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_scopes: str = "openid email profile"
    oidc_tenant_claim: str = "tenant"
    oidc_role_claim: str = "groups"
    oidc_role_map: dict[str, OidcRole] = Field(default_factory=lambda: dict(DEFAULT_OIDC_ROLE_MAP))
    # Role for a user none of whose role-claim values is mapped; "" refuses such users.
    oidc_default_role: OidcRole | Literal[""] = ""

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env == "production" and self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("SG_SECRET_KEY must be set to a real secret when SG_ENV=production")
        if self.env == "production" and len(self.secret_key) < 32:
            raise ValueError("SG_SECRET_KEY must be at least 32 characters when SG_ENV=production")
        return self

    @property
    def upload_dir(self) -> Path:
        """Where received flow files are kept as they arrived."""
        return self.data_dir / "uploads"

    @property
    def flow_dir(self) -> Path:
        """Where parsed flows are kept per tenant and window (Parquet)."""
        return self.data_dir / "flows"

    @property
    def oidc_enabled(self) -> bool:
        """Single sign-on is offered when an issuer and a client id are configured."""
        return bool(self.oidc_issuer.strip() and self.oidc_client_id.strip())

    @property
    def base_url(self) -> str:
        """The URL users open, for messages and redirects."""
        return self.public_url or f"http://localhost:{self.web_port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
