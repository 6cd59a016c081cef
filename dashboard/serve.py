"""Serve one web replica: the backend with the frontend built beforehand mounted on the same port, no compile.

`reflex run --env prod --single-port` compiles and builds the frontend on every start. A replica behind the
balancer instead serves the build made once (`reflex export --frontend-only --no-zip` at image build, or the
first `reflex run`), so N replicas start in seconds from one build: `python -m dashboard.serve --port 8001`.
The frontend was built for the balancer's address (SG_WEB_PORT / SG_PUBLIC_URL), not for this port.
"""

from __future__ import annotations

import argparse

from reflex.utils import exec as reflex_exec
from reflex_base import constants
from reflex_base.config import get_config
from reflex_base.environment import environment


def main(argv: list[str] | None = None) -> None:
    """Run the backend in production mode on --host/--port with the built frontend mounted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")  # a replica answers the balancer
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    level = get_config().loglevel.subprocess_level()  # type: ignore[no-untyped-call]  # unannotated in Reflex
    reflex_exec.run_backend_prod(args.host, args.port, level, mount_frontend_compiled_app=True)


if __name__ == "__main__":
    main()
