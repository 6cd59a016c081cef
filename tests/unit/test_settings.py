import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from models.settings import DEV_SECRET, PLACEHOLDER_SECRETS, Settings


def test_tests_may_use_the_dev_secret() -> None:
    assert Settings(env="test", secret_key=DEV_SECRET).secret_key == DEV_SECRET


@pytest.mark.parametrize("secret", [DEV_SECRET, "", "changeme"])
def test_development_never_runs_on_a_public_secret(tmp_path: Path, secret: str) -> None:
    first = Settings(env="development", secret_key=secret, data_dir=tmp_path)
    assert first.secret_key not in PLACEHOLDER_SECRETS and len(first.secret_key) >= 32
    kept = tmp_path / "secret_key"
    assert kept.read_text().strip() == first.secret_key
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    # every process of the installation (web, workers, CLI) finds the same key
    assert Settings(env="development", secret_key=secret, data_dir=tmp_path).secret_key == first.secret_key


def test_development_keeps_a_secret_that_was_set(tmp_path: Path) -> None:
    assert Settings(env="development", secret_key="y" * 40, data_dir=tmp_path).secret_key == "y" * 40
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("secret", [DEV_SECRET, "changeme", "", "short-but-real"])
def test_production_refuses_placeholder_or_short_secrets(secret: str) -> None:
    with pytest.raises(ValidationError, match="SG_SECRET_KEY"):
        Settings(env="production", secret_key=secret)


def test_production_accepts_a_real_secret() -> None:
    assert Settings(env="production", secret_key="x" * 40).env == "production"


def test_env_prefix_is_sg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_WEB_PORT", "3456")
    monkeypatch.setenv("SG_REDIS_URL", "redis://example:1/2")
    settings = Settings()
    assert settings.web_port == 3456 and settings.redis_url == "redis://example:1/2"


def test_bad_values_are_rejected_with_the_field_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_WEB_PORT", "70000")
    with pytest.raises(ValidationError, match="web_port"):
        Settings()


def test_allowed_origins_are_the_public_url_or_this_machine() -> None:
    assert Settings(env="test", public_url="https://sg.example.com/app").allowed_origins == ["https://sg.example.com"]
    local = Settings(env="test", web_port=3456).allowed_origins
    assert "http://localhost:3456" in local and "http://127.0.0.1:3456" in local
    assert all(origin.endswith(":3456") for origin in local)
