"""Everything that is not a web page: the ARQ worker and its job functions, and what they are built from.

Wings, from the bottom up (a wing imports only wings below it; `tests/unit/test_layering.py` checks it):
`engines` (pure: flows, snapshot, drift, graph, policy, detect, enrich), `stores` (files on disk),
`integrations` (git and provider APIs), `runtime` (queue, tracking, events, clients, doors), `auth` (sign-in for
the web side), `tasks` (the job functions), `worker` (ARQ settings), `demo`, `cli`. See docs/architecture.md.
"""
