"""ruff and mypy (strict, on models, jobs, state and dashboard) stay clean: the suite fails on the first finding."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_finds_nothing() -> None:
    done = _run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_finds_nothing_in_the_four_packages(tmp_path: Path) -> None:
    done = _run(str(BIN / "mypy"), "--cache-dir", str(tmp_path / "mypy-cache"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues found" in done.stdout


def test_every_plot_uses_a_partial_plotly_bundle() -> None:
    """`rx.plotly(...)` loads plotly.js's full 4.9 MB bundle (1.3 s to compile in a fresh browser here): plots go
    through dashboard/components/plots.py, on the basic bundle (and gl2d for WebGL graphs)."""
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for folder in ("dashboard", "state")
                 for path in sorted((ROOT / folder).rglob("*.py"))
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if "rx.plotly(" in line]
    assert offenders == []
