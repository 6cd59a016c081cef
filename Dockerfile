# syntax=docker/dockerfile:1
# SecureGuard's one image: the web replicas, the workers and the migrations run it with different commands
# (deploy/docker-compose.yml, deploy/k8s/). Stage 1 installs everything and builds the frontend once; stage 2
# keeps only what runs, as a non-root user. This machine has no container engine: tests/deploy checks this
# file's shape, and tests/e2e/test_replicas.py runs the same commands natively (deploy/README.md).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    REFLEX_USE_SYSTEM_BUN=1 REFLEX_CHECK_LATEST_VERSION=0 TELEMETRY_ENABLED=false
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential nodejs npm unzip \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/app/.tools/node_modules/.bin:/opt/venv/bin:$PATH
# bun for the frontend build and the offline IP tables, from the npm registry (as ./run installs them).
RUN npm install --prefix .tools --no-audit --no-fund --loglevel=error bun@1.4.5 \
      @ip-location-db/asn@2.3.2026061719 @ip-location-db/geo-whois-asn-country@2.3.2026061719
COPY . .
# Editable, as ./run installs it: builds the native flow parser in place, next to its source.
RUN pip install -e .
# The frontend, built for the address the browsers use (the balancer); every replica serves this build with
# `python -m dashboard.serve`. Behind https the port is ignored (the page's own origin is used).
ARG SG_WEB_PORT=8080
ARG SG_PUBLIC_URL=
RUN SG_WEB_PORT=${SG_WEB_PORT} SG_PUBLIC_URL=${SG_PUBLIC_URL} SG_DATA_DIR=/tmp/sg-build \
      reflex export --frontend-only --no-zip --env prod \
    && rm -rf .web/node_modules .tools/node_modules/bun .tools/node_modules/@oven /tmp/sg-build

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    SG_ENV=production SG_DATA_DIR=/data \
    REFLEX_CHECK_LATEST_VERSION=0 TELEMETRY_ENABLED=false \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 \
    _RJEM_MALLOC_CONF=oversize_threshold:0,dirty_decay_ms:5000,muzzy_decay_ms:5000
RUN groupadd --system --gid 10001 sg \
    && useradd --system --uid 10001 --gid sg --create-home --home-dir /home/sg --shell /usr/sbin/nologin sg \
    && mkdir -p /data && chown sg:sg /data
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# The code and the built frontend belong to root: the app cannot rewrite itself. It writes only /data.
COPY --from=build /app /app
USER sg:sg
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=3)"]
# A web replica; the workers run `arq jobs.worker.InteractiveWorker` / `arq jobs.worker.BulkWorker`, the
# migrations `sg db upgrade`.
CMD ["python", "-m", "dashboard.serve", "--port", "8000"]
