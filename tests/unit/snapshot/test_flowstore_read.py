"""Reading a window's stored partials: every file, in one read per kind, wherever the data dir is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from jobs.stores.flows import nodes_file, read_partials
from jobs.stores.objects import get_store
from models.settings import get_settings


def _write(partition: str, name: str, window: int, keys: list[str]) -> str:
    store = get_store()
    edges = f"flows/1/{partition}/{name}-edges.parquet"
    store.put_parquet(edges, pl.DataFrame({"window": [window] * len(keys), "src": keys}))
    store.put_parquet(nodes_file(edges), pl.DataFrame({"window": [window] * len(keys), "key": keys}))
    return edges


@pytest.fixture(params=["plain", "odd [name]*?"])
def data_dir(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / request.param
    monkeypatch.setenv("SG_DATA_DIR", str(root))
    monkeypatch.delenv("SG_STORE_URL", raising=False)
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


def test_partials_of_several_partitions_come_back_whole(data_dir: Path) -> None:
    # Folder names that look like hive partitions; the files carry their own `window` column.
    files = [_write("window=300", "partial-1-csv-0", 300, ["a", "b"]),
             _write("window=600", "partial-2-csv-0", 600, ["c"])]
    assert (data_dir / "flows" / "1" / "window=300" / "partial-1-csv-0-nodes.parquet").is_file()
    edges, nodes = read_partials(files)
    assert edges.columns == ["window", "src"] and nodes.columns == ["window", "key"]
    assert edges.rows() == [(300, "a"), (300, "b"), (600, "c")]
    assert nodes.rows() == [(300, "a"), (300, "b"), (600, "c")]


def test_no_files_is_an_error() -> None:
    with pytest.raises(ValueError, match="no partial files"):
        read_partials([])
