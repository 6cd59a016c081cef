"""The `sg` command line: `main` (the click group, commands loaded lazily), `admin` (tenants, users, tokens,
migrations, the demo) and `ingest` (push flow files and follow their jobs).

May import every other wing of `jobs` and `models`; nothing imports it.
"""
