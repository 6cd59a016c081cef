"""Fixtures several unit modules share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """SG_DATA_DIR in the test's own folder (modules that store files use it for every test: `usefixtures`)."""
    from models.settings import get_settings

    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
