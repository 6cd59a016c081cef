"""The job functions ARQ runs (`jobs.worker` lists them), one module per noun.

Each is thin: it loads what an engine needs through `models.queries` and the stores, calls the pure engine, then
writes, publishes and tracks the result. May import every wing below it (`runtime`, `stores`, `integrations`,
`engines`) and `models`. Never imported by `runtime`, `stores` or `engines`.
"""
