"""An S3-compatible server for tests: moto's server mode (`moto[server]`, a dev dependency) as a subprocess.

`moto_s3` (session) starts it on a free port; `store_backend` (one test) points SG_STORE_URL at a fresh bucket on
it ("s3"), or leaves the store the data folder ("local"). Test modules import the fixtures they use.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from models.settings import get_settings

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "sg-test", "AWS_SECRET_ACCESS_KEY": "sg-test-secret", "AWS_REGION": "us-east-1"}


@dataclass(frozen=True)
class MotoServer:
    endpoint: str

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                            region_name=CREDENTIALS["AWS_REGION"])

    def new_bucket(self) -> str:
        name = f"sg-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Return once something accepts connections on 127.0.0.1:`port`; RuntimeError when `process` died first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}") from None
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{process.args!r} did not answer on port {port} within {seconds} s")


def start_moto(port: int) -> subprocess.Popen[bytes]:
    """moto's server on 127.0.0.1:`port`, answering once this returns."""
    binary = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process)
    return process


@contextlib.contextmanager
def moto_server(port: int) -> Iterator[MotoServer]:
    """moto's S3 server on 127.0.0.1:`port` for the block."""
    process = start_moto(port)
    try:
        yield MotoServer(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoServer]:
    with moto_server(free_port()) as server:
        yield server


def use_bucket(monkeypatch: pytest.MonkeyPatch, server: MotoServer, prefix: str = "sg") -> str:
    """Point the settings at a fresh bucket on `server`; its store URL."""
    url = f"s3://{server.new_bucket()}/{prefix}"
    for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": server.endpoint, "SG_STORE_URL": url}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return url


@pytest.fixture(params=["local", "s3"])
def store_backend(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The data folder in tmp_path, and the store either that folder ("local") or a fresh bucket ("s3")."""
    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SG_STORE_URL", raising=False)
    get_settings.cache_clear()
    if request.param == "s3":
        use_bucket(monkeypatch, request.getfixturevalue("moto_s3"))
    yield str(request.param)
    get_settings.cache_clear()
