"""deploy/docker-compose.yml and .env.example, parsed and checked: every service, its healthcheck, the
migrations before everything, two web replicas behind the balancer, a worker per queue, and the settings every
app process needs (each a real setting, the whole set accepted by Settings in production)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

import jobs.worker
from jobs.runtime.queues import QUEUES
from models.settings import Settings
from tests.conftest import ROOT

COMPOSE = ROOT / "deploy" / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SERVICES = {"postgres", "redis", "migrate", "web1", "web2", "lb", "worker-interactive", "worker-bulk"}
# What a production process cannot run without: the defaults are a developer's (SQLite, local Redis, no secret).
NEEDED = {"SG_ENV", "SG_SECRET_KEY", "SG_DATABASE_URL", "SG_REDIS_URL", "SG_PUBLIC_URL", "SG_DATA_DIR", "SG_WEB_PORT"}
INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?[?-][^}]*)?\}")


def env_example() -> dict[str, str]:
    pairs = [line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    return {key: value for key, value in pairs}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def app_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if s.get("image") == "secureguard:latest"}


def effective_env(service: dict[str, Any], dotenv: dict[str, str]) -> dict[str, str]:
    """The container's environment: the env_file, then `environment`, with ${…} taken from the .env."""
    assert service["env_file"] == "../.env"
    env = dict(dotenv)
    for key, value in service.get("environment", {}).items():
        env[key] = INTERPOLATION.sub(lambda m: dotenv[m.group(1)], str(value))
    return env


def test_every_service_is_there_with_a_healthcheck(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        if name == "migrate":
            assert service["restart"] == "no" and service["healthcheck"] == {"disable": True}
            continue
        assert service["healthcheck"]["test"][0] == "CMD", name
        assert service["restart"] == "unless-stopped", name


def test_migrations_run_once_before_web_and_workers(compose: dict[str, Any]) -> None:
    apps = app_services(compose)
    assert apps["migrate"]["command"] == ["sg", "db", "upgrade"]
    for name, service in apps.items():
        deps = service["depends_on"]
        assert deps["postgres"]["condition"] == deps["redis"]["condition"] == "service_healthy", name
        if name != "migrate":
            assert deps["migrate"]["condition"] == "service_completed_successfully", name


def test_two_web_replicas_behind_the_balancer(compose: dict[str, Any]) -> None:
    services = compose["services"]
    webs = [n for n, s in services.items() if s.get("command", [])[:3] == ["python", "-m", "dashboard.serve"]]
    assert sorted(webs) == ["web1", "web2"]
    for web in webs:
        assert "/api/v1/health" in " ".join(services[web]["healthcheck"]["test"])
        assert services[web]["build"]["dockerfile"] == "Dockerfile"
    lb = services["lb"]
    assert lb["volumes"] == ["./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro"]
    assert (ROOT / "deploy" / "haproxy.cfg").is_file()
    assert {lb["environment"]["SG_WEB_1"], lb["environment"]["SG_WEB_2"]} == {"web1:8000", "web2:8000"}
    # The address the frontend is built for is the one the balancer publishes.
    assert services["web1"]["build"]["args"]["SG_WEB_PORT"] == services["web1"]["environment"]["SG_WEB_PORT"] == "8080"
    assert lb["ports"] == ["8080:8080"]


def test_a_worker_per_queue_with_a_worker_class_that_exists(compose: dict[str, Any]) -> None:
    served = set()
    for name in ("worker-interactive", "worker-bulk"):
        service = compose["services"][name]
        arq, target = service["command"]
        assert arq == "arq" and service["healthcheck"]["test"] == ["CMD", "arq", "--check", target]
        served.add(getattr(jobs.worker, target.removeprefix("jobs.worker.")).queue_name)
    assert served == set(QUEUES)


def test_every_app_process_gets_the_settings_it_needs(compose: dict[str, Any]) -> None:
    dotenv = env_example()
    fields = {f"SG_{name.upper()}" for name in Settings.model_fields}
    for name, service in app_services(compose).items():
        env = effective_env(service, dotenv)
        assert set(env) >= NEEDED, f"{name} lacks {NEEDED - set(env)}"
        unknown = {key for key in env if key.startswith("SG_")} - fields
        assert not unknown, f"{name}: {unknown} are not settings (models/settings.py)"
        settings = {key.removeprefix("SG_").lower(): value for key, value in env.items() if key.startswith("SG_")}
        # As shipped, .env.example has no secret: production refuses to start rather than run with none.
        with pytest.raises(ValidationError, match="SG_SECRET_KEY must be set"):
            Settings.model_validate(settings)
        filled = Settings.model_validate({**settings, "secret_key": "s" * 48})
        assert filled.env == "production"
        assert filled.database_url.startswith("postgresql+asyncpg://secureguard:")
        assert filled.database_url.endswith("@postgres:5432/secureguard")


def test_every_interpolated_variable_is_in_env_example() -> None:
    dotenv = env_example()
    used = set(INTERPOLATION.findall(COMPOSE.read_text()))
    assert used and used <= set(dotenv), f"{used - set(dotenv)} missing from .env.example"
