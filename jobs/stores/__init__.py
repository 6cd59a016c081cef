"""The files the engines' data lives in between jobs, all through one object store (`objects`: a local folder or
an S3-compatible bucket, SG_STORE_URL; `keys` builds its checked, tenant-prefixed keys): flow partials per 5-minute
partition (`flows`), engine snapshots per window (`snapshots`), cached graph layouts (`layouts`), detection state
(`detection`), IP enrichment (`enrichment`) and what retention deletes (`retention`).

May import `engines` and `models.settings` (where the data folder is); no database, no Redis.
"""
