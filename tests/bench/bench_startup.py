"""Issue 2 benchmark: `./run demo` from a fresh clone to the first page served, cold and warm.

    .venv/bin/python tests/bench/bench_startup.py [--redis-url redis://127.0.0.1:6391/0]

Cold = a new clone (no .venv, .tools or .web; pip's and bun's download caches as the machine has
them). Warm = the same clone started again. Also checks that Ctrl-C (SIGINT) stops every process
the command started, including the local Redis it starts when `--redis-url` does not answer.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def first_page(url: str, proc: subprocess.Popen[bytes], limit: float = 900) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if proc.poll() is not None:
            raise RuntimeError(f"./run demo exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200 and b"<html" in answer.read(4096).lower():
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError("no page within the limit")


def start_once(clone: Path, port: int, redis_url: str, log: Path) -> float:
    env = {**os.environ, "SG_WEB_PORT": str(port), "SG_REDIS_URL": redis_url}
    with log.open("ab") as out:
        proc = subprocess.Popen(["./run", "demo"], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        seconds = first_page(f"http://127.0.0.1:{port}/login", proc)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    deadline = time.monotonic() + 20
    while (port_open(port) or port_open(redis_port)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if port_open(port) or port_open(redis_port):
        raise RuntimeError("Ctrl-C left a process listening")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6391/0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "main"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        log = Path(tmp) / "demo.log"
        cold = start_once(clone, free_port(), args.redis_url, log)
        warm = start_once(clone, free_port(), args.redis_url, log)
        print(f"| `./run demo` fresh clone → first page (cold) | {cold:.0f} s |")
        print(f"| `./run demo` same clone again → first page (warm) | {warm:.0f} s |")
        print("| Ctrl-C stops web, worker and the local Redis it started | yes |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
