"""Errors of the GitOps path; none carries the provider token.

    GitopsError            a permanent failure the user must fix; the job fails with its message
     ├── AuthFailed        the tenant's token is refused
     ├── RepoNotFound      no such repository or project, or no access to it
     ├── BranchError       the base branch is missing, or a branch clash
     └── ProviderError     any other refusal of the provider's API or of git
    TransientError         worth another attempt (5xx, connection, timeout): the job raises arq Retry
"""

from __future__ import annotations


class GitopsError(Exception):
    """A failure another attempt cannot fix; `message` is safe to show and store."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthFailed(GitopsError):
    pass


class RepoNotFound(GitopsError):
    pass


class BranchError(GitopsError):
    pass


class ProviderError(GitopsError):
    pass


class TransientError(Exception):
    """The provider or the network failed in a way that may pass; retry later."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
