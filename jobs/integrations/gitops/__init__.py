"""GitOps: commit approved policies with real git on a branch and propose them through GitHub or GitLab."""
