"""The Dockerfile, parsed: multi-stage, the frontend built at image build (the command the replica test runs),
a non-root user in the image that runs, the health check on /api/v1/health; .dockerignore keeps local state and
secrets out. No container engine runs on this machine (deploy/README.md), so the shape is what is checked."""

from __future__ import annotations

import re

from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
    return found


def stages() -> dict[str, list[tuple[str, str]]]:
    named: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for keyword, args in instructions():
        if keyword == "FROM":
            name = args.split(" AS ")[-1] if " AS " in args else f"stage{len(named)}"
            current = named[name] = []
        elif current is not None:
            current.append((keyword, args))
    return named


def test_two_stages_the_runtime_copying_from_the_build() -> None:
    named = stages()
    assert list(named) == ["build", "runtime"]
    copies = [args for keyword, args in named["runtime"] if keyword == "COPY"]
    assert copies and all(args.startswith("--from=build ") for args in copies)


def test_the_frontend_is_built_in_the_image_with_the_replica_tests_command() -> None:
    runs = " ".join(args for keyword, args in stages()["build"] if keyword == "RUN")
    command = "reflex export --frontend-only --no-zip --env prod"
    assert command in runs
    replica_test = (ROOT / "tests/e2e/test_replicas.py").read_text()
    assert '"export", "--frontend-only", "--no-zip",' in replica_test
    assert "pip install -e ." in runs


def test_the_image_runs_as_a_non_root_user_with_a_health_check() -> None:
    runtime = stages()["runtime"]
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert "useradd" in " ".join(args for keyword, args in runtime if keyword == "RUN")
    health = [args for keyword, args in runtime if keyword == "HEALTHCHECK"]
    assert len(health) == 1 and "/api/v1/health" in health[0]
    cmd = [args for keyword, args in runtime if keyword == "CMD"]
    assert cmd == ['["python", "-m", "dashboard.serve", "--port", "8000"]']
    assert any(k == "EXPOSE" and a == "8000" for k, a in runtime)


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".web", ".env", "data", ".run", "reflex.lock"} <= ignored
