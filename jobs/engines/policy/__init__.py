"""The pure policy engine: generate, evaluate, validate, diff and assess NetworkPolicies.

No database, no Redis, no web: every function takes plain records (`jobs.engines.snapshot.types`) and
manifest dicts, so the whole engine is unit-tested on hand-made values.
"""
