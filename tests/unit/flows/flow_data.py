"""Where the real sample flow files live, and small builders for test inputs."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = (REPO_ROOT / ".." / "shared" / "data").resolve()


def data_dir() -> Path:
    """The shared sample data folder; fails (never skips) the test when it is missing."""
    if not DATA_DIR.is_dir():
        pytest.fail(
            f"sample data folder {DATA_DIR} is missing: the flow tests read the real files "
            "described in ../shared/data/SOURCES.md (path relative to the repo root)"
        )
    return DATA_DIR


def data_file(relative: str) -> Path:
    """One sample file, by its path under the data folder."""
    path = data_dir() / relative
    if not path.is_file():
        pytest.fail(f"sample file {path} is missing (see SOURCES.md)")
    return path


def text_of(relative: str) -> bytes:
    """The decompressed bytes of one sample file."""
    raw = data_file(relative).read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def tiny_png() -> bytes:
    """A valid 1x1 PNG image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")
    )
