"""Files on disk that the engines' data lives in between jobs: flow partials per 5-minute partition
(`flows`), engine snapshots per window (`snapshots`) and cached graph layouts (`layouts`).

May import `engines` and `models.settings` (where the data folder is); no database, no Redis.
"""
