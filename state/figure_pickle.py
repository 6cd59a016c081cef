"""Plotly figures in the states' Redis copies are unpickled without plotly's validation.

Reflex keeps every tab's state in Redis and, for each event, unpickles the state it targets, its parents and every
state whose computed vars depend on them (for any page's event that includes the states holding figures: the
Overview's timeline, the Jobs charts, the Policies coverage chart, the Graph). Plotly pickles a figure as its dict
and unpickles it through `Figure(dict)`, which validates every property again: measured on the Replay page, that
was ~130 ms of each step's server time (py-spy, issue 19 replay budget). The figure was validated when it was made;
its copy is rebuilt from the same dict with `_validate=False` (the figure's content is unchanged).

Importing this module registers the reduction (`copyreg`, which `pickle` and `copy` consult before the class's
own `__reduce__`) for the whole process: `state/base.py` imports it, as every state (and so every process that
unpickles one) loads that module first.
"""

from __future__ import annotations

import copyreg
from typing import Any

import plotly.graph_objects as go


def _figure(props: dict[str, Any]) -> go.Figure:
    return go.Figure(props, _validate=False)


def _reduce(figure: go.Figure) -> tuple[Any, tuple[dict[str, Any]]]:
    return _figure, (figure.to_dict(),)


copyreg.pickle(go.Figure, _reduce)
