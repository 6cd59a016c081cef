"""Errors of the policy engine.

PolicyError(ValueError)           a manifest the evaluator cannot read as a NetworkPolicy
└── UnsupportedPolicyError        valid Kubernetes, but outside what the evaluator models
                                  (named ports need the pods' container specs)
"""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy manifest is malformed; `policy` names it as `namespace/name`, `path` the field."""

    def __init__(self, message: str, *, policy: str = "", path: str = "") -> None:
        self.policy = policy
        self.path = path
        where = " at ".join(part for part in (policy, path) if part)
        super().__init__(f"{where}: {message}" if where else message)


class UnsupportedPolicyError(PolicyError):
    """A valid policy uses a feature the evaluator cannot decide without more cluster data."""
