"""The object store every other store reads and writes through: a local folder or an S3-compatible bucket.

`SG_STORE_URL` picks it: empty (the default) means the data folder (SG_DATA_DIR), so an existing install keeps
its files where they are; a folder path or `file://` URL another folder; `s3://bucket/prefix` a bucket on any
S3-compatible server, through obstore, with the standard variables AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_REGION (plain `http://` endpoints are allowed, for a server on the same network).

Keys are `/`-separated names below the store's root, built with `tenant_key` (area, tenant id, then checked
parts), so every tenant's data sits under its own prefix and no key is made of unchecked input:

    flows/{tenant}/window={epoch}/partial-…parquet    uploads/{tenant}/upload-{id}

Writers stage files in `staging_dir` (a local folder: under the root itself for the local backend, so publishing
is a rename; a temporary folder otherwise) and publish them with `put_file`. The local backend keeps plain
paths (`local_path`) so Parquet reads and writes on it cost what they did before the interface existed.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from jobs.stores.keys import ObjectInfo, UnsafeKey, check_key, key_in_store
from models.settings import get_settings

log = logging.getLogger(__name__)

__all__ = ["LocalObjectStore", "ObjectStore", "delete_refs", "get_store"]


class ObjectStore(Protocol):
    """What the stores need from a backend."""

    url: str

    def local_path(self, key: str) -> Path | None:
        """The key's file for the local backend (None for a remote one)."""

    def staging_dir(self, prefix: str) -> Path:
        """A local folder to stage files in before `put_file` publishes them."""

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing it whole (a reader sees the old or the new object)."""

    def put_file(self, key: str, source: Path) -> None:
        """Publish a staged file under `key` (the local file is gone afterwards)."""

    def put_parquet(self, key: str, frame: pl.DataFrame, **options: Any) -> None:
        """`frame.write_parquet` (same options) as the object `key`, published whole."""

    def get_bytes(self, key: str) -> bytes:
        """The object's bytes; FileNotFoundError when there is none."""

    def head(self, key: str) -> ObjectInfo | None:
        """The object's size and version, None when there is none."""

    def listing(self, prefix: str) -> list[ObjectInfo]:
        """Every object below `prefix` (a folder-like key), in key order."""

    def glob(self, prefix: str, pattern: str) -> list[str]:
        """The keys below `prefix` whose rest matches `pattern` (shell wildcards, `*` within a segment), sorted."""

    def children(self, prefix: str) -> list[str]:
        """The names directly below `prefix` that hold objects (one level, like a folder listing)."""

    def delete(self, key: str) -> None:
        """Remove the object; one already gone counts as removed."""

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object below `prefix`; how many there were."""

    def total_bytes(self, prefix: str) -> int:
        """The size of everything below `prefix` (0 when empty)."""

    def read_parquet(self, keys: list[str], **options: Any) -> pl.DataFrame:
        """`polars.read_parquet` of several objects at once (same options)."""

    def scan_parquet(self, keys: list[str], **options: Any) -> pl.LazyFrame:
        """`polars.scan_parquet` of several objects."""

    def read_table(self, key: str) -> pa.Table:
        """A Parquet object as an Arrow table; FileNotFoundError when there is none."""

    def ref(self, key: str) -> str:
        """What a database row keeps to find the object again (a path locally, a URL otherwise)."""

    def key_of_ref(self, ref: str) -> str:
        """The key behind a `ref`; UnsafeKey when it is not one of this store's objects."""

    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A local file with the object's bytes for the `with` block (the file itself for the local backend)."""


class LocalObjectStore:
    """A folder on this machine: plain files, written by rename."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.url = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def staging_dir(self, prefix: str) -> Path:
        return self._path(prefix)

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
        temp.write_bytes(data)
        os.replace(temp, path)

    def put_file(self, key: str, source: Path) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, path)
        except OSError:  # another filesystem (a spool outside the root)
            shutil.move(source, path)

    def put_parquet(self, key: str, frame: pl.DataFrame, **options: Any) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
        frame.write_parquet(temp, **options)
        os.replace(temp, path)

    def get_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def head(self, key: str) -> ObjectInfo | None:
        try:
            stat = self._path(key).stat()
        except FileNotFoundError:
            return None
        return ObjectInfo(key, stat.st_size, (stat.st_ino, stat.st_size, stat.st_mtime_ns))

    def listing(self, prefix: str) -> list[ObjectInfo]:
        base = self._path(prefix)
        found = []
        for folder, _, names in os.walk(base):
            for name in names:
                path = Path(folder, name)
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue  # removed while we walked
                found.append(ObjectInfo(path.relative_to(self.root).as_posix(), stat.st_size,
                                        (stat.st_ino, stat.st_size, stat.st_mtime_ns)))
        return sorted(found, key=lambda info: info.key)

    def glob(self, prefix: str, pattern: str) -> list[str]:
        base = self._path(prefix)
        return sorted(f"{prefix}/{path.relative_to(base).as_posix()}" for path in base.glob(pattern))

    def children(self, prefix: str) -> list[str]:
        try:
            return sorted(os.listdir(self._path(prefix)))
        except FileNotFoundError:
            return []

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        count = len(self.listing(prefix))
        shutil.rmtree(self._path(prefix), ignore_errors=True)
        return count

    def total_bytes(self, prefix: str) -> int:
        return sum(info.size for info in self.listing(prefix))

    def read_parquet(self, keys: list[str], **options: Any) -> pl.DataFrame:
        return pl.read_parquet([self._path(k) for k in keys], **options)

    def scan_parquet(self, keys: list[str], **options: Any) -> pl.LazyFrame:
        return pl.scan_parquet([self._path(k) for k in keys], **options)

    def read_table(self, key: str) -> pa.Table:
        return pq.read_table(self._path(key))

    def ref(self, key: str) -> str:
        return str(self._path(key))

    def key_of_ref(self, ref: str) -> str:
        return key_in_store(self.url, ref)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        yield self._path(key)


@lru_cache(maxsize=8)
def _open(url: str, data_dir: Path, endpoint: str) -> ObjectStore:
    del endpoint  # part of the cache key: a store is bound to the endpoint it was opened with
    if url.startswith("s3://"):
        from jobs.stores.s3 import S3ObjectStore  # obstore is loaded only by processes that use a bucket

        return S3ObjectStore(url, data_dir / ".spool")
    return LocalObjectStore(Path(url.removeprefix("file://")) if url else data_dir)


def get_store() -> ObjectStore:
    """The store of SG_STORE_URL (the data folder by default), one per URL and endpoint."""
    settings = get_settings()
    return _open(settings.store_url, settings.data_dir, os.environ.get("AWS_ENDPOINT_URL", ""))


def delete_refs(refs: Iterable[str], *, area: str = "uploads") -> int:
    """Delete objects of `area` by their `ref` (raw uploads whose rows forgot them); one already gone counts as
    deleted. A reference elsewhere is logged and left alone."""
    store = get_store()
    count = 0
    for ref in refs:
        try:
            key = store.key_of_ref(ref)
            if not key.startswith(f"{area}/"):
                raise UnsafeKey(f"{key!r} is not in the {area} area")
        except UnsafeKey:
            # a row naming a file outside the store (another store's, or forged): never deleted from here
            log.warning("not deleting %r: it is not an object of the store %s", ref, store.url)
            continue
        store.delete(key)
        count += 1
    return count
