"""Reading a window's stored partials: every file, in one read per kind, wherever the data dir is."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from jobs.stores.flows import nodes_file, read_partials


def _write(folder: Path, name: str, window: int, keys: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    edges = folder / f"{name}-edges.parquet"
    pl.DataFrame({"window": [window] * len(keys), "src": keys}).write_parquet(edges)
    pl.DataFrame({"window": [window] * len(keys), "key": keys}).write_parquet(nodes_file(edges))
    return edges


@pytest.mark.parametrize("data_dir", ["plain", "odd [name]*?"])
def test_partials_of_several_partitions_come_back_whole(tmp_path: Path, data_dir: str) -> None:
    root = tmp_path / data_dir
    # Folder names that look like hive partitions; the files carry their own `window` column.
    files = [_write(root / "1" / "window=300", "partial-1-csv-0", 300, ["a", "b"]),
             _write(root / "1" / "window=600", "partial-2-csv-0", 600, ["c"])]
    edges, nodes = read_partials(files)
    assert edges.columns == ["window", "src"] and nodes.columns == ["window", "key"]
    assert edges.rows() == [(300, "a"), (300, "b"), (600, "c")]
    assert nodes.rows() == [(300, "a"), (300, "b"), (600, "c")]


def test_no_files_is_an_error() -> None:
    with pytest.raises(ValueError, match="no partial files"):
        read_partials([])
