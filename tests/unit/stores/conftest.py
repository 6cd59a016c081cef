"""The store tests' backends: a local folder, and a bucket on moto's S3 server (`tests.s3server`)."""

from tests.s3server import moto_s3, store_backend

__all__ = ["moto_s3", "store_backend"]
