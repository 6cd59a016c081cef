"""Build the native extension; everything else about the package is in pyproject.toml.

`jobs.engines.flows._hubble_scan` is plain C against the CPython API (no third-party C libraries) and
pthreads; `pip install -e .` compiles it in place, next to its source.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "jobs.engines.flows._hubble_scan",
            sources=["jobs/engines/flows/_hubble_scan.c"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
            extra_link_args=["-pthread"],
        )
    ]
)
