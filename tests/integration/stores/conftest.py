"""The shared-store tests' S3-compatible server (`tests.s3server`)."""

from tests.s3server import moto_s3

__all__ = ["moto_s3"]
