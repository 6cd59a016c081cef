"""Every plot of the dashboard, on plotly.js's partial bundles instead of the full one.

The full bundle (`rx.plotly`, plotly.js 3.7.0, 4.9 MB) took 1.3 s to load and compile in a fresh Chromium
context on this machine, more than the Replay page's whole first-frame budget; the basic bundle (scatter, bar,
pie: every trace our figures draw but WebGL's) takes about 0.26 s, and the gl2d bundle (scatter, scattergl) about
0.5 s (docs/benchmarks.md). A service graph is drawn with scattergl from `WEBGL_FROM` nodes and edges on
(jobs/engines/graph/figure.py), so graph plots switch to the gl2d bundle only then: the bundle is imported when
its plot first mounts, so a page of small graphs never loads it.
"""

from __future__ import annotations

from typing import Any

import reflex as rx


def chart(**props: Any) -> rx.Component:
    """A plot of bars, lines or markers (never WebGL traces)."""
    return rx.plotly.basic(**props)


def graph_plot(*, webgl: rx.Var[bool] | bool, **props: Any) -> rx.Component:
    """A service-graph plot: the gl2d bundle while its figure has WebGL traces (`webgl`), the basic one otherwise."""
    return rx.cond(webgl, rx.plotly.gl2d(**props), rx.plotly.basic(**props))
