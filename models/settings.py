"""The one settings object every SecureGuard process reads (env prefix `SG_`)."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
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


_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\.?$")


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _installation_secret(path: Path) -> str:
    """The key kept at `path` (mode 0600), made on first use; a race between processes keeps the first one."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    handle, staged = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")  # mode 0600
    try:
        with os.fdopen(handle, "w") as out:
            out.write(key + "\n")
        os.link(staged, path)  # appears whole, or not at all when another process got there first
    except FileExistsError:
        return path.read_text().strip()
    finally:
        os.unlink(staged)
    return key


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
    # Reverse proxies whose X-Forwarded-For is believed: addresses or CIDRs, comma-separated; none by default,
    # so the socket peer is the client.
    trusted_proxies: str = ""
    flow_pushes_per_minute: int = Field(default=120, ge=1, le=100_000)
    sso_starts_per_minute: int = Field(default=30, ge=1, le=100_000)
    worker_poll_delay: float = Field(default=0.02, gt=0, le=5)
    job_error_max_chars: int = Field(default=2000, ge=100, le=20000)
    data_dir: Path = ROOT / "data"
    # Where flows, snapshots and uploads are kept (`jobs.stores.objects`): empty = data_dir; a folder, or
    # s3://bucket/prefix on any S3-compatible store (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, … from the environment).
    store_url: str = ""
    max_upload_bytes: int = Field(default=2 << 30, ge=1024)
    # What one upload may cost once inflated and parsed (a gzip bomb stops here), and what one tenant's files may
    # take on disk (uploads and flow partials).
    max_upload_decompressed_bytes: int = Field(default=16 << 30, ge=1024)
    max_upload_rows: int = Field(default=100_000_000, ge=1)
    tenant_disk_quota_bytes: int = Field(default=50 << 30, ge=1 << 20)
    # GitOps provider APIs; point them at GitHub Enterprise or a self-managed GitLab.
    github_api_url: str = "https://api.github.com"
    gitlab_api_url: str = "https://gitlab.com/api/v4"
    # Hosts a tenant's repository URL may name (https only), comma-separated `host` or `host:port`; local paths
    # and file:// URLs only when gitops_allow_local is on (a mirror on this machine, the tests).
    gitops_allowed_hosts: str = "github.com,gitlab.com"
    # Notification receivers on a local or private address are refused unless named here (`host` or `host:port`).
    notify_allowed_hosts: str = ""
    gitops_allow_local: bool = False
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
        if self.env == "development" and self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            # A public default would let anyone forge what the key protects; a key of this installation's own
            # is made once and shared by its web, worker and CLI processes through the data folder.
            self.secret_key = _installation_secret(self.data_dir / "secret_key")
        if self.env == "production" and self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("SG_SECRET_KEY must be set to a real secret when SG_ENV=production")
        if self.env == "production" and len(self.secret_key) < 32:
            raise ValueError("SG_SECRET_KEY must be at least 32 characters when SG_ENV=production")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        for item in _split_list(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"SG_TRUSTED_PROXIES: {item!r} is not an address or CIDR") from exc
        return value

    @field_validator("gitops_allowed_hosts", "notify_allowed_hosts")
    @classmethod
    def _hosts_are_names(cls, value: str, info: ValidationInfo) -> str:
        for item in _split_list(value):
            host, _, port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
            if not _HOST.match(host) or (port and not (port.isdigit() and 0 < int(port) < 65536)):
                raise ValueError(f"SG_{str(info.field_name).upper()}: {item!r} is not a host name or host:port")
        return value

    @property
    def gitops_hosts(self) -> frozenset[str]:
        """The hosts of SG_GITOPS_ALLOWED_HOSTS, lower case (`host` or `host:port`)."""
        return frozenset(item.lower().rstrip(".") for item in _split_list(self.gitops_allowed_hosts))

    @property
    def notify_hosts(self) -> frozenset[str]:
        """The hosts of SG_NOTIFY_ALLOWED_HOSTS, lower case: receivers allowed on a local or private address."""
        return frozenset(item.lower().rstrip(".") for item in _split_list(self.notify_allowed_hosts))

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The networks of SG_TRUSTED_PROXIES (empty: X-Forwarded-For is never believed)."""
        return tuple(ipaddress.ip_network(item, strict=False) for item in _split_list(self.trusted_proxies))

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

    @property
    def allowed_origins(self) -> list[str]:
        """The browser origins whose pages may use the websocket and the API: SG_PUBLIC_URL's, or when it is unset
        this machine's own names for the web port."""
        if self.public_url:
            parts = urlsplit(self.public_url)
            return [f"{parts.scheme}://{parts.netloc}"]
        return [f"http://{host}:{self.web_port}" for host in ("localhost", "127.0.0.1", "[::1]")]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
