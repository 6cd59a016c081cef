"""Clients of systems outside SecureGuard: git and the GitHub/GitLab REST APIs (`gitops`).

May import `engines` and `models.settings`; no database, no Redis: the job functions in `tasks` bring the data.
"""
