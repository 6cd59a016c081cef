"""The S3-compatible backend of `jobs.stores.objects` (obstore for objects, polars' own reader for Parquet)."""

from __future__ import annotations

import io
import os
import shutil
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import obstore
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from obstore.store import S3Store

from jobs.stores.keys import ObjectInfo, check_key, key_in_store, matches, name_of

_S3_ENV = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class S3ObjectStore:
    """A bucket (and prefix) on an S3-compatible server, through obstore."""

    def __init__(self, url: str, spool: Path) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"SG_STORE_URL must be a folder or s3://bucket/prefix, got {url!r}")
        self.bucket, self.prefix = parts.netloc, parts.path.strip("/")
        if self.prefix:
            check_key(self.prefix)
        self.url = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        self.spool = spool
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        self._store = S3Store(self.bucket, prefix=self.prefix or None,
                              client_options={"allow_http": endpoint.startswith("http://")})
        # polars reads Parquet objects itself (in parallel, by ranges); same endpoint and credentials
        self._polars: dict[str, str] = {"aws_allow_http": str(endpoint.startswith("http://")).lower()}
        for name in _S3_ENV:
            if os.environ.get(name):
                self._polars[name.lower()] = os.environ[name]

    def _uri(self, key: str) -> str:
        return f"{self.url}/{check_key(key)}"

    def local_path(self, key: str) -> Path | None:
        check_key(key)
        return None

    def staging_dir(self, prefix: str) -> Path:
        folder = self.spool / check_key(prefix)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def put_bytes(self, key: str, data: bytes) -> None:
        obstore.put(self._store, check_key(key), data)

    def put_file(self, key: str, source: Path) -> None:
        with source.open("rb") as handle:
            obstore.put(self._store, check_key(key), handle)
        source.unlink()

    def put_parquet(self, key: str, frame: pl.DataFrame, **options: Any) -> None:
        buffer = io.BytesIO()
        frame.write_parquet(buffer, **options)
        self.put_bytes(key, buffer.getvalue())

    def get_bytes(self, key: str) -> bytes:
        return bytes(obstore.get(self._store, check_key(key)).bytes())

    def head(self, key: str) -> ObjectInfo | None:
        try:
            meta = obstore.head(self._store, check_key(key))
        except FileNotFoundError:
            return None
        return self._info(meta)

    @staticmethod
    def _info(meta: Any) -> ObjectInfo:
        stamp = int(meta["last_modified"].timestamp() * 1e9)
        tag = zlib.crc32(str(meta.get("e_tag") or "").encode())
        return ObjectInfo(str(meta["path"]), int(meta["size"]), (tag, int(meta["size"]), stamp))

    def listing(self, prefix: str) -> list[ObjectInfo]:
        found = [self._info(meta) for batch in obstore.list(self._store, f"{check_key(prefix)}/") for meta in batch]
        return sorted(found, key=lambda info: info.key)

    def glob(self, prefix: str, pattern: str) -> list[str]:
        # list below the pattern's literal leading segments only (one partition, not the whole tenant)
        segments = pattern.split("/")
        literal = 0
        while literal < len(segments) - 1 and not any(c in segments[literal] for c in "*?["):
            literal += 1
        base = "/".join([prefix, *segments[:literal]])
        rest = "/".join(segments[literal:])
        return [info.key for info in self.listing(base) if matches(info.key[len(base) + 1:], rest)]

    def children(self, prefix: str) -> list[str]:
        listing = obstore.list_with_delimiter(self._store, f"{check_key(prefix)}/")
        names = {p.rstrip("/").rsplit("/", 1)[-1] for p in listing["common_prefixes"]}
        names.update(name_of(str(meta["path"])) for meta in listing["objects"])
        return sorted(names)

    def delete(self, key: str) -> None:
        obstore.delete(self._store, check_key(key))

    def delete_prefix(self, prefix: str) -> int:
        keys = [info.key for info in self.listing(prefix)]
        if keys:
            obstore.delete(self._store, keys)
        return len(keys)

    def total_bytes(self, prefix: str) -> int:
        return sum(info.size for info in self.listing(prefix))

    def read_parquet(self, keys: list[str], **options: Any) -> pl.DataFrame:
        return pl.read_parquet([self._uri(k) for k in keys], storage_options=self._polars, **options)

    def scan_parquet(self, keys: list[str], **options: Any) -> pl.LazyFrame:
        return pl.scan_parquet([self._uri(k) for k in keys], storage_options=self._polars, **options)

    def read_table(self, key: str) -> pa.Table:
        return pq.read_table(io.BytesIO(self.get_bytes(key)))

    def ref(self, key: str) -> str:
        return self._uri(key)

    def key_of_ref(self, ref: str) -> str:
        return key_in_store(self.url, ref)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        folder = self.staging_dir(f"downloads/{uuid.uuid4().hex}")
        path = folder / name_of(key)
        try:
            with path.open("wb") as out:
                for chunk in obstore.get(self._store, check_key(key)):
                    out.write(chunk)
            yield path
        finally:
            shutil.rmtree(folder, ignore_errors=True)
