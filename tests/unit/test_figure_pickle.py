"""A plotly figure in a state's Redis copy comes back the same, without plotly's validation on the way in."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from pathlib import Path

import plotly.graph_objects as go

import state.figure_pickle  # noqa: F401


def _figure() -> go.Figure:
    bars = [go.Bar(x=list(range(168)), y=list(range(168)), name=f"s{i}") for i in range(5)]
    return go.Figure(data=bars, layout={"template": "plotly_white", "height": 220, "barmode": "stack"})


def test_a_pickled_figure_comes_back_equal_and_quickly() -> None:
    figure = _figure()
    back = pickle.loads(pickle.dumps(figure))
    assert isinstance(back, go.Figure) and back.to_dict() == figure.to_dict()
    assert back.layout.template.layout.plot_bgcolor == "white" and back.data[4].name == "s4"
    payload = pickle.dumps(figure)
    started = time.perf_counter()
    for _ in range(20):
        pickle.loads(payload)
    fast = (time.perf_counter() - started) / 20
    started = time.perf_counter()
    for _ in range(5):
        go.Figure(figure.to_dict())  # what plotly's own reduction runs on unpickling
    slow = (time.perf_counter() - started) / 5
    assert fast < slow / 2, (fast, slow)


def test_every_state_has_the_reduction_without_the_replay_page() -> None:
    # state/base.py registers it: a process that loads only the Policies state unpickles its chart the fast way
    code = (
        "import copyreg, sys, plotly.graph_objects as go, state.policies; "
        "assert 'state.replay' not in sys.modules; assert go.Figure in copyreg.dispatch_table"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2], timeout=120)
