"""Start the test OpenID Provider (tests/oidc/provider.mjs, npm `oidc-provider`) on loopback."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
CLIENT_ID = "secureguard"
CLIENT_SECRET = "secureguard-test-client-secret-0123456789"
# The provider releases `groups` and `tenant` under scopes of the same names.
SCOPES = "openid email profile groups tenant"


@dataclass(frozen=True)
class OidcProvider:
    issuer: str

    def env(self) -> dict[str, str]:
        """The SG_OIDC_* settings that point SecureGuard at this provider."""
        return {
            "SG_OIDC_ISSUER": self.issuer, "SG_OIDC_CLIENT_ID": CLIENT_ID, "SG_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "SG_OIDC_SCOPES": SCOPES, "SG_OIDC_TENANT_CLAIM": "tenant", "SG_OIDC_ROLE_CLAIM": "groups",
        }


def ensure_installed() -> None:
    """npm install of the provider's package when its node_modules are missing (./run test does the same)."""
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(["npm", "install", "--prefix", str(HERE), "--no-audit", "--no-fund", "--loglevel=error"],
                       check=True, capture_output=True)


@contextlib.contextmanager
def running_provider(
    *, port: int, redirect_uri: str, post_logout_redirect_uri: str, log_path: Path, timeout: float = 60,
) -> Iterator[OidcProvider]:
    """The provider on 127.0.0.1:`port`, with one client whose only redirect URI is `redirect_uri`."""
    node = shutil.which("node")
    assert node, "Node.js is required for the OpenID Provider of the SSO tests"
    ensure_installed()
    issuer = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [node, str(HERE / "provider.mjs"), "--port", str(port), "--redirect-uri", redirect_uri,
             "--post-logout-redirect-uri", post_logout_redirect_uri, "--client-id", CLIENT_ID,
             "--client-secret", CLIENT_SECRET],
            stdout=log, stderr=subprocess.STDOUT, cwd=HERE,
        )
        try:
            _wait_ready(issuer, proc, log_path, timeout)
            yield OidcProvider(issuer)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(issuer: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the OpenID Provider exited: {log_path.read_text()[-2000:]}")
        # trust_env=False: a proxy set in the environment must not stand between us and loopback.
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2, trust_env=False)
            if answer.status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the OpenID Provider did not answer within {timeout} s; its log ({log_path}):\n"
                       f"{log_path.read_text(errors='replace')[-2000:]}")
