"""Where the real sample flow files live (the snapshot tests build windows from them)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = (REPO_ROOT / ".." / "shared" / "data").resolve()


def data_dir() -> Path:
    """The shared sample data folder; fails (never skips) the test when it is missing."""
    if not DATA_DIR.is_dir():
        pytest.fail(
            f"sample data folder {DATA_DIR} is missing: the snapshot tests read the real files "
            "described in ../shared/data/SOURCES.md (path relative to the repo root)"
        )
    return DATA_DIR


def rita_hourly_files() -> list[Path]:
    """The 72 hourly gzip conn.log files of activecm/rita's missing_host capture."""
    files = sorted((data_dir() / "zeek" / "rita-missing-host").glob("*/*.log.gz"))
    if len(files) != 72:
        pytest.fail(f"expected 72 hourly RITA files, found {len(files)} (see SOURCES.md)")
    return files
