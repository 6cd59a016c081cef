"""The pure engines: plain data in, plain data out, none of the product's own I/O (no database, no Redis,
no settings). `flows` parses flow files into canonical Arrow tables, `snapshot` aggregates them into window
graphs, `drift` detects, scores and explains change, `graph` lays out and filters the service map, `policy`
generates and proves NetworkPolicies, `detect` finds scans, brute force, intrusions and beacons and groups them
into incidents (not wired into the jobs yet: docs/detection.md), `enrich` names an outside address's ASN,
organisation and country from offline tables. They hold the unit tests and the benchmarks.

May import only each other, the standard library and compute libraries (polars, pyarrow, numpy, networkx, yaml).
Never `models`, `redis`, `arq`, `sqlmodel` or `sqlalchemy`; `tests/unit/test_layering.py` checks it.
"""
