import pytest
from pydantic import ValidationError

from models.settings import DEV_SECRET, Settings


def test_development_accepts_the_dev_secret() -> None:
    assert Settings(env="development", secret_key=DEV_SECRET).secret_key == DEV_SECRET


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
